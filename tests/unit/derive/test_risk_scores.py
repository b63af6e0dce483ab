"""EASIX, simplified EASIX and m-EASIX: hand-computed values, units and time points.

Formulas (Pennisi M et al., Blood Adv 2021;5:3397): "EASIX ... (lactate dehydrogenase
[LDH; U/L] x creatinine [mg/dL]/platelets [PLTs; 10^9 cells/L])"; "simplified EASIX, which
excludes creatinine"; "modified EASIX [m-EASIX], which replaces creatinine with CRP
[mg/dL]".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.risk_scores import (
    CRP_MG_DL_PER_MG_L,
    EASIX_PRE_CUTOFF,
    crp_mg_l_to_mg_dl,
    easix,
    m_easix,
    simplified_easix,
)
from cartcohort.errors import DerivationError

UNITS = {"ldh": "U/L", "creatinine": "mg/dL", "platelets": "10^9/L", "crp": "mg/L"}


def labs_of(*rows: tuple[str, float, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value"])
    frame["unit"] = frame["analyte"].map(UNITS)
    return frame


HAND_CASES = [
    # EASIX = LDH x creatinine / PLT = 250 x 0.8 / 100 = 2.0; log2 = 1.0
    pytest.param(easix, {"ldh": 250.0, "creatinine": 0.8, "platelets": 100.0}, 2.0, id="easix"),
    # EASIX = 480 x 1.5 / 40 = 18.0
    pytest.param(easix, {"ldh": 480.0, "creatinine": 1.5, "platelets": 40.0}, 18.0, id="easix-2"),
    # simplified EASIX = LDH / PLT = 250 / 100 = 2.5
    pytest.param(simplified_easix, {"ldh": 250.0, "platelets": 100.0}, 2.5, id="simplified"),
    # m-EASIX = LDH x CRP[mg/dL] / PLT = 250 x (40 mg/L = 4.0 mg/dL) / 100 = 10.0, not 100
    pytest.param(m_easix, {"ldh": 250.0, "crp": 40.0, "platelets": 100.0}, 10.0, id="m-easix"),
]


@pytest.mark.parametrize(("score", "values", "expected"), HAND_CASES)
def test_hand_computed(score: object, values: dict[str, float], expected: float) -> None:
    labs = labs_of(*[("P1", -5, a, v) for a, v in values.items()])
    row = score(labs, day=-5, window=(-7, -3)).iloc[0]  # type: ignore[operator]
    assert row["value"] == pytest.approx(expected, rel=1e-12)
    assert row["log2_value"] == pytest.approx(math.log2(expected), rel=1e-12)
    assert row["day"] == -5
    assert row["not_computable"] == ""


def test_m_easix_converts_crp_once_in_named_place() -> None:
    assert CRP_MG_DL_PER_MG_L == 0.1
    assert crp_mg_l_to_mg_dl(np.array([10.0, 0.0]))[0] == pytest.approx(1.0, rel=1e-12)
    labs = labs_of(("P1", 0, "ldh", 200.0), ("P1", 0, "crp", 25.0), ("P1", 0, "platelets", 50.0))
    row = m_easix(labs, window=(0, 0)).iloc[0]
    assert row["crp_mg_dl"] == pytest.approx(2.5, rel=1e-12)  # 25 mg/L
    assert row["value"] == pytest.approx(200.0 * 2.5 / 50.0, rel=1e-12)


def test_crp_in_mg_dl_is_refused_not_reconverted() -> None:
    # the validator converts mg/dL to the standard's mg/L; a raw mg/dL value is refused so
    # that it cannot be divided by 10 a second time
    labs = labs_of(("P1", 0, "ldh", 200.0), ("P1", 0, "crp", 2.5), ("P1", 0, "platelets", 50.0))
    labs.loc[labs["analyte"] == "crp", "unit"] = "mg/dL"
    with pytest.raises(DerivationError, match=r"crp is in 'mg/dL'"):
        m_easix(labs, window=(0, 0))


def test_creatinine_in_umol_l_is_refused() -> None:
    labs = labs_of(
        ("P1", 0, "ldh", 200.0), ("P1", 0, "creatinine", 80.0), ("P1", 0, "platelets", 50)
    )
    labs.loc[labs["analyte"] == "creatinine", "unit"] = "umol/L"
    with pytest.raises(DerivationError, match="umol/L"):
        easix(labs, window=(0, 0))


def test_zero_platelets_refused() -> None:
    labs = labs_of(("P1", 0, "ldh", 200.0), ("P1", 0, "creatinine", 1.0), ("P1", 0, "platelets", 0))
    with pytest.raises(DerivationError, match="platelet"):
        easix(labs, window=(0, 0))


def multi_day() -> pd.DataFrame:
    return labs_of(
        ("P1", -6, "ldh", 200.0),
        ("P1", -6, "creatinine", 1.0),
        ("P1", -6, "platelets", 100.0),  # EASIX 2.0 on day -6
        ("P1", -4, "ldh", 400.0),
        ("P1", -4, "creatinine", 1.0),
        ("P1", -4, "platelets", 100.0),  # EASIX 4.0 on day -4
        ("P1", -3, "ldh", 800.0),  # day -3: no creatinine, no platelets
        ("P2", -6, "ldh", 300.0),  # P2 has no creatinine at all
        ("P2", -6, "platelets", 150.0),
    )


TIME_POINT_CASES = [
    # closest complete day to the target
    pytest.param(-6, (-7, -3), "same_day", 2.0, -6.0, id="target-day-minus-6"),
    pytest.param(-5, (-7, -3), "same_day", 2.0, -6.0, id="tie-takes-earlier-day"),
    pytest.param(None, (-7, -3), "same_day", 4.0, -4.0, id="latest-complete-day"),
    pytest.param(None, (-7, -5), "same_day", 2.0, -6.0, id="window-excludes-day-4"),
]


@pytest.mark.parametrize(("day", "window", "pairing", "expected", "used"), TIME_POINT_CASES)
def test_time_point_selection(
    day: float | None, window: tuple[float, float], pairing: str, expected: float, used: float
) -> None:
    row = easix(multi_day(), day=day, window=window, pairing=pairing).iloc[0]  # type: ignore[arg-type]
    assert row["value"] == pytest.approx(expected, rel=1e-12)
    assert row["day"] == used


def test_nearest_each_pairs_components_from_their_own_days() -> None:
    row = easix(multi_day(), window=(-7, -3), pairing="nearest_each").iloc[0]
    # latest LDH is day -3 (800); creatinine and platelets from day -4
    assert (row["day_ldh"], row["day_creatinine"], row["day_platelets"]) == (-3.0, -4.0, -4.0)
    assert row["value"] == pytest.approx(800.0 * 1.0 / 100.0, rel=1e-12)


def test_missing_component_is_named_not_guessed() -> None:
    result = easix(multi_day(), window=(-7, -3)).set_index("patient_id")
    assert np.isnan(result.loc["P2", "value"])
    assert result.loc["P2", "not_computable"] == "no creatinine in window"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"window": (0, -1)}, id="reversed-window"),
        pytest.param({"window": (0, 0), "pairing": "closest"}, id="bad-pairing"),
    ],
)
def test_invalid_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(DerivationError):
        easix(multi_day(), **kwargs)  # type: ignore[arg-type]


def test_published_cutoff_is_documented_not_invented() -> None:
    # Korell 2022: "An EASIX-pre cutoff >4.67 derived from the training cohort"
    assert EASIX_PRE_CUTOFF.value == 4.67
    assert EASIX_PRE_CUTOFF.operator == ">"
    assert "ZUMA-1" in EASIX_PRE_CUTOFF.population
    assert "Korell" in EASIX_PRE_CUTOFF.citation


def test_same_day_pairing_needs_one_day_with_all_components() -> None:
    labs = labs_of(
        ("P3", -6, "ldh", 300.0), ("P3", -5, "creatinine", 1.0), ("P3", -4, "platelets", 150.0)
    )
    row = easix(labs, window=(-7, -3)).iloc[0]
    assert np.isnan(row["value"])
    assert row["not_computable"] == "no day in window with ldh, creatinine, platelets together"
    assert easix(labs, window=(-7, -3), pairing="nearest_each")["value"].iloc[0] == 2.0


def test_empty_window_gives_one_row_per_patient() -> None:
    result = easix(multi_day(), window=(100, 120))
    assert list(result["patient_id"]) == ["P1", "P2"]
    assert result["value"].isna().all()
