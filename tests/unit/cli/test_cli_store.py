"""``cartcohort import``/``export``: files that are not ours are never overwritten, and
columns that look like direct identifiers are refused unless ``--allow-identifiers`` names them.

The refusal of the input file runs the real entry point in a child process (errors become
messages in ``main``); the rest run in this process (Typer's test runner), which is quicker.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

CSV = "patient_id,sex,age_years\nP1,M,50\nP2,F,61\n"
IDENTIFIED = (
    "patient_id,sex,Patient Name,Date of Birth,contact\n"
    "P1,M,Ann Lee,1970-01-31,ann@example.org\n"
    "P2,F,Bo Chan,1982-12-01,bo@example.org\n"
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_into_the_input_file_is_refused_and_the_input_kept(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    data = tmp_path / "mydata.csv"
    data.write_text(CSV, encoding="utf-8")
    before = _sha(data)
    done = run_cli("import", "mydata.csv", "--db", "mydata.csv", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "the file the cohort was read from" in done.stderr
    assert _sha(data) == before
    other = tmp_path / "notes.txt"
    other.write_text("my notes", encoding="utf-8")
    done = run_cli("import", "mydata.csv", "--db", "notes.txt", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "not a DuckDB database" in done.stderr
    assert other.read_text(encoding="utf-8") == "my notes"
    assert "Traceback" not in done.stderr


def _invoke(*args: str, cwd: Path) -> tuple[int, str]:
    """Run a command in this process; a CartcohortError becomes its message, as in ``main``."""
    from typer.testing import CliRunner

    from cartcohort.cli import app
    from cartcohort.errors import CartcohortError

    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(here)
    if isinstance(result.exception, CartcohortError):
        return 1, str(result.exception)
    return result.exit_code, result.output


def test_identifier_columns_need_allow_identifiers_on_every_command(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(IDENTIFIED, encoding="utf-8")
    code, out = _invoke("validate", "patients.csv", cwd=tmp_path)
    assert code == 1
    for column in ("Patient Name", "Date of Birth", "contact"):
        assert f"'{column}' looks like a direct identifier" in out
    code, out = _invoke("import", "patients.csv", "--db", "c.duckdb", cwd=tmp_path)
    assert code == 1
    assert not (tmp_path / "c.duckdb").exists()
    allow = ["--allow-identifiers", "patient_name,Date of Birth", "--allow-identifiers", "contact"]
    code, out = _invoke("import", "patients.csv", "--db", "c.duckdb", *allow, cwd=tmp_path)
    assert code == 0, out
    assert (tmp_path / "c.duckdb").stat().st_mode & 0o777 == 0o600
    code, out = _invoke("export", "--db", "c.duckdb", "--out", "out", cwd=tmp_path)
    assert code == 1
    assert "--allow-identifiers patient_name,date_of_birth,contact" in out
    assert not (tmp_path / "out").exists()
    code, out = _invoke("export", "--db", "c.duckdb", "--out", "out", *allow, cwd=tmp_path)
    assert code == 0, out
    assert "ann@example.org" in (tmp_path / "out" / "patients.csv").read_text(encoding="utf-8")


def test_report_refuses_a_cohort_with_identifier_columns(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(IDENTIFIED, encoding="utf-8")
    code, out = _invoke("report", "--data", "patients.csv", "--out", "r", cwd=tmp_path)
    assert code == 1
    assert "'Patient Name' looks like a direct identifier" in out
    assert not (tmp_path / "r").exists()
