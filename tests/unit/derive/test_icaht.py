"""ICAHT grading: hand-worked cases at every grade boundary of both tables.

T-ICAHT rows quote Table 1 of the 2025 extension (http://www.ash-sap.org/view-large/12809257);
N-ICAHT rows test the shipped (UNVERIFIED) table as documented in docs/methods/icaht.md.
Counts are daily unless a test says otherwise; values in 10^9/L.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity.icaht import (
    ICAHT_COLUMNS,
    N_ICAHT_TABLE,
    IcahtCriterion,
    IcahtTable,
    fill_nonstable,
    grade_icaht,
)
from cartcohort.errors import DerivationError


def _labs(
    anc: Sequence[float] | None = None,
    plt: Sequence[float] | None = None,
    *,
    start: int = 0,
    pid: str = "p",
) -> pd.DataFrame:
    rows = []
    for name, values in (("anc", anc), ("platelets", plt)):
        for i, v in enumerate(values or ()):
            if v is not None:
                rows.append(
                    {
                        "patient_id": pid,
                        "day": start + i,
                        "analyte": name,
                        "value": v,
                        "unit": "10^9/L",
                    }
                )
    return pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value", "unit"])


def _early_anc(days_le500: int, days_le100: int = 0) -> list[float]:
    """Days 0-30: ``days_le100`` days at 0.05, then up to ``days_le500`` at 0.3, then 3.0."""
    values = [0.05] * days_le100 + [0.3] * (days_le500 - days_le100)
    return values + [3.0] * (31 - len(values))


def _row(result: object) -> pd.Series:
    return result.table.iloc[0]  # type: ignore[attr-defined]


# --- N-ICAHT, early (days 0-30): ANC <= 500/uL ------------------------------------------
@pytest.mark.parametrize(
    ("le500", "le100", "grade"),
    [
        (0, 0, 0),
        (1, 0, 1),  # "<7 days" -> 1
        (6, 0, 1),
        (7, 0, 2),  # "7-13 days" -> 2
        (13, 0, 2),
        (14, 0, 3),  # ">=14 days" -> 3
        (29, 0, 3),
        (30, 0, 4),  # ">=30 days" -> 4
        (31, 0, 4),
        (7, 6, 2),  # ANC <= 100 for 6 days: not yet 3
        (7, 7, 3),  # ANC <= 100 for >= 7 days -> 3
        (13, 13, 3),
        (14, 14, 4),  # ANC <= 100 for >= 14 days -> 4
    ],
)
def test_early_n_icaht_boundaries(le500: int, le100: int, grade: int) -> None:
    r = _row(grade_icaht(_labs(anc=_early_anc(le500, le100))))
    assert r["icaht_early_grade"] == grade
    assert r["anc_days_le500_d0_30"] == le500
    assert r["anc_days_le100_d0_30"] == le100


def test_anc_of_exactly_500_is_below_and_501_is_not() -> None:
    at = _row(grade_icaht(_labs(anc=[0.5] * 7 + [3.0] * 24)))
    above = _row(grade_icaht(_labs(anc=[0.501] * 7 + [3.0] * 24)))
    assert at["icaht_early_grade"] == 2
    assert above["icaht_early_grade"] == 0


# --- T-ICAHT, early: PLT < 50 (1-6 d G1, >=7 d G2), PLT < 20 (1-13 d G3, >=14 d G4) ---------
@pytest.mark.parametrize(
    ("lt50", "lt20", "grade"),
    [(0, 0, 0), (1, 0, 1), (6, 0, 1), (7, 0, 2), (7, 1, 3), (13, 13, 3), (14, 14, 4)],
)
def test_early_t_icaht_boundaries(lt50: int, lt20: int, grade: int) -> None:
    plt = [10.0] * lt20 + [30.0] * (lt50 - lt20)
    plt += [150.0] * (31 - len(plt))
    r = _row(grade_icaht(_labs(plt=plt)))
    assert r["t_icaht_early_grade"] == grade
    assert r["plt_days_lt50_d0_30"] == lt50
    assert r["plt_days_lt20_d0_30"] == lt20


def test_platelets_of_exactly_50_are_not_below() -> None:
    r = _row(grade_icaht(_labs(plt=[50.0] * 31)))
    assert r["t_icaht_early_grade"] == 0


# --- late (day 31-100): two or more tests --------------------------------------------------
@pytest.mark.parametrize(("value", "grade"), [(1.6, 0), (1.5, 1), (1.0, 2), (0.5, 3), (0.1, 4)])
def test_late_n_icaht_needs_two_tests_at_the_threshold(value: float, grade: int) -> None:
    anc = [3.0] * 31 + [value, 3.0, 3.0, 3.0, value]
    assert _row(grade_icaht(_labs(anc=anc)))["icaht_late_grade"] == grade
    one_test = [3.0] * 31 + [value, 3.0, 3.0, 3.0, 3.0]
    assert _row(grade_icaht(_labs(anc=one_test)))["icaht_late_grade"] == 0


@pytest.mark.parametrize(
    ("value", "days", "grade"), [(99.0, 2, 1), (49.0, 2, 2), (19.0, 13, 3), (19.0, 14, 4)]
)
def test_late_t_icaht(value: float, days: int, grade: int) -> None:
    plt = [150.0] * 31 + [value] * days + [150.0] * 5
    r = _row(grade_icaht(_labs(plt=plt)))
    assert r["t_icaht_late_grade"] == grade
    assert r["t_icaht_early_grade"] == 0


def test_late_phase_without_values_is_not_gradable() -> None:
    r = _row(grade_icaht(_labs(anc=[3.0] * 31)))
    assert r["icaht_early_grade"] == 0
    assert r["icaht_late_grade"] is pd.NA


# --- counting rules -------------------------------------------------------------------------
def test_nonstable_recovery_of_two_days_is_counted_as_below() -> None:
    # 5 days <= 500, 2 days above, 5 days <= 500: 12 cumulative days (grade 2), not 10
    anc = [0.3] * 5 + [1.0] * 2 + [0.3] * 5 + [3.0] * 19
    r = _row(grade_icaht(_labs(anc=anc)))
    assert r["anc_days_le500_d0_30"] == 12
    assert r["icaht_early_grade"] == 2


def test_stable_recovery_of_three_days_is_not_counted() -> None:
    anc = [0.3] * 5 + [1.0] * 3 + [0.3] * 5 + [3.0] * 18
    r = _row(grade_icaht(_labs(anc=anc)))
    assert r["anc_days_le500_d0_30"] == 10
    assert r["anc_recovery_day"] == 13  # first of 3 days above after the last day below (12)


def test_fill_nonstable_leaves_open_ends_alone() -> None:
    below = np.array([False, True, False, False, True, False], dtype=bool)
    out = fill_nonstable(below, 3)
    assert out.tolist() == [False, True, True, True, True, False]


def test_carry_forward_limit_and_unassessed_days() -> None:
    # ANC 0.3 measured on days 0 and 10 only: carried to days 1-3 and 11-13; 4-9 unassessed
    labs = _labs(anc=[0.3] + [None] * 9 + [0.3] + [None] * 9 + [3.0] * 11)
    with pytest.warns(UserWarning, match="without an ANC value"):
        r = _row(grade_icaht(labs))
    assert r["anc_days_le500_d0_30"] == 8
    assert r["anc_days_unassessed_d0_30"] == 12  # days 4-9 and 14-19
    r7 = _row(grade_icaht(labs, carry_forward_days=9))
    assert r7["anc_days_le500_d0_30"] == 20
    assert r7["icaht_early_grade"] == 3


def test_censoring_at_relapse_stops_counting() -> None:
    labs = _labs(anc=[0.3] * 31)
    events = pd.DataFrame({"patient_id": ["p"], "day": [10], "event": ["relapse"]})
    r = _row(grade_icaht(labs, events=events))
    assert r["anc_days_le500_d0_30"] == 10
    assert r["icaht_early_grade"] == 2
    assert r["censor_day"] == 10
    # other event kinds do not censor
    other = pd.DataFrame({"patient_id": ["p"], "day": [10], "event": ["unrelated"]})
    assert _row(grade_icaht(labs, events=other))["icaht_early_grade"] == 4


def test_platelet_recovery_needs_seven_transfusion_free_days() -> None:
    plt = [10.0] * 5 + [40.0] * 26
    labs = _labs(plt=plt)
    assert _row(grade_icaht(labs))["plt_recovery_day"] == 5
    tx = pd.DataFrame({"patient_id": ["p"], "day": [6], "drug": ["Platelet transfusion"]})
    r = _row(grade_icaht(labs, treatments=tx))
    assert r["plt_recovery_day"] == 13  # days 13-15 are the first 3 with no transfusion in 7 days


def test_no_values_is_not_gradable_never_zero() -> None:
    r = grade_icaht(_labs(anc=[3.0] * 31), patient_ids=["p", "q"])
    q = r.table.set_index("patient_id").loc["q"]
    assert q["icaht_early_grade"] is pd.NA
    assert q["t_icaht_early_grade"] is pd.NA
    assert "not gradable" in q["icaht_reason"]


def test_result_shape_method_and_unverified_status() -> None:
    r = grade_icaht(_labs(anc=[0.3] * 31, plt=[100.0] * 31))
    assert tuple(r.table.columns) == ICAHT_COLUMNS
    assert str(r.table["icaht_early_grade"].dtype) == "Int64"
    assert "UNVERIFIED" in r.method.description
    assert r.method.options["neutropenia_table_status"] == "unverified"
    assert any("UNVERIFIED" in w for w in r.warnings)
    assert set(r.daily.columns) >= {"day", "anc", "platelets", "censored"}
    with pytest.raises(AttributeError):
        r.table = r.table  # type: ignore[misc]


def test_a_user_table_replaces_the_unverified_one() -> None:
    user = IcahtTable(
        name="N-ICAHT (confirmed)",
        analyte="anc",
        status="user",
        source="local SOP",
        criteria=(
            IcahtCriterion(phase="early", comparison="<", threshold=0.5, grade=3, min_days=1),
        ),
    )
    r = grade_icaht(_labs(anc=[0.3] + [3.0] * 30), neutropenia_table=user)
    assert _row(r)["icaht_early_grade"] == 3
    assert "UNVERIFIED" not in r.method.description
    assert r.warnings == ()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"carry_forward_days": -1},
        {"recovery_days": 0},
        {"late_end_day": 30},
        {"late_min_tests": 0},
        {
            "neutropenia_table": N_ICAHT_TABLE.__class__(
                name="x", analyte="platelets", criteria=(), status="user", source=""
            )
        },
    ],
)
def test_bad_settings_are_named_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(DerivationError):
        grade_icaht(_labs(anc=[0.3] * 31), **kwargs)  # type: ignore[arg-type]


def test_wrong_unit_is_refused() -> None:
    labs = _labs(anc=[300.0] * 31)
    labs["unit"] = "/uL"
    with pytest.raises(DerivationError, match="10\\^9/L"):
        grade_icaht(labs)
