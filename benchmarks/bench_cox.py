"""Benchmarks: Cox regression and the PH test against lifelines, statsmodels and R.

Run alone with ``python benchmarks/bench_cox.py [full|quick]``. ``full`` uses the target
sizes; ``quick`` 1/100 of them (a smoke run).

Data: 5 standard-normal covariates, exponential event times with log hazard ratios
(0.5, -0.3, 0.2, 0.1, 0), exponential censoring giving about 65 % events. "continuous"
keeps every time distinct; "tied" rounds times to 0.1 (about 670 distinct times at
100,000 rows). Targets: Cox Efron, continuous, 100,000 rows in at most 0.2 s and
1,000,000 rows in at most 2 s; ``check_ph`` on 100,000 rows in at most 0.5 s.

Every implementation does the same work: the fit with standard errors (and, for
cartcohort and R, the global tests and concordance that ``coxph`` computes). Slow peers
are run only where they finish in reasonable time, and the notes say so:
lifelines needs about 8 s at 100,000 continuous rows (so it is not run at 1,000,000);
statsmodels ``PHReg`` about 50 s (run on the tied data only, where it takes ~1.6 s);
lifelines ``proportional_hazard_test`` about 23 s at 100,000 rows (run at 10,000).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness
from _harness import Impl, Measured, Task, r_available, standalone, time_r, tmp_csv

from cartcohort.analyse.cox import cox_ph

COVARIATES = [f"x{i}" for i in range(1, 6)]
BETA = np.array([0.5, -0.3, 0.2, 0.1, 0.0])


def _has(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return check


def make_data(n: int, *, tied: bool = False, seed: int = 20240611) -> pd.DataFrame:
    """Synthetic cohort: 5 normal covariates, about 65 % events."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    # Time scale 10 (e.g. months): rounding to 0.1 leaves about 670 distinct times.
    event_time = rng.exponential(10.0 * np.exp(-x @ BETA))
    censor_time = rng.exponential(20.0, n)
    time = np.minimum(event_time, censor_time)
    if tied:
        time = np.maximum(np.round(time, 1), 0.1)
    frame = pd.DataFrame(x, columns=COVARIATES)
    frame["time"] = time
    frame["event"] = (event_time <= censor_time).astype(np.int64)
    return frame


def _cartcohort(d: pd.DataFrame, ties: str) -> Callable[[], object]:
    def run() -> object:
        return cox_ph(d, time="time", event="event", covariates=COVARIATES, ties=ties)  # type: ignore[arg-type]

    return run


def _cartcohort_with_concordance(d: pd.DataFrame) -> Callable[[], object]:
    """The fit and its concordance (what the report's ARD reads)."""

    def run() -> object:
        fit = cox_ph(d, time="time", event="event", covariates=COVARIATES)
        return fit.concordance.estimate

    return run


def _cartcohort_check_ph(d: pd.DataFrame) -> Callable[[], object]:
    fit = cox_ph(d, time="time", event="event", covariates=COVARIATES)

    def run() -> object:
        return fit.check_ph("km")

    return run


def _lifelines(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        from lifelines import CoxPHFitter

        return CoxPHFitter().fit(d, duration_col="time", event_col="event").summary

    return run


def _lifelines_ph_test(d: pd.DataFrame) -> Callable[[], object]:
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    fit = CoxPHFitter().fit(d, duration_col="time", event_col="event")

    def run() -> object:
        return proportional_hazard_test(fit, d, time_transform="km").summary

    return run


def _statsmodels(d: pd.DataFrame, ties: str) -> Callable[[], object]:
    def run() -> object:
        from statsmodels.duration.hazard_regression import PHReg

        model = PHReg(d["time"], d[COVARIATES], status=d["event"], ties=ties)
        return model.fit().bse

    return run


def _r_fit(d: pd.DataFrame, ties: str, repeat: int) -> Callable[[], object]:
    script = f"f <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d, ties = '{ties}')"
    path = tmp_csv(d)

    def run() -> object:
        return time_r(script, path, repeat=repeat)

    return run


def _r_zph(d: pd.DataFrame, repeat: int) -> Callable[[], object]:
    """Time ``cox.zph`` alone (the fit is outside the timed block), inside R."""
    path = tmp_csv(d)
    code = (
        "suppressPackageStartupMessages(library(survival));"
        f"d <- read.csv('{path}');"
        "f <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d);"
        f"t <- replicate({repeat}, {{ st <- system.time(z <- cox.zph(f)); {_harness.r_timer()} }});"
        f"cat({_harness.r_summary()}(t))"
    )

    def run() -> object:
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True)
        return Measured(out.stdout.strip().split()[-1])

    return run


def cases(scale: str) -> list[Task]:
    """Benchmark tasks at ``scale`` "full" (target sizes) or "quick" (1/100)."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    div = 1 if scale == "full" else 100
    n5, n6, n4 = 100_000 // div, 1_000_000 // div, 10_000 // div
    cont5, cont6 = make_data(n5), make_data(n6)
    tied5, tied4 = make_data(n5, tied=True), make_data(n4, tied=True)
    distinct = f"{tied5['time'].nunique():,} distinct times"
    return [
        Task(
            f"Cox Efron, 5 covariates, continuous, {n5:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort(cont5, "efron")),
                Impl("lifelines", lambda: _lifelines(cont5), _has("lifelines")),
                Impl("R survival", lambda: _r_fit(cont5, "efron", 3), r_available),
            ],
            target_seconds=0.2,
            notes=["statsmodels PHReg not run: about 50 s at this size"],
        ),
        Task(
            f"Cox Efron, 5 covariates, continuous, {n6:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort(cont6, "efron")),
                Impl("R survival", lambda: _r_fit(cont6, "efron", 3), r_available),
            ],
            target_seconds=2.0,
            notes=["lifelines and statsmodels not run: minutes at this size"],
        ),
        Task(
            f"Cox Efron + concordance read, 5 covariates, continuous, {n6:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort_with_concordance(cont6)),
                Impl("R survival", lambda: _r_fit(cont6, "efron", 3), r_available),
            ],
            notes=["R's coxph always computes the concordance; cartcohort on first access"],
        ),
        Task(
            f"Cox Efron, 5 covariates, tied ({distinct}), {n5:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort(tied5, "efron")),
                Impl("lifelines", lambda: _lifelines(tied5), _has("lifelines")),
                Impl("statsmodels", lambda: _statsmodels(tied5, "efron"), _has("statsmodels")),
                Impl("R survival", lambda: _r_fit(tied5, "efron", 3), r_available),
            ],
            target_seconds=0.2,
        ),
        Task(
            f"Cox Breslow, 5 covariates, tied ({distinct}), {n5:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort(tied5, "breslow")),
                Impl("statsmodels", lambda: _statsmodels(tied5, "breslow"), _has("statsmodels")),
                Impl("R survival", lambda: _r_fit(tied5, "breslow", 3), r_available),
            ],
        ),
        Task(
            f"check_ph (cox.zph, km), tied, {n5:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort_check_ph(tied5)),
                Impl("R survival", lambda: _r_zph(tied5, 3), r_available),
            ],
            target_seconds=0.5,
        ),
        Task(
            f"check_ph (cox.zph, km), tied, {n4:,} rows",
            [
                Impl("cartcohort", lambda: _cartcohort_check_ph(tied4)),
                Impl("lifelines", lambda: _lifelines_ph_test(tied4), _has("lifelines")),
                Impl("R survival", lambda: _r_zph(tied4, 3), r_available),
            ],
            notes=["lifelines proportional_hazard_test only here: about 23 s at 100,000 rows"],
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
