"""DCGAN training loop, data and experiment layer (gan/train.py, gan/data.py, gan/experiments.py,
``ganspin gan``; MODEL.md §7)."""

import json
import pickle

import numpy as np
import pytest
import torch
import xarray as xr

from gan.data import CIFAR10_FILES, load_cifar10, load_digits, load_images, load_synthetic
from gan.experiments import (RunSettings, SigmaSweepConfig, loss_summaries, run_experiment,
                             sample_image, summarise)
from gan.models import ArchConfig, Discriminator, Generator, init_weights, sample_latent
from gan.train import TrainConfig, discriminator_step, train
from ganspin.cli import main
from ganspin.figs_gan import draw

torch.set_num_threads(1)

SMALL = ArchConfig(kappa=0.5, total_width=8, image_size=16, channels=1, latent_dim=16)


def _config(**kw):
    return TrainConfig(**{"arch": SMALL, "iterations": 12, "batch_size": 8, "checkpoint_every": 4, "seed": 3, **kw})


def test_one_step_decreases_discriminator_loss_on_fixed_batch():
    data = load_synthetic(16, n=16)
    gen = torch.Generator().manual_seed(0)
    net_d, net_g = Discriminator(SMALL), Generator(SMALL)
    init_weights(net_d, gen)
    init_weights(net_g, gen)
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = data.batch(torch.arange(16))
    with torch.no_grad():
        fake = net_g(sample_latent(16, SMALL, 1.0, gen))
    before = discriminator_step(net_d, opt_d, real, fake)
    with torch.no_grad():
        after = float(torch.nn.functional.binary_cross_entropy(net_d(real), torch.ones(16))
                      + torch.nn.functional.binary_cross_entropy(net_d(fake), torch.zeros(16)))
    assert after < before
    assert all(p.grad is None for p in net_g.parameters())


@pytest.mark.parametrize("sigma_z", [1e-3, 10.0])
def test_generator_input_has_sigma_over_pixel_std(sigma_z):
    data = load_synthetic(16, n=32)
    seen = []
    original = Generator.forward

    def spy(self, z):
        seen.append(z.detach().clone())
        return original(self, z)

    Generator.forward = spy
    try:
        train(_config(sigma_z=sigma_z, iterations=4, batch_size=32), data)
    finally:
        Generator.forward = original
    z = torch.cat(seen[:4])  # the training batches (the last call draws the sample grid)
    assert z.shape[1:] == (16, 1, 1)
    n = z.numel()
    target = sigma_z / data.pixel_std
    # 2,048 Gaussian entries: relative s.e. of the std 1/sqrt(2n) ≈ 1.6%; allow 5 s.e.
    assert abs(float(z.std()) / target - 1) < 5 / np.sqrt(2 * n)
    assert abs(float(z.mean())) < 5 * target / np.sqrt(n)


def test_losses_recorded_and_seeded():
    data = load_synthetic(16, n=32)
    a = train(_config(), data)
    b = train(_config(), data)
    c = train(_config(seed=4), data)
    assert a.loss_d.shape == a.loss_g.shape == (12,)
    assert np.all(np.isfinite(a.loss_d)) and np.all(a.loss_d > 0) and np.all(a.loss_g > 0)
    assert np.array_equal(a.loss_d, b.loss_d) and np.array_equal(a.loss_g, b.loss_g)
    assert not np.array_equal(a.loss_d, c.loss_d)
    assert a.samples.dtype == np.uint8 and a.samples.shape[-1] == 3


def test_resume_from_checkpoint_gives_identical_curves(tmp_path):
    data = load_synthetic(16, n=32)
    straight = train(_config(), data)

    class Interrupt(Exception):
        pass

    def interrupt(it, loss_d, loss_g):
        if it == 9:  # after the checkpoint at 8 iterations, mid-way to the next one
            raise Interrupt

    ckpt = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        train(_config(), data, checkpoint=ckpt, callback=interrupt)
    assert torch.load(ckpt, weights_only=False)["iteration"] == 8
    resumed_from = []
    resumed = train(_config(), data, checkpoint=ckpt, callback=lambda it, *_: resumed_from.append(it))
    assert resumed_from[0] == 8
    assert np.array_equal(straight.loss_d, resumed.loss_d)
    assert np.array_equal(straight.loss_g, resumed.loss_g)
    assert np.array_equal(straight.samples, resumed.samples)
    with pytest.raises(ValueError, match="different run"):
        train(_config(sigma_z=2.0), data, checkpoint=ckpt)


def test_missing_cifar10_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(tmp_path)
    for name in CIFAR10_FILES:
        assert name in str(info.value)
    with pytest.raises(SystemExit) as exit_info:
        main(["gan", "sweep", "sigma", "--data", "cifar10", "--data-dir", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: CIFAR-10") and "data_batch_1" in err and "\n" not in err
    assert "Traceback" not in err


def test_cifar10_python_batches_are_read(tmp_path):
    rng = np.random.default_rng(0)
    for name in CIFAR10_FILES:
        payload = {b"data": rng.integers(0, 256, size=(2, 3072), dtype=np.uint8), b"labels": [0, 1]}
        with open(tmp_path / name, "wb") as fh:
            pickle.dump(payload, fh)
    data = load_cifar10(tmp_path, image_size=32)
    assert data.images.shape == (10, 3, 32, 32) and data.batch(torch.arange(4)).shape == (4, 3, 32, 32)
    with open(tmp_path / "data_batch_1", "rb") as fh:
        first = pickle.load(fh)[b"data"][0].reshape(3, 32, 32)
    assert torch.allclose(data.batch(torch.tensor([0]))[0], torch.from_numpy(first / 127.5 - 1).float(), atol=1e-6)
    big = load_cifar10(tmp_path, image_size=64).batch(torch.arange(3))
    assert big.shape == (3, 3, 64, 64) and float(big.abs().max()) <= 1.0


def test_digits_are_normalised():
    data = load_images("digits", 16)
    assert len(data) == 1797 and data.images.shape == (1797, 1, 8, 8)
    assert float(data.images.min()) == -1.0 and float(data.images.max()) == 1.0
    batch = data.batch(torch.arange(5))
    assert batch.shape == (5, 1, 16, 16) and float(batch.abs().max()) <= 1.0
    assert 0.3 < data.pixel_std < 1.0
    assert load_digits(32).batch(torch.arange(2)).shape[-1] == 32


def test_loss_summaries():
    loss = np.array([5.0, 0.1, 5.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0])
    s = loss_summaries(loss, smooth_window=3, tail_fraction=0.2)
    assert s == {"min": 0.1, "smooth_min": 1.0, "final": 1.0}
    assert loss_summaries(loss, 3, 0.3)["final"] == 1.0 and loss_summaries(loss, 2, 0.1)["smooth_min"] == 1.0


def test_sigma_sweep_store_and_summary(tmp_path, capsys):
    run = RunSettings(profile="quick", data="synthetic", iterations=3, total_width=8)
    experiment = SigmaSweepConfig(run, points=3, reps=2, sigma_min_log10=-2, sigma_max_log10=0)
    store = tmp_path / "sigma.nc"
    ds = run_experiment(experiment, store, scheduler="synchronous", progress=False)
    assert ds.sizes["sigma_z"] == 3 and ds.sizes["rep"] == 2 and ds.sizes["iteration"] == 3
    np.testing.assert_allclose(ds["sigma_z"], [0.01, 0.1, 1.0])
    np.testing.assert_array_equal(ds["min_loss_g"], ds["loss_g"].min("iteration"))
    summary = summarise(ds)
    np.testing.assert_allclose(summary["min_loss_g_mean"], ds["min_loss_g"].mean("rep"))
    np.testing.assert_allclose(summary["final_loss_d_sem"], ds["final_loss_d"].std("rep", ddof=1) / np.sqrt(2))
    np.testing.assert_allclose(summary["argmin_iteration_g_mean"], ds["loss_g"].argmin("iteration").mean("rep"))
    # rolling mean over (up to) 5 neighbours: with 3 values every point averages all of them
    np.testing.assert_allclose(summary["min_loss_g_rolling"], float(summary["min_loss_g_mean"].mean()))
    assert sample_image(ds, sigma_z=0.1, rep=1).shape == (69, 69, 1)
    main(["gan", "summary", str(store), "--json"])
    printed = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(printed["final_loss_g_mean"], summary["final_loss_g_mean"])
    mtime = store.stat().st_mtime_ns
    again = run_experiment(experiment, store, scheduler="synchronous", progress=False)
    np.testing.assert_array_equal(again["loss_d"], ds["loss_d"])
    assert not (tmp_path / "sigma.nc.checkpoints").exists()
    assert store.stat().st_mtime_ns >= mtime

    theory = xr.Dataset({name: (("p", "q", "kappa", "sigma_z"), np.linspace(0, 1, 4).reshape(1, 1, 1, 4))
                         for name in ("min_u_d", "min_u_g")},
                        coords={"p": [5], "q": [5], "kappa": [0.9], "sigma_z": np.logspace(-5, 2, 4)})
    theory.to_netcdf(tmp_path / "theory.nc")
    paths = draw("sigma", store, tmp_path / "theory.nc", tmp_path / "fig", "8")
    assert [p.name for p in paths] == ["figure_8.png", "figure_8.pdf"] and all(p.stat().st_size > 0 for p in paths)


def test_cli_train_json(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["gan", "train", "--iterations", "2", "--width", "8", "--sigma-z=-1", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "sigma-z" in capsys.readouterr().err
    main(["gan", "train", "--iterations", "2", "--width", "8", "--sigma-z", "0.01", "--kappa", "0.5",
          "--json", "--out", str(tmp_path)])
    result = json.loads(capsys.readouterr().out)
    assert result["iterations"] == 2 and result["ndf"] == 4 and result["ngf"] == 4
    with np.load(tmp_path / "losses.npz") as losses:
        assert losses["loss_d"].shape == (2,)
    assert (tmp_path / "samples.png").is_file()
