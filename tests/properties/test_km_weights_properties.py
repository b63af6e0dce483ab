"""Invariants of weighted Kaplan–Meier curves (``kaplan_meier(weights=, robust=, cluster=)``).

- unit weights give the unweighted fit (estimate, Greenwood SE, limits, medians);
- integer weights give the fit of the data with each row repeated that many times
  (counts, estimate and Greenwood SE; R's default for whole-number weights);
- the robust (infinitesimal-jackknife) SE with one cluster per row equals the robust SE
  without a cluster, and is unchanged by relabelling the clusters;
- the robust SE with non-integer weights is invariant to rescaling all weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cartcohort.analyse.km import KaplanMeierResult, kaplan_meier

SETTINGS = settings(max_examples=25, deadline=None)
COLUMNS = ["time", "n_risk", "n_event", "n_censor", "estimate", "std_err", "lower", "upper"]


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=4, max_value=30))
    times = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    arm = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    iw = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    fw = draw(st.lists(st.integers(1, 40).map(lambda v: v / 8), min_size=n, max_size=n))
    cl = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    return pd.DataFrame(
        {"time": times, "event": events, "arm": arm, "iw": iw, "fw": fw, "cl": cl, "row": range(n)}
    )


def km(frame: pd.DataFrame, **kwargs: object) -> KaplanMeierResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a group without events warns; not the point here
        return kaplan_meier(frame, time="time", event="event", by="arm", **kwargs)  # type: ignore[arg-type]


def _same(a: pd.DataFrame, b: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        np.testing.assert_allclose(
            a[column].to_numpy(dtype=np.float64),
            b[column].to_numpy(dtype=np.float64),
            rtol=1e-12,
            atol=1e-15,
            err_msg=column,
        )


@SETTINGS
@given(cohorts())
def test_unit_weights_equal_no_weights(frame: pd.DataFrame) -> None:
    frame = frame.assign(one=1.0)
    weighted, plain = km(frame, weights="one"), km(frame)
    assert weighted.method.options["variance"] == "Greenwood with weighted counts"
    _same(weighted.table, plain.table, COLUMNS)
    _same(weighted.median, plain.median, ["estimate", "lower", "upper"])


@SETTINGS
@given(cohorts())
def test_integer_weights_equal_replicated_rows(frame: pd.DataFrame) -> None:
    replicated = frame.loc[frame.index.repeat(frame["iw"])].reset_index(drop=True)
    weighted, copies = km(frame, weights="iw"), km(replicated)
    _same(weighted.table, copies.table, COLUMNS)
    _same(weighted.median, copies.median, ["estimate", "lower", "upper"])


@SETTINGS
@given(cohorts())
def test_one_row_clusters_equal_robust_without_cluster(frame: pd.DataFrame) -> None:
    by_row = km(frame, weights="fw", cluster="row")
    robust = km(frame, weights="fw", robust=True)
    _same(by_row.table, robust.table, COLUMNS)


@SETTINGS
@given(cohorts(), st.randoms(use_true_random=False))
def test_cluster_labels_do_not_matter(frame: pd.DataFrame, rnd: object) -> None:
    labels = sorted(set(frame["cl"]))
    if len(labels) < 2:
        return
    shuffled = list(labels)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    relabelled = frame.assign(cl=frame["cl"].map(dict(zip(labels, shuffled, strict=True))))
    relabelled = relabelled.assign(cl=relabelled["cl"].map(lambda v: f"c{v}"))
    _same(
        km(frame, weights="fw", cluster="cl").table,
        km(relabelled, weights="fw", cluster="cl").table,
        COLUMNS,
    )


@SETTINGS
@given(cohorts(), st.sampled_from([0.25, 3.0, 7.5]))
def test_robust_se_is_invariant_to_rescaling_weights(frame: pd.DataFrame, scale: float) -> None:
    base = km(frame, weights="fw", robust=True)
    scaled = km(frame.assign(fw=frame["fw"] * scale), weights="fw", robust=True)
    _same(base.table, scaled.table, ["time", "estimate", "std_err", "lower", "upper"])
