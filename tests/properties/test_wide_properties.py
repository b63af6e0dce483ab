"""Properties of wide rules (issue #12): every filled cell a rule takes reaches exactly one
long row or is counted in exactly one message; nothing is lost or doubled."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.ingest import ColumnMapping, read_source
from cartcohort.ingest._layout import group_labels, take_wide

ANALYTES = ("CRP", "IL-6", "Ferritin")
MAPPING = {
    "version": 2,
    "header_row": 2,
    "group_rows": [1],
    "columns": {"Subject ID": "patient_id"},
    "wide": [
        {
            "table": "labs",
            "group": r"^(?:Day (?P<day>-?\d+)|Baseline)",
            "columns": {
                "CRP": {"analyte": "CRP", "unit": "mg/L", "day_column": "date CRP"},
                "IL-6": {"analyte": "IL-6", "unit": "pg/mL"},
                "Ferritin": {"analyte": "ferritin", "unit": "ng/mL"},
            },
        }
    ],
}

cell = st.one_of(
    st.none(),
    st.just(""),
    st.floats(min_value=0, max_value=1e4, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["high", "<5", "n.d.", "12,5"]),
)
day_label = st.one_of(
    st.integers(min_value=-7, max_value=60).map(lambda d: f"Day {d}"),
    st.just("Baseline"),  # a block whose label gives no day
)


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[list[str | None]], int]:
    """A group row, a header row and patient rows: blocks of analytes under day labels."""
    blocks = draw(st.lists(day_label, min_size=1, max_size=4))
    group: list[str | None] = [None]
    header: list[str | None] = ["Subject ID"]
    for label in blocks:
        members = draw(st.lists(st.sampled_from(ANALYTES), min_size=1, max_size=3, unique=True))
        if "CRP" in members and draw(st.booleans()):
            members.append("date CRP")
        group.extend([label] + [None] * (len(members) - 1))
        header.extend(members)
    n = draw(st.integers(min_value=0, max_value=6))
    rows: list[list[str | None]] = [group, header]
    for i in range(n):
        pid = draw(st.one_of(st.just(f"P{i}"), st.none()))
        values = [
            draw(st.one_of(st.none(), st.integers(0, 40).map(str)))
            if h == "date CRP"
            else draw(cell)
            for h in header[1:]
        ]
        rows.append([pid, *values])
    taken = sum(
        1
        for row in rows[2:]
        for h, v in zip(header[1:], row[1:], strict=True)
        if h != "date CRP" and v is not None and v.strip()
    )
    return rows, taken


def _accounted(rows: list[list[str | None]]) -> tuple[int, int]:
    mapping = ColumnMapping.from_dict(MAPPING)
    header = [c or "" for c in rows[1]]
    labels = group_labels(rows, [0], len(header))
    _, longs, problems = take_wide(
        header, labels, rows[2:], range(3, 3 + len(rows) - 2), mapping, 0
    )
    n_rows = sum(len(v.records) for v in longs.values())
    n_messages = sum(p.count for p in problems if p.rule in ("wide.no_day", "wide.no_patient_id"))
    return n_rows, n_messages


@settings(max_examples=150, deadline=None)
@given(sheets())
def test_every_wide_cell_reaches_one_row_or_one_message(
    sheet: tuple[list[list[str | None]], int],
) -> None:
    rows, taken = sheet
    n_rows, n_messages = _accounted(rows)
    assert n_rows + n_messages == taken


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets())
def test_through_the_reader_no_wide_cell_is_lost(sheet: tuple[list[list[str | None]], int]) -> None:
    rows, taken = sheet
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "centre.csv"
        out = io.StringIO()
        csv.writer(out).writerows([[c or "" for c in row] for row in rows])
        path.write_text(out.getvalue(), encoding="utf-8")
        raw = read_source(path, mapping=ColumnMapping.from_dict(MAPPING))
    labs = raw.tables.get("labs")
    n_rows = labs.n_rows if labs is not None else 0
    n_messages = sum(i.count for i in raw.issues if i.rule in ("wide.no_day", "wide.no_patient_id"))
    assert n_rows + n_messages == taken
    if labs is not None:
        assert len(labs.cells) == n_rows  # every long row keeps its source cell
        assert len(set(labs.cells)) == n_rows
