"""Column mapping version 2: the keys of issue #12, their errors, and v1 files unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartcohort.errors import IngestError
from cartcohort.ingest import ColumnMapping, read_mapping
from cartcohort.ingest.mapping import DATE_FORMATS


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_v2_keys_are_read(tmp_path: Path) -> None:
    mapping = read_mapping(
        _write(
            tmp_path,
            "version: 2\nheader_row: 3\ngroup_rows: [1, 2]\ndate_format: DD.MM.YYYY\n"
            "constants: {crs_grading_system: Lee 2014}\nignore: [Comments, 'IL-1*']\n"
            "columns:\n  Resp:\n    - {to: best_response, values: {0: CR, 1: PR}}\n"
            "    - {to: mrd_negative, values: {0: yes, 1: no}}\n"
            "wide:\n  - table: labs\n    group: '^Labs / Day (?P<day>-?\\d+)'\n"
            "    columns:\n      CRP: {analyte: CRP, unit: mg/L, day_column: date_CRP}\n",
        )
    )
    assert (mapping.version, mapping.header_row, mapping.group_rows) == (2, 3, (1, 2))
    assert mapping.date_format == {"*": DATE_FORMATS["DD.MM.YYYY"]}
    assert mapping.constants == {"crs_grading_system": "Lee 2014"}
    target = mapping.columns["Resp"]
    assert (target.name, dict(target.values)) == ("best_response", {"0": "CR", "1": "PR"})
    assert [(t.name, dict(t.values)) for t in target.also] == [
        ("mrd_negative", {"0": "yes", "1": "no"})
    ]
    (rule,) = mapping.wide
    assert rule.table == "labs"
    assert rule.group is not None
    entry = rule.entry("crp")
    assert entry is not None
    assert entry.fields == {"analyte": "crp", "unit": "mg/L"}  # analyte written canonically
    assert entry.day_column == "date_CRP"
    patients = mapping.for_table("patients")
    assert patients.ignores("comments")
    assert patients.ignores("IL-1beta")
    assert not patients.ignores("IL-6")
    assert patients.constants == {"crs_grading_system": "Lee 2014"}
    assert mapping.for_table("labs").constants == {}  # not a column of labs


def test_a_v1_file_is_a_v2_file(tmp_path: Path) -> None:
    mapping = read_mapping(_write(tmp_path, 'columns:\n  "CRS grade": crs_grade\n'))
    assert mapping.version == 1
    assert not mapping.reshapes
    assert mapping.columns["CRS grade"].also == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("version: 3\n", "key 'version': must be 1 or 2", id="version"),
        pytest.param("header_row: 0\n", "key 'header_row'", id="header-row"),
        pytest.param(
            "header_row: 2\ngroup_rows: [1, 2]\n", "must lie above the header", id="group-rows"
        ),
        pytest.param("date_format: YYYY/DD/MM\n", "unknown date format", id="date-format"),
        pytest.param(
            "date_format: {infusion_date: 13.6.}\n",
            "key 'date_format.infusion_date'",
            id="date-format-column",
        ),
        pytest.param("ignore: {a: 1}\n", "key 'ignore'", id="ignore"),
        pytest.param("columns:\n  a: []\n", "at least one target", id="empty-list"),
        pytest.param("columns:\n  a: [{to: b, colour: red}]\n", "only 'to'", id="target-key"),
        pytest.param(
            "wide:\n  - table: labs\n    group: '(unclosed'\n    columns: {x: {}}\n",
            "not a valid regular expression",
            id="regex",
        ),
        pytest.param(
            "wide:\n  - table: labs\n    group: 'Day (?P<day>\\d+)'\n"
            "    columns: {x: {analyte: unobtainium}}\n",
            "not an analyte of the standard",
            id="analyte",
        ),
        pytest.param(
            "wide:\n  - table: labs\n    group: 'Labs'\n    columns: {x: {analyte: CRP}}\n",
            "no day",
            id="no-day",
        ),
        pytest.param(
            "wide:\n  - table: labs\n    group: 'Day (?P<day>\\d+)'\n"
            "    columns: {x: {colour: red}}\n",
            "'colour' is not a column of the labs table",
            id="field",
        ),
        pytest.param(
            "wide:\n  - table: labz\n    group: 'Day (?P<day>\\d+)'\n    columns: {x: {}}\n",
            "unknown table",
            id="table",
        ),
        pytest.param("wide:\n  - table: labs\n    columns: {x: {}}\n", "give 'group:'", id="none"),
        pytest.param(
            "wide:\n  - table: patients\n    group: 'Day (?P<day>\\d+)'\n    columns: {x: {}}\n",
            "one row per patient",
            id="patients",
        ),
    ],
)
def test_v2_errors_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(IngestError, match="mapping") as info:
        read_mapping(_write(tmp_path, text))
    assert fragment in str(info.value)


def test_from_dict_takes_the_same_structure() -> None:
    mapping = ColumnMapping.from_dict(
        {"version": 2, "date_format": {"infusion_date": "MM/DD/YYYY"}, "ignore": "Notes"}
    )
    table = mapping.for_table("patients")
    assert table.date_format_for("infusion_date") == "%m/%d/%Y"
    assert table.date_format_for("death_day") is None
    assert table.ignores("NOTES")
