"""The report folder: files, byte-identical results.json, identifiers, the CLI command."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cartcohort as cc
from cartcohort.cli import app
from cartcohort.derive.dataset import derive
from cartcohort.plan.outputs import PlanResult
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan
from cartcohort.render.report import write_report
from cartcohort.render.report.build import Redactor, json_value
from cartcohort.render.report.methods import method_footnote, method_groups
from cartcohort.render.tables import format_table, format_value
from cartcohort.validate import load_cohort_with_report

PLAN = """\
name: small
title: Small report plan
reference: "Test reference, 2021"
population:
  - {column: age_years, min: 18, label: "younger than 18 years"}
groups:
  burden:
    column: burden_group
    levels: [low, high]
    labels: {low: Low burden, high: High burden}
analyses:
  - {id: cr, type: compare_proportions, title: CR by burden, outcome: responder, by: burden}
  - {id: os, type: survival, title: OS by burden, endpoint: OS, by: burden, landmarks_days: [730]}
  - {id: nothing, type: compare_values, title: Absent value, value: no_such_column, by: burden}
"""


def _run(out: Path) -> tuple[Path, list[PlanResult], pd.DataFrame]:
    cohort, validation = load_cohort_with_report(cc.demo_path("synthetic"))
    dataset = derive(cohort)
    results = [run_plan(parse_plan(PLAN), cohort, dataset=dataset)]
    html = write_report(results, out, validation=validation, dataset=dataset, cohort=cohort, jobs=1)
    return html, results, dataset.patients


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PlanResult], list[str]]:
    html, results, patients = _run(tmp_path_factory.mktemp("report"))
    return html, results, [str(i) for i in patients["patient_id"]]


class _TextOutsideListings(HTMLParser):
    """Collect the text of the page that is not inside an element of class ``listing``."""

    VOID = frozenset({"img", "br", "meta", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append("listing" in classes or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.text.append(data)


def test_report_writes_every_file(report: tuple[Path, list[PlanResult], list[str]]) -> None:
    html, _, _ = report
    out = html.parent
    assert html.name == "report.html"
    assert (out / "results.json").is_file()
    csvs = sorted(p.name for p in (out / "tables").glob("*.csv"))
    assert csvs == ["small__cr__counts.csv", "small__os__survival.csv"]
    workbook = pd.read_excel(out / "tables" / "tables.xlsx", sheet_name=None)
    index = workbook["index"]
    assert list(index["file"]) == ["small__cr__counts.csv", "small__os__survival.csv"]
    for sheet, file in zip(index["sheet"], index["file"], strict=True):  # same numbers
        csv = pd.read_csv(out / "tables" / file)
        pd.testing.assert_frame_equal(workbook[sheet], csv, check_dtype=False, rtol=1e-12)
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        f"small__{n}.{ext}" for n in ("cr_bars", "flow", "os_km") for ext in ("png", "svg")
    ]
    # the CSV keeps full precision: the landmark rate is the number in results.json
    table = pd.read_csv(out / "tables" / "small__os__survival.csv")
    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = payload["plans"]["small"]["analyses"]["os"]["results"]
    rate = next(
        r["stat_value"]
        for r in rows
        if r["variable"] == "day_730"
        and r["stat_name"] == "estimate"
        and r["group"] == "Low burden"
    )
    assert table.loc[table["group"] == "Low burden", "rate_day_730"].iloc[0] == rate


def test_html_is_self_contained(report: tuple[Path, list[PlanResult], list[str]]) -> None:
    text = report[0].read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r"""(?:src|href)=["'](?:https?:|//|file:)""", text)
    assert text.count('src="data:image/') == 3  # flow, bars, KM


def test_embedded_figures_fit_the_demo_report_under_3_mb(
    report: tuple[Path, list[PlanResult], list[str]],
) -> None:
    # The demo report embeds about 100 figures in about 0.4 MB of text: under 3 MB, a
    # figure may take 25 kB on average (these three: a flow diagram, bars, a KM plot).
    text = report[0].read_text(encoding="utf-8")
    uris = re.findall(r'src="(data:image/[^"]+)"', text)
    assert len(uris) == 3
    assert sum(map(len, uris)) / len(uris) < 25_000


def test_results_json_shape_and_precision(report: tuple[Path, list[PlanResult], list[str]]) -> None:
    html, results, _ = report
    payload = json.loads((html.parent / "results.json").read_text(encoding="utf-8"))
    assert payload["cohort"]["synthetic"] is True
    assert payload["cohort"]["n_patients"] == 150
    assert all("/" not in s["path"] for s in payload["cohort"]["sources"])
    assert all(len(s["sha256"]) == 64 for s in payload["cohort"]["sources"])
    analyses = payload["plans"]["small"]["analyses"]
    assert list(analyses) == sorted(analyses)
    assert analyses["nothing"]["status"] == "skipped"
    assert "no_such_column" in analyses["nothing"]["reason"]
    os_ = analyses["os"]
    assert os_["methods"][0]["reference"].startswith("R survival::survfit")
    assert set(os_["results"][0]) == {"group", "variable", "level", "stat_name", "stat_value"}
    # every ARD number is there at full precision
    ard = next(o for o in results[0].outputs if o.id == "os").ard
    p = float(ard.loc[ard["stat_name"] == "p_value", "stat_value"].iloc[0])
    assert [r["stat_value"] for r in os_["results"] if r["stat_name"] == "p_value"] == [p]


def test_results_json_is_byte_identical_across_runs(
    report: tuple[Path, list[PlanResult], list[str]], tmp_path: Path
) -> None:
    first = report[0].parent
    second = _run(tmp_path / "again")[0].parent
    for name in ("results.json", "report.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    for path in sorted((first / "figures").iterdir()):
        assert path.read_bytes() == (second / "figures" / path.name).read_bytes(), path.name


def test_synthetic_banner_and_skipped_analyses(
    report: tuple[Path, list[PlanResult], list[str]],
) -> None:
    text = report[0].read_text(encoding="utf-8")
    assert 'class="synthetic-banner"' in text
    assert "SYNTHETIC DATA" in text
    not_computed = text.split('id="not-computed"', 1)[1].split('id="data-quality"', 1)[0]
    assert "Absent value" in not_computed
    assert "no_such_column" in not_computed
    # and in place, in plan order
    assert text.index("CR by burden</h3>") < text.index("Absent value</h3>")


def test_no_absolute_paths_and_ids_only_in_listings(
    report: tuple[Path, list[PlanResult], list[str]],
) -> None:
    html, _, ids = report
    text = html.read_text(encoding="utf-8")
    payload = (html.parent / "results.json").read_text(encoding="utf-8")
    for absolute in (str(cc.demo_path("synthetic")), str(html.parent), "/work/", "/tmp/"):
        assert absolute not in text
        assert absolute not in payload
    parser = _TextOutsideListings()
    parser.feed(text)
    visible = " ".join(parser.text)
    leaked = sorted({i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", visible)})
    assert leaked == []
    # the demo's derivation warnings do name patients: they are shown as listings
    assert "listing" in text


def test_footnotes_come_from_methods(report: tuple[Path, list[PlanResult], list[str]]) -> None:
    html, results, _ = report
    text = html.read_text(encoding="utf-8")
    km = next(o for o in results[0].outputs if o.id == "os").methods[0]
    assert method_footnote(km).replace("'", "&#39;") in text
    assert "confidence-interval transform: log-log" in text
    groups = method_groups(results)
    assert [g.estimator for g in groups][:2] == ["Fisher's exact test", "Kaplan-Meier"]
    assert "Used in: Small report plan: OS by burden" in text


def test_redactor_moves_ids_into_a_listing() -> None:
    redact = Redactor(["SYN-001", "SYN-010"])
    note = redact.note("AUC not estimable for 2 of 9 (SYN-001/1, SYN-010/2).")
    assert note.text == "AUC not estimable for 2 of 9."
    assert note.patients == "SYN-001/1, SYN-010/2"
    assert redact.note("SYN-0100 is not a patient").patients == ""
    assert redact.note("patient SYN-001 relapsed").text == "patient [patient] relapsed"


def test_json_value_keeps_floats_exact_and_nan_as_null() -> None:
    x = 0.1 + 0.2
    assert json.dumps(json_value({"a": x, "b": float("nan"), "c": float("inf")})) == (
        '{"a": 0.30000000000000004, "b": null, "c": null}'
    )


@pytest.mark.parametrize(
    ("value", "fmt", "column", "expected"),
    [
        pytest.param(0.0312, "p", "p", "0.031", id="p"),
        pytest.param(0.00049, None, "p_value", "<0.001", id="p-inferred"),
        pytest.param(0.6125, "percent", "rate", "61 %", id="percent"),
        pytest.param(2.675, "estimate", "hr", "2.68", id="half-up"),
        pytest.param(58.0, None, "n", "58", id="count"),
        pytest.param(179.55, None, "median", "179.6", id="one-decimal"),
        pytest.param(0.012345, None, "x", "0.0123", id="small"),
        pytest.param(3405000.0, None, "dose", "3.41 × 10⁶", id="large"),
        pytest.param(True, None, "flag", "yes", id="bool"),
        pytest.param(float("nan"), None, "x", "", id="missing"),
        pytest.param(float("inf"), "estimate", "x", "NE", id="not-estimable"),
    ],
)
def test_format_value(value: object, fmt: str | None, column: str, expected: str) -> None:
    assert format_value(value, fmt, column) == expected


def test_format_table_pairs_estimates_with_limits_and_se() -> None:
    frame = pd.DataFrame(
        {
            "group": ["A"],
            "n": [10],
            "median_days": [770.0],
            "median_lower": [489.4],
            "median_upper": [float("nan")],
            "rate_day_365": [0.6136],
            "se_day_365": [0.0424],
        }
    )
    formats = {"median_days": "days", "median_lower": "days", "median_upper": "days"}
    formats |= {"rate_day_365": "percent", "se_day_365": "percent"}
    table = format_table(frame, formats)
    assert table.headers == ("Group", "n", "Median, days (95% CI)", "Rate at day 365 ± SE")
    assert table.rows == (("A", "10", "770 (489–NE)", "61 % ± 4 %"),)
    assert table.numeric == (False, True, True, True)


def _plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


def test_cli_report_exits_0_and_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["report", "--data", str(cc.demo_path("synthetic")), "--plan",
         str(_plan_file(tmp_path)), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file()
    assert (out / "results.json").is_file()
    assert "Wrote" in result.output
    assert "small: os" in result.output  # one line per analysis when not on a terminal


def test_cli_report_without_data_says_it_uses_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["report", "--plan", str(_plan_file(tmp_path)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "No --data given: using the built-in SYNTHETIC demo cohort" in result.output


def test_cli_report_with_validation_errors_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "bad"
    data.mkdir()
    (data / "patients.csv").write_text(
        "patient_id,sex,age_years\nP1,M,30\nP1,F,40\nP3,Q,-5\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["report", "--data", str(data), "--plan", str(_plan_file(tmp_path)), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "duplicate.key" in result.output
    assert "No report was written" in result.output
    assert not out.exists()


def test_cli_report_unknown_plan_is_a_plan_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--plan", "no-such-plan", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "Unknown plan" in str(result.exception)


def test_long_baseline_frame_becomes_a_wide_table_1() -> None:
    frame = pd.DataFrame(
        {
            "variable": ["age_years", "age_years", "sex", "sex"],
            "level": [None, None, "F", "F"],
            "group": ["A", "B", "A", "B"],
            "summary": ["mean_sd", "mean_sd", "n_percent", "n_percent"],
            "n": [10, 12, 4, 9],
            "mean": [41.25, 38.45, None, None],
            "sd": [17.44, 14.35, None, None],
            "percent": [None, None, 0.4, 0.75],
        }
    )
    table = format_table(frame, {})
    assert table.headers == ("Characteristic", "A", "B")
    assert table.rows == (
        ("age_years, mean (SD)", "41.3 (17.4)", "38.5 (14.4)"),
        ("sex: F, n (%)", "4 (40 %)", "9 (75 %)"),
    )


def test_png_bytes_is_a_png_any_reader_opens() -> None:
    import io

    from PIL import Image

    from cartcohort.render.report.figures import png_bytes

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    rgb[2:4] = 255  # flat rows, as in a figure
    image = Image.open(io.BytesIO(png_bytes(rgb, 300)))
    assert image.mode == "RGB"
    assert image.size == (11, 7)
    assert np.array_equal(np.asarray(image), rgb)
    assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)


def test_a_figure_is_embedded_as_its_smallest_faithful_copy() -> None:
    import io

    from PIL import Image

    from cartcohort.render.report.figures import embedded_image

    rgb = np.full((60, 90, 3), 255, dtype=np.uint8)
    rgb[10:20, 5:80] = (31, 119, 180)  # flat colours with a grey edge, as in a figure
    rgb[20, 5:80] = (128, 128, 128)
    before = rgb.copy()
    mime, data = embedded_image(rgb, b"<svg>" + b" " * 100_000 + b"</svg>")
    assert np.array_equal(rgb, before)  # not modified
    assert mime in {"image/webp", "image/png"}
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), rgb)
    assert embedded_image(rgb, b"<svg/>") == ("image/svg+xml", b"<svg/>")  # smaller


def test_an_embedded_figure_keeps_its_white_background() -> None:
    # Reduced to 256 colours, a figure with many anti-aliased shades would have its white
    # merged with near-white shades into an off-white box on the white page.
    import io

    from PIL import Image

    from cartcohort.render.report.figures import embedded_image

    rng = np.random.default_rng(7)
    rgb = np.full((80, 120, 3), 255, dtype=np.uint8)
    rgb[20:60, 10:110] = rng.integers(200, 256, size=(40, 100, 3), dtype=np.uint8)
    white = (rgb == 255).all(axis=2)
    _, data = embedded_image(rgb, b"<svg>" + b" " * 1_000_000 + b"</svg>")
    back = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert (back[white] == 255).all()


def test_xlsx_cells_are_what_excel_can_hold() -> None:
    import datetime as dt

    from cartcohort.render.report.tables import _xlsx_value

    assert [_xlsx_value(v) for v in (None, pd.NA, pd.NaT, np.nan)] == [None] * 4
    assert _xlsx_value(np.inf) == "inf"  # Excel has no infinity; pandas writes this too
    assert _xlsx_value(-np.inf) == "-inf"
    assert _xlsx_value(np.int64(3)) == 3
    assert type(_xlsx_value(np.float64(2.5))) is float
    assert _xlsx_value(dt.date(2024, 1, 2)) == dt.date(2024, 1, 2)
    assert _xlsx_value(("a", 1)) == "('a', 1)"
