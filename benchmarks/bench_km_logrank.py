"""Benchmarks: Kaplan–Meier and the log-rank test against lifelines, statsmodels, scipy and R.

Run alone with ``python benchmarks/bench_km_logrank.py [full|quick]``. ``full`` uses
1,000,000 rows with about 5,000 distinct integer times (target: Kaplan–Meier by arm plus
the 2-group log-rank test in at most 0.2 s together); ``quick`` uses 1/100 of that.

Every implementation does the same work on the same data: curves for both arms with
pointwise CIs and medians where the library computes them, plus the 2-group test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, r_available, standalone, time_r, tmp_csv

from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test

TARGET_SECONDS = 0.2
FULL_ROWS = 1_000_000


def _has(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return check


def make_data(n: int, *, seed: int = 20240611, categorical: bool = False) -> pd.DataFrame:
    """Synthetic trial: exponential times rounded to days (about 5,000 distinct at 1e6 rows)."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    time = np.minimum(np.round(rng.exponential(np.where(arm == 1, 1200.0, 900.0))), 5000.0)
    event = (rng.random(n) < 0.65).astype(np.int64)
    labels = np.where(arm == 1, "CAR-T", "SOC")
    frame = pd.DataFrame({"time": time, "event": event, "arm": labels})
    if categorical:
        frame["arm"] = pd.Categorical(frame["arm"], categories=["SOC", "CAR-T"])
    return frame


def _cartcohort(d: pd.DataFrame, *, km: bool, test: bool) -> Callable[[], object]:
    def run() -> object:
        out: list[object] = []
        if km:
            out.append(kaplan_meier(d, time="time", event="event", by="arm"))
        if test:
            out.append(logrank_test(d, time="time", event="event", by="arm"))
        return out

    return run


def _split(d: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    arm = d["arm"].astype(str).to_numpy()
    t = d["time"].to_numpy(dtype=float)
    e = d["event"].to_numpy(dtype=bool)
    return [(t[arm == a], e[arm == a]) for a in ("SOC", "CAR-T")]


def _lifelines(d: pd.DataFrame, *, km: bool, test: bool) -> Callable[[], object]:
    def run() -> object:
        from lifelines import KaplanMeierFitter
        from lifelines.statistics import logrank_test as ll_logrank

        parts = _split(d)
        out: list[object] = []
        if km:
            for t, e in parts:
                fit = KaplanMeierFitter().fit(t, e)  # log-log CIs are computed in fit()
                out.append(fit.median_survival_time_)
        if test:
            (t0, e0), (t1, e1) = parts
            out.append(ll_logrank(t0, t1, e0, e1).test_statistic)
        return out

    return run


def _statsmodels(d: pd.DataFrame, *, km: bool, test: bool) -> Callable[[], object]:
    def run() -> object:
        from statsmodels.duration.survfunc import SurvfuncRight, survdiff

        out: list[object] = []
        if km:
            for t, e in _split(d):
                fit = SurvfuncRight(t, e.astype(float))
                out.append((fit.surv_prob_se, fit.quantile(0.5)))  # SE only, no pointwise CI
        if test:
            out.append(
                survdiff(
                    d["time"].to_numpy(dtype=float),
                    d["event"].to_numpy(dtype=float),
                    d["arm"].astype(str).to_numpy(),
                )
            )
        return out

    return run


def _scipy(d: pd.DataFrame, *, km: bool, test: bool) -> Callable[[], object]:
    def run() -> object:
        from scipy import stats

        samples = [stats.CensoredData.right_censored(t, ~e) for t, e in _split(d)]
        out: list[object] = []
        if km:
            for sample in samples:
                res = stats.ecdf(sample)
                out.append(res.sf.confidence_interval(method="log-log"))  # no median
        if test:
            out.append(stats.logrank(samples[0], samples[1]).statistic)
        return out

    return run


def _r(d: pd.DataFrame, *, km: bool, test: bool, repeat: int) -> Callable[[], object]:
    parts = []
    if km:
        parts.append("f <- survfit(Surv(time, event) ~ arm, data = d); m <- summary(f)$table")
    if test:
        parts.append("s <- survdiff(Surv(time, event) ~ arm, data = d)")
    script = "; ".join(parts)
    path = tmp_csv(d)

    def run() -> object:
        return time_r(script, path, repeat=repeat)

    return run


def _impls(d: pd.DataFrame, *, km: bool, test: bool, with_r: bool) -> list[Impl]:
    impls = [
        Impl("cartcohort", lambda: _cartcohort(d, km=km, test=test)),
        Impl("lifelines", lambda: _lifelines(d, km=km, test=test), _has("lifelines")),
        Impl("statsmodels", lambda: _statsmodels(d, km=km, test=test), _has("statsmodels")),
        Impl("scipy", lambda: _scipy(d, km=km, test=test), _has("scipy")),
    ]
    if with_r:
        # R is timed inside R (system.time, CSV reading excluded); see run_task.
        impls.append(Impl("R survival", lambda: _r(d, km=km, test=test, repeat=3), r_available))
    return impls


def cases(scale: str) -> list[Task]:
    """Benchmark tasks at ``scale`` "full" (1e6 rows) or "quick" (1e4 rows)."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    n = FULL_ROWS if scale == "full" else FULL_ROWS // 100
    text = make_data(n)
    cat = make_data(n, categorical=True)
    obj = text.assign(arm=text["arm"].astype(object))
    size = f"{n:,} rows, {text['time'].nunique():,} distinct times"
    return [
        Task(
            f"KM by arm + log-rank, string arm ({size})",
            _impls(text, km=True, test=True, with_r=True),
            target_seconds=TARGET_SECONDS,
        ),
        Task(
            f"KM by arm + log-rank, object-dtype string arm ({size})",
            [Impl("cartcohort", lambda: _cartcohort(obj, km=True, test=True))],
            target_seconds=TARGET_SECONDS,
        ),
        Task(
            f"KM by arm + log-rank, Categorical arm ({size})",
            _impls(cat, km=True, test=True, with_r=False),
            target_seconds=TARGET_SECONDS,
        ),
        Task(
            f"KM by arm only, string arm ({size})", _impls(text, km=True, test=False, with_r=True)
        ),
        Task(f"log-rank only, string arm ({size})", _impls(text, km=False, test=True, with_r=True)),
    ]


if __name__ == "__main__":
    standalone(cases)
