"""RMST and milestone differences against R survival 3.5-3.

Per-group RMST and SE: ``summary(survfit(...), rmean = tau)$table``. Contrasts: the
formulas of ``survRM2::rmst2`` (not installed; computed in ``tests/reference/r/rmst.R``
from survival's ``rmean`` and ``se(rmean)``). Milestones: ``summary(survfit(...), times
= at)``. Rerun the script to regenerate ``tests/reference/cases/rmst.json``. Closed form:
compared at 1e-10.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.rmst import milestone_difference, rmst

DATA = json.loads((Path(__file__).parent / "cases" / "rmst.json").read_text(encoding="utf-8"))
RTOL = DATA["rtol"]["closed_form"]
_CONTRAST = ["estimate", "std_err", "lower", "upper", "statistic", "p_value"]


def _frame(name: str) -> pd.DataFrame:
    ds = DATA["datasets"][name]
    frame = pd.DataFrame(ds["data"])
    frame["group"] = pd.Categorical(frame["group"], categories=ds["levels"])
    return frame


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["source"].startswith("R version 4.2.2")
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/rmst.R"


@pytest.mark.parametrize("case", DATA["rmst"], ids=lambda c: f"{c['dataset']}-{c['tau']}")
def test_rmst_matches_r_rmean_and_survrm2_contrasts(case: dict[str, Any]) -> None:
    frame = _frame(case["dataset"])
    res = rmst(
        frame,
        time="time",
        event="event",
        by="group",
        tau=case["tau"],
        confidence_level=case["confidence_level"],
    )
    for col in ("estimate", "std_err", "lower", "upper"):
        np.testing.assert_allclose(res.table[col], case[col], rtol=RTOL, err_msg=col)
    np.testing.assert_array_equal(res.table["n"], case["n"])
    np.testing.assert_array_equal(res.table["n_events"], case["n_events"])
    for expected in case["contrasts"]:
        rows = res.contrasts[res.contrasts["group"] == expected["group"]]
        for measure in ("difference", "ratio", "rmtl_ratio"):
            got = rows[rows["measure"] == measure][_CONTRAST].to_numpy(dtype=float)[0]
            np.testing.assert_allclose(got, expected[measure], rtol=RTOL, err_msg=measure)
    overall = rmst(frame, time="time", event="event", tau=case["tau"])
    np.testing.assert_allclose(overall.table["estimate"], case["overall"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(overall.table["std_err"], case["overall"]["std_err"], rtol=RTOL)
    assert overall.contrasts.empty


@pytest.mark.parametrize("case", DATA["milestone"], ids=lambda c: f"{c['dataset']}-{c['at']}")
def test_milestone_difference_matches_r(case: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = milestone_difference(
            _frame(case["dataset"]),
            time="time",
            event="event",
            by="group",
            at=case["at"],
            confidence_level=case["confidence_level"],
        )
    for col in ("estimate", "std_err", "lower", "upper", "n_risk"):
        np.testing.assert_allclose(res.table[col], case[col], rtol=RTOL, err_msg=col)
    for expected in case["contrasts"]:
        got = res.contrasts[res.contrasts["group"] == expected["group"]][_CONTRAST]
        np.testing.assert_allclose(got.to_numpy(dtype=float)[0], expected["values"], rtol=RTOL)
