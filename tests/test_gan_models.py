"""DCGAN nets (gan/models.py; MODEL.md §7): shapes, widths from κ, initialisation, latent scaling,
and the first-BatchNorm/eps mechanism the σ_z Check is about."""

import numpy as np
import pytest
import torch
from torch import nn

from gan.data import load_digits, load_synthetic
from gan.models import (ArchConfig, Discriminator, Generator, init_weights, latent_scale,
                        sample_latent)

torch.set_num_threads(1)


def _convs(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


@pytest.mark.parametrize("kappa", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("image_size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_widths(kappa, image_size, channels):
    config = ArchConfig(kappa=kappa, total_width=16, image_size=image_size, channels=channels, latent_dim=10)
    assert config.ndf == int(np.floor(16 * kappa)) and config.ndf + config.ngf == 16
    g, d = Generator(config), Discriminator(config)
    z = torch.randn(3, 10, 1, 1)
    with torch.no_grad():
        x = g(z)
        y = d(x)
    assert x.shape == (3, channels, image_size, image_size)
    assert y.shape == (3,)
    assert torch.all((x >= -1) & (x <= 1)) and torch.all((y > 0) & (y < 1))
    assert len(_convs(g)) == 5 and len(_convs(d)) == 5
    assert [c.out_channels for c in _convs(g)] == [8 * config.ngf, 4 * config.ngf, 2 * config.ngf, config.ngf, channels]
    assert [c.out_channels for c in _convs(d)] == [config.ndf, 2 * config.ndf, 4 * config.ndf, 8 * config.ndf, 1]


def test_paper_architecture_is_the_tutorial():
    """At 64×64 every inner layer changes the resolution with 4×4 stride-2 kernels (tutorial)."""
    config = ArchConfig()
    assert (config.ndf, config.ngf) == (115, 13)
    for net in (Generator(config), Discriminator(config)):
        convs = _convs(net)
        assert all(c.kernel_size == (4, 4) for c in convs)
        assert [c.stride for c in convs][1:-1] == [(2, 2)] * 3


@pytest.mark.parametrize("bad", [dict(kappa=0.0), dict(kappa=1.0), dict(image_size=20),
                                 dict(kappa=0.01, total_width=16),
                                 dict(bn_eps=0.0), dict(channels=0)])
def test_bad_architecture_rejected(bad):
    with pytest.raises(ValueError):
        ArchConfig(**bad)


def test_tutorial_initialisation_is_seeded():
    config = ArchConfig(total_width=32, image_size=16, channels=1)
    nets = []
    for _ in range(2):
        g = Generator(config)
        init_weights(g, torch.Generator().manual_seed(5))
        nets.append(g)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)
    weights = torch.cat([c.weight.detach().flatten() for c in _convs(nets[0])])
    # ~60k N(0, 0.02²) draws: the sample std is within 1% of 0.02 with overwhelming probability.
    assert abs(float(weights.std()) - 0.02) < 2e-4 and abs(float(weights.mean())) < 2e-4
    bn = torch.cat([m.weight.detach() for m in nets[0].modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(bn.mean()) - 1.0) < 0.01 and all(
        float(m.bias.detach().abs().max()) == 0 for m in nets[0].modules() if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize("sigma_z", [1e-4, 1.0, 30.0])
def test_latent_scaled_by_sigma_over_pixel_std(sigma_z):
    data = load_synthetic(16)
    config = ArchConfig(latent_dim=100, image_size=16, channels=1)
    scale = latent_scale(sigma_z, data.pixel_std)
    z = sample_latent(400, config, scale, torch.Generator().manual_seed(1))
    n = z.numel()
    # std of 40,000 Gaussians: relative s.e. 1/sqrt(2n) ≈ 0.35%; allow 5 s.e.
    assert abs(float(z.std()) / (sigma_z / data.pixel_std) - 1) < 5 / np.sqrt(2 * n)
    assert abs(float(z.mean())) < 5 * scale / np.sqrt(n)


def test_variant_switches():
    config = ArchConfig(image_size=16, channels=1, total_width=16, first_batchnorm=False, bn_eps=1e-3)
    g = Generator(config)
    assert isinstance(g.main[1], nn.Identity)
    assert all(m.eps == 1e-3 for m in g.modules() if isinstance(m, nn.BatchNorm2d))
    assert isinstance(Generator(ArchConfig(image_size=16, channels=1)).main[1], nn.BatchNorm2d)


def _generator(**arch):
    config = ArchConfig(kappa=0.5, total_width=32, image_size=16, channels=1, **arch)
    g = Generator(config)
    init_weights(g, torch.Generator().manual_seed(0))
    return g, config


def _first_block_and_output(g, config, sigma_z):
    """Std of the first (BatchNorm) block's output over the batch, and G's output, at σ_z·u."""
    pixel_std = load_digits(16).pixel_std
    z = sample_latent(64, config, latent_scale(sigma_z, pixel_std), torch.Generator().manual_seed(2))
    with torch.no_grad():
        first = g.main[1](g.main[0](z))
        return float(first.std(dim=0).mean()), g(z)


@pytest.mark.parametrize("first_batchnorm", [True, False])
def test_batchnorm_normalises_the_latent_scale_away(first_batchnorm):
    """MODEL.md §7 Check, at initialisation: with BatchNorm after the first layer (or, without
    it, after the second: ReLU and bias-free convolutions are positively homogeneous) G's output
    does not depend on σ_z as long as the normalised activations' variance exceeds eps."""
    g, config = _generator(first_batchnorm=first_batchnorm)
    _, reference = _first_block_and_output(g, config, 1.0)
    for sigma_z in (0.1, 10.0, 100.0):
        _, out = _first_block_and_output(g, config, sigma_z)
        assert float((out - reference).norm() / reference.norm()) < 0.02


def test_batchnorm_eps_is_where_sigma_enters():
    """Below variance ≈ eps the first BatchNorm stops normalising: its output shrinks in
    proportion to σ_z; with eps = 1e-18 it normalises again. (The later BatchNorms
    re-amplify the signal at initialisation, so the output still varies across the batch.)"""
    g, config = _generator()
    normal, _ = _first_block_and_output(g, config, 1.0)
    assert abs(normal - 1.0) < 0.1
    small_a, out = _first_block_and_output(g, config, 1e-6)
    small_b, _ = _first_block_and_output(g, config, 1e-7)
    assert small_a < 1e-3 and abs(small_a / small_b - 10.0) < 0.1
    assert float(out.std(dim=0).mean()) > 1e-3
    g_eps, config_eps = _generator(bn_eps=1e-18)
    restored, _ = _first_block_and_output(g_eps, config_eps, 1e-6)
    assert abs(restored - 1.0) < 0.1
