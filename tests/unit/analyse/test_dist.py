"""The distribution functions of ``analyse._dist`` give scipy.stats's numbers to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cartcohort.analyse import _dist

X = st.floats(min_value=-50, max_value=200, allow_nan=False)
DF = st.sampled_from([0.0, -1.0, 0.5, 1.0, 2.0, 3.0, 7.5, 30.0, 1000.0])
Q = st.floats(min_value=1e-12, max_value=1 - 1e-12)


def _same(a: object, b: object) -> None:
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


@settings(max_examples=300, deadline=None)
@given(x=X, df=DF, df2=DF, q=Q)
def test_same_numbers_as_scipy_stats(x: float, df: float, df2: float, q: float) -> None:
    _same(_dist.chi2_sf(x, df), stats.chi2.sf(x, df))
    _same(_dist.f_sf(x, df, df2), stats.f.sf(x, df, df2))
    _same(_dist.norm_cdf(x), stats.norm.cdf(x))
    _same(_dist.norm_sf(x), stats.norm.sf(x))
    _same(_dist.norm_ppf(q), stats.norm.ppf(q))
    if df > 0:
        _same(_dist.chi2_ppf(q, df), stats.chi2.ppf(q, df))
        _same(_dist.t_cdf(x, df), stats.t.cdf(x, df))
        _same(_dist.t_sf(x, df), stats.t.sf(x, df))
        _same(_dist.t_ppf(q, df), stats.t.ppf(q, df))


def test_vectorised_and_ranks() -> None:
    x = np.array([-1.0, 0.0, 0.5, 3.84, np.inf])
    _same(_dist.chi2_sf(x, 1), stats.chi2.sf(x, 1))
    _same(_dist.norm_sf(x), stats.norm.sf(x))
    values = [3.0, 1.0, 3.0, 2.0, 3.0, -1.0]
    _same(_dist.rankdata(values), stats.rankdata(values))


@pytest.mark.parametrize("module", ["cartcohort.plan.run", "cartcohort.render.report.build"])
def test_the_report_path_does_not_import_scipy_stats(module: str) -> None:
    import subprocess
    import sys

    code = f"import sys, {module}; print('scipy.stats' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
