"""REDCap through the command line: template --redcap, validate --redcap-dictionary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cartcohort.ingest.redcap import redcap_dictionary

RAW = (
    (
        "patient_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,sex,"
        "labs_day,labs_analyte,labs_value,labs_unit\n"
    )
    + """P1,baseline_arm_1,,,1,,,,
P1,baseline_arm_1,labs,1,,0,il6,12,pg/mL
P1,baseline_arm_1,labs,2,,7,il6,150,pg/mL
P2,baseline_arm_1,,,2,,,,
"""
)


def test_cli_template_and_validate(run_cli: Callable[..., object], tmp_path: Path) -> None:
    done = run_cli("template", "--redcap", "dictionary.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    assert (tmp_path / "dictionary.csv").read_text(encoding="utf-8") == redcap_dictionary()
    (tmp_path / "records.csv").write_text(RAW, encoding="utf-8")
    done = run_cli("validate", "records.csv", "--redcap-dictionary", "dictionary.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout  # type: ignore[attr-defined]
    out = done.stdout  # type: ignore[attr-defined]
    assert "2 patients; tables found: patients (2 rows), labs (2 rows)" in out
    done = run_cli("template", "--redcap", "dictionary.xlsx", cwd=tmp_path)
    assert done.returncode == 2  # type: ignore[attr-defined]
