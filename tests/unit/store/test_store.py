"""The DuckDB store: round trip, idempotent re-import, all-or-nothing writes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from cartcohort.errors import StoreError
from cartcohort.model.cohort import Cohort, SourceFile, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.store import export_cohort, read_cohort, read_provenance, write_cohort


def small_cohort(n: int = 5) -> Cohort:
    patients = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame(
            {
                "patient_id": [f"P{i}" for i in range(n)],
                "sex": ["M", "F"] * (n // 2) + ["M"] * (n % 2),
                "age_years": [30.5 + i for i in range(n)],
                "ph_positive": [True, False, None, True, False][:n],
                "crs_grade": [0, 1, 2, None, 3][:n],
                "best_response": ["CR", "CRi", "NR", None, "CR"][:n],
                "infusion_date": pd.to_datetime(["2021-01-04"] * n),
                "death_day": [None, 120, None, None, 300][:n],
                "free_text_note": ["a", None, "b", "c", "d"][:n],
            }
        ),
    )
    labs = apply_dtypes(
        TABLE_BY_NAME["labs"],
        pd.DataFrame(
            {
                "patient_id": ["P0", "P0", "P1"],
                "day": [0, 7, 7],
                "analyte": ["il6", "crp", "il6"],
                "value": [12.5, 80.0, 1500.25],
                "unit": ["pg/mL", "mg/L", "pg/mL"],
            }
        ),
    )
    return Cohort(
        tables={"patients": patients, "labs": labs},
        name="small",
        sources=(SourceFile(path="x.csv", sha256="ab" * 32, tables=("patients", "labs")),),
        extra_columns={"patients": ("free_text_note",)},
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_keeps_every_value_and_dtype(tmp_path: Path) -> None:
    cohort = small_cohort()
    db = write_cohort(cohort, tmp_path / "c.duckdb")
    back = read_cohort(db)
    assert back.name == "small"
    assert back.synthetic is False
    assert back.extra_columns == {"patients": ("free_text_note",)}
    assert back.sources == cohort.sources
    for name, frame in cohort.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], frame)


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    write_cohort(small_cohort(), db)
    first = read_cohort(db)
    write_cohort(small_cohort(), db)
    second = read_cohort(db)
    for name in first.tables:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    assert len(second.patients) == 5  # replaced, never appended


def test_provenance_is_recorded(tmp_path: Path) -> None:
    db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
    prov = read_provenance(db)
    assert prov["sources"][0]["sha256"] == "ab" * 32
    assert prov["cartcohort_version"]
    assert prov["imported_at"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        write_cohort(small_cohort(), tmp_path / "nope" / "c.duckdb")


def test_reading_a_non_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "c.duckdb"
    bogus.write_text("not a database")
    with pytest.raises(StoreError, match="not a DuckDB database"):
        read_cohort(bogus)
    with pytest.raises(StoreError, match="does not exist"):
        read_cohort(tmp_path / "absent.duckdb")


def test_failed_write_leaves_existing_database_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
    before = sha(db)
    import cartcohort.store.duckdb_store as store

    calls = {"n": 0}
    real = store._write_table

    def failing(con, name, frame):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        real(con, name, frame)

    monkeypatch.setattr(store, "_write_table", failing)
    with pytest.raises(StoreError, match="left unchanged"):
        write_cohort(small_cohort(3), db)
    assert sha(db) == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.duckdb"]  # no temporary file left behind


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import cartcohort.store.duckdb_store as store
    sys.path.insert(0, {tests!r})
    from test_store import small_cohort

    real = store._write_table
    def slow(con, name, frame):
        real(con, name, frame)
        if name == "labs":  # half-way: some tables written, the rest not
            Path({marker!r}).write_text("half")
            time.sleep(60)
    store._write_table = slow
    store.write_cohort(small_cohort(3), {db!r})
    """
)


def test_killed_import_leaves_existing_database_byte_for_byte_unchanged(tmp_path: Path) -> None:
    db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
    before = sha(db)
    marker = tmp_path / "marker"
    script = CHILD.format(tests=str(Path(__file__).parent), marker=str(marker), db=str(db))
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the import finished or crashed before the kill point"
            assert time.monotonic() < deadline, "the import never reached the kill point"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert sha(db) == before
    assert len(read_cohort(db).patients) == 5
    # The next import cleans the stray temporary file away and succeeds.
    write_cohort(small_cohort(3), db)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.duckdb", "marker"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_writes_files(tmp_path: Path, fmt: str) -> None:
    paths = export_cohort(small_cohort(), tmp_path, fmt=fmt)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    if fmt == "csv":
        text = (tmp_path / "patients.csv").read_text()
        assert "2021-01-04" in text
        assert "yes" in text


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="csv, xlsx or parquet"):
        export_cohort(small_cohort(), tmp_path, fmt="sav")


def test_export_keeps_the_cohort_label_and_synthetic_flag(tmp_path: Path) -> None:
    from cartcohort.ingest import read_source

    synthetic = Cohort(tables=small_cohort().tables, name="sim", synthetic=True)
    export_cohort(synthetic, tmp_path / "csv", fmt="csv")
    export_cohort(synthetic, tmp_path / "xlsx", fmt="xlsx")
    for source in (tmp_path / "csv", tmp_path / "xlsx" / "cohort.xlsx"):
        raw = read_source(source)
        assert raw.synthetic is True
        assert raw.name == "sim"


# -----------------------------------------------------------------------------------------
# Never destroy a user's file: foreign files, the input, permissions, concurrent imports
# -----------------------------------------------------------------------------------------
def _foreign_duckdb(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE results AS SELECT 42 AS answer")
    con.execute("CREATE TABLE _cohort AS SELECT 'not ours' AS label")  # a lookalike name
    con.close()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_text("patient_id,sex\nP1,M\n"), id="csv"),
        pytest.param(lambda p: p.write_bytes(os.urandom(4096)), id="random-binary"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: p.write_bytes(b"\0" * 8 + b"DUCK" + os.urandom(64)), id="fake"),
        pytest.param(_foreign_duckdb, id="duckdb-not-cartcohort"),
    ],
)
def test_a_file_cartcohort_did_not_write_is_refused_and_unchanged(
    tmp_path: Path, make: object
) -> None:
    target = tmp_path / "data.duckdb"
    make(target)  # type: ignore[operator]
    before = sha(target)
    with pytest.raises(StoreError, match="left unchanged"):
        write_cohort(small_cohort(), target)
    assert sha(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.duckdb"]


def test_the_input_file_is_never_the_target(tmp_path: Path) -> None:
    source = tmp_path / "mydata.csv"
    source.write_text("patient_id,sex\nP1,M\n")
    before = sha(source)
    with pytest.raises(StoreError, match="the file the cohort was read from"):
        write_cohort(small_cohort(), source, source=source)
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    with pytest.raises(StoreError, match="the file the cohort was read from"):
        write_cohort(small_cohort(), link, source=tmp_path / "." / "mydata.csv")
    assert sha(source) == before


def test_a_cartcohort_database_as_input_is_not_overwritten(tmp_path: Path) -> None:
    db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
    before = sha(db)
    cohort = Cohort(
        tables=small_cohort().tables,
        name="small",
        sources=(SourceFile(path=str(db), sha256="ab" * 32, tables=("patients",)),),
        extra_columns={"patients": ("free_text_note",)},
    )
    with pytest.raises(StoreError, match="the file the cohort was read from"):
        write_cohort(cohort, db)
    assert sha(db) == before


def test_new_databases_are_private_and_reimport_keeps_the_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
        assert db.stat().st_mode & 0o777 == 0o600
        db.chmod(0o640)
        write_cohort(small_cohort(3), db)
        assert db.stat().st_mode & 0o777 == 0o640
        db.chmod(0o600)
        write_cohort(small_cohort(), db)
        assert db.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    assert len(read_cohort(db).patients) == 5


def test_concurrent_imports_all_succeed_and_leave_one_whole_database(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    db = tmp_path / "c.duckdb"
    sizes = [1, 2, 3, 4, 5] * 2

    def run(n: int) -> str:
        try:
            write_cohort(small_cohort(n), db)
        except StoreError as exc:
            return str(exc)
        return ""

    with ThreadPoolExecutor(max_workers=len(sizes)) as pool:
        errors = [e for e in pool.map(run, sizes) if e]
    assert errors == []
    assert len(read_cohort(db).patients) in sizes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.duckdb"]  # no lock or temp left


def test_an_import_that_cannot_get_the_lock_says_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cartcohort.store.duckdb_store as store

    db = write_cohort(small_cohort(), tmp_path / "c.duckdb")
    before = sha(db)
    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.0)
    with store._import_lock(db), pytest.raises(StoreError, match="is busy"):
        write_cohort(small_cohort(3), db)
    assert sha(db) == before
    write_cohort(small_cohort(3), db)  # released: the next import proceeds
    assert len(read_cohort(db).patients) == 3


CONCURRENT_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from cartcohort.store import write_cohort
    from test_store import small_cohort
    for n in (1, 2, 3):
        write_cohort(small_cohort(n), {db!r})
    """
)


def test_concurrent_import_processes_serialise(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    script = CONCURRENT_CHILD.format(tests=str(Path(__file__).parent), db=str(db))
    children = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    assert len(read_cohort(db).patients) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.duckdb"]


# -----------------------------------------------------------------------------------------
# Direct identifiers are refused from the store and from export unless allowed
# -----------------------------------------------------------------------------------------
def identified_cohort() -> Cohort:
    base = small_cohort()
    patients = base.patients.assign(
        email=["a@example.org", None, "c@example.org", "d@example.org", "e@example.org"],
        contact=["+44 20 7946 0000", "+44 20 7946 0001", None, None, "+44 20 7946 0004"],
    )
    return Cohort(
        tables={**base.tables, "patients": patients},
        name="small",
        extra_columns={"patients": ("free_text_note", "email", "contact")},
    )


def test_identifier_columns_are_not_stored_unless_allowed(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with pytest.raises(StoreError, match=r"patients\.email \(email addresses, from its header\)"):
        write_cohort(identified_cohort(), db)
    assert not db.exists()
    with pytest.raises(StoreError, match=r"patients\.contact \(telephone or fax numbers, from"):
        write_cohort(identified_cohort(), db, allow_identifiers=["email"])
    write_cohort(identified_cohort(), db, allow_identifiers=["email", "contact"])
    assert read_cohort(db).patients["email"].iloc[0] == "a@example.org"


def test_identifier_columns_are_not_exported_unless_allowed(tmp_path: Path) -> None:
    db = write_cohort(
        identified_cohort(), tmp_path / "c.duckdb", allow_identifiers=["email", "contact"]
    )
    stored = read_cohort(db)
    with pytest.raises(StoreError, match="--allow-identifiers email,contact"):
        export_cohort(stored, tmp_path / "out", fmt="csv")
    assert not (tmp_path / "out").exists()
    export_cohort(stored, tmp_path / "out", fmt="csv", allow_identifiers=["email", "contact"])
    assert "a@example.org" in (tmp_path / "out" / "patients.csv").read_text()


def test_a_link_to_a_database_is_followed_and_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = write_cohort(small_cohort(), tmp_path / "real" / "c[1].duckdb")
    link = tmp_path / "c.duckdb"
    link.symlink_to(real)
    write_cohort(small_cohort(3), link)
    assert link.is_symlink()
    assert len(read_cohort(real).patients) == 3
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["c[1].duckdb"]
