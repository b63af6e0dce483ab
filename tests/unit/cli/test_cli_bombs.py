"""The command line refuses resource bombs within a stated memory limit.

Each bomb is made at test time (never committed) and given to ``cartcohort validate`` with
the default limits, in a child process started by a small wrapper, so the peak memory
measured (``ru_maxrss`` of the wrapper's children) is the command's alone. The stated limit,
:data:`PEAK_MB`, is what the command may use on any of them: about the interpreter with the
scientific stack loaded, and nothing that grows with the bomb.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: The most resident memory (MB) ``cartcohort validate`` may use on a bomb.
PEAK_MB = 250

_WRAPPER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "out": done.stdout + done.stderr, "kb": peak_kb}))
"""


def _validate(path: Path) -> tuple[int, str, float]:
    """Exit code, output and peak resident memory (MB) of ``cartcohort validate path``."""
    command = [sys.executable, "-m", "cartcohort.cli", "validate", str(path)]
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        capture_output=True,
        text=True,
        check=True,
        timeout=360,
    )
    result = json.loads(done.stdout)
    return result["code"], result["out"], result["kb"] / 1024


def _xlsx_zip_bomb(path: Path) -> Path:
    """A workbook whose sheet part unpacks 1,000 times (64 MB of zeros in about 64 kB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * 64_000_000)
    return path


def _csv_too_long(path: Path) -> Path:
    """A patient sheet of 1.5 million rows (beyond the default 1,000,000)."""
    with path.open("w", encoding="utf-8") as f:
        f.write("patient_id,age_years\n")
        f.writelines(f"P{i},{30 + i % 40}\n" for i in range(1_500_000))
    return path


def _csv_too_wide(path: Path) -> Path:
    """A header of 50,000 columns (beyond the default 1,000)."""
    header = ",".join(["patient_id", *(f"c{i}" for i in range(50_000))])
    path.write_text(header + "\n" + "P1" + ",1" * 50_000 + "\n", encoding="utf-8")
    return path


def _parquet_too_long(path: Path) -> Path:
    """A Parquet file of 3 million rows that compresses to almost nothing."""
    frame = pd.DataFrame({"patient_id": np.zeros(3_000_000, dtype=np.int8)})
    frame.to_parquet(path, compression="zstd")
    return path


@pytest.mark.parametrize(
    ("make", "name", "problem"),
    [
        (_xlsx_zip_bomb, "patients.xlsx", "unpacks"),
        (_csv_too_long, "patients.csv", "rows"),
        (_csv_too_wide, "patients.csv", "columns"),
        (_parquet_too_long, "patients.parquet", "rows"),
    ],
    ids=["xlsx-zip-bomb", "csv-rows", "csv-columns", "parquet-rows"],
)
def test_bombs_are_refused_within_the_memory_limit(
    tmp_path: Path, make: object, name: str, problem: str
) -> None:
    path = make(tmp_path / name)  # type: ignore[operator]
    code, out, peak_mb = _validate(path)
    assert code == 1, out
    assert "file.limit" in out, out
    assert problem in out, out
    assert "Internal error" not in out
    assert "Traceback" not in out
    assert peak_mb < PEAK_MB, f"{name}: peak {peak_mb:.0f} MB"
