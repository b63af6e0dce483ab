"""Hypothesis invariants of the CTCAE v5.0/v6.0 CRS, CTCAE v6.0 ICANS and secondary HLH graders.

* sound bounds: hiding recorded inputs (making them missing) never excludes the grade of the
  complete record -- lower <= grade(complete) <= upper;
* a reported grade is decided: when the partial record has a grade, it is the complete one;
* monotone (HLH): setting a care flag to True never lowers either bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.derive.toxicity import grade_crs, grade_icans, grade_secondary_hlh
from cartcohort.model.standard import CONSCIOUSNESS, O2_DEVICE

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def crs_row(draw: st.DrawFn) -> dict[str, Any]:
    hypotension = draw(st.booleans())
    device = draw(st.sampled_from(O2_DEVICE))
    return {
        "temp_c": draw(st.sampled_from([36.5, 37.9, 38.0, 39.5])),
        "hypotension": hypotension,
        # "No hypotension" means no fluids or pressors (the data standard).
        "vasopressors": draw(st.integers(0, 3)) if hypotension else 0,
        "vasopressin": draw(st.booleans()) if hypotension else False,
        "o2_device": device,
        "fio2_pct": 21.0 if device == "none" else draw(st.sampled_from([25.0, 39.9, 40.0, 80.0])),
    }


@st.composite
def icans_row(draw: st.DrawFn) -> dict[str, Any]:
    consciousness = draw(st.sampled_from(CONSCIOUSNESS))
    return {
        # An unarousable patient scores no ICE point (a recorded ICE >= 1 means arousable).
        "ice_score": 0 if consciousness == "unarousable" else draw(st.integers(0, 10)),
        "capd_score": draw(st.integers(0, 32)),
        "consciousness": consciousness,
        "age_years": draw(st.sampled_from([4.0, 11.9, 12.0, 50.0])),
    }


@st.composite
def hlh_row(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "shlh": draw(st.booleans()),
        "shlh_intervention": draw(st.booleans()),
        "shlh_hospitalized": draw(st.booleans()),
        "shlh_life_threatening": draw(st.booleans()),
    }


def _frames(
    rows: list[dict[str, Any]], hidden: list[set[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    full = pd.DataFrame(rows).assign(patient_id=[f"P{i}" for i in range(len(rows))], day=1)
    part = full.copy().astype(object)
    for i, names in enumerate(hidden):
        for name in names:
            part.at[i, name] = None
    for col in rows[0]:
        kind = full[col].dtype
        if kind.kind == "b":
            part[col] = part[col].astype("boolean")
        elif kind.kind in "if":
            part[col] = pd.to_numeric(part[col]).astype("Float64")
    return full, part


def _check_sound(full: pd.DataFrame, part: pd.DataFrame) -> None:
    g = full["grade"].to_numpy(dtype=np.float64, na_value=np.nan)
    assert not np.isnan(g).any()  # a complete record is always gradable
    lo = part["grade_lower_bound"].to_numpy(dtype=np.int64)
    hi = part["grade_upper_bound"].to_numpy(dtype=np.int64)
    assert (lo <= g).all()
    assert (g <= hi).all()
    decided = part["grade"].notna().to_numpy()
    assert (part["grade"].to_numpy(dtype=np.float64, na_value=np.nan)[decided] == g[decided]).all()


def _hidden(keys: list[str]) -> st.SearchStrategy[set[str]]:
    return st.sets(st.sampled_from(keys))


@SETTINGS
@given(
    system=st.sampled_from(["ctcae_v5.0", "ctcae_v6.0"]),
    rows=st.lists(crs_row(), min_size=1, max_size=12),
    data=st.data(),
)
def test_ctcae_crs_bounds_are_sound(system: str, rows: list[dict[str, Any]], data: Any) -> None:
    hidden = [data.draw(_hidden(list(rows[0]))) for _ in rows]
    full, part = _frames(rows, hidden)
    _check_sound(grade_crs(full, system=system), grade_crs(part, system=system))  # type: ignore[arg-type]


@SETTINGS
@given(rows=st.lists(icans_row(), min_size=1, max_size=12), data=st.data())
def test_ctcae_icans_bounds_are_sound(rows: list[dict[str, Any]], data: Any) -> None:
    hidden = [data.draw(_hidden(["ice_score", "capd_score", "consciousness"])) for _ in rows]
    full, part = _frames(rows, hidden)
    graded_full = grade_icans(full, system="ctcae_v6.0")
    graded_part = grade_icans(part, system="ctcae_v6.0")
    # Some complete records are ranges by design (CAPD cells the text does not name,
    # unarousable): compare intervals there.
    named = graded_full["grade"].notna().to_numpy()
    _check_sound(graded_full[named], graded_part[named])
    lo_f = graded_full["grade_lower_bound"].to_numpy(dtype=np.int64)
    hi_f = graded_full["grade_upper_bound"].to_numpy(dtype=np.int64)
    lo_p = graded_part["grade_lower_bound"].to_numpy(dtype=np.int64)
    hi_p = graded_part["grade_upper_bound"].to_numpy(dtype=np.int64)
    assert (lo_p <= lo_f).all()
    assert (hi_f <= hi_p).all()


@SETTINGS
@given(rows=st.lists(hlh_row(), min_size=1, max_size=12), data=st.data())
def test_secondary_hlh_bounds_are_sound(rows: list[dict[str, Any]], data: Any) -> None:
    hidden = [data.draw(_hidden(list(rows[0]))) for _ in rows]
    full, part = _frames(rows, hidden)
    _check_sound(grade_secondary_hlh(full), grade_secondary_hlh(part))


@SETTINGS
@given(
    rows=st.lists(hlh_row(), min_size=1, max_size=12),
    flag=st.sampled_from(
        ["shlh", "shlh_intervention", "shlh_hospitalized", "shlh_life_threatening"]
    ),
)
def test_secondary_hlh_a_true_flag_never_lowers_the_grade(
    rows: list[dict[str, Any]], flag: str
) -> None:
    before = grade_secondary_hlh(pd.DataFrame(rows).assign(patient_id="P", day=range(len(rows))))
    after = grade_secondary_hlh(
        pd.DataFrame(rows).assign(patient_id="P", day=range(len(rows)), **{flag: True})
    )
    for bound in ("grade_lower_bound", "grade_upper_bound"):
        assert (after[bound].to_numpy() >= before[bound].to_numpy()).all()
