"""The report always finishes and never destroys a user's file.

A worker process killed with SIGKILL (as the out-of-memory killer does), an exception in
one analysis, one figure or one table, or a number no formatter expected: the report is
still written, with the item marked failed or computed again in the main process. The
report folder is built next to its target and moved into place at the end; a folder
that cartcohort did not write is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

import cartcohort as cc
from cartcohort import _pool
from cartcohort._pool import _dumps
from cartcohort.cli import app
from cartcohort.derive.dataset import derive
from cartcohort.errors import CartcohortError
from cartcohort.plan import analyses
from cartcohort.plan.outputs import PlanResult
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import builtin_plans, parse_plan
from cartcohort.render.figures import consort
from cartcohort.render.report import build, sections, write_report
from cartcohort.render.report.build import MARKER
from cartcohort.validate import load_cohort_with_report

#: A plan the small seed-002 demo cohort (14 patients) runs quickly.
PLAN = """\
name: tiny
title: Tiny plan
groups:
  sex:
    column: sex
    levels: [F, M]
analyses:
  - {id: cr, type: compare_proportions, title: CR by sex, outcome: responder, by: sex}
  - {id: age, type: compare_values, title: Age by sex, value: age_years, by: sex}
"""
SEED002 = str(cc.demo_path("seed002_mrd"))

MAIN = os.getpid()


def _killed_in_a_worker(real: Any, *args: Any) -> Any:
    """``real(*args)``, but a worker process running it is killed first (SIGKILL)."""
    if os.getpid() != MAIN:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny() -> tuple[list[PlanResult], dict[str, Any]]:
    cohort, validation = load_cohort_with_report(SEED002)
    dataset = derive(cohort)
    results = [run_plan(parse_plan(PLAN), cohort, dataset=dataset)]
    return results, {"validation": validation, "dataset": dataset, "cohort": cohort}


def _cli_report(out: Path, *extra: str) -> Any:
    return CliRunner().invoke(app, ["report", "--data", SEED002, "--out", str(out), *extra])


# ------------------------------------------------------------------------------------------
# The report always finishes
# ------------------------------------------------------------------------------------------


def test_report_completes_when_an_analysis_worker_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "tiny.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    args = ("--plan", str(plan))
    assert _cli_report(tmp_path / "plain", *args).exit_code == 0
    monkeypatch.setattr(_pool, "default_workers", lambda: 2)  # workers even on one core
    real = analyses.RUNNERS["compare_values"]
    monkeypatch.setitem(analyses.RUNNERS, "compare_values", partial(_killed_in_a_worker, real))
    result = _cli_report(tmp_path / "killed", *args)
    assert result.exit_code == 0, result.output
    assert "worker process stopped unexpectedly" in result.output
    # the killed analysis (and whatever was pending) was computed again here
    for name in ("results.json", "report.html"):
        assert (tmp_path / "killed" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


_REAL_FLOW = consort.plot_flow


def _flow_or_die(steps: Any) -> Figure:
    return _killed_in_a_worker(_REAL_FLOW, steps)  # type: ignore[no-any-return]


def test_report_completes_when_a_figure_worker_is_killed(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, inputs = tiny
    plain = write_report(results, tmp_path / "plain", jobs=1, **inputs).parent
    monkeypatch.setattr(consort, "plot_flow", _flow_or_die)
    assert _dumps(partial(_flow_or_die, [])) is not None  # sent to a worker
    with _pool.WorkerPool(2) as pool:
        killed = write_report(results, tmp_path / "killed", pool=pool, **inputs).parent
        assert pool.lost >= 1  # the flow diagram's worker died; drawn here instead
    assert _files(killed) == _files(plain)


def test_an_exception_in_one_analysis_fails_only_that_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(spec: Any, ctx: Any) -> Any:
        return 1 / 0

    monkeypatch.setitem(analyses.RUNNERS, "compare_values", bug)
    plan = tmp_path / "tiny.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "out"
    result = _cli_report(out, "--plan", str(plan))
    assert result.exit_code == 0, result.output  # was 70, "Internal error", no report
    assert "0 of 2 analyses computed" in result.output
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    age = saved["plans"]["tiny"]["analyses"]["age"]
    assert age["status"] == "failed"
    assert "ZeroDivisionError: division by zero" in age["reason"]
    assert "Fisher" in saved["plans"]["tiny"]["analyses"]["cr"]["reason"]  # as before
    assert "ZeroDivisionError" in (out / "report.html").read_text(encoding="utf-8")


def test_an_exception_in_a_figure_or_a_table_is_shown_not_raised(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, inputs = tiny

    def broken_flow(steps: Any) -> Figure:
        raise KeyError("no such step")

    def broken_table(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("cannot format")

    monkeypatch.setattr(consort, "plot_flow", broken_flow)
    monkeypatch.setattr(sections, "format_table", broken_table)
    out = write_report(results, tmp_path / "out", jobs=1, **inputs).parent
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "KeyError: &#39;no such step&#39;" in html
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    output = saved["plans"]["tiny"]["analyses"]["age"]  # "cr" failed from the data
    assert output["status"] == "failed"
    assert "TypeError: cannot format" in output["reason"]
    assert output["results"]  # the numbers are kept
    assert not [f for f in output["files"] if f.startswith("tables/")]
    assert not list((out / "tables").glob("*.csv"))  # partial tables withdrawn


def test_report_on_the_seed002_demo_cohort_with_every_builtin_plan(tmp_path: Path) -> None:
    # a Cox upper limit of 4.5e49 stopped this report in number formatting
    out = tmp_path / "out"
    result = _cli_report(out)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(saved["plans"]) == set(builtin_plans())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "× 10⁴⁹" in html
    assert "e+49" not in html


# ------------------------------------------------------------------------------------------
# report --out never destroys a user's file
# ------------------------------------------------------------------------------------------


def test_a_non_empty_folder_without_the_marker_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "my-table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    before = _files(tmp_path)
    result = _cli_report(out, "--plan", "mrd")
    assert result.exit_code == 1  # main() prints "Error: <message>" for a CartcohortError
    assert isinstance(result.exception, CartcohortError)
    assert "not empty and was not written by cartcohort" in str(result.exception)
    assert _files(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary folder
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = _cli_report(tmp_path / "a-file", "--plan", "mrd")
    assert "is a file, not a folder" in str(result.exception)


def _first_analysis_only(results: list[PlanResult]) -> list[PlanResult]:
    return [dataclasses.replace(r, outputs=r.outputs[:1]) for r in results]


def test_a_rerun_replaces_its_own_files_and_keeps_the_users(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path
) -> None:
    results, inputs = tiny
    out = tmp_path / "report"
    out.mkdir()  # an empty folder is fine
    write_report(results, out, jobs=1, **inputs)
    first = _files(out)
    assert json.loads(first[MARKER])["files"] == sorted(set(first) - {MARKER})
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    (out / "tables" / "my-table.csv").write_text("mine", encoding="utf-8")
    (out / "figures" / "my-figure.png").write_bytes(b"mine")
    # the second run has one analysis fewer: its table and figures of the first go
    write_report(_first_analysis_only(results), out, jobs=1, **inputs)
    second = _files(out)
    assert second["notes.txt"] == b"my notes"
    assert second["tables/my-table.csv"] == b"mine"
    assert second["figures/my-figure.png"] == b"mine"
    gone = {f for f in first if "__age" in f}
    assert gone
    assert not gone & set(second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder


def test_a_failed_run_leaves_the_previous_report_intact(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, inputs = tiny
    out = tmp_path / "report"
    write_report(results, out, jobs=1, **inputs)
    before = _files(out)

    def fails(context: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(build, "render_html", fails)
    with pytest.raises(CartcohortError, match=r"disk full.*earlier report there is intact"):
        write_report(_first_analysis_only(results), out, jobs=1, **inputs)  # after the tables
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder


def test_a_link_out_of_the_report_folder_is_never_written_through(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path
) -> None:
    results, inputs = tiny
    out = tmp_path / "report"
    write_report(results, out, jobs=1, **inputs)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "tiny__age__summary.csv").write_text("mine", encoding="utf-8")
    for path in (out / "tables").iterdir():
        path.unlink()
    (out / "tables").rmdir()
    (out / "tables").symlink_to(elsewhere)
    with pytest.raises(CartcohortError, match="tables linking out of it; nothing was replaced"):
        write_report(results, out, jobs=1, **inputs)
    assert _files(elsewhere) == {"tiny__age__summary.csv": b"mine"}


def test_an_incomplete_build_is_never_moved_into_place(
    tiny: tuple[list[PlanResult], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e.g. another program deleted the temporary folder while figures were still drawn
    results, inputs = tiny
    out = tmp_path / "report"
    write_report(results, out, jobs=1, **inputs)
    before = _files(out)
    monkeypatch.setattr(build, "write_results_json", lambda payload, path: path)
    with pytest.raises(CartcohortError, match=r"lost results\.json during the run"):
        write_report(_first_analysis_only(results), out, jobs=1, **inputs)
    assert _files(out) == before
