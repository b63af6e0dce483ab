"""Fisher's exact test on r x c tables at registry sizes against R (tests/reference/r/fisher_rxc.R).

R's ``fisher.test(x, workspace = 2e8)`` is the oracle; its FEXACT network algorithm sums
the p-value with its own tolerances, so the comparison is at the JSON's ``rtol`` (1e-6).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from cartcohort.analyse.contingency import fisher_exact

CASES = json.loads((Path(__file__).parent / "cases" / "fisher_rxc.json").read_text())
RTOL = CASES["rtol"]
#: Cases that take tens of seconds (R: minutes); run with CARTCOHORT_SLOW_REFERENCE=1.
SLOW = {"3x4-n1000"}


def _params() -> list[object]:
    skip = pytest.mark.skipif(
        not os.environ.get("CARTCOHORT_SLOW_REFERENCE"),
        reason="tens of seconds; set CARTCOHORT_SLOW_REFERENCE=1",
    )
    return [
        pytest.param(c, id=c["id"], marks=[pytest.mark.slow, skip] if c["id"] in SLOW else [])
        for c in CASES["fisher"]
    ]


@pytest.mark.parametrize("case", _params())
def test_fisher_rxc_matches_r_fisher_test(case: dict) -> None:
    res = fisher_exact(np.array(case["table"]))
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.n == case["n"]
    assert res.estimate is None
    if min(len(case["table"]), len(case["table"][0])) == 3:
        assert res.method.options["algorithm"] == "3 x k columns (exact)"
