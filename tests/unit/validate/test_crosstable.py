"""Rules across rows and tables, on small in-memory cohorts."""

from __future__ import annotations

import pandas as pd
import pytest

from cartcohort.ingest import read_frames
from cartcohort.validate import ValidationReport, validate_cohort


def _report(**tables: dict[str, list[object]]) -> ValidationReport:
    frames = {name: pd.DataFrame(columns, dtype=object) for name, columns in tables.items()}
    return validate_cohort(read_frames(frames))[1]


def _found(report: ValidationReport) -> list[tuple[str, str, str | None, int | None]]:
    return [(i.rule, i.table, i.column, i.row) for i in report.issues]


P1 = {"patient_id": ["P1"]}


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        pytest.param(
            {"patients": {"patient_id": ["P1", "P1"]}},
            ("duplicate.key", "patients", "patient_id", 3),
            id="duplicate-patient",
        ),
        pytest.param(
            {
                "patients": P1,
                "labs": {
                    "patient_id": ["P1", "P1"],
                    "day": ["1", "1"],
                    "analyte": ["crp", "crp"],
                    "value": ["1", "2"],
                    "unit": ["mg/L", "mg/L"],
                },
            },
            ("duplicate.key", "labs", "analyte", 3),
            id="repeated-lab-warning",
        ),
        pytest.param(
            {
                "patients": P1,
                "kinetics": {
                    "patient_id": ["P1", "P1"],
                    "infusion": [None, "1"],
                    "day": ["7", "7"],
                    "value": ["10", "12"],
                },
            },
            ("duplicate.key", "kinetics", "day", 3),
            id="kinetics-default-infusion",
        ),
        pytest.param(
            {"patients": P1, "treatments": {"patient_id": ["P2"], "day": ["1"], "drug": ["toci"]}},
            ("reference.patient", "treatments", "patient_id", 2),
            id="orphan",
        ),
        pytest.param(
            {"patients": P1, "treatments": {"patient_id": ["P1"], "day": ["-1"], "drug": ["toci"]}},
            ("time.before_infusion", "treatments", "day", 2),
            id="treatment-before-day0",
        ),
        pytest.param(
            {
                "patients": {
                    "patient_id": ["P1"],
                    "death": ["yes"],
                    "death_day": ["10"],
                    "last_followup_day": ["12"],
                }
            },
            ("time.after_death", "patients", "last_followup_day", 2),
            id="followup-after-death",
        ),
        pytest.param(
            {
                "patients": {
                    "patient_id": ["P1"],
                    "death": ["yes"],
                    "death_day": ["10"],
                    "last_followup_day": ["8"],
                }
            },
            ("time.followup_before_event", "patients", "last_followup_day", 2),
            id="followup-before-death",
        ),
        pytest.param(
            {
                "patients": {"patient_id": ["P1"], "last_followup_day": ["30"]},
                "events": {"patient_id": ["P1"], "day": ["40"], "event": ["relapse"]},
            },
            ("time.followup_before_event", "events", "day", 2),
            id="event-after-followup",
        ),
        pytest.param(
            {
                "patients": {
                    "patient_id": ["P1"],
                    "best_response": ["CR"],
                    "response_day": ["28"],
                    "relapse": ["yes"],
                    "relapse_day": ["20"],
                }
            },
            ("logic.relapse_without_response", "patients", "relapse_day", 2),
            id="relapse-before-response",
        ),
        pytest.param(
            {
                "patients": {"patient_id": ["P1"], "best_response": ["NR"]},
                "events": {"patient_id": ["P1"], "day": ["40"], "event": ["relapse"]},
            },
            ("logic.relapse_without_response", "events", "event", 2),
            id="relapse-event-after-nr",
        ),
        pytest.param(
            {
                "patients": {"patient_id": ["P1"], "hsct_after": ["no"]},
                "events": {"patient_id": ["P1"], "day": ["90"], "event": ["hsct"]},
            },
            ("events.disagree", "events", "event", 2),
            id="event-contradicts-flag",
        ),
        pytest.param(
            {
                "patients": {"patient_id": ["P1", "P2"]},
                "infusions": {
                    "patient_id": ["P1", "P2"],
                    "infusion": ["1", "2"],
                    "day": ["0", "30"],
                },
            },
            ("infusions.first_day", "infusions", "infusion", 3),
            id="no-first-infusion",
        ),
    ],
)
def test_crosstable_rule(
    tables: dict[str, dict[str, list[object]]], expected: tuple[str, str, str, int]
) -> None:
    report = _report(**tables)
    assert expected in _found(report), report.render_text()


def test_repeated_labs_are_a_warning_but_repeated_observations_an_error() -> None:
    labs = {
        "patient_id": ["P1", "P1"],
        "day": ["1", "1"],
        "analyte": ["crp", "crp"],
        "value": ["1", "2"],
        "unit": ["mg/L", "mg/L"],
    }
    assert _report(patients=P1, labs=labs).ok
    obs = {"patient_id": ["P1", "P1"], "day": ["1", "1"]}
    assert not _report(patients=P1, observations=obs).ok


def test_baseline_tables_may_have_negative_days() -> None:
    report = _report(
        patients=P1,
        observations={"patient_id": ["P1"], "day": ["-5"]},
        marrow={"patient_id": ["P1"], "day": ["-10"]},
    )
    assert report.issues == ()


def test_death_from_events_counts_for_after_death_rules() -> None:
    report = _report(
        patients=P1,
        events={"patient_id": ["P1", "P1"], "day": ["50", "50"], "event": ["death", "relapse"]},
        observations={"patient_id": ["P1", "P1"], "day": ["50", "51"]},
    )
    after = [i for i in report.issues if i.rule == "time.after_death"]
    assert [(i.table, i.row) for i in after] == [("observations", 3)]
    assert "death event in the events table" in after[0].message


def test_invalid_value_is_not_reported_again_as_empty() -> None:
    report = _report(patients={"patient_id": ["P1"], "death": ["yes"], "death_day": ["soon"]})
    assert report.rules() == ("type.day",)


def test_no_patients_table_builds_one_from_ids() -> None:
    frames = {"observations": pd.DataFrame({"patient_id": ["B", "A", "B"], "day": [1, 1, 2]})}
    cohort, report = validate_cohort(read_frames(frames))
    assert cohort is not None
    assert cohort.patients["patient_id"].tolist() == ["B", "A"]
    assert report.rules() == ("reference.no_patients",)


def test_consistent_cohort_has_no_issue() -> None:
    report = _report(
        patients={
            "patient_id": ["P1", "P2"],
            "best_response": ["CR", "NR"],
            "response_day": ["28", "28"],
            "mrd_negative": ["yes", "no"],
            "relapse": ["yes", "no"],
            "relapse_day": ["100", None],
            "death": ["yes", "no"],
            "death_day": ["200", None],
            "last_followup_day": ["200", "365"],
            "n_infusions": ["2", "1"],
        },
        infusions={
            "patient_id": ["P1", "P1", "P2"],
            "infusion": ["1", "2", "1"],
            "day": ["0", "60", "0"],
        },
        events={"patient_id": ["P1", "P1"], "day": ["100", "200"], "event": ["relapse", "death"]},
        observations={"patient_id": ["P1", "P2"], "day": ["-1", "3"]},
    )
    assert report.issues == (), report.render_text()
