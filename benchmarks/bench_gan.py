"""DCGAN training speed on this machine for the quick and paper profiles (MODEL.md §7), and the
wall time of the paper's full protocol (60 σ_z × 30 repetitions × 10 CIFAR-10 epochs) it implies.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_gan.py [--threads T] [--paper-iterations N] [--json]

Each profile's iteration (D step on real + fake, G step; gan.train.train) is timed on random
images of the profile's shape (speed does not depend on pixel values, and CIFAR-10 is not
downloaded here) after one warm-up iteration, in wall and in CPU seconds of this process (on
a shared machine the CPU time is what an idle core would take; estimates use it). The same run
reports the paper/quick cost ratio, which compares across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from gan.data import ImageSet
from gan.experiments import DATA_CHANNELS, PROFILES, RunSettings
from gan.models import Discriminator, Generator, sample_latent
from gan.train import discriminator_step, generator_step, select_device, train

CIFAR10_TRAIN_IMAGES = 50_000
PAPER_SIGMA_POINTS = 60
PAPER_REPS = 30
PAPER_EPOCHS = 10


def seconds_per_iteration(profile: str, iterations: int, device: str | None) -> tuple[float, float]:
    """(wall, CPU) seconds per iteration. On a shared machine the CPU time of this process is
    the better estimate of an idle core's wall time."""
    prof = PROFILES[profile]
    settings = RunSettings(profile=profile, iterations=iterations + 1)
    config = settings.train_config(sigma_z=1.0, kappa=0.9, rep=0)
    g = torch.Generator().manual_seed(0)
    channels = DATA_CHANNELS[settings.data]
    images = ImageSet("random", torch.rand(2 * prof.batch_size, channels, prof.image_size, prof.image_size,
                                           generator=g) * 2 - 1, prof.image_size)
    stamps = []
    train(config, images, device=device,
          callback=lambda *_: stamps.append((time.perf_counter(), time.process_time())))
    return tuple((b - a) / iterations for a, b in zip(stamps[0], stamps[-1]))


def iteration_gflop(profile: str) -> float:
    """FLOPs of one training iteration (torch's FLOP counter, forward and backward of both steps),
    counted at batch 2 and scaled to the profile's batch (every layer is linear in the batch)."""
    from torch.utils.flop_counter import FlopCounterMode

    prof = PROFILES[profile]
    settings = RunSettings(profile=profile)
    arch = settings.train_config(sigma_z=1.0, kappa=0.9, rep=0).arch
    net_d, net_g = Discriminator(arch), Generator(arch)
    opt_d, opt_g = (torch.optim.Adam(n.parameters()) for n in (net_d, net_g))
    g = torch.Generator().manual_seed(0)
    real = torch.rand(2, arch.channels, arch.image_size, arch.image_size, generator=g) * 2 - 1
    with FlopCounterMode(display=False) as counter:
        fake = net_g(sample_latent(2, arch, 1.0, g))
        discriminator_step(net_d, opt_d, real, fake)
        generator_step(net_g, net_d, opt_g, fake)
    return counter.get_total_flops() * prof.batch_size / 2 / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick-iterations", type=int, default=30)
    parser.add_argument("--paper-iterations", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    quick_wall, quick = seconds_per_iteration("quick", args.quick_iterations, args.device)
    paper_wall, paper = seconds_per_iteration("paper", args.paper_iterations, args.device)
    per_epoch = CIFAR10_TRAIN_IMAGES // PROFILES["paper"].batch_size
    protocol_iterations = PAPER_SIGMA_POINTS * PAPER_REPS * PAPER_EPOCHS * per_epoch
    quick_sweep = PROFILES["quick"].sigma_points * PROFILES["quick"].reps * PROFILES["quick"].iterations
    result = {
        "device": str(select_device(args.device)), "threads": args.threads,
        "load_average_1min": os.getloadavg()[0],
        "quick_iterations_per_wall_s": 1 / quick_wall, "paper_iterations_per_wall_s": 1 / paper_wall,
        "quick_iterations_per_cpu_s": 1 / quick, "paper_iterations_per_cpu_s": 1 / paper,
        "paper_over_quick_cost": paper / quick,
        "quick_sigma_sweep_cpu_s": quick_sweep * quick,
        "paper_protocol_iterations": protocol_iterations,
        "paper_protocol_cpu_hours": protocol_iterations * paper / 3600,
        "paper_iteration_gflop": iteration_gflop("paper"),
        "paper_cpu_gflop_per_s": iteration_gflop("paper") / paper,
        "paper_single_run_cpu_hours": PAPER_EPOCHS * per_epoch * paper / 3600,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>36}: {value:.4g}" if isinstance(value, float) else f"{key:>36}: {value}")


if __name__ == "__main__":
    main()
