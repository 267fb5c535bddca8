"""ganspin: the interacting spin-glass model of GAN loss surfaces, derived and verified."""

__version__ = "0.1.0"
