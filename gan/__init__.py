"""DCGAN experiment layer (PyTorch). Depends only on ``ganspin.sweeps`` and ``ganspin.plotting``."""
