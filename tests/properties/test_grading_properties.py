"""Hypothesis invariants of the CRS and ICANS graders.

* every grade is in {0, ..., 5} or not gradable, and lies in [lower, upper] bound;
* the grade is the maximum of its component grades (ASTCT: given fever or waiver);
* monotone: worsening any input never lowers either bound, on any day;
* sound bounds: filling in missing inputs (consistently) only narrows [lower, upper];
* row order does not change the per-(patient, day) result.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.derive.toxicity import GradingWarning, grade_crs, grade_icans
from cartcohort.model.standard import CEREBRAL_EDEMA, CONSCIOUSNESS, MOTOR_WEAKNESS, SEIZURE

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NA = None
DEVICES = [
    "none",
    "low_flow_nasal_cannula",
    "blow_by",
    "high_flow_nasal_cannula",
    "facemask",
    "non_rebreather_mask",
    "venturi_mask",
    "cpap",
    "bipap",
    "mechanical_ventilation",
]
# Nominal severity rank of a device (flow aside): worsening = strictly higher rank.
DEVICE_RANK = {
    "none": 0,
    "low_flow_nasal_cannula": 1,
    "blow_by": 1,
    "high_flow_nasal_cannula": 2,
    "facemask": 2,
    "non_rebreather_mask": 2,
    "venturi_mask": 2,
    "cpap": 3,
    "bipap": 3,
    "mechanical_ventilation": 3,
}
CRS_INPUTS = [
    "temp_c",
    "antipyretic",
    "tocilizumab",
    "corticosteroids",
    "hypotension",
    "vasopressors",
    "vasopressin",
    "o2_device",
    "o2_flow_l_min",
]
BOOLS = ["antipyretic", "tocilizumab", "corticosteroids", "hypotension", "vasopressin"]
CRS_OPTIONS = st.fixed_dictionaries(
    {
        "fever_waiver": st.sampled_from(
            ["within_episode", "after_treatment", "after_crs_onset_and_treatment"]
        ),
        "waiver_start": st.sampled_from(["same_day", "next_day"]),
        "vasopressin_alone": st.sampled_from(["one_vasopressor", "not_a_vasopressor"]),
    }
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


crs_row = st.fixed_dictionaries(
    {
        "temp_c": maybe(st.sampled_from([36.5, 37.9, 38.0, 39.2])),
        "antipyretic": maybe(st.booleans()),
        "tocilizumab": maybe(st.booleans()),
        "corticosteroids": maybe(st.booleans()),
        "hypotension": maybe(st.booleans()),
        "vasopressors": maybe(st.integers(0, 3)),
        "vasopressin": maybe(st.booleans()),
        "o2_device": maybe(st.sampled_from(DEVICES)),
        "o2_flow_l_min": maybe(st.sampled_from([0.0, 2.0, 6.0, 6.5, 15.0])),
    }
)
icans_row = st.fixed_dictionaries(
    {
        "ice_score": maybe(st.integers(0, 10)),
        "capd_score": maybe(st.integers(0, 20)),
        "consciousness": maybe(st.sampled_from(CONSCIOUSNESS)),
        "seizure": maybe(st.sampled_from(SEIZURE)),
        "motor_weakness": maybe(st.sampled_from(MOTOR_WEAKNESS)),
        "cerebral_edema": maybe(st.sampled_from(CEREBRAL_EDEMA)),
    }
)


@st.composite
def cohorts(draw: st.DrawFn, row: st.SearchStrategy[dict[str, Any]]) -> pd.DataFrame:
    n_patients = draw(st.integers(1, 3))
    rows = []
    for p in range(n_patients):
        days = draw(st.lists(st.integers(0, 9), min_size=1, max_size=5, unique=True))
        rows.extend({"patient_id": f"P{p}", "day": d, **draw(row)} for d in sorted(days))
    return pd.DataFrame(rows)


def crs(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradingWarning)  # inconsistent O2 records are expected
        return grade_crs(frame, **options)


def bounds(out: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        out["grade_lower_bound"].to_numpy(dtype=int),
        out["grade_upper_bound"].to_numpy(dtype=int),
    )


def check_basic(out: pd.DataFrame) -> None:
    lo, hi = bounds(out)
    assert np.all((lo >= 0) & (lo <= hi) & (hi <= 5))
    g = out["grade"]
    assert set(g.dropna().astype(int)) <= {0, 1, 2, 3, 4, 5}
    det = lo == hi
    assert np.array_equal(g.notna().to_numpy(), det)
    assert np.array_equal(g[det].to_numpy(dtype=int), lo[det])


# --- range and component maximum ----------------------------------------------------------


@SETTINGS
@given(cohorts(crs_row), CRS_OPTIONS)
def test_crs_grade_range_and_component_max(frame: pd.DataFrame, options: dict[str, Any]) -> None:
    out = crs(frame, **options)
    check_basic(out)
    known = out[["fever", "hypotension_grade", "hypoxia_grade"]].notna().all(axis=1)
    gate_known = out["fever"].fillna(value=False) | out["fever_waived"].notna()
    sel = known & gate_known
    sub = out[sel]
    gate = sub["fever"].fillna(value=False) | sub["fever_waived"].fillna(value=False)
    comp_max = np.maximum.reduce(
        [
            sub["fever"].astype(int).to_numpy(),
            sub["hypotension_grade"].to_numpy(dtype=int),
            sub["hypoxia_grade"].to_numpy(dtype=int),
        ]
    )
    expected = np.where(gate.to_numpy(), comp_max, 0)
    assert np.array_equal(sub["grade"].to_numpy(dtype=int), expected)


@SETTINGS
@given(cohorts(icans_row), st.booleans())
def test_icans_grade_range_and_component_max(frame: pd.DataFrame, children: bool) -> None:
    ages = dict.fromkeys(frame["patient_id"].unique(), 6.0 if children else 40.0)
    out = grade_icans(frame, age_years=ages)
    check_basic(out)
    enc = "capd_grade" if children else "ice_grade"
    cols = [enc, "consciousness_grade", "seizure_grade", "motor_grade", "edema_grade"]
    sub = out[out[cols].notna().all(axis=1)]
    assert np.array_equal(
        sub["grade"].to_numpy(dtype=int), sub[cols].to_numpy(dtype=int).max(axis=1)
    )


# --- monotonicity ----------------------------------------------------------------------------


def worsen_crs(row: dict[str, Any], col: str, draw: st.DrawFn) -> dict[str, Any] | None:
    v = row[col]
    new = dict(row)
    if col == "temp_c" and v is not None:
        new[col] = v + draw(st.sampled_from([0.1, 0.5, 2.0]))
    elif col in BOOLS and v is False:
        new[col] = True
    elif col == "vasopressors" and v is not None:
        new[col] = v + 1
    elif col == "o2_flow_l_min" and v is not None:
        new[col] = v + draw(st.sampled_from([0.5, 4.0, 20.0]))
    elif col == "o2_device" and v is not None:
        flow = row.get("o2_flow_l_min")
        if v == "none" and flow is not None and flow > 0:
            # "no oxygen" with a flow recorded is a contradiction, graded with the widest
            # bounds; naming a device resolves it and may rightly narrow them
            return None
        worse = [d for d in DEVICES if DEVICE_RANK[d] > DEVICE_RANK[v]]
        if not worse:
            return None
        new[col] = draw(st.sampled_from(worse))
    else:
        return None
    return new


@SETTINGS
@given(cohorts(crs_row), CRS_OPTIONS, st.data())
def test_crs_monotone_in_every_input(
    frame: pd.DataFrame, options: dict[str, Any], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(frame) - 1))
    col = data.draw(st.sampled_from(CRS_INPUTS))
    row = frame.iloc[i].replace({np.nan: None}).to_dict()
    new_row = worsen_crs(row, col, data.draw)
    if new_row is None:
        return
    worse = frame.copy()
    worse.loc[frame.index[i], col] = new_row[col]
    lo0, hi0 = bounds(crs(frame, **options))
    lo1, hi1 = bounds(crs(worse, **options))
    assert np.all(lo1 >= lo0)
    assert np.all(hi1 >= hi0)


ICANS_WORSE = {
    "ice_score": lambda v: [x for x in range(0, 11) if x < v],
    "capd_score": lambda v: [x for x in range(0, 21) if x > v],
    "consciousness": lambda v: list(CONSCIOUSNESS[CONSCIOUSNESS.index(v) + 1 :]),
    "seizure": lambda v: list(SEIZURE[SEIZURE.index(v) + 1 :]),
    "motor_weakness": lambda v: list(MOTOR_WEAKNESS[MOTOR_WEAKNESS.index(v) + 1 :]),
    "cerebral_edema": lambda v: list(CEREBRAL_EDEMA[CEREBRAL_EDEMA.index(v) + 1 :]),
}


@SETTINGS
@given(cohorts(icans_row), st.booleans(), st.data())
def test_icans_monotone_in_every_input(
    frame: pd.DataFrame, children: bool, data: st.DataObject
) -> None:
    ages = dict.fromkeys(frame["patient_id"].unique(), 6.0 if children else 40.0)
    i = data.draw(st.integers(0, len(frame) - 1))
    col = data.draw(st.sampled_from(sorted(ICANS_WORSE)))
    v = frame.iloc[i][col]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return
    options = ICANS_WORSE[col](v)
    if not options:
        return
    worse = frame.copy()
    worse.loc[frame.index[i], col] = data.draw(st.sampled_from(options))
    lo0, hi0 = bounds(grade_icans(frame, age_years=ages))
    lo1, hi1 = bounds(grade_icans(worse, age_years=ages))
    assert np.all(lo1 >= lo0)
    assert np.all(hi1 >= hi0)


# --- soundness of the not-gradable bounds ------------------------------------------------------


def _complete_device(r: dict[str, Any], draw: st.DrawFn) -> None:
    flow = r["o2_flow_l_min"]
    if flow is not None and flow == 0:
        r["o2_device"] = "none"
        return
    allowed = [d for d in DEVICES if not (d == "none" and flow is not None)]
    if flow is not None:  # keep nasal-cannula labels consistent with the flow
        nc_bad = "low_flow_nasal_cannula" if flow > 6 else "high_flow_nasal_cannula"
        allowed = [d for d in allowed if d != nc_bad]
    r["o2_device"] = draw(st.sampled_from(allowed))


FLOW_FOR_DEVICE = {
    "none": [0.0],
    "low_flow_nasal_cannula": [1.0, 6.0],
    "high_flow_nasal_cannula": [6.5, 40.0],
}


def complete_crs_row(row: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """Fill missing inputs with values consistent with what is recorded."""
    r = dict(row)
    if r["temp_c"] is None:
        r["temp_c"] = draw(st.sampled_from([36.5, 38.0, 39.0]))
    for c in ("antipyretic", "tocilizumab", "corticosteroids", "hypotension"):
        if r[c] is None:
            r[c] = draw(st.booleans())
    no_hypotension = r["hypotension"] is False
    if r["vasopressors"] is None:
        r["vasopressors"] = 0 if no_hypotension else draw(st.integers(0, 3))
    if r["vasopressin"] is None:
        r["vasopressin"] = False if no_hypotension else draw(st.booleans())
    if r["o2_device"] is None:
        _complete_device(r, draw)
    if r["o2_flow_l_min"] is None:
        r["o2_flow_l_min"] = draw(st.sampled_from(FLOW_FOR_DEVICE.get(r["o2_device"], [2.0, 10.0])))
    return r


@SETTINGS
@given(cohorts(crs_row), CRS_OPTIONS, st.data())
def test_crs_bounds_contain_every_completion(
    frame: pd.DataFrame, options: dict[str, Any], data: st.DataObject
) -> None:
    rows = [
        complete_crs_row(r, data.draw) for r in frame.replace({np.nan: None}).to_dict("records")
    ]
    completed = pd.DataFrame(rows)
    lo0, hi0 = bounds(crs(frame, **options))
    out = crs(completed, **options)
    lo1, hi1 = bounds(out)
    assert np.all(lo1 >= lo0)
    assert np.all(hi1 <= hi0)


@SETTINGS
@given(cohorts(icans_row), st.booleans(), st.data())
def test_icans_bounds_contain_every_completion(
    frame: pd.DataFrame, children: bool, data: st.DataObject
) -> None:
    ages = dict.fromkeys(frame["patient_id"].unique(), 6.0 if children else 40.0)
    vocab = {
        "consciousness": CONSCIOUSNESS,
        "seizure": SEIZURE,
        "motor_weakness": MOTOR_WEAKNESS,
        "cerebral_edema": CEREBRAL_EDEMA,
    }
    rows = []
    for r in frame.replace({np.nan: None}).to_dict("records"):
        r = dict(r)
        for c, v in vocab.items():
            if r[c] is None:
                r[c] = data.draw(st.sampled_from(v))
        if r["ice_score"] is None:
            r["ice_score"] = data.draw(st.integers(0, 10))
        if r["capd_score"] is None:
            r["capd_score"] = data.draw(st.integers(0, 20))
        rows.append(r)
    lo0, hi0 = bounds(grade_icans(frame, age_years=ages))
    lo1, hi1 = bounds(grade_icans(pd.DataFrame(rows), age_years=ages))
    assert np.all((lo1 >= lo0) & (hi1 <= hi0))
    assert np.all(lo1 == hi1)  # complete inputs are always gradable


# --- row order ---------------------------------------------------------------------------------


@SETTINGS
@given(cohorts(crs_row), CRS_OPTIONS, st.randoms(use_true_random=False))
def test_crs_row_order_does_not_matter(
    frame: pd.DataFrame, options: dict[str, Any], rnd: Any
) -> None:
    order = list(range(len(frame)))
    rnd.shuffle(order)
    pd.testing.assert_frame_equal(crs(frame, **options), crs(frame.iloc[order], **options))


@SETTINGS
@given(cohorts(icans_row), st.randoms(use_true_random=False))
def test_icans_row_order_does_not_matter(frame: pd.DataFrame, rnd: Any) -> None:
    order = list(range(len(frame)))
    rnd.shuffle(order)
    pd.testing.assert_frame_equal(grade_icans(frame), grade_icans(frame.iloc[order]))
