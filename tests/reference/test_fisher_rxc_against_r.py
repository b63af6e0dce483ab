"""Fisher's exact test on r x c tables at registry sizes against R (tests/reference/r/fisher_rxc.R).

R's ``fisher.test(x, workspace = 2e8)`` is the oracle; its FEXACT network algorithm sums
the p-value with its own tolerances, so the comparison is at the JSON's ``rtol`` (1e-6).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cartcohort.analyse.contingency import fisher_exact

CASES = json.loads((Path(__file__).parent / "cases" / "fisher_rxc.json").read_text())
RTOL = CASES["rtol"]


@pytest.mark.parametrize("case", CASES["fisher"], ids=[c["id"] for c in CASES["fisher"]])
def test_fisher_rxc_matches_r_fisher_test(case: dict) -> None:
    res = fisher_exact(np.array(case["table"]))
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.n == case["n"]
    assert res.estimate is None
