"""Delayed entry (left truncation) against R survival 3.5-3.

``kaplan_meier(start=)`` against ``survfit(Surv(entry, time, event) ~ group)`` (table,
medians, landmark rows) and ``logrank_test(start=)`` against the score test of
``coxph(Surv(entry, time, event) ~ group, ties = "exact")``: R's ``survdiff`` rejects
(start, stop] data; on the same data without entry times that score test equals
``survdiff`` (stored and checked here too). Expected values come from
``tests/reference/r/entry.R`` (rerun it to regenerate ``tests/reference/cases/entry.json``).
All quantities are closed form: compared at 1e-10.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test

DATA = json.loads((Path(__file__).parent / "cases" / "entry.json").read_text(encoding="utf-8"))
RTOL = DATA["rtol"]["closed_form"]


def _vec(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _frame(name: str) -> pd.DataFrame:
    ds = DATA["datasets"][name]
    frame = pd.DataFrame(ds["data"])
    frame["group"] = pd.Categorical(frame["group"], categories=ds["levels"])
    frame["strata"] = pd.Categorical(frame["strata"], categories=ds["strata_levels"])
    return frame


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["source"].startswith("R version 4.2.2")
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/entry.R"


@pytest.mark.parametrize(
    "case", DATA["kaplan_meier"], ids=lambda c: f"{c['dataset']}-{c['ci_method']}"
)
def test_km_with_entry_matches_r_survfit(case: dict[str, Any]) -> None:
    fit = kaplan_meier(
        _frame(case["dataset"]),
        start="entry",
        time="time",
        event="event",
        by="group",
        ci_method=case["ci_method"],
    )
    exp = case["table"]
    table = fit.table
    assert table["group"].astype(str).tolist() == exp["group"]
    for col in ("n_risk", "n_event", "n_censor"):
        np.testing.assert_array_equal(table[col], _vec(exp[col]), err_msg=col)
    for col in ("time", "estimate", "std_err", "lower", "upper"):
        np.testing.assert_allclose(table[col], _vec(exp[col]), rtol=RTOL, err_msg=col)
    med = case["median"]
    for col in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(fit.median[col], _vec(med[col]), rtol=RTOL, err_msg=col)
    at = case["at"]
    rows = fit.at(at["times"])
    assert rows["group"].astype(str).tolist() == at["group"]
    for col in ("time", "n_risk", "n_event", "n_censor", "estimate", "std_err", "lower", "upper"):
        np.testing.assert_allclose(rows[col], _vec(at[col]), rtol=RTOL, err_msg=col)
    assert fit.method.options["start"] == "entry"


@pytest.mark.parametrize(
    "case", DATA["logrank"], ids=lambda c: f"{c['dataset']}-strata-{c['stratified']}"
)
def test_logrank_with_entry_matches_r_coxph_exact_score(case: dict[str, Any]) -> None:
    frame = _frame(case["dataset"])
    strata = "strata" if case["stratified"] else None
    res = logrank_test(frame, start="entry", time="time", event="event", by="group", strata=strata)
    np.testing.assert_allclose(res.statistic, case["statistic"], rtol=RTOL)
    assert res.df == case["df"]
    np.testing.assert_allclose(res.p_value, case["p_value"], rtol=RTOL)
    assert res.n_events == case["n_events"]
    # the oracle is survdiff on right-censored data
    check = case["check_no_entry"]
    np.testing.assert_allclose(check["coxph_exact_score"], check["survdiff"], rtol=RTOL)
    plain = logrank_test(frame, time="time", event="event", by="group", strata=strata)
    np.testing.assert_allclose(plain.statistic, check["survdiff"], rtol=RTOL)
