"""Properties of reading and validating: random input never escapes as an exception, and no
row is ever lost silently."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.ingest import read_source
from cartcohort.validate import validate_cohort

COLUMNS = (
    "sex",
    "age_years",
    "crs_grade",
    "tocilizumab",
    "infusion_date",
    "best_response",
    "relapse",
    "relapse_day",
    "death",
    "death_day",
    "last_followup_day",
    "center",
)
TOKENS = st.sampled_from(
    [
        "",
        "NA",
        ".",
        "unknown",
        "yes",
        "No",
        "Y",
        "1",
        "0",
        "3.0",
        "12,5",
        "-4",
        "7",
        "1e3",
        "M",
        "female",
        "CR",
        "cri",
        "NR",
        "2021-03-04",
        "04/03/2021",
        "x",
        " 5 ",
        '"',
        ";",
        ",",
        "\t",
        "\n",
        "é",
        "∞",
        "nan",
        "inf",
    ]
)
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)
CELL = st.one_of(TOKENS, TEXT)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def patient_sheets(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    extra = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=6))
    header = ["patient_id", *extra]
    n_rows = draw(st.integers(min_value=0, max_value=12))
    rows = [
        [draw(st.one_of(st.just(f"P{i}"), CELL)), *(draw(CELL) for _ in extra)]
        for i in range(n_rows)
    ]
    return header, rows


def _write(header: list[str], rows: list[list[str]], delimiter: str) -> Path:
    buffer = io.StringIO()
    # "\r\n" makes the writer quote values holding either character, as Excel does.
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    folder = Path(tempfile.mkdtemp(prefix="cartcohort-prop-"))
    path = folder / "sheet.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


@SETTINGS
@given(sheet=patient_sheets(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_random_patient_sheets_never_raise_and_never_lose_rows(
    sheet: tuple[list[str], list[list[str]]], delimiter: str
) -> None:
    header, rows = sheet
    path = _write(header, rows, delimiter)
    cohort, report = validate_cohort(read_source(path))  # must not raise
    text = report.render_text()
    assert text.startswith("Validation of")
    assert report.to_json()
    if cohort is None:
        assert report.errors, text
        for issue in report.errors:
            assert issue.file
            assert issue.rule
            assert issue.message
        return
    # Every written row is either in the cohort or reported as a skipped empty row.
    skipped = sum(i.count for i in report.warnings if i.rule == "row.blank")
    assert len(cohort.patients) + skipped == len(rows), text


@SETTINGS
@given(
    values=st.lists(
        st.decimals(min_value=0, max_value=120, places=2, allow_nan=False), min_size=1, max_size=8
    )
)
def test_decimal_comma_file_equals_decimal_point_file(values: list[object]) -> None:
    rows = [[f"P{i}", str(v)] for i, v in enumerate(values)]
    point = _write(["patient_id", "age_years"], rows, ",")
    comma_rows = [[p, v.replace(".", ",")] for p, v in rows]
    comma = _write(["patient_id", "age_years"], comma_rows, ";")
    a, report_a = validate_cohort(read_source(point))
    b, report_b = validate_cohort(read_source(comma))
    assert a is not None, report_a.render_text()
    assert b is not None, report_b.render_text()
    assert a.patients["age_years"].tolist() == b.patients["age_years"].tolist()
    assert report_b.issues == ()


@SETTINGS
@given(
    ids=st.lists(st.from_regex(r"[A-Z]{1,3}[0-9]{1,4}", fullmatch=True), unique=True, max_size=20)
)
def test_row_order_is_preserved(ids: list[str]) -> None:
    path = _write(["patient_id"], [[i] for i in ids], ",")
    cohort, report = validate_cohort(read_source(path))
    if not ids:
        assert cohort is None
        assert report.rules() == ("file.no_rows",)
        return
    assert cohort is not None, report.render_text()
    assert cohort.patients["patient_id"].tolist() == ids
