"""Hypothesis invariants of CRS episodes, the literal fever waiver and attribution.

* adding a non-hypoxia oxygen day (airway protection, chronic, comfort, procedure) never
  raises either CRS bound on any day, whether it replaces a day's oxygen or fills a gap;
* flagging a day's hypotension as due to another cause never raises either bound;
* the literal reading (``within_episode``) never grades higher than the lenient readings
  (upper bounds: on records without unrecorded days, which only the episode reading
  treats as possibly febrile);
* sound bounds across gaps: adding rows for unrecorded days (any values) only narrows the
  bounds of the recorded days, and the episode count, when reported, does not change.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartcohort.derive.toxicity import GradingWarning, grade_crs, summarize_crs
from cartcohort.model.standard import CORTICOSTEROIDS_REASON, O2_DEVICE, O2_REASON

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOT_HYPOXIA = [r for r in O2_REASON if r != "hypoxia"]


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


row = st.fixed_dictionaries(
    {
        "temp_c": maybe(st.sampled_from([36.5, 37.9, 38.0, 39.2])),
        "antipyretic": maybe(st.booleans()),
        "tocilizumab": maybe(st.booleans()),
        "corticosteroids": maybe(st.booleans()),
        "anticytokine": maybe(st.booleans()),
        "corticosteroids_reason": maybe(st.sampled_from(CORTICOSTEROIDS_REASON)),
        "hypotension": maybe(st.booleans()),
        "hypotension_other_cause": maybe(st.booleans()),
        "vasopressors": maybe(st.integers(0, 3)),
        "vasopressin": maybe(st.booleans()),
        "o2_device": maybe(st.sampled_from(O2_DEVICE)),
        "o2_reason": maybe(st.sampled_from(O2_REASON)),
    }
)
complete_row = st.fixed_dictionaries(
    {
        "temp_c": st.sampled_from([36.5, 38.0, 39.2]),
        "antipyretic": st.booleans(),
        "tocilizumab": st.booleans(),
        "corticosteroids": st.booleans(),
        "anticytokine": st.booleans(),
        "corticosteroids_reason": st.sampled_from(CORTICOSTEROIDS_REASON),
        "hypotension": st.booleans(),
        "hypotension_other_cause": st.booleans(),
        "vasopressors": st.integers(0, 3),
        "vasopressin": st.booleans(),
        "o2_device": st.sampled_from(O2_DEVICE),
        "o2_reason": st.sampled_from(O2_REASON),
    }
)
OPTIONS = st.fixed_dictionaries(
    {
        "waiver_start": st.sampled_from(["same_day", "next_day"]),
        "resolution_days": st.integers(1, 4),
        "missing_treatment": st.sampled_from(["unknown", "not_given"]),
    }
)


@st.composite
def cohorts(draw: st.DrawFn, rows: st.SearchStrategy[dict[str, Any]] = row) -> pd.DataFrame:
    frames = []
    for p in range(draw(st.integers(1, 3))):
        days = draw(st.lists(st.integers(0, 14), min_size=1, max_size=8, unique=True))
        frames.extend({"patient_id": f"P{p}", "day": d, **draw(rows)} for d in sorted(days))
    return typed(pd.DataFrame(frames))


BOOLS = [
    "antipyretic",
    "tocilizumab",
    "corticosteroids",
    "anticytokine",
    "hypotension",
    "hypotension_other_cause",
    "vasopressin",
]


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable dtypes, so that a column of missing values keeps its meaning."""
    out = frame.astype({c: "boolean" for c in BOOLS if c in frame})
    out = out.astype(dict.fromkeys(("o2_device", "o2_reason", "corticosteroids_reason"), "object"))
    out["vasopressors"] = out["vasopressors"].astype("Int64")
    out["temp_c"] = out["temp_c"].astype("Float64")
    return out


def crs(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradingWarning)
        return grade_crs(frame, **options)


def bounds(out: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        out["grade_lower_bound"].to_numpy(dtype=int),
        out["grade_upper_bound"].to_numpy(dtype=int),
    )


def keyed(out: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``out`` at the (patient_id, day) pairs of ``keys``, in that order."""
    return keys[["patient_id", "day"]].merge(out, on=["patient_id", "day"], how="left")


@SETTINGS
@given(cohorts(), OPTIONS, st.data())
def test_non_hypoxia_oxygen_day_never_raises_crs(
    frame: pd.DataFrame, options: dict[str, Any], data: st.DataObject
) -> None:
    support = {
        "o2_device": data.draw(st.sampled_from([d for d in O2_DEVICE if d != "none"])),
        "o2_reason": data.draw(st.sampled_from(NOT_HYPOXIA)),
    }
    i = data.draw(st.integers(0, len(frame) - 1))
    pid = frame["patient_id"].iloc[i]
    # Unrecorded days inside the patient's record (days before the first row are not
    # part of the record, so a row there would open a gap rather than fill one).
    recorded = frame.loc[frame["patient_id"] == pid, "day"]
    free = sorted(set(range(int(recorded.min()), int(recorded.max()))) - set(recorded))
    if data.draw(st.booleans()) or not free:
        # Replace day i's oxygen by support given for another reason.
        before = frame.copy()
        before.loc[frame.index[i], ["o2_device", "o2_reason"]] = ["none", None]
        after = frame.copy()
        after.loc[frame.index[i], ["o2_device", "o2_reason"]] = [
            support["o2_device"],
            support["o2_reason"],
        ]
    else:
        # Fill an unrecorded day with a clear day on support given for another reason.
        before = frame
        new = {"patient_id": pid, "day": data.draw(st.sampled_from(free)), "temp_c": 37.0}
        new |= {"hypotension": False, "vasopressors": 0, "vasopressin": False, **support}
        after = typed(pd.concat([frame, pd.DataFrame([new])], ignore_index=True))
    lo0, hi0 = bounds(crs(before, **options))
    lo1, hi1 = bounds(keyed(crs(after, **options), crs(before, **options)))
    assert np.all(lo1 <= lo0)
    assert np.all(hi1 <= hi0)


@SETTINGS
@given(cohorts(), OPTIONS, st.data())
def test_hypotension_from_another_cause_never_raises_crs(
    frame: pd.DataFrame, options: dict[str, Any], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(frame) - 1))
    after = frame.copy()
    after.loc[frame.index[i], "hypotension_other_cause"] = True
    before = frame.copy()
    before.loc[frame.index[i], "hypotension_other_cause"] = False
    lo0, hi0 = bounds(crs(before, **options))
    lo1, hi1 = bounds(crs(after, **options))
    assert np.all(lo1 <= lo0)
    assert np.all(hi1 <= hi0)


@SETTINGS
@given(cohorts(), OPTIONS)
def test_literal_reading_never_grades_higher_than_lenient(
    frame: pd.DataFrame, options: dict[str, Any]
) -> None:
    out = crs(frame, fever_waiver="within_episode", **options)
    lo0, hi0 = bounds(out)
    # The episode reading treats an unrecorded day between two rows as possibly febrile
    # and treated; the permanent readings only look at recorded days. Upper bounds are
    # compared on patients whose record has no such gap.
    span = out.groupby("patient_id")["day"].agg(lambda d: d.max() - d.min() + 1 == len(d))
    no_gap = out["patient_id"].map(span).to_numpy(dtype=bool)
    for lenient in ("after_treatment", "after_crs_onset_and_treatment"):
        lo1, hi1 = bounds(crs(frame, fever_waiver=lenient, **options))
        assert np.all(lo0 <= lo1)
        assert np.all(hi0[no_gap] <= hi1[no_gap])


@SETTINGS
@given(cohorts(complete_row), OPTIONS, st.data())
def test_filling_gaps_only_narrows_the_bounds(
    frame: pd.DataFrame, options: dict[str, Any], data: st.DataObject
) -> None:
    extra = []
    for pid, days in frame.groupby("patient_id")["day"]:
        gaps = sorted(set(range(int(days.min()), int(days.max()))) - set(days))
        for d in data.draw(st.lists(st.sampled_from(gaps), unique=True)) if gaps else []:
            extra.append({"patient_id": pid, "day": d, **data.draw(complete_row)})
    filled = typed(pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)) if extra else frame
    out0 = crs(frame, **options)
    out1 = keyed(crs(filled, **options), out0)
    lo0, hi0 = bounds(out0)
    lo1, hi1 = bounds(out1)
    assert np.all(lo1 >= lo0)
    assert np.all(hi1 <= hi0)
    n0 = summarize_crs(out0)["n_episodes"]
    n1 = summarize_crs(crs(filled, **options))["n_episodes"]
    known = n0.notna().to_numpy()
    assert np.array_equal(n0[known].to_numpy(int), n1[known].to_numpy(int))
