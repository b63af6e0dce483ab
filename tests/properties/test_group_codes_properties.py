"""A grouping column gives the same results whatever its dtype (factorised once, in prepare)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartcohort.analyse._data import factor_codes, group_levels, prepare
from cartcohort.analyse.compare import kruskal_wallis_test
from cartcohort.analyse.competing import cumulative_incidence
from cartcohort.analyse.cox import cox_ph
from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test

FAST = settings(max_examples=15, deadline=None)
LABELS = ["SOC", "CAR-T", "axi-cel", "tisa-cel", "liso-cel"]


def _as(values: list[object], kind: str) -> pd.Series:
    if kind == "object":
        return pd.Series(values, dtype=object)
    if kind == "string":
        return pd.Series(values, dtype="string")
    if kind == "pyarrow":
        return pd.Series(values, dtype=pd.StringDtype("pyarrow"))
    return pd.Series(pd.Categorical(values, categories=sorted(set(values) - {None})))


@st.composite
def _cohorts(draw: st.DrawFn) -> tuple[pd.DataFrame, list[object]]:
    n = draw(st.integers(12, 60))
    k = draw(st.integers(2, 4))
    groups = draw(st.lists(st.sampled_from(LABELS[:k]), min_size=n, max_size=n))
    if len(set(groups)) < 2:
        groups[0], groups[1] = LABELS[0], LABELS[1]
    time = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
    event = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    event[0] = 1
    cause = [e * (1 + (t % 2)) for e, t in zip(event, time, strict=True)]
    x = draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n))
    frame = pd.DataFrame({"time": time, "event": event, "cause": cause, "x": x})
    return frame, list(groups)


def _results(frame: pd.DataFrame) -> list[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny groups warn alike for every dtype
        return _fit_all(frame)


def _fit_all(frame: pd.DataFrame) -> list[object]:
    fits = {
        "km": lambda: kaplan_meier(frame, time="time", event="event", by="arm"),
        "lr": lambda: logrank_test(frame, time="time", event="event", by="arm"),
        "cif": lambda: cumulative_incidence(frame, time="time", event="cause", by="arm"),
        "kw": lambda: kruskal_wallis_test(frame, value="x", by="arm"),
        "cox": lambda: cox_ph(frame, time="time", event="event", covariates=["x"], strata="arm"),
    }
    out: list[object] = []
    for name, fit in fits.items():
        try:
            res = fit()
        except Exception as exc:  # the same failure for every dtype is the property
            out.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        out.append(res.warnings)
        if name == "km":
            out += [res.table.astype({"group": str}), res.median.astype({"group": str})]
        elif name == "cif":
            out.append(res.to_frame().astype(str))
        elif name == "cox":
            out.append(res.table)
        else:
            out += [res.statistic, res.p_value]
    return out


def _same(a: object, b: object) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))  # type: ignore[union-attr]
    else:
        assert a == b or (a != a and b != b)


@FAST
@given(_cohorts(), st.sampled_from(["string", "pyarrow", "categorical"]))
def test_group_dtype_does_not_change_results(
    cohort: tuple[pd.DataFrame, list[object]], kind: str
) -> None:
    frame, groups = cohort
    base = _results(frame.assign(arm=_as(groups, "object")))
    other = _results(frame.assign(arm=_as(groups, kind)))
    for a, b in zip(base, other, strict=True):
        _same(a, b)


@FAST
@given(
    st.lists(st.sampled_from([*LABELS, None]), min_size=1, max_size=40),
    st.sampled_from(["object", "string", "pyarrow", "categorical"]),
)
def test_factor_codes_match_group_levels(values: list[object], kind: str) -> None:
    s = _as(values, kind)
    levels, codes = factor_codes(s)
    assert levels == group_levels(s)
    expected = [-1 if v is None else levels.index(v) for v in values]
    assert codes.tolist() == expected


def test_prepare_codes_string_groups_once_and_keeps_missing_rows_out() -> None:
    data = pd.DataFrame(
        {"t": [1.0, 2.0, 3.0, 4.0], "arm": pd.Series(["b", None, "a", "b"], dtype=object)}
    )
    prepared = prepare(data, {"time": "t", "by": "arm"})
    arm = prepared.frame["arm"]
    assert isinstance(arm.dtype, pd.CategoricalDtype)
    assert arm.cat.categories.tolist() == ["a", "b"]
    assert arm.tolist() == ["b", "a", "b"]
    assert prepared.n_excluded == 1
    # other roles are left as they are
    assert prepare(data, {"time": "t", "value": "arm"}).frame["arm"].dtype == object


@pytest.mark.parametrize("kind", ["object", "string", "pyarrow"])
def test_km_logrank_identical_for_string_and_categorical_groups(kind: str) -> None:
    rng = np.random.default_rng(7)
    n = 5000
    labels = np.where(
        rng.integers(0, 3, n) == 0, "SOC", np.where(rng.random(n) < 0.5, "axi", "tisa")
    )
    base = pd.DataFrame({"time": np.round(rng.exponential(300, n)), "event": rng.integers(0, 2, n)})
    cat = base.assign(arm=pd.Categorical(labels, categories=["SOC", "axi", "tisa"]))
    txt = base.assign(arm=_as(labels.tolist(), kind))
    for fn in (kaplan_meier,):
        a, b = (
            fn(cat, time="time", event="event", by="arm"),
            fn(txt, time="time", event="event", by="arm"),
        )
        pd.testing.assert_frame_equal(
            a.table.astype({"group": str}), b.table.astype({"group": str})
        )
    a, b = (logrank_test(d, time="time", event="event", by="arm") for d in (cat, txt))
    assert (a.statistic, a.p_value) == (b.statistic, b.p_value)
