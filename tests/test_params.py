"""Bad input: numerics/params.py helpers and ModelParams, and the CLI's one-line `error: ...`
with exit code 2 and no traceback."""

import math
import subprocess
import sys

import numpy as np
import pytest

from ganspin.cli import main
from numerics.params import (
    ModelParams,
    ParameterError,
    finite,
    finite_array,
    integer,
    nonnegative,
    positive,
    unit_interval,
)

NAN, INF = float("nan"), float("inf")


def _one_line_naming(exc_info, name):
    msg = str(exc_info.value)
    assert msg.startswith(f"{name} "), msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(kappa=0.0), "kappa"),
        (dict(kappa=1.0), "kappa"),
        (dict(kappa=1.5), "kappa"),
        (dict(kappa=-0.1), "kappa"),
        (dict(kappa=NAN), "kappa"),
        (dict(sigma_z=0.0), "sigma_z"),
        (dict(sigma_z=-1.0), "sigma_z"),
        (dict(sigma_z=NAN), "sigma_z"),
        (dict(sigma_z=INF), "sigma_z"),
        (dict(sigma_z="abc"), "sigma_z"),
        (dict(p=1), "p"),
        (dict(q=0), "q"),
        (dict(p=2.5), "p"),
        (dict(q=NAN), "q"),
        (dict(p=True), "p"),
        (dict(q="three"), "q"),
    ],
)
def test_model_params_reject_bad_input(kwargs, name):
    with pytest.raises(ParameterError) as exc:
        ModelParams(**kwargs)
    _one_line_naming(exc, name)


def test_model_params_accept_and_normalise_good_input():
    mp = ModelParams(p=3.0, q="2", kappa="0.5", sigma_z=np.float32(2))
    assert (mp.p, mp.q, mp.kappa, mp.sigma_z) == (3, 2, 0.5, 2.0)
    assert isinstance(mp.p, int) and isinstance(mp.q, int)


def test_helpers():
    assert finite("x", "1.5") == 1.5
    assert positive("x", 1e-300) == 1e-300
    assert nonnegative("x", 0) == 0.0
    assert unit_interval("x", 0.999) == 0.999
    assert integer("x", 4.0, 2) == 4
    np.testing.assert_array_equal(finite_array("x", [1, 2]), [1.0, 2.0])
    for call in (
        lambda: finite("x", NAN),
        lambda: finite("x", None),
        lambda: finite_array("x", [1.0, INF]),
        lambda: finite_array("x", ["a"]),
        lambda: positive("x", 0),
        lambda: nonnegative("x", -1e-12),
        lambda: unit_interval("x", 1),
        lambda: integer("x", 1, 2),
        lambda: integer("x", 2.5, 2),
        lambda: integer("x", INF, 2),
    ):
        with pytest.raises(ParameterError) as exc:
            call()
        _one_line_naming(exc, "x")
    assert issubclass(ParameterError, ValueError)
    assert math.isfinite(finite("x", "-2.5"))


@pytest.mark.parametrize(
    "args,name",
    [
        (["--kappa", "1.5"], "kappa"),
        (["--kappa=0"], "kappa"),
        (["--kappa", "nan"], "kappa"),
        (["--sigma-z=-1"], "sigma_z"),
        (["--sigma-z", "0"], "sigma_z"),
        (["--sigma-z", "nan"], "sigma_z"),
        (["--p", "1"], "p"),
        (["--q", "1"], "q"),
        (["--p", "2.5"], "p"),
        (["--n-d", "2.5"], "n_d"),
        (["--n-g", "x"], "n_g"),
        (["--instances", "1"], "instances"),
        (["--kappa", "0.5", "--n", "3"], "n"),
        (["--radius-d", "nan"], "radius_d"),
    ],
)
def test_cli_bad_input_is_one_line_error_with_exit_2(args, name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["model-check", *args])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {name} "), lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_installed_entry_point_prints_no_traceback():
    """The real console path (``python -m ganspin.cli``) on bad input."""
    proc = subprocess.run(
        [sys.executable, "-m", "ganspin.cli", "model-check", "--sigma-z=nan"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: sigma_z must be finite, got 'nan'"
    assert proc.stdout == ""
