"""End-to-end: ``ganspin reproduce`` at the tiny resolution writes every figure, store and a
report whose tables are filled with numbers; a re-run reuses finished stages; failures end in
one line naming the stage."""

import math
import re

import pytest

from ganspin.cli import main
from ganspin.figures import FIGURES
from ganspin.reproduce import PAPER_CLAIMS, ReproduceConfig, Stage, StageError, run_stages

EXPECTED_STORES = ["kac_rice.json", "gan-sigma-quick.nc", "gan-kappa-quick.nc",
                   "sweep_sigma_derived_p5_q5_n3.nc", "sweep_kappa_derived_p5_q5_n3.nc"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    main(["reproduce", "--tiny", "--out", str(out)])
    return out


def test_every_figure_store_and_report_exists(tiny_run):
    for name in FIGURES:
        for ext in ("png", "pdf"):
            path = tiny_run / f"figure_{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
    for name in EXPECTED_STORES + ["report.md", "report.html", "config.json"]:
        assert (tiny_run / name).stat().st_size > 0, name


def test_report_tables_hold_numbers(tiny_run):
    report = (tiny_run / "report.md").read_text(encoding="utf-8")
    assert not re.search(r"\bnan\b", report, flags=re.I)  # no NaN placeholders in any cell
    for title in ("Stage timings", "Constants audit", "Finite-N Kac-Rice check", "Software versions"):
        assert title in report
    timing_section = report.split("## Stage timings")[1].split("\n## ")[0]
    timings = re.findall(r"^\| [^|]+ \| ([0-9.]+) \|$", timing_section, flags=re.M)
    assert len(timings) == 9 and all(math.isfinite(float(t)) for t in timings)
    audit_rows = [line for line in report.splitlines() if line.startswith("| b (eqs")]
    assert audit_rows and all(re.search(r"\d", cell) for cell in audit_rows[0].split("|")[2:5])
    for claim in PAPER_CLAIMS.values():
        assert claim in report
    html = (tiny_run / "report.html").read_text(encoding="utf-8")
    assert "<table>" in html and "figure_1.png" in html


def test_rerun_reuses_finished_stages(tiny_run, capsys):
    main(["reproduce", "--tiny", "--out", str(tiny_run)])
    err = capsys.readouterr().err
    assert err.count("done earlier, reused") == 9


def test_failing_stage_is_one_line_naming_it_and_keeps_finished_work(tmp_path):
    cfg = ReproduceConfig(out_dir=tmp_path)

    def broken(_cfg):
        raise ZeroDivisionError("boom")

    plan = [Stage("first", "First", lambda _cfg: {"finding": "ok"}), Stage("second", "Second", broken)]
    with pytest.raises(StageError, match="stage 'second' failed") as info:
        run_stages(cfg, plan, echo=lambda _m: None)
    assert "\n" not in str(info.value)
    assert (tmp_path / ".stages" / "first.json").is_file()
    assert not (tmp_path / ".stages" / "second.json").exists()


def test_unwritable_out_folder_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "--tiny", "--out", str(blocker / "sub")])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code != 0 and len(err) == 1 and "not writable" in err[0]
