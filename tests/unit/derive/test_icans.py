"""ASTCT 2019 ICANS grading: one parametrized table per domain (house style B4).

Quotes and sources: ``cartcohort.derive.toxicity.criteria.astct_icans``. ``None`` = not
gradable.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.toxicity import grade_icans, summarize_icans
from cartcohort.errors import DerivationError

NORMAL: dict[str, Any] = {
    "ice_score": 10,
    "consciousness": "alert",
    "seizure": "none",
    "motor_weakness": "none",
    "cerebral_edema": "none",
}


def one_day(**changes: Any) -> pd.DataFrame:
    return pd.DataFrame([{"patient_id": "P1", "day": 5, **NORMAL, **changes}])


def grade_of(frame: pd.DataFrame, **kwargs: Any) -> int | None:
    g = grade_icans(frame, **kwargs)["grade"].iloc[-1]
    return None if pd.isna(g) else int(g)


# "ICE score: 7-9 (Grade 1); 3-6 (Grade 2); 0-2 (Grade 3); 0 (Grade 4)" and
# "A patient with an ICE score of 0 may be classified as grade 3 ICANS if awake with global
# aphasia, but ... grade 4 ICANS if unarousable."
ICE_CASES = [
    pytest.param({"ice_score": 10}, 0, id="ice-10-grade-0"),
    pytest.param({"ice_score": 9}, 1, id="ice-9-grade-1"),
    pytest.param({"ice_score": 7}, 1, id="ice-7-grade-1"),
    pytest.param({"ice_score": 6}, 2, id="ice-6-grade-2"),
    pytest.param({"ice_score": 3}, 2, id="ice-3-grade-2"),
    pytest.param({"ice_score": 2}, 3, id="ice-2-grade-3"),
    pytest.param({"ice_score": 0}, 3, id="ice-0-awake-aphasic-grade-3"),
    pytest.param({"ice_score": 0, "consciousness": "unarousable"}, 4, id="ice-0-unarousable-4"),
    pytest.param(
        {"ice_score": None, "consciousness": "unarousable"}, 4, id="unarousable-cannot-do-ice-4"
    ),
    pytest.param({"ice_score": None}, None, id="not-gradable-ice-missing"),
]


@pytest.mark.parametrize(("changes", "expected"), ICE_CASES)
def test_ice_domain(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of(one_day(**changes)) == expected


# "Depressed level of consciousness: Awakens spontaneously (1); Awakens to voice (2); Awakens
# only to tactile stimulus (3); Patient is unarousable or requires vigorous or repetitive
# tactile stimuli to arouse. Stupor or coma (4)"
CONSCIOUSNESS_CASES = [
    pytest.param("alert", 0, id="alert-0"),
    pytest.param("awakens_spontaneously", 1, id="awakens-spontaneously-1"),
    pytest.param("awakens_to_voice", 2, id="awakens-to-voice-2"),
    pytest.param("awakens_to_tactile", 3, id="awakens-to-tactile-3"),
    pytest.param("unarousable", 4, id="unarousable-4"),
    pytest.param(None, None, id="not-gradable-consciousness-missing"),
]


@pytest.mark.parametrize(("level", "expected"), CONSCIOUSNESS_CASES)
def test_consciousness_domain(level: str | None, expected: int | None) -> None:
    assert grade_of(one_day(consciousness=level)) == expected


# "Any clinical seizure focal or generalized that resolves rapidly or nonconvulsive seizures
# on EEG that resolve with intervention (3); Life-threatening prolonged seizure (>5 min); or
# Repetitive clinical or electrical seizures without return to baseline in between (4)"
# "Deep focal motor weakness such as hemiparesis or paraparesis (4)"
# "Focal/local edema on neuroimaging (3); Diffuse cerebral edema on neuroimaging ... (4)"
OTHER_DOMAIN_CASES = [
    pytest.param("seizure", "none", 0, id="no-seizure-0"),
    pytest.param("seizure", "resolved_rapidly", 3, id="seizure-resolving-rapidly-3"),
    pytest.param("seizure", "prolonged_or_repetitive", 4, id="seizure-prolonged-4"),
    pytest.param("seizure", None, None, id="not-gradable-seizure-missing"),
    pytest.param("motor_weakness", "deep_focal", 4, id="deep-focal-weakness-4"),
    pytest.param("motor_weakness", None, None, id="not-gradable-motor-missing"),
    pytest.param("cerebral_edema", "focal", 3, id="focal-edema-3"),
    pytest.param("cerebral_edema", "diffuse", 4, id="diffuse-edema-4"),
    pytest.param("cerebral_edema", None, None, id="not-gradable-edema-missing"),
]


@pytest.mark.parametrize(("column", "value", "expected"), OTHER_DOMAIN_CASES)
def test_seizure_motor_edema_domains(column: str, value: str | None, expected: int | None) -> None:
    assert grade_of(one_day(**{column: value})) == expected


# "ICANS grade is determined by the most severe event ...; for example, a patient with an
# ICE score of 3 who has generalized seizure is classified as grade 3 ICANS."
MOST_SEVERE_CASES = [
    pytest.param(
        {"ice_score": 3, "seizure": "resolved_rapidly"},
        3,
        "seizure",
        id="consensus-example-ice-3-seizure-3",
    ),
    pytest.param(
        {"ice_score": 5, "consciousness": "awakens_to_voice"},
        2,
        "ice+consciousness",
        id="tie-names-both-domains",
    ),
    # Diffuse oedema is the top grade: missing ICE cannot change it.
    pytest.param(
        {"ice_score": None, "cerebral_edema": "diffuse"},
        4,
        "edema",
        id="missing-ice-irrelevant-at-4",
    ),
    # Awake with ICE missing: the ICE domain could still be 3, above the voice response.
    pytest.param(
        {"ice_score": None, "consciousness": "awakens_to_voice"},
        None,
        "not_gradable: ice",
        id="missing-ice-could-exceed-2",
    ),
]


@pytest.mark.parametrize(("changes", "expected", "driver"), MOST_SEVERE_CASES)
def test_most_severe_domain(changes: dict[str, Any], expected: int | None, driver: str) -> None:
    out = grade_icans(one_day(**changes)).iloc[0]
    assert (None if pd.isna(out["grade"]) else int(out["grade"])) == expected
    assert out["driver"] == driver


def test_missing_ice_with_grade_3_finding_is_determined() -> None:
    # ICE missing while awake: the ICE domain is at most 3, so a grade-3 seizure settles it.
    out = grade_icans(one_day(ice_score=None, seizure="resolved_rapidly")).iloc[0]
    assert (int(out["grade_lower_bound"]), int(out["grade_upper_bound"])) == (3, 3)
    assert int(out["grade"]) == 3


def test_tremor_and_myoclonus_do_not_count() -> None:
    # "Tremors and myoclonus ... may be graded according to CTCAE v5.0, but they do not
    # influence ICANS grading."
    frame = one_day(tremor="grade 3", myoclonus=True)
    assert grade_of(frame) == 0


def test_missing_as_none_setting() -> None:
    frame = one_day(seizure=None, cerebral_edema=None)
    assert grade_of(frame) is None
    assert grade_of(frame, missing_as_none=("seizure", "cerebral_edema")) == 0


# Children: "Grade 1-Patient has a CAPD score lower than 9 and awakens spontaneously; Grade
# 2-... lower than 9 and will awaken to the sound of a voice; Grade 3-Patient has a CAPD
# score of 9 or higher, awakens only to tactile stimulus ...; Grade 4-Patient is unable to
# perform CAPD, is unarousable ..."
CAPD_CASES = [
    pytest.param({"capd_score": 0}, 0, id="capd-0-alert-0"),
    pytest.param({"capd_score": 5, "consciousness": "awakens_spontaneously"}, 1, id="capd-5-1"),
    pytest.param({"capd_score": 8}, 1, id="capd-8-1"),
    pytest.param({"capd_score": 5, "consciousness": "awakens_to_voice"}, 2, id="capd-5-voice-2"),
    pytest.param({"capd_score": 9}, 3, id="capd-exactly-9-grade-3"),
    pytest.param({"capd_score": 20}, 3, id="capd-20-grade-3"),
    pytest.param(
        {"capd_score": None, "consciousness": "unarousable"}, 4, id="cannot-perform-capd-4"
    ),
    pytest.param({"capd_score": None}, None, id="not-gradable-capd-missing"),
    # The ICE score of a child is not used.
    pytest.param({"capd_score": 0, "ice_score": 2}, 0, id="child-ice-ignored"),
]


@pytest.mark.parametrize(("changes", "expected"), CAPD_CASES)
def test_capd_for_children(changes: dict[str, Any], expected: int | None) -> None:
    frame = one_day(**{"ice_score": None, **changes})
    assert grade_of(frame, age_years={"P1": 8}) == expected


AGE_BOUNDARY_CASES = [
    # ASTCT: CAPD for "children younger than 12": a 12-year-old is graded with ICE (ICE 2 -> 3).
    pytest.param(12, 12, "ice", 3, id="age-12-default-uses-ice"),
    pytest.param(11.9, 12, "capd", 1, id="age-11.9-uses-capd"),
    # NCIt: CAPD "for children 12 and under" -> capd_age_below=13.
    pytest.param(12, 13, "capd", 1, id="age-12-ncit-setting-uses-capd"),
]


@pytest.mark.parametrize(("age", "below", "assessment", "expected"), AGE_BOUNDARY_CASES)
def test_capd_age_boundary(age: float, below: float, assessment: str, expected: int) -> None:
    frame = one_day(ice_score=2, capd_score=4)
    out = grade_icans(frame, age_years=pd.Series({"P1": age}), capd_age_below=below).iloc[0]
    assert out["assessment"] == assessment
    assert int(out["grade"]) == expected


# MDedge report of the consensus: "the ICE assessment is not suitable for children younger
# than 12. For these patients (and older patients with baseline developmental delays), ICANS
# can be assessed using the Cornell Assessment of Pediatric Delirium (CAPD)."
DELAY_CASES = [
    # age, delay, assessment, (lower, upper): ICE 2 (-> 3) and CAPD 4 (-> 1) recorded.
    pytest.param(15, True, "capd", (1, 1), id="15-delayed-capd"),
    pytest.param(40, True, "capd", (1, 1), id="adult-delayed-capd"),
    pytest.param(15, False, "ice", (3, 3), id="15-not-delayed-ice"),
    pytest.param(8, False, "capd", (1, 1), id="child-by-age-capd"),
    pytest.param(8, None, "capd", (1, 1), id="child-delay-unknown-still-capd"),
    # Delay unknown from 12 years: either instrument -> range of both (1..3), not gradable.
    pytest.param(15, None, None, (1, 3), id="15-delay-unknown-range"),
    pytest.param(None, True, "capd", (1, 1), id="age-unknown-delayed-capd"),
]


@pytest.mark.parametrize(("age", "delay", "assessment", "bounds"), DELAY_CASES)
def test_developmental_delay_routes_to_capd(
    age: float | None, delay: bool | None, assessment: str | None, bounds: tuple[int, int]
) -> None:
    frame = one_day(ice_score=2, capd_score=4)
    out = grade_icans(
        frame, age_years={"P1": age}, developmental_delay=pd.Series({"P1": delay})
    ).iloc[0]
    if assessment is None:
        assert pd.isna(out["assessment"])
    else:
        assert out["assessment"] == assessment
    assert (int(out["grade_lower_bound"]), int(out["grade_upper_bound"])) == bounds


def test_developmental_delay_column_and_bad_values() -> None:
    frame = pd.DataFrame(
        [
            {"patient_id": "P1", "day": 5, **NORMAL, "ice_score": 2, "capd_score": 0},
            {"patient_id": "P2", "day": 5, **NORMAL, "ice_score": 2, "capd_score": 0},
        ]
    )
    frame["developmental_delay"] = pd.array([True, False], dtype="boolean")
    out = grade_icans(frame, age_years={"P1": 30, "P2": 30})
    assert out["assessment"].tolist() == ["capd", "ice"]
    assert out["grade"].tolist() == [0, 3]
    # No delay information at all: nobody is delayed (the behaviour before the flag).
    assert grade_of(one_day(ice_score=2), age_years={"P1": 30}) == 3
    with pytest.raises(DerivationError, match="developmental_delay"):
        grade_icans(one_day(), developmental_delay={"P1": "sometimes"})


def test_age_column_and_unknown_age() -> None:
    frame = pd.DataFrame(
        [
            {"patient_id": "P1", "day": 5, **NORMAL, "age_years": 30.0},
            {"patient_id": "P2", "day": 5, **NORMAL, "age_years": None},
        ]
    )
    out = grade_icans(frame)
    assert out["assessment"].tolist()[0] == "ice"
    assert pd.isna(out["assessment"].iloc[1])
    # Age unknown: ICE 10 but CAPD missing -> the ICE/CAPD domain is unknown.
    assert pd.isna(out["grade"].iloc[1])


def test_grade_5_and_output_shape() -> None:
    events = pd.DataFrame(
        {"patient_id": ["P1"], "day": [7], "event": ["death"], "detail": ["ICANS"]}
    )
    out = grade_icans(one_day(), events=events)
    assert out["grade"].tolist() == [0, 5]
    assert out["system"].iloc[0] == "ASTCT-2019"
    for col in (
        "ice_grade",
        "consciousness_grade",
        "seizure_grade",
        "motor_grade",
        "edema_grade",
        "driver",
        "grade_lower_bound",
    ):
        assert col in out.columns


# Seeds: "Severe neurotoxic effects were defined as a seizure of any grade or a toxic effect
# of grade 3 or higher." (UNCONFIRMED as a consensus definition; derived flag.)
SEVERE_CASES = [
    pytest.param([{"seizure": "resolved_rapidly"}], True, True, id="seizure-is-severe"),
    pytest.param([{"consciousness": "awakens_to_tactile"}], False, True, id="grade-3-is-severe"),
    pytest.param([{"ice_score": 5}], False, False, id="grade-2-not-severe"),
    pytest.param([{"ice_score": 5}, {"seizure": None}], None, None, id="seizure-unknown-na"),
]


@pytest.mark.parametrize(("days", "any_seizure", "severe"), SEVERE_CASES)
def test_severe_neurotoxicity_flag(
    days: list[dict[str, Any]], any_seizure: bool | None, severe: bool | None
) -> None:
    frame = pd.DataFrame(
        [{"patient_id": "P1", "day": i, **NORMAL, **d} for i, d in enumerate(days)]
    )
    s = summarize_icans(grade_icans(frame)).iloc[0]
    assert (None if pd.isna(s["any_seizure"]) else bool(s["any_seizure"])) == any_seizure
    got = None if pd.isna(s["severe_neurotoxicity"]) else bool(s["severe_neurotoxicity"])
    assert got == severe


def test_icans_errors() -> None:
    with pytest.raises(DerivationError, match="missing_as_none"):
        grade_icans(one_day(), missing_as_none=("ice_score",))
    with pytest.raises(DerivationError, match="system"):
        grade_icans(one_day(), system="cartox10")  # type: ignore[arg-type]
    with pytest.raises(DerivationError, match="outside the data standard"):
        grade_icans(one_day(seizure="focal"))
