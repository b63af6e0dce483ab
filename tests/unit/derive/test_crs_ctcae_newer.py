"""CTCAE v5.0 and v6.0 cytokine release syndrome: every grade boundary, hand-worked.

Each case quotes the NCI grade text it tests (sources and statuses in
``cartcohort.derive.toxicity.criteria.ctcae_crs``). ``None`` = not gradable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity import CRS_SCALES, crs_concordance, grade_crs
from cartcohort.derive.toxicity.criteria import astct_crs, ctcae_crs

NORMAL: dict[str, Any] = {
    "temp_c": 37.0,
    "hypotension": False,
    "vasopressors": 0,
    "vasopressin": False,
    "o2_device": "none",
    "o2_flow_l_min": np.nan,
    "fio2_pct": 21.0,
}


def grade_of(system: str, **changes: Any) -> int | None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NORMAL, **changes}])
    g = grade_crs(frame, system=system)["grade"].iloc[0]  # type: ignore[arg-type]
    return None if pd.isna(g) else int(g)


SHARED = [
    # "Fever with or without constitutional symptoms" (grade 1); 38.0 is fever, 37.9 is not.
    pytest.param({"temp_c": 38.0}, 1, id="fever-38.0"),
    pytest.param({"temp_c": 37.9}, 0, id="37.9-no-fever"),
    pytest.param({"temp_c": np.nan}, None, id="temp-missing"),
    # "Hypotension responding to fluids" (grade 2).
    pytest.param({"hypotension": True}, 2, id="fluids"),
    # "Hypotension managed with one pressor" (grade 3); vasopressin is a pressor in CTCAE.
    pytest.param({"hypotension": True, "vasopressors": 1}, 3, id="one-pressor"),
    pytest.param({"hypotension": True, "vasopressin": True}, 3, id="vasopressin-alone"),
    # Two pressors: not listed; read as "Life-threatening consequences" (interpretation).
    pytest.param({"hypotension": True, "vasopressors": 2}, 4, id="two-pressors"),
    pytest.param(
        {"hypotension": True, "vasopressors": 1, "vasopressin": True}, 4, id="pressor+vasopressin"
    ),
    pytest.param({"hypotension": True, "vasopressors": np.nan}, None, id="pressors-missing"),
    # No fever gate: hypotension without fever is graded (rows are CRS findings).
    pytest.param({"temp_c": 36.5, "hypotension": True}, 2, id="no-fever-gate"),
    # Optional column: the clinician's "life-threatening; urgent intervention" -> 4.
    pytest.param({"temp_c": 39.0, "crs_life_threatening": True}, 4, id="life-threatening"),
    pytest.param({"temp_c": 39.0, "crs_life_threatening": False}, 1, id="not-life-threatening"),
]

V5_CASES = [
    *SHARED,
    # "hypoxia responding to <40% O2" (2); "hypoxia requiring ≥ 40% O2" (3).
    pytest.param({"o2_device": "facemask", "fio2_pct": 39.9}, 2, id="fio2-39.9"),
    pytest.param({"o2_device": "low_flow_nasal_cannula", "fio2_pct": 40.0}, 3, id="fio2-40"),
    pytest.param({"o2_device": "facemask", "fio2_pct": np.nan}, None, id="fio2-missing"),
    # CPAP/BiPAP graded by FiO2 (as Lee 2014); ventilation 4 (interpretation).
    pytest.param({"o2_device": "cpap", "fio2_pct": 30.0}, 2, id="cpap-by-fio2"),
    pytest.param({"o2_device": "mechanical_ventilation", "fio2_pct": 30.0}, 4, id="ventilated"),
]

V6_CASES = [
    *SHARED,
    # "hypoxia requiring low-flow nasal cannula or blow-by" (2).
    pytest.param({"o2_device": "blow_by"}, 2, id="blow-by"),
    pytest.param(
        {"o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": 6.0}, 2, id="cannula-6.0"
    ),
    # "... high-flow nasal cannula, facemask, nonrebreather mask, or Venturi mask" (3).
    pytest.param(
        {"o2_device": "high_flow_nasal_cannula", "o2_flow_l_min": 6.5}, 3, id="cannula-6.5"
    ),
    pytest.param({"o2_device": "non_rebreather_mask"}, 3, id="non-rebreather"),
    pytest.param({"o2_device": "venturi_mask"}, 3, id="venturi"),
    # Positive pressure: not named; read as grade 4 (interpretation).
    pytest.param({"o2_device": "bipap"}, 4, id="bipap"),
    pytest.param({"o2_device": np.nan}, None, id="device-missing"),
]


@pytest.mark.parametrize(("changes", "expected"), V5_CASES)
def test_ctcae_v50(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("ctcae_v5.0", **changes) == expected


@pytest.mark.parametrize(("changes", "expected"), V6_CASES)
def test_ctcae_v60(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("ctcae_v6.0", **changes) == expected


def test_no_fever_waiver_and_versions_in_provenance() -> None:
    # CTCAE has no waiver: tocilizumab does not change the grade of an afebrile day.
    frame = pd.DataFrame(
        [{"patient_id": "P1", "day": 1, **NORMAL, "temp_c": 37.0, "tocilizumab": True}]
    )
    for system, version in (("ctcae_v5.0", "CTCAE-5.0"), ("ctcae_v6.0", "CTCAE-6.0")):
        out = grade_crs(frame, system=system)  # type: ignore[arg-type]
        assert int(out["grade"].iloc[0]) == 0
        assert out["system"].iloc[0] == version
        assert CRS_SCALES[system].version == version


def test_v60_oxygen_devices_are_the_astct_devices() -> None:
    # CTCAE v6.0 names the ASTCT devices at grades 2 and 3; the grader reads the same table.
    lows = {d for d, g in astct_crs.DEVICE_GRADE.items() if g == 2}
    highs = {d for d, g in astct_crs.DEVICE_GRADE.items() if g == 3}
    assert lows == {"low_flow_nasal_cannula", "blow_by"}
    assert highs == {"high_flow_nasal_cannula", "facemask", "non_rebreather_mask", "venturi_mask"}
    for device in astct_crs.DEVICE_GRADE:
        expected = 0 if device == "none" else astct_crs.DEVICE_GRADE[device]
        assert grade_of("ctcae_v6.0", o2_device=device) == expected


def test_quotes_carry_their_source_and_status() -> None:
    for scale in ctcae_crs.SCALES.values():
        assert all(c.quote and c.source for c in scale.criteria)
        readings = {c.id for c in scale.criteria if c.status == "interpretation"}
        prefix = scale.key.replace("ctcae_v", "ctcae").replace(".", "")
        assert f"{prefix}-hypotension-4" in readings
        assert f"{prefix}-hypoxia-4" in readings


def test_new_scales_take_part_in_the_concordance() -> None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NORMAL, "temp_c": 38.5}])
    conc = crs_concordance(frame, systems=("astct", "ctcae_v5.0", "ctcae_v6.0"))
    assert conc.filter(like="ctcae").iloc[0].tolist() == [1, 1]
