"""Hypothesis invariants of the ICAHT grader.

* adding a day with a count above every threshold never raises any ICAHT grade;
* adding a day with a count below every threshold never lowers any ICAHT grade
  (grades are monotone in the days below each threshold);
* grades lie in {0, ..., 4}; days below a deeper threshold never exceed days below a
  shallower one; cumulative days never exceed the days of the phase.
"""

from __future__ import annotations

import warnings

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.derive.toxicity.icaht import grade_icaht

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GRADES = ["icaht_early_grade", "icaht_late_grade", "t_icaht_early_grade", "t_icaht_late_grade"]
N_DAYS = 61

anc_value = st.one_of(st.none(), st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.8, 1.2, 1.5, 3.0]))
plt_value = st.one_of(st.none(), st.sampled_from([5.0, 19.0, 20.0, 40.0, 50.0, 80.0, 150.0]))


def _labs(anc: list[float | None], plt: list[float | None]) -> pd.DataFrame:
    rows = [
        {"patient_id": "p", "day": d, "analyte": name, "value": v, "unit": "10^9/L"}
        for name, values in (("anc", anc), ("platelets", plt))
        for d, v in enumerate(values)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value", "unit"])


def _grades(anc: list[float | None], plt: list[float | None], carry: int) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = grade_icaht(_labs(anc, plt), patient_ids=["p"], carry_forward_days=carry)
    row = r.table.iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


def _le(a: object, b: object) -> bool:
    """a <= b, where a not-gradable phase may become gradable (as grade 0) and not back."""
    if a is None:
        return True
    return b is not None and int(a) <= int(b)  # type: ignore[call-overload]


@SETTINGS
@given(
    anc=st.lists(anc_value, min_size=N_DAYS, max_size=N_DAYS),
    plt=st.lists(plt_value, min_size=N_DAYS, max_size=N_DAYS),
    day=st.integers(0, N_DAYS - 1),
    carry=st.integers(0, 4),
)
def test_a_day_above_every_threshold_never_raises_a_grade(
    anc: list[float | None], plt: list[float | None], day: int, carry: int
) -> None:
    before = _grades(anc, plt, carry)
    anc2, plt2 = list(anc), list(plt)
    anc2[day], plt2[day] = 5.0, 400.0
    after = _grades(anc2, plt2, carry)
    for g in GRADES:
        if before[g] is not None and after[g] is not None:
            assert int(after[g]) <= int(before[g]), (g, before[g], after[g])


@SETTINGS
@given(
    anc=st.lists(anc_value, min_size=N_DAYS, max_size=N_DAYS),
    plt=st.lists(plt_value, min_size=N_DAYS, max_size=N_DAYS),
    day=st.integers(0, N_DAYS - 1),
    carry=st.integers(0, 4),
)
def test_a_day_below_every_threshold_never_lowers_a_grade(
    anc: list[float | None], plt: list[float | None], day: int, carry: int
) -> None:
    before = _grades(anc, plt, carry)
    anc2, plt2 = list(anc), list(plt)
    anc2[day], plt2[day] = 0.01, 1.0
    after = _grades(anc2, plt2, carry)
    for g in GRADES:
        assert _le(before[g], after[g]), (g, before[g], after[g])
    for col in ("anc_days_le500_d0_30", "anc_days_le100_d0_30", "plt_days_lt50_d0_30"):
        assert _le(before[col], after[col]), col


@SETTINGS
@given(
    anc=st.lists(anc_value, min_size=N_DAYS, max_size=N_DAYS),
    plt=st.lists(plt_value, min_size=N_DAYS, max_size=N_DAYS),
    carry=st.integers(0, 4),
)
def test_grades_and_day_counts_are_consistent(
    anc: list[float | None], plt: list[float | None], carry: int
) -> None:
    r = _grades(anc, plt, carry)
    for g in GRADES:
        assert r[g] is None or 0 <= int(r[g]) <= 4
    for deep, shallow in (
        ("anc_days_le100_d0_30", "anc_days_le500_d0_30"),
        ("plt_days_lt20_d0_30", "plt_days_lt50_d0_30"),
    ):
        if r[shallow] is not None:
            assert 0 <= r[deep] <= r[shallow] <= 31, (deep, shallow)
