"""Validated model parameters: the one place where parameter checks live.

Every public entry point validates its inputs through these helpers so that bad input
produces a one-line :class:`ParameterError` naming the parameter (the CLI prints it
without a traceback), never a silent NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class ParameterError(ValueError):
    """Invalid user input; the message names the parameter."""


def finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return v


def finite_array(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be real numbers, got {values!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite (got NaN or inf)")
    return arr


def positive(name: str, value) -> float:
    v = finite(name, value)
    if v <= 0:
        raise ParameterError(f"{name} must be > 0, got {value!r}")
    return v


def nonnegative(name: str, value) -> float:
    v = finite(name, value)
    if v < 0:
        raise ParameterError(f"{name} must be >= 0, got {value!r}")
    return v


def unit_interval(name: str, value) -> float:
    v = finite(name, value)
    if not 0.0 < v < 1.0:
        raise ParameterError(f"{name} must lie in the open interval (0, 1), got {value!r}")
    return v


def integer(name: str, value, minimum: int) -> int:
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if not math.isfinite(f) or f != int(f) or int(f) < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(f)


@dataclass(frozen=True)
class ModelParams:
    """The N -> infinity model of MODEL.md §1: spin orders p, q, size ratio kappa = N_D/N and
    generator noise scale sigma_z (paper §2, eqs 2-6)."""

    p: int = 3
    q: int = 3
    kappa: float = 0.9
    sigma_z: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "p", integer("p", self.p, 2))
        object.__setattr__(self, "q", integer("q", self.q, 2))
        object.__setattr__(self, "kappa", unit_interval("kappa", self.kappa))
        object.__setattr__(self, "sigma_z", positive("sigma_z", self.sigma_z))
