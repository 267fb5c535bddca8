"""``ganspin constants``: the derived and published constants of the complexity problem
(MODEL.md §3, §6), and with ``--audit`` the MODEL.md §8 table with Monte Carlo columns."""

from __future__ import annotations

import json
import math

import click


def constant_sets(p, q, kappa, sigma_z) -> dict:
    """{"derived": {...}, "published": {...}} with the keys of issue 3 (b, b1, s2, s1_2,
    log_constant, domain_x_coeff, domain_R, domain_uD_coeff) and the rest of the contract.

    Domain keys use the published form: the L_G constraint's boundary is x = domain_x_coeff·u_G,
    the L_D one x1 = domain_R·x − domain_uD_coeff·u_D; the derived boundaries also move with
    δ and their inequalities point the other way (``domain_x_side``, ``domain_x1_side``)."""
    from derivations.generated import published
    from ganspin.audit import derived_values
    from numerics.constants import complexity_problem
    from numerics.params import ModelParams

    params = ModelParams(p, q, kappa, sigma_z)
    der = derived_values(params.p, params.q, params.kappa, params.sigma_z)
    pr = complexity_problem(params, "derived")
    pp = complexity_problem(params, "paper")
    args = (float(params.p), float(params.q), params.kappa, params.sigma_z)
    b, b1, s2, s1_2, log_c, x_coeff, R, ud_coeff = (float(v) for v in published.published_constants(*args))

    def common(problem):
        return {
            "variables": list(problem.variables),
            "precision": problem.precision.tolist(),
            "shift_map": problem.shift_map.tolist(),
            "loss_map": problem.loss_map.tolist(),
            "edge_d": problem.edge_d, "edge_g": problem.edge_g,
            "fraction_d": problem.fraction_d, "fraction_g": problem.fraction_g,
            "index_d_map": list(problem.index_d_map), "index_g_map": list(problem.index_g_map),
            "index_d_sign": problem.index_d_sign, "index_g_sign": problem.index_g_sign,
            "index_zero_requires_edge": problem.index_zero_requires_edge,
        }

    derived = {
        "b": der["b"], "b1": der["b1"], "s2": der["s2"], "s1_2": der["s1_2"],
        "cov_x_x1": der["cov_x_x1"], "var_delta": der["var_d"], "log_constant": der["log_constant"],
        "domain_x_coeff": der["x_per_LG"], "domain_R": der["R"], "domain_uD_coeff": -der["x1_per_LD"],
        "domain_x_side": ">=", "domain_x1_side": "<=", **common(pr),
    }
    paper = {
        "b": b, "b1": b1, "s2": s2, "s1_2": s1_2, "cov_x_x1": 0.0, "var_delta": 0.0, "log_constant": log_c,
        "domain_x_coeff": x_coeff, "domain_R": R, "domain_uD_coeff": ud_coeff,
        "domain_x_side": "<", "domain_x1_side": ">", **common(pp),
    }
    return {"params": {"p": params.p, "q": params.q, "kappa": params.kappa, "sigma_z": params.sigma_z},
            "derived": derived, "published": paper}


SCALARS = ("b", "b1", "s2", "s1_2", "cov_x_x1", "var_delta", "log_constant", "domain_x_coeff",
           "domain_R", "domain_uD_coeff", "edge_d", "edge_g", "fraction_d", "fraction_g",
           "index_zero_requires_edge")


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


@click.command("constants")
@click.option("--p", "p", default="3", show_default=True, help="Discriminator spin order p.")
@click.option("--q", "q", default="3", show_default=True, help="Generator extra order q.")
@click.option("--kappa", default="0.9", show_default=True, help="N_D / N in (0, 1).")
@click.option("--sigma-z", "sigma_z", default="1.0", show_default=True, help="Generator noise scale.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--audit", is_flag=True,
              help="Print the MODEL.md §8 audit table (published / derived / Monte Carlo / verdict) "
                   "for its fixed parameter sets instead.")
@click.option("--quick", is_flag=True, help="With --audit: first parameter set only, smaller Monte Carlo.")
@click.option("--progress/--no-progress", default=False, help="With --audit: progress bar on stderr.")
def constants(p, q, kappa, sigma_z, as_json, audit, quick, progress):
    """Derived and published constants of the complexity problem (MODEL.md §3, §6, §8)."""
    if audit:
        from dataclasses import asdict

        from ganspin.audit import AuditConfig, audit_markdown, audit_rows

        config = AuditConfig.quick() if quick else AuditConfig()
        rows = audit_rows(config, progress=progress)
        if as_json:
            click.echo(json.dumps(_json_safe({"config": asdict(config), "rows": [asdict(r) for r in rows]})))
        else:
            click.echo(audit_markdown(rows))
        return
    sets = constant_sets(p, q, kappa, sigma_z)
    if as_json:
        click.echo(json.dumps(_json_safe(sets)))
        return
    par = sets["params"]
    click.echo(f"p = {par['p']}, q = {par['q']}, kappa = {par['kappa']}, sigma_z = {par['sigma_z']:g}")
    click.echo(f"{'quantity':<24}{'derived':>18}{'published':>18}")
    for key in SCALARS:
        d, pub = sets["derived"][key], sets["published"][key]
        click.echo(f"{key:<24}{d!s:>18.18}{pub!s:>18.18}" if isinstance(d, bool)
                   else f"{key:<24}{d:>18.8g}{pub:>18.8g}")
    click.echo(f"derived variables {sets['derived']['variables']}; published {sets['published']['variables']}")
