"""Resource limits: hostile files are refused from what they declare, before they are parsed.

The bombs are generated here, small on disk: an XLSX whose sheet unpacks a thousand
times, a CSV wider than the column limit, a Parquet file whose metadata declares more rows
than the limit, over-long cells. Each refusal is a ``file.limit`` error with a clear
message; that it happens before parsing is shown by making the parsers fail if called
(memory is then bounded by what the checks read: the zip directory, the Parquet footer, the
CSV text already limited in size).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from cartcohort.ingest import Issue, read_source
from cartcohort.ingest import readers as readers_module
from cartcohort.ingest.limits import DEFAULT_LIMITS, ReadLimits


def _limit_errors(issues: tuple[Issue, ...]) -> list[Issue]:
    found = [i for i in issues if i.rule == "file.limit"]
    assert all(i.severity == "error" for i in found)
    return found


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every parser fail if it is reached."""
    import openpyxl
    import pandas as pd

    def refuse(*_args: object, **_kwargs: object) -> None:
        pytest.fail("the file was parsed although a limit should have refused it first")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(pd, "read_parquet", refuse)
    monkeypatch.setattr(readers_module, "_read_plain_csv", refuse)
    monkeypatch.setattr(readers_module, "_csv_records", refuse)


def _workbook(path: Path, rows: int = 3, columns: int = 2) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "patients"
    ws.append(["patient_id", *[f"x{j}" for j in range(1, columns)]])
    for i in range(rows):
        ws.append([f"P{i}", *[i] * (columns - 1)])
    wb.save(path)
    return path


def _zip_bomb(path: Path, padding_mb: int = 20) -> Path:
    """A valid workbook whose sheet XML is padded with white space: 20 MB from ~20 kB."""
    small = _workbook(path.with_name("small.xlsx"))
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * padding_mb * 10**6)
            dst.writestr(info.filename, data)
    return path


def test_xlsx_zip_bomb_is_refused_from_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _zip_bomb(tmp_path / "patients.xlsx")
    assert bomb.stat().st_size < 100_000
    _no_parsing(monkeypatch)
    raw = read_source(bomb)
    (error,) = _limit_errors(raw.issues)
    assert "xl/worksheets/sheet1.xml" in error.message
    assert "unpacks" in error.message
    assert raw.tables == {}


def test_xlsx_beyond_a_tiny_unpacked_size_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _workbook(tmp_path / "patients.xlsx")
    _no_parsing(monkeypatch)
    raw = read_source(path, limits=ReadLimits(max_unpacked_bytes=1_000))
    (error,) = _limit_errors(raw.issues)
    assert "unpacks to" in error.message
    assert "limit" in error.message


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        pytest.param(ReadLimits(max_rows=10), "more than 10 rows", id="rows"),
        pytest.param(ReadLimits(max_columns=5), "8 columns wide", id="columns"),
    ],
)
def test_xlsx_sheet_beyond_rows_or_columns_is_refused(
    tmp_path: Path, limits: ReadLimits, words: str
) -> None:
    path = _workbook(tmp_path / "patients.xlsx", rows=50, columns=8)
    raw = read_source(path, limits=limits)
    (error,) = _limit_errors(raw.issues)
    assert words in error.message
    assert error.sheet == "patients"


def test_wide_csv_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    width = DEFAULT_LIMITS.max_columns + 1
    header = ",".join(["patient_id", *[f"c{j}" for j in range(1, width)]])
    path = tmp_path / "patients.csv"
    path.write_text(header + "\n" + ",".join(["P1"] + ["1"] * (width - 1)) + "\n")
    _no_parsing(monkeypatch)
    raw = read_source(path)
    (error,) = _limit_errors(raw.issues)
    assert f"{width:,} columns" in error.message


def test_long_csv_and_large_file_are_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,age_years\n" + "".join(f"P{i},40\n" for i in range(100)))
    _no_parsing(monkeypatch)
    (rows,) = _limit_errors(read_source(path, limits=ReadLimits(max_rows=99)).issues)
    assert "100 lines below the header, more than the 99 row limit" in rows.message
    (size,) = _limit_errors(read_source(path, limits=ReadLimits(max_file_bytes=100)).issues)
    assert "more than the 100 bytes limit" in size.message


def test_parquet_declaring_too_many_rows_is_refused_from_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = DEFAULT_LIMITS.max_rows + 1
    table = pa.table({"patient_id": pa.array(np.zeros(n, dtype=np.int8))})
    path = tmp_path / "patients.parquet"
    pq.write_table(table, path)
    assert path.stat().st_size < 200_000  # a small file ...
    _no_parsing(monkeypatch)
    raw = read_source(path)  # ... that would be a million rows of text
    (error,) = _limit_errors(raw.issues)
    assert f"declares {n:,} rows" in error.message


def test_over_long_cell_is_an_error_with_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,note\nP1,ok\nP2," + "x" * 40_000 + "\n")
    raw = read_source(path)
    (error,) = _limit_errors(raw.issues)
    assert (error.row, error.column) == (3, "note")
    assert "40,000 characters" in error.message


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="`max_rows` must be positive"):
        ReadLimits(max_rows=0)


def test_command_line_limits(tmp_path: Path) -> None:
    from cartcohort.cli import app

    path = tmp_path / "patients.csv"
    path.write_text("patient_id,age_years\n" + "".join(f"P{i},40\n" for i in range(20)))
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", str(path), "--max-rows", "10"])
    assert refused.exit_code == 1
    assert "more than the 10 row limit" in refused.output
    assert "Traceback" not in refused.output
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    bomb = _zip_bomb(tmp_path / "cohort.xlsx")
    result = runner.invoke(app, ["import", str(bomb), "--db", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 1
    assert "unpacks" in result.output
    assert not (tmp_path / "c.duckdb").exists()


def test_web_app_refuses_the_same_bomb(tmp_path: Path) -> None:
    from cartcohort.web._files import UploadRejectedError, check_xlsx

    with pytest.raises(UploadRejectedError, match="unpacks"):
        check_xlsx(_zip_bomb(tmp_path / "bomb.xlsx"), max_unpacked_bytes=500_000_000)
