"""Hypothesis invariants of the B-cell aplasia definition.

* lowering any CD19+ value never removes aplasia nor moves its onset later;
* onset <= loss day, duration = loss - onset (or last sample - onset while ongoing) >= 0.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cartcohort.derive.bcell_aplasia import derive_bcell_aplasia

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 5.0, 20.0]), min_size=1, max_size=8)


def _row(vals: list[float], confirm: int) -> pd.Series:
    labs = pd.DataFrame(
        {
            "patient_id": "p",
            "day": [10 * (i + 1) for i in range(len(vals))],
            "analyte": "cd19_pct",
            "value": vals,
            "unit": "%",
        }
    )
    return derive_bcell_aplasia(labs, confirm_samples=confirm).table.iloc[0]


def _onset(r: pd.Series) -> float:
    return float("inf") if pd.isna(r["bca_onset_day"]) else float(r["bca_onset_day"])


@SETTINGS
@given(
    vals=values,
    k=st.integers(0, 7),
    new=st.sampled_from([0.0, 0.5, 1.0]),
    confirm=st.integers(1, 3),
)
def test_lowering_a_value_never_removes_or_delays_aplasia(
    vals: list[float], k: int, new: float, confirm: int
) -> None:
    k %= len(vals)
    assume(new <= vals[k])
    lowered = list(vals)
    lowered[k] = new
    before, after = _row(vals, confirm), _row(lowered, confirm)
    assert _onset(after) <= _onset(before)
    if bool(before["bca"]):
        assert bool(after["bca"])


@SETTINGS
@given(vals=values, confirm=st.integers(1, 3))
def test_onset_loss_and_duration_are_consistent(vals: list[float], confirm: int) -> None:
    r = _row(vals, confirm)
    if not bool(r["bca"]):
        assert pd.isna(r["bca_onset_day"])
        assert pd.isna(r["bca_duration_days"])
    elif pd.notna(r["bca_loss_day"]):
        assert r["bca_loss_day"] > r["bca_onset_day"]
        assert r["bca_duration_days"] == r["bca_loss_day"] - r["bca_onset_day"]
    else:
        assert bool(r["bca_ongoing"])
        assert r["bca_duration_days"] >= 0
        assert r["bca_duration_days"] == 10 * len(vals) - r["bca_onset_day"]
