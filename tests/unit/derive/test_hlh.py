"""CTCAE v6.0 secondary HLH (``grade_secondary_hlh``): each grade, hand-worked.

Quotes and sources: ``cartcohort.derive.toxicity.criteria.ctcae_hlh``. ``None`` = not
gradable.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.toxicity import grade_secondary_hlh
from cartcohort.derive.toxicity.criteria import ctcae_hlh
from cartcohort.errors import DerivationError

NONE: dict[str, Any] = {
    "shlh": True,
    "shlh_intervention": False,
    "shlh_hospitalized": False,
    "shlh_life_threatening": False,
}


def grade_of(**changes: Any) -> int | None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 12, **NONE, **changes}])
    g = grade_secondary_hlh(frame)["grade"].iloc[0]
    return None if pd.isna(g) else int(g)


CASES = [
    # "Asymptomatic or mild symptoms; ...; intervention not indicated" (1)
    pytest.param({}, 1, id="present-no-care-1"),
    # "Moderate symptoms; intervention indicated (e.g., immunosuppressive agents)" (2)
    pytest.param({"shlh_intervention": True}, 2, id="intervention-2"),
    # "... hospitalization or prolongation of existing hospitalization indicated" (3)
    pytest.param({"shlh_intervention": True, "shlh_hospitalized": True}, 3, id="hospital-3"),
    # "Life-threatening consequences; urgent intervention indicated" (4)
    pytest.param({"shlh_life_threatening": True}, 4, id="life-threatening-4"),
    # No HLH: 0, the care flags are not read.
    pytest.param({"shlh": False, "shlh_hospitalized": True}, 0, id="absent-0"),
    pytest.param({"shlh": False, "shlh_intervention": None}, 0, id="absent-flag-missing-0"),
    # Missing information: never a guess.
    pytest.param({"shlh": None}, None, id="diagnosis-missing"),
    pytest.param({"shlh_hospitalized": None}, None, id="hospitalisation-missing"),
    pytest.param({"shlh_hospitalized": None, "shlh_life_threatening": True}, 4, id="4-settles"),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_grades(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of(**changes) == expected


def test_bounds_driver_death_and_provenance() -> None:
    frame = pd.DataFrame(
        [
            {"patient_id": "P1", "day": 10, **NONE, "shlh_intervention": None},
            {"patient_id": "P1", "day": 11, **NONE, "shlh_intervention": True},
        ]
    )
    events = pd.DataFrame(
        {"patient_id": ["P1"], "day": [14], "event": ["death"], "cause": ["Secondary HLH"]}
    )
    out = grade_secondary_hlh(frame, events=events)
    assert out["grade_lower_bound"].tolist() == [1, 2, 5]
    assert out["grade_upper_bound"].tolist() == [2, 2, 5]  # 1 or 2: intervention unknown
    assert str(out["driver"].iloc[1]) == "intervention"
    assert out["system"].iloc[0] == "CTCAE-6.0" == ctcae_hlh.SCALE.version
    # keys only: nothing is known
    keys_only = pd.DataFrame({"patient_id": ["P1"], "day": [1]})
    assert pd.isna(grade_secondary_hlh(keys_only)["grade"].iloc[0])


def test_flags_must_be_boolean() -> None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NONE, "shlh": "maybe"}])
    with pytest.raises(DerivationError, match="`shlh` must be boolean"):
        grade_secondary_hlh(frame)


def test_criteria_quote_the_nci_text_with_sources() -> None:
    ids = {c.id: c for c in ctcae_hlh.SCALE.criteria}
    assert ids["ctcae60-shlh-2"].quote.startswith("Moderate symptoms; intervention indicated")
    assert all(c.source and c.quote for c in ids.values())
    assert set(ctcae_hlh.SCALE.required_inputs) == set(ctcae_hlh.EXTRA_COLUMNS)
