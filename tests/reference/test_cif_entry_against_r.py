"""Delayed entry in ``cumulative_incidence(start=)`` against R survival 3.5-3.

The oracle is the multi-state Aalen-Johansen estimate
``survfit(Surv(entry, time, factor(status)) ~ 1, id = id)`` of each group: the CIF, the
number at risk and the events of each cause at every event time, and ``std.err`` (the
infinitesimal jackknife), whose square is ``variance``; plus ``summary(fit, times =)``
against :meth:`CumulativeIncidenceResult.at`. Expected values come from
``tests/reference/r/cif_entry.R`` (committed JSON). All closed form: compared at 1e-10.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.competing import cumulative_incidence
from cartcohort.errors import StatisticalWarning

DATA = json.loads((Path(__file__).parent / "cases" / "cif_entry.json").read_text("utf-8"))
RTOL = DATA["rtol"]["closed_form"]


def _frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(DATA["datasets"][name])


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/cif_entry.R"


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_cif_with_entry_matches_r_multistate_survfit(case: dict[str, Any]) -> None:
    with pytest.warns(StatisticalWarning, match="Gray's test is not computed"):
        fit = cumulative_incidence(
            _frame(case["name"]), time="time", event="status", by="group", start="entry"
        )
    assert fit.gray_test is None
    assert fit.method.options["start"] == "entry"
    table = fit.table
    for exp in case["curves"]:
        rows = table[(table["group"] == exp["group"]) & (table["cause"] == exp["cause"])]
        label = f"{exp['group']} cause {exp['cause']}"
        np.testing.assert_array_equal(rows["time"], exp["time"], err_msg=label)
        np.testing.assert_array_equal(rows["n_risk"], exp["n_risk"], err_msg=label)
        np.testing.assert_array_equal(rows["n_event"], exp["n_event"], err_msg=label)
        np.testing.assert_allclose(rows["estimate"], exp["estimate"], rtol=RTOL, err_msg=label)
        np.testing.assert_allclose(
            rows["variance"], np.square(exp["std_err"]), rtol=RTOL, atol=1e-300, err_msg=label
        )
    at = fit.at(case["grid"])
    for exp in case["at"]:
        rows = at[(at["group"] == exp["group"]) & (at["cause"] == exp["cause"])]
        rows = rows[rows["time"].isin(exp["time"])]
        np.testing.assert_allclose(rows["estimate"], exp["estimate"], rtol=RTOL)
        np.testing.assert_allclose(
            rows["variance"], np.square(exp["std_err"]), rtol=RTOL, atol=1e-300
        )
