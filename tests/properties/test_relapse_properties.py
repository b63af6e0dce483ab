"""Hypothesis invariant of the marrow relapse rules: every rule is monotone.

Raising any later marrow value (blasts or MRD) never removes a relapse or moves it later,
under BBMT 2010, Ponte-di-Legno 2022 and a plain threshold; and a BBMT 2010 relapse
(>= 25 % blasts) is always a relapse at a 5 % threshold too.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cartcohort.derive.response import derive_response
from cartcohort.model.cohort import apply_dtypes
from cartcohort.model.standard import MARROW, PATIENTS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pct = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 3.0, 5.0, 10.0, 25.0, 40.0]))
visit = st.tuples(pct, pct)  # (bm_blasts_pct, mrd_pct)


def _day(visits: list[tuple[float | None, float | None]], **kw: object) -> float:
    rows = [{"patient_id": "P1", "day": 28, "response": "CR", "bm_blasts_pct": 1.0}]
    rows += [
        {
            "patient_id": "P1",
            "day": 60 + 30 * i,
            "bm_blasts_pct": b,
            "mrd_pct": m,
            "mrd_method": "flow",
        }
        for i, (b, m) in enumerate(visits)
    ]
    p = apply_dtypes(
        PATIENTS,
        pd.DataFrame({"patient_id": ["P1"], "best_response": ["CR"], "response_day": [28]}),
    )
    out = derive_response(p, apply_dtypes(MARROW, pd.DataFrame(rows)), **kw)  # type: ignore[arg-type]
    day = out["relapse_day_marrow"].iloc[0]
    return float("inf") if pd.isna(day) else float(day)


RULES = [
    {"relapse_rule": "bbmt2010"},
    {"relapse_rule": "ponte_di_legno_2022"},
    {"relapse_rule": "threshold", "relapse_blasts_pct": 5.0},
]


@SETTINGS
@given(
    visits=st.lists(visit, min_size=1, max_size=4),
    which=st.integers(0, 3),
    field=st.integers(0, 1),
    new=st.sampled_from([1.0, 5.0, 25.0, 60.0]),
)
def test_raising_a_marrow_value_never_removes_or_delays_a_relapse(
    visits: list[tuple[float | None, float | None]], which: int, field: int, new: float
) -> None:
    k = which % len(visits)
    old = visits[k][field]
    assume(old is None or old <= new)
    raised = list(visits)
    pair = list(raised[k])
    pair[field] = new
    raised[k] = (pair[0], pair[1])
    for kw in RULES:
        assert _day(raised, **kw) <= _day(visits, **kw), kw
    assert _day(visits, relapse_rule="threshold", relapse_blasts_pct=5.0) <= _day(visits)
