"""``ganspin constants`` and the constants audit (MODEL.md §8; issue 3)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from derivations.generated import published
from numerics.constants import complexity_problem
from numerics.params import ModelParams, ParameterError

KEYS = ("b", "b1", "s2", "s1_2", "log_constant", "domain_x_coeff", "domain_R", "domain_uD_coeff")


def run(*args):
    return subprocess.run([sys.executable, "-m", "ganspin.cli", "constants", *args],
                          capture_output=True, text=True)


def test_json_has_both_sets_with_the_issue_keys():
    r = run("--p", "3", "--q", "2", "--kappa", "0.7", "--sigma-z", "0.5", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for which in ("derived", "published"):
        assert all(k in out[which] for k in KEYS)
    # Derived scalars are those of the ComplexityProblem; published ones those of the paper.
    pr = complexity_problem(ModelParams(3, 2, 0.7, 0.5), "derived")
    assert out["derived"]["b"] == pytest.approx(pr.b, rel=1e-14)
    assert out["derived"]["log_constant"] == pytest.approx(pr.log_constant, rel=1e-14)
    pub = published.published_constants(3.0, 2.0, 0.7, 0.5)
    assert [out["published"][k] for k in KEYS] == pytest.approx([float(v) for v in pub], rel=1e-14)
    m = 5
    # x = −(m/2)·L_G/√N + σδ/2 and x1 = −(2p/m)·x + p·L_D/√N + …  (MODEL.md §3 reconstruction)
    assert out["derived"]["domain_x_coeff"] == pytest.approx(-m / 2)
    assert out["derived"]["domain_R"] == pytest.approx(-2 * 3 / m)
    assert out["derived"]["s2"] == pytest.approx(0.25 * 0.25 * (m * m + m) * 2**m)


@pytest.mark.parametrize("args,name", [(("--kappa", "1.5"), "kappa"), (("--p", "2.5"), "p"),
                                       (("--sigma-z", "-1"), "sigma_z"), (("--q", "1"), "q"),
                                       (("--sigma-z", "nan"), "sigma_z")])
def test_bad_parameters_exit_2_with_one_line(args, name):
    r = run(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and name in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_complexity_problem_rejects_unknown_constant_set():
    with pytest.raises(ParameterError, match="constants"):
        complexity_problem(ModelParams(), "published-ish")


def test_paper_problem_encodes_the_published_domain():
    pr = complexity_problem(ModelParams(3, 3, 0.9, 1.0), "paper")
    m2m = 6 * 2**6
    x, x1 = 10.0, -4.0  # x < m2^m u_G and x1 > R x − p u_D
    u_g, u_d = x / m2m, (-(x1) - x * 3 / m2m) / 3
    np.testing.assert_allclose(pr.loss_map @ [x, x1], [u_d, u_g])
    assert pr.precision[0, 0] == pytest.approx(1 / (0.5 * 36 * 2**18))


@pytest.fixture(scope="module")
def quick_audit():
    r = run("--audit", "--quick", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_audit_monte_carlo_agrees_with_derived_within_3_se(quick_audit):
    rows = quick_audit["rows"]
    assert len(rows) >= 16
    checked = 0
    for row in rows:
        if row["mc"] is None:
            continue
        tol = row["allowance"] * abs(row["derived"]) + 3 * row["mc_se"] + 1e-9 * abs(row["derived"])
        assert abs(row["mc"] - row["derived"]) <= tol, row
        assert "PUBLISHED" not in row["verdict"], row
        checked += 1
    assert checked >= 14


def test_audit_verdicts_cover_every_published_constant(quick_audit):
    verdicts = {r["quantity"].split(" ")[0]: r["verdict"] for r in quick_audit["rows"]}
    for name in ("b", "b1", "s²", "s1²", "domain_x_coeff:", "domain_R:", "domain_uD_coeff:", "log"):
        assert verdicts[name].startswith("refuted"), (name, verdicts[name])
    assert verdicts["E_G"].startswith("reproduced")
