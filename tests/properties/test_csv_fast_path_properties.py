"""The fast CSV path (pandas' C parser) reads every file exactly as the general reader
(Python's ``csv`` module and the per-row checks) does: same cells, same row numbers,
same problems. Files it cannot read identically it must hand back (``None``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.ingest import read_source, readers

CELLS = st.sampled_from(
    [
        "",
        " ",
        "NA",
        "na",
        ".",
        "unknown",
        "yes",
        "1",
        "3.0",
        "12,5",
        "-4",
        "x y",
        " 5 ",
        "é",
        "'",
        "a;b",
        "c\td",
        "e\rf",
        "#",
        "\\",
    ]
)
HEADER = ["patient_id", "age_years", "sex", "crs_grade", "extra col"]


def _read(folder: Path, *, fast: bool) -> object:
    original = readers._read_plain_csv
    if not fast:
        readers._read_plain_csv = lambda *a, **k: None  # type: ignore[assignment]
    try:
        return read_source(folder / "patients.csv")
    finally:
        readers._read_plain_csv = original  # type: ignore[assignment]


def _same(a: object, b: object) -> None:
    assert a.tables.keys() == b.tables.keys()  # type: ignore[attr-defined]
    for name, table in a.tables.items():  # type: ignore[attr-defined]
        other = b.tables[name]  # type: ignore[attr-defined]
        pd.testing.assert_frame_equal(table.frame, other.frame)
        assert table.row_numbers == other.row_numbers
        assert table.original_headers == other.original_headers
        assert table.decimal == other.decimal
    assert a.issues == b.issues  # type: ignore[attr-defined]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=len(HEADER) + 1), min_size=0, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    trailing=st.booleans(),
)
def test_fast_path_reads_as_the_general_reader(
    rows: list[list[str]], delimiter: str, newline: str, trailing: bool
) -> None:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in rows)]
    text = newline.join(lines) + (newline if trailing else "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "patients.csv").write_text(text, encoding="utf-8", newline="")
        _same(_read(folder, fast=True), _read(folder, fast=False))


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("patient_id,age_years\nP1,3\nP2,4\n", True),
        ('patient_id,age_years\n"P1",3\n', False),  # a quote: general reader
        ("patient_id,age_years\nP1,3\n\nP2,4\n", False),  # blank row: reported there
        ("patient_id,age_years\nP1\n", False),  # short row
        ("patient_id,age_years\nP1,3,9\n", False),  # longer row
        ("\npatient_id,age_years\nP1,3\n", False),  # header not in the first line
    ],
)
def test_fast_path_only_takes_plain_files(tmp_path: Path, text: str, taken: bool) -> None:
    log = readers._Log()
    where = readers._Where(file="f.csv", table="patients", kind="csv")
    raw = readers._read_plain_csv(text, ",", where, log, decimal=".", mapping=None)
    assert (raw is not None) is taken
    (tmp_path / "patients.csv").write_text(text, encoding="utf-8")
    _same(_read(tmp_path, fast=True), _read(tmp_path, fast=False))
