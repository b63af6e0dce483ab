"""CTCAE v6.0 ICANS (``grade_icans(system="ctcae_v6.0")``): every boundary, hand-worked.

Each case quotes the NCI grade text (source and status in
``cartcohort.derive.toxicity.criteria.ctcae_icans``). Bounds are ``(lower, upper)``; equal
bounds are a grade, unequal ones "not gradable".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.toxicity import ICANS_SCALES, grade_icans, summarize_icans
from cartcohort.derive.toxicity.criteria import ctcae_icans
from cartcohort.errors import DerivationError
from cartcohort.model.standard import CONSCIOUSNESS


def bounds(age: float | None = 40, **row: Any) -> tuple[int, int]:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 3, **row}])
    out = grade_icans(frame, system="ctcae_v6.0", age_years={"P1": age}).iloc[0]
    return int(out["grade_lower_bound"]), int(out["grade_upper_bound"])


ADULT = [
    # "ICE score 7 - 9" (1), "ICE score 3 - 6" (2), "ICE score 0 - 2" (3); 10 -> 0.
    pytest.param({"ice_score": 10, "consciousness": "alert"}, (0, 0), id="ice-10"),
    pytest.param({"ice_score": 9, "consciousness": "alert"}, (1, 1), id="ice-9"),
    pytest.param({"ice_score": 7, "consciousness": "alert"}, (1, 1), id="ice-7"),
    pytest.param({"ice_score": 6, "consciousness": "alert"}, (2, 2), id="ice-6"),
    pytest.param({"ice_score": 3, "consciousness": "alert"}, (2, 2), id="ice-3"),
    pytest.param({"ice_score": 2, "consciousness": "alert"}, (3, 3), id="ice-2"),
    pytest.param({"ice_score": 0, "consciousness": "alert"}, (3, 3), id="ice-0-awake"),
    # Consciousness is not a domain of its own: drowsy with ICE 10 is 0.
    pytest.param({"ice_score": 10, "consciousness": "awakens_to_voice"}, (0, 0), id="drowsy"),
    # Unarousable: cannot be assessed; "Life-threatening ..." is not settled -> 3 or 4.
    pytest.param({"ice_score": 0, "consciousness": "unarousable"}, (3, 4), id="unarousable"),
    pytest.param({"consciousness": "alert"}, (0, 3), id="ice-missing"),
    pytest.param({"ice_score": 8}, (1, 1), id="ice-known-consciousness-missing"),
    pytest.param({"ice_score": 0}, (3, 4), id="ice-0-consciousness-missing-may-be-unarousable"),
    pytest.param({}, (0, 4), id="nothing"),
    # No seizure/motor/oedema domains in CTCAE v6.0: not read.
    pytest.param(
        {"ice_score": 10, "consciousness": "alert", "seizure": "prolonged_or_repetitive"},
        (0, 0),
        id="seizure-not-a-domain",
    ),
]


@pytest.mark.parametrize(("row", "expected"), ADULT)
def test_adults_by_ice(row: dict[str, Any], expected: tuple[int, int]) -> None:
    assert bounds(**row) == expected


CHILD = [
    # "CAPD score 1 - 8 AND awakens spontaneously" (1)
    pytest.param(1, "awakens_spontaneously", (1, 1), id="capd-1-spontaneous"),
    pytest.param(8, "awakens_spontaneously", (1, 1), id="capd-8-spontaneous"),
    pytest.param(5, "alert", (1, 1), id="capd-5-alert-read-as-spontaneous"),
    # "CAPD score 1 - 8 AND awakens to voice" (2)
    pytest.param(8, "awakens_to_voice", (2, 2), id="capd-8-voice"),
    # "CAPD score >=9 AND awakens only to tactile stimulus" (3)
    pytest.param(9, "awakens_to_tactile", (3, 3), id="capd-9-tactile"),
    # Combinations the text does not name: ranges.
    pytest.param(9, "alert", (1, 3), id="capd-9-alert-unnamed"),
    pytest.param(4, "awakens_to_tactile", (2, 3), id="capd-4-tactile-unnamed"),
    pytest.param(0, "alert", (0, 0), id="capd-0-alert"),
    pytest.param(0, "awakens_to_voice", (0, 2), id="capd-0-voice-unnamed"),
    pytest.param(None, "unarousable", (3, 4), id="unarousable-child"),
    # Missing CAPD: the union over the CAPD bands for that consciousness.
    pytest.param(None, "awakens_to_voice", (0, 3), id="capd-missing-voice"),
    pytest.param(12, None, (1, 4), id="capd-12-consciousness-missing"),
]


@pytest.mark.parametrize(("capd", "consciousness", "expected"), CHILD)
def test_children_by_capd_and_consciousness(
    capd: int | None, consciousness: str | None, expected: tuple[int, int]
) -> None:
    assert bounds(age=6, capd_score=capd, consciousness=consciousness) == expected


def test_capd_table_covers_every_combination_and_names_three() -> None:
    cells = ctcae_icans.CAPD_TABLE
    assert set(cells) == {(b, c) for b in ctcae_icans.CAPD_BANDS for c in CONSCIOUSNESS}
    named = {("1-8", "awakens_spontaneously"): 1, ("1-8", "awakens_to_voice"): 2}
    named[(">=9", "awakens_to_tactile")] = 3
    for cell, grade in named.items():
        assert cells[cell] == (grade, grade)
    assert all(lo <= hi for lo, hi in cells.values())


def test_symptom_grade_column_and_death() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1"],
            "day": [1, 2, 3],
            "ice_score": [10, 10, 0],
            "consciousness": ["alert", "alert", "unarousable"],
            "icans_symptom_grade": [2, None, 4],
        }
    )
    out = grade_icans(frame, system="ctcae_v6.0", age_years={"P1": 50})
    # "Moderate symptoms; ... limiting instrumental ADL" -> 2 although ICE is 10.
    assert out["grade"].iloc[0] == 2
    assert out["driver"].iloc[0] == "symptoms"
    assert pd.isna(out["grade"].iloc[1])  # symptom grade not recorded: up to 4
    assert out["grade"].iloc[2] == 4  # the clinician's "life-threatening" settles 3-or-4
    events = pd.DataFrame(
        {"patient_id": ["P1"], "day": [4], "event": ["death"], "cause": ["ICANS"]}
    )
    died = grade_icans(frame, system="ctcae_v6.0", events=events)
    assert died["grade"].iloc[-1] == 5
    assert died["system"].iloc[0] == "CTCAE-6.0" == ICANS_SCALES["ctcae_v6.0"].version
    frame["icans_symptom_grade"] = [2.5, None, 4]
    with pytest.raises(DerivationError, match="icans_symptom_grade"):
        grade_icans(frame, system="ctcae_v6.0")


def test_summary_of_ctcae_grades_has_no_seizure_information() -> None:
    frame = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "day": [1, 1], "ice_score": [2, 10]}
        | {"consciousness": ["alert", "alert"]}
    )
    summary = summarize_icans(grade_icans(frame, system="ctcae_v6.0"))
    assert summary["any_seizure"].isna().all()
    assert summary["severe_neurotoxicity"].tolist()[0] is True
    assert pd.isna(summary["severe_neurotoxicity"].iloc[1])  # seizure unknown


def test_developmental_delay_routes_to_capd_in_ctcae_too() -> None:
    frame = pd.DataFrame(
        [{"patient_id": "P1", "day": 1, "ice_score": 2, "capd_score": 5, "consciousness": "alert"}]
    )
    out = grade_icans(
        frame, system="ctcae_v6.0", age_years={"P1": 30}, developmental_delay={"P1": True}
    )
    assert out["assessment"].iloc[0] == "capd"
    assert out["grade"].iloc[0] == 1


def test_unknown_system_is_refused() -> None:
    with pytest.raises(DerivationError, match="system"):
        grade_icans(pd.DataFrame({"patient_id": ["P1"], "day": [1]}), system="ctcae_v5.0")  # type: ignore[arg-type]
