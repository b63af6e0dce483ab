"""ASTCT 2019 CRS grading: one parametrized table per criterion (house style B4).

Every case quotes the consensus sentence it tests; sources are in
``cartcohort.derive.toxicity.criteria.astct_crs``. ``None`` = not gradable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity import GradingWarning, grade_crs, summarize_crs
from cartcohort.derive.toxicity.criteria import astct_crs
from cartcohort.errors import DerivationError

# A complete, unremarkable day: every input recorded, nothing abnormal.
BASE: dict[str, Any] = {
    "temp_c": 37.0,
    "hypotension": False,
    "vasopressors": 0,
    "vasopressin": False,
    "o2_device": "none",
    "o2_flow_l_min": np.nan,
    "antipyretic": False,
    "tocilizumab": False,
    "corticosteroids": False,
}
FEVER = {"temp_c": 38.5}


def one_day(**changes: Any) -> pd.DataFrame:
    row = {"patient_id": "P1", "day": 3, **BASE, **changes}
    return pd.DataFrame([row])


def grade_of(frame: pd.DataFrame, **kwargs: Any) -> int | None:
    g = grade_crs(frame, **kwargs)["grade"].iloc[-1]
    return None if pd.isna(g) else int(g)


# --- Fever ------------------------------------------------------------------------------
# "Fever is defined as temperature >=38 C not attributable to any other cause."
FEVER_CASES = [
    pytest.param({"temp_c": 38.0}, 1, id="exactly-38.0-is-fever-grade-1"),
    pytest.param({"temp_c": 37.9}, 0, id="37.9-is-not-fever-grade-0"),
    pytest.param({"temp_c": 40.1}, 1, id="40.1-fever-grade-1"),
    # "Grade 1: Temperature >= 38 C | Hypotension: None | Hypoxia: None"
    pytest.param({"temp_c": 39.0, "o2_device": "none"}, 1, id="fever-alone-grade-1"),
    # Not gradable: temperature missing and no hypotension/hypoxia information either.
    pytest.param(
        {
            "temp_c": None,
            "hypotension": None,
            "vasopressors": None,
            "vasopressin": None,
            "o2_device": None,
        },
        None,
        id="not-gradable-temp-missing-no-other-info",
    ),
    # Temperature missing, nothing else abnormal: 0 without fever, 1 with -> not gradable.
    pytest.param({"temp_c": None}, None, id="not-gradable-temp-missing-rest-normal"),
    # Without fever (and no waiver) hypotension alone is not CRS: grade 0, not 2.
    pytest.param({"temp_c": 37.2, "hypotension": True}, 0, id="afebrile-hypotension-grade-0"),
    pytest.param(
        {"temp_c": 37.2, "vasopressors": 2, "hypotension": True},
        0,
        id="afebrile-two-pressors-grade-0",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), FEVER_CASES)
def test_fever_criterion(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of(one_day(**changes)) == expected


# --- Hypotension ------------------------------------------------------------------------
HYPOTENSION_CASES = [
    # "Hypotension: None requiring vasopressors (Grade 2)"
    pytest.param({"hypotension": True, "vasopressors": 0}, 2, id="fluids-only-grade-2"),
    # "Requiring a vasopressor with or without vasopressin (Grade 3)"
    pytest.param({"hypotension": True, "vasopressors": 1}, 3, id="one-pressor-grade-3"),
    pytest.param(
        {"hypotension": True, "vasopressors": 1, "vasopressin": True},
        3,
        id="one-pressor-plus-vasopressin-grade-3",
    ),
    # "Multiple vasopressors (excluding vasopressin) (Grade 4)"
    pytest.param({"hypotension": True, "vasopressors": 2}, 4, id="two-pressors-grade-4"),
    pytest.param(
        {"hypotension": True, "vasopressors": 3, "vasopressin": True},
        4,
        id="three-pressors-plus-vasopressin-grade-4",
    ),
    # Vasopressin as the only pressor is not addressed by the text; default setting:
    # it counts as "a vasopressor" -> grade 3 (criterion astct-crs-vasopressin-alone).
    pytest.param(
        {"hypotension": True, "vasopressors": 0, "vasopressin": True},
        3,
        id="vasopressin-alone-default-grade-3",
    ),
    # Pressors recorded make the hypotension flag irrelevant.
    pytest.param({"hypotension": None, "vasopressors": 2}, 4, id="two-pressors-flag-missing-4"),
    # "a patient requiring IV fluid boluses or vasopressor ... is considered to have
    # hypotension": hypotension False -> no pressors even if the count is missing.
    pytest.param(
        {"hypotension": False, "vasopressors": None, "vasopressin": None},
        1,
        id="no-hypotension-count-missing-grade-1",
    ),
    # Not gradable: flag missing, no pressors -> 1 (no hypotension) or 2 (fluids).
    pytest.param({"hypotension": None}, None, id="not-gradable-hypotension-flag-missing"),
    # Not gradable: hypotensive, pressor count missing -> 2, 3 or 4.
    pytest.param(
        {"hypotension": True, "vasopressors": None}, None, id="not-gradable-pressor-count-missing"
    ),
]


@pytest.mark.parametrize(("changes", "expected"), HYPOTENSION_CASES)
def test_hypotension_criterion(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of(one_day(**FEVER, **changes)) == expected


def test_vasopressin_alone_setting_not_a_vasopressor() -> None:
    # "Requiring a vasopressor with or without vasopressin": read as vasopressin never
    # counting as a vasopressor, vasopressin alone is hypotension without vasopressors = 2.
    day = one_day(**FEVER, hypotension=True, vasopressors=0, vasopressin=True)
    assert grade_of(day, vasopressin_alone="not_a_vasopressor") == 2
    assert grade_of(day) == 3


# --- Hypoxia ----------------------------------------------------------------------------
HYPOXIA_CASES = [
    # "Requiring low-flow nasal cannula or blow-by oxygen (Grade 2)" and
    # "Low-flow nasal cannula refers to oxygen delivered at <= 6 L/min"
    pytest.param(
        {"o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": 6.0},
        2,
        id="nc-exactly-6-l-min-low-flow-grade-2",
    ),
    pytest.param(
        {"o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": 2.0}, 2, id="nc-2-l-min-grade-2"
    ),
    pytest.param({"o2_device": "low_flow_nasal_cannula"}, 2, id="nc-no-flow-label-grade-2"),
    pytest.param({"o2_device": "blow_by"}, 2, id="blow-by-grade-2"),
    pytest.param({"o2_device": "blow_by", "o2_flow_l_min": 10.0}, 2, id="blow-by-any-flow-2"),
    # "Requiring HFNC, facemask, non-rebreather, or Venturi mask (Grade 3)"
    pytest.param(
        {"o2_device": "high_flow_nasal_cannula", "o2_flow_l_min": 40.0}, 3, id="hfnc-grade-3"
    ),
    pytest.param({"o2_device": "high_flow_nasal_cannula"}, 3, id="hfnc-no-flow-grade-3"),
    pytest.param({"o2_device": "facemask"}, 3, id="facemask-grade-3"),
    # The flow cut-off separates nasal cannulas only: a facemask at 6 L/min is still 3.
    pytest.param({"o2_device": "facemask", "o2_flow_l_min": 6.0}, 3, id="facemask-6-l-min-3"),
    pytest.param({"o2_device": "non_rebreather_mask"}, 3, id="non-rebreather-grade-3"),
    pytest.param({"o2_device": "venturi_mask"}, 3, id="venturi-grade-3"),
    # "Requiring positive pressure (e.g., CPAP, BiPAP, intubation and mechanical
    # ventilation) (Grade 4)"
    pytest.param({"o2_device": "cpap"}, 4, id="cpap-grade-4"),
    pytest.param({"o2_device": "bipap"}, 4, id="bipap-grade-4"),
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilated-grade-4"),
    # No device and flow 0: no supplemental oxygen.
    pytest.param({"o2_device": None, "o2_flow_l_min": 0.0}, 1, id="no-device-flow-0-grade-1"),
    # Not gradable: no device and no flow -> anything from 1 to 4.
    pytest.param({"o2_device": None}, None, id="not-gradable-no-oxygen-information"),
]


@pytest.mark.parametrize(("changes", "expected"), HYPOXIA_CASES)
def test_hypoxia_criterion(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of(one_day(**FEVER, **changes)) == expected


# "whereas high flow refers to delivery at >6 L/min": a recorded flow decides the nasal
# cannula category, whatever its label; the contradiction is reported.
NASAL_CANNULA_FLOW_CASES = [
    pytest.param("low_flow_nasal_cannula", 6.5, 3, id="nc-labelled-low-at-6.5-is-high-3"),
    pytest.param("high_flow_nasal_cannula", 6.0, 2, id="nc-labelled-high-at-6.0-is-low-2"),
]


@pytest.mark.parametrize(("device", "flow", "expected"), NASAL_CANNULA_FLOW_CASES)
def test_nasal_cannula_flow_decides(device: str, flow: float, expected: int) -> None:
    with pytest.warns(GradingWarning, match="nasal_cannula"):
        assert grade_of(one_day(**FEVER, o2_device=device, o2_flow_l_min=flow)) == expected


def test_device_none_with_flow_is_flagged_not_guessed() -> None:
    with pytest.warns(GradingWarning, match="'none' but an oxygen flow"):
        out = grade_crs(one_day(**FEVER, o2_device="none", o2_flow_l_min=4.0))
    assert pd.isna(out["grade"].iloc[0])
    assert out["driver"].iloc[0] == "not_gradable: hypoxia"


def test_flow_without_device_gives_a_floor() -> None:
    # 10 L/min by an unknown device: oxygen is given (at least 2 -- "Low flow also includes
    # blow-by", whatever its flow), possibly positive pressure (4).
    with pytest.warns(GradingWarning, match="without o2_device"):
        out = grade_crs(one_day(**FEVER, o2_device=None, o2_flow_l_min=10.0))
    assert pd.isna(out["grade"].iloc[0])
    assert (out["grade_lower_bound"].iloc[0], out["grade_upper_bound"].iloc[0]) == (2, 4)


# --- Most severe component and partial information ---------------------------------------
# "CRS grading is defined by the more severe event, e.g., a febrile patient on a single
# vasopressor and low-flow nasal cannula would be classified as Grade 3 CRS"
MOST_SEVERE_CASES = [
    pytest.param(
        {
            "hypotension": True,
            "vasopressors": 1,
            "o2_device": "low_flow_nasal_cannula",
            "o2_flow_l_min": 3.0,
        },
        3,
        3,
        3,
        "hypotension",
        id="consensus-example-grade-3",
    ),
    pytest.param(
        {"hypotension": True, "o2_device": "cpap"}, 4, 4, 4, "hypoxia", id="fluids-and-cpap-grade-4"
    ),
    pytest.param(
        {"hypotension": True, "vasopressors": 1, "o2_device": "facemask"},
        3,
        3,
        3,
        "hypotension+hypoxia",
        id="both-components-grade-3",
    ),
    # Hypoxia proves >= 3 but missing hypotension could make it 4: not gradable, bound 3.
    pytest.param(
        {"hypotension": None, "vasopressors": None, "vasopressin": None, "o2_device": "facemask"},
        None,
        3,
        4,
        "not_gradable: hypotension",
        id="facemask-hypotension-missing-lower-bound-3",
    ),
    # Positive pressure is the top of the scale: the missing hypotension cannot matter.
    pytest.param(
        {"hypotension": None, "vasopressors": None, "vasopressin": None, "o2_device": "cpap"},
        4,
        4,
        4,
        "hypoxia",
        id="cpap-hypotension-missing-still-4",
    ),
    # Hypotension gives 2, hypoxia unknown -> 2, 3 or 4: not gradable, bound 2.
    pytest.param(
        {"hypotension": True, "o2_device": None},
        None,
        2,
        4,
        "not_gradable: hypoxia",
        id="hypotension-2-hypoxia-missing",
    ),
]


@pytest.mark.parametrize(("changes", "grade", "lower", "upper", "driver"), MOST_SEVERE_CASES)
def test_most_severe_component(
    changes: dict[str, Any], grade: int | None, lower: int, upper: int, driver: str
) -> None:
    out = grade_crs(one_day(**FEVER, **changes)).iloc[0]
    assert (None if pd.isna(out["grade"]) else int(out["grade"])) == grade
    assert (int(out["grade_lower_bound"]), int(out["grade_upper_bound"])) == (lower, upper)
    assert out["driver"] == driver


# --- Fever waiver ----------------------------------------------------------------------
def course(*days: dict[str, Any]) -> pd.DataFrame:
    rows = [{"patient_id": "P1", "day": i + 1, **BASE, **d} for i, d in enumerate(days)]
    return pd.DataFrame(rows)


# "when antipyretic or anticytokine therapy is initiated (e.g., tocilizumab or steroids),
# CRS grading is driven by hypotension and hypoxia only"
WAIVER_CASES = [
    pytest.param(
        course({"temp_c": 38.6, "tocilizumab": True}, {"temp_c": 37.0, "hypotension": True}),
        {},
        [1, 2],
        id="after-tocilizumab-grade-from-hypotension-alone",
    ),
    pytest.param(
        course({"temp_c": 38.6, "corticosteroids": True}, {"temp_c": 36.8, "o2_device": "cpap"}),
        {},
        [1, 4],
        id="after-steroids-grade-from-hypoxia-alone",
    ),
    pytest.param(
        course({"temp_c": 38.6, "tocilizumab": True}, {"temp_c": 37.0}),
        {},
        [1, 0],
        id="after-tocilizumab-no-organ-dysfunction-grade-0",
    ),
    # Same day: the daily row summarises 24 h; the drug given that day already masks fever.
    pytest.param(
        course({"temp_c": 38.5}, {"temp_c": 37.5, "antipyretic": True, "hypotension": True}),
        {},
        [1, 2],
        id="waiver-applies-on-the-day-given",
    ),
    pytest.param(
        course({"temp_c": 38.5}, {"temp_c": 37.5, "antipyretic": True, "hypotension": True}),
        {"waiver_start": "next_day"},
        [1, 0],
        id="waiver-next-day-setting",
    ),
    pytest.param(
        course({"temp_c": 37.5, "antipyretic": True, "hypotension": True}),
        {"fever_waiver": "after_treatment"},
        [2],
        id="lenient-waiver-applies-on-the-day-given",
    ),
    pytest.param(
        course({"temp_c": 37.5, "antipyretic": True, "hypotension": True}),
        {"fever_waiver": "after_treatment", "waiver_start": "next_day"},
        [0],
        id="lenient-waiver-next-day-setting",
    ),
    # "In patients who have CRS then receive antipyretic or anticytokine therapy ...":
    # strict setting - a drug given before any fever does not start the waiver.
    pytest.param(
        course({"temp_c": 37.0, "antipyretic": True}, {"temp_c": 37.0, "hypotension": True}),
        {"fever_waiver": "after_treatment"},
        [0, 2],
        id="lenient-antipyretic-before-fever-waives",
    ),
    pytest.param(
        course({"temp_c": 37.0, "antipyretic": True}, {"temp_c": 37.0, "hypotension": True}),
        {},
        [0, 0],
        id="default-antipyretic-before-fever-does-not-waive",
    ),
    pytest.param(
        course({"temp_c": 37.0, "antipyretic": True}, {"temp_c": 37.0, "hypotension": True}),
        {"fever_waiver": "after_crs_onset_and_treatment"},
        [0, 0],
        id="strict-antipyretic-before-fever-does-not-waive",
    ),
    pytest.param(
        course({"temp_c": 38.4}, {"temp_c": 37.0, "tocilizumab": True, "hypotension": True}),
        {"fever_waiver": "after_crs_onset_and_treatment"},
        [1, 2],
        id="strict-tocilizumab-after-fever-waives",
    ),
    # SITC: "In patients who have CRS then receive tocilizumab or steroids" - antipyretics
    # do not start the waiver when waiver_drugs excludes them.
    pytest.param(
        course({"temp_c": 38.4, "antipyretic": True}, {"temp_c": 37.0, "hypotension": True}),
        {"waiver_drugs": ("tocilizumab", "corticosteroids")},
        [1, 0],
        id="sitc-drugs-antipyretic-does-not-waive",
    ),
    # Not gradable: afebrile and hypotensive in an episode, treatment unknown -> 0 or 2.
    pytest.param(
        course({"temp_c": 38.2}, {"temp_c": 37.0, "hypotension": True, "antipyretic": None}),
        {},
        [1, None],
        id="not-gradable-treatment-unknown",
    ),
    pytest.param(
        course({"temp_c": 37.0, "hypotension": True, "antipyretic": None}),
        {},
        [0],
        id="no-episode-treatment-unknown-does-not-matter",
    ),
    pytest.param(
        course({"temp_c": 37.0, "hypotension": True, "antipyretic": None}),
        {"fever_waiver": "after_treatment"},
        [None],
        id="lenient-not-gradable-treatment-unknown",
    ),
    pytest.param(
        course({"temp_c": 37.0, "hypotension": True, "antipyretic": None}),
        {"missing_treatment": "not_given"},
        [0],
        id="treatment-missing-read-as-not-given",
    ),
]


@pytest.mark.parametrize(("frame", "options", "expected"), WAIVER_CASES)
def test_fever_waiver(
    frame: pd.DataFrame, options: dict[str, Any], expected: list[int | None]
) -> None:
    grades = grade_crs(frame, **options)["grade"]
    assert [None if pd.isna(g) else int(g) for g in grades] == expected


def test_waiver_is_per_patient() -> None:
    a = course({"temp_c": 38.6, "tocilizumab": True})
    b = course({"temp_c": 37.0}, {"temp_c": 37.0, "hypotension": True}).assign(patient_id="P2")
    out = grade_crs(pd.concat([a, b]))
    assert out.loc[out.patient_id == "P2", "grade"].tolist() == [0, 0]


# --- Grade 5 ---------------------------------------------------------------------------
# "CRS is determined as the main cause of death and no other cause is the principle
# factor ... CRS should be reported as grade 5 CRS"
DEATH_CASES = [
    pytest.param({"event": "death", "cause": "CRS"}, 5, id="death-from-crs-grade-5"),
    pytest.param({"event": "Death", "cause": " crs "}, 5, id="case-and-space-insensitive"),
    pytest.param({"event": "death", "detail": "CRS"}, 5, id="standard-detail-column"),
    pytest.param({"event": "death", "cause": "infection"}, 1, id="other-cause-not-grade-5"),
    pytest.param({"event": "relapse", "cause": "CRS"}, 1, id="not-a-death"),
]


@pytest.mark.parametrize(("event", "expected"), DEATH_CASES)
def test_grade_5(event: dict[str, Any], expected: int) -> None:
    events = pd.DataFrame([{"patient_id": "P1", "day": 3, **event}])
    out = grade_crs(one_day(**FEVER), events=events)
    assert int(out["grade"].iloc[0]) == expected
    if expected == 5:
        assert out["driver"].iloc[0] == "death"


def test_death_row_added_to_nullable_frame() -> None:
    frame = one_day(**FEVER).astype(
        {"hypotension": "boolean", "vasopressors": "Int64", "o2_device": "category"}
    )
    events = pd.DataFrame([{"patient_id": "P1", "day": 4, "event": "death", "cause": "CRS"}])
    assert grade_crs(frame, events=events)["grade"].tolist() == [1, 5]


def test_death_day_without_observation_is_added() -> None:
    events = pd.DataFrame(
        [
            {"patient_id": "P1", "day": 9, "event": "death", "cause": "CRS"},
            {"patient_id": "P9", "day": 2, "event": "death", "cause": "CRS"},
        ]
    )
    out = grade_crs(one_day(**FEVER), events=events)
    assert list(zip(out.patient_id, out.day, out.grade, strict=True)) == [
        ("P1", 3, 1),
        ("P1", 9, 5),
        ("P9", 2, 5),
    ]


# --- Inputs, output shape and errors ------------------------------------------------------
def test_output_columns_and_provenance() -> None:
    out = grade_crs(one_day(**FEVER))
    assert list(out.columns[:7]) == [
        "patient_id",
        "day",
        "system",
        "grade",
        "grade_lower_bound",
        "grade_upper_bound",
        "driver",
    ]
    assert {"fever", "fever_waived", "hypotension_grade", "hypoxia_grade"} <= set(out.columns)
    assert out["system"].iloc[0] == astct_crs.VERSION == "ASTCT-2019"
    assert str(out["grade"].dtype) == "Int64"


def test_nullable_and_plain_dtypes_agree() -> None:
    plain = course(
        {"temp_c": 38.2, "vasopressors": 1, "hypotension": True},
        {"temp_c": np.nan, "o2_device": "cpap"},
        {"temp_c": 37.0, "o2_device": "facemask", "tocilizumab": True},
    )
    nullable = plain.astype(
        {
            "vasopressors": "Int64",
            "hypotension": "boolean",
            "vasopressin": "boolean",
            "tocilizumab": "boolean",
            "antipyretic": "boolean",
            "corticosteroids": "boolean",
            "o2_device": "category",
            "temp_c": "Float64",
        }
    )
    pd.testing.assert_frame_equal(grade_crs(plain), grade_crs(nullable))


def test_absent_column_is_missing_everywhere() -> None:
    frame = one_day(**FEVER, o2_device="cpap").drop(columns=["hypotension", "vasopressors"])
    assert grade_of(frame) == 4  # positive pressure settles it without blood pressure
    frame = one_day(**FEVER).drop(columns=["o2_device", "o2_flow_l_min"])
    assert grade_of(frame) is None


def test_rows_are_sorted_and_summary() -> None:
    frame = course(
        {"temp_c": 38.2},
        {"temp_c": 38.9, "hypotension": True, "vasopressors": 1, "tocilizumab": True},
        {"temp_c": 37.0, "hypotension": True},
        {"temp_c": 37.0},
    ).iloc[::-1]
    grades = grade_crs(frame)
    assert grades["day"].tolist() == [1, 2, 3, 4]
    assert grades["grade"].tolist() == [1, 3, 2, 0]
    summary = summarize_crs(grades, observations=frame).iloc[0]
    assert summary["max_grade"] == 3
    assert summary["onset_day"] == 1
    assert summary["duration_days"] == 3
    assert summary["span_days"] == 3
    assert bool(summary["tocilizumab"]) is True
    assert bool(summary["corticosteroids"]) is False


SUMMARY_CASES = [
    # A not-gradable day that could exceed the known maximum: max grade not determined.
    pytest.param(
        [{"temp_c": 38.2}, {"temp_c": 38.2, "o2_device": None}],
        None,
        1,
        1,
        4,
        id="max-not-determined-when-exceedable",
    ),
    # A not-gradable day bounded by the known maximum: the maximum is still determined.
    pytest.param(
        [{"temp_c": 38.2, "o2_device": "cpap"}, {"temp_c": None}],
        4,
        1,
        4,
        4,
        id="max-determined-when-not-exceedable",
    ),
    # An earlier day that may have been CRS: onset not determined.
    pytest.param(
        [{"temp_c": None}, {"temp_c": 38.5}], 1, None, 1, 1, id="onset-unknown-after-ungradable-day"
    ),
]


@pytest.mark.parametrize(("days", "max_grade", "onset", "lower", "upper"), SUMMARY_CASES)
def test_summary_bounds(
    days: list[dict[str, Any]], max_grade: int | None, onset: int | None, lower: int, upper: int
) -> None:
    s = summarize_crs(grade_crs(course(*days))).iloc[0]
    assert (None if pd.isna(s["max_grade"]) else int(s["max_grade"])) == max_grade
    assert (None if pd.isna(s["onset_day"]) else int(s["onset_day"])) == onset
    assert (int(s["max_grade_lower_bound"]), int(s["max_grade_upper_bound"])) == (lower, upper)


ERROR_CASES = [
    pytest.param(lambda f: f.drop(columns=["patient_id"]), {}, "patient_id", id="no-patient-id"),
    pytest.param(lambda f: pd.concat([f, f]), {}, "duplicate", id="duplicate-patient-day"),
    pytest.param(
        lambda f: f.assign(o2_device="nasal prongs"),
        {},
        "outside the data standard",
        id="unknown-device",
    ),
    pytest.param(lambda f: f.assign(hypotension="maybe"), {}, "boolean", id="bad-boolean"),
    pytest.param(lambda f: f.assign(day=1.5), {}, "whole days", id="fractional-day"),
    pytest.param(lambda f: f, {"system": "asbmt"}, "system", id="unknown-system"),
    pytest.param(lambda f: f, {"fever_waiver": "always"}, "fever_waiver", id="unknown-waiver"),
    pytest.param(
        lambda f: f, {"waiver_drugs": "tocilizumab"}, "waiver_drugs", id="waiver-drugs-string"
    ),
]


@pytest.mark.parametrize(("mutate", "options", "match"), ERROR_CASES)
def test_errors_name_the_problem(mutate: Any, options: dict[str, Any], match: str) -> None:
    with pytest.raises(DerivationError, match=match):
        grade_crs(mutate(one_day()), **options)
