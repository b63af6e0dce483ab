"""Benchmarks: case weights and robust (sandwich) variances, against R.

Run alone with ``python benchmarks/bench_weights.py [full|quick]``. ``full`` uses the
sizes below; ``quick`` 1/10 of them (a smoke run).

Data: the Cox benchmark cohort (5 standard-normal covariates, about 65 % events) with
inverse-probability-like weights ``exp(N(0, 0.5))`` and clusters of about 3 rows. The
Cox fit with ``weights`` and ``cluster`` is timed without reading the concordance, and
the weighted, clustered concordance separately: it compares each death with every row of
its stratum (O(n x deaths)), so it is timed at 10,000 rows only. R's ``coxph`` always
computes the concordance. Logistic: ``glm(weights = )`` plus ``sandwich::vcovCL``.
Weighted Kaplan–Meier by two groups with ``weights`` and ``cluster`` (infinitesimal-
jackknife SE, O(n log n)) against R ``survfit(weights = w, cluster = cl)`` and, when
installed, lifelines ``KaplanMeierFitter(weights=)`` (estimate and its own CI only).
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
from bench_cox import COVARIATES, make_data

from cartcohort.analyse.cox import cox_ph
from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logistic import logistic_regression


def weighted(n: int, seed: int = 20261207) -> pd.DataFrame:
    """The Cox benchmark cohort with weights, clusters and a binary outcome."""
    frame = make_data(n, tied=True, seed=seed)
    rng = np.random.default_rng(seed)
    frame["w"] = np.exp(rng.normal(0.0, 0.5, n))
    frame["cl"] = rng.integers(0, max(n // 3, 2), n)
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-frame["x1"].to_numpy()))).astype(int)
    return frame


def _cox_fit(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        return cox_ph(
            d, time="time", event="event", covariates=COVARIATES, weights="w", cluster="cl"
        )

    return run


def _cox_concordance(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        fit = cox_ph(
            d, time="time", event="event", covariates=COVARIATES, weights="w", cluster="cl"
        )
        return fit.concordance.std_err

    return run


def _r_cox(d: pd.DataFrame) -> Callable[[], object]:
    script = (
        "f <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d, weights = w, "
        "cluster = cl)"
    )
    path = tmp_csv(d)

    def run() -> object:
        return time_r(script, path, repeat=3)

    return run


def _logistic(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        return logistic_regression(d, outcome="y", covariates=COVARIATES, weights="w", cluster="cl")

    return run


def _r_logistic(d: pd.DataFrame) -> Callable[[], object]:
    path = tmp_csv(d)
    code = (
        "suppressPackageStartupMessages(library(sandwich));"
        f"d <- read.csv('{path}');"
        "t <- replicate(3, system.time({f <- suppressWarnings(glm(y ~ x1 + x2 + x3 + x4 + x5, "
        "binomial, d, weights = w)); v <- vcovCL(f, cluster = ~cl)})[['elapsed']]);"
        f"cat({_harness.r_summary()}(t))"
    )

    def run() -> object:
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True)
        return Measured(out.stdout.strip().split()[-1])

    return run


def _km(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        return kaplan_meier(d, time="time", event="event", by="arm", weights="w", cluster="cl")

    return run


def _r_km(d: pd.DataFrame) -> Callable[[], object]:
    path = tmp_csv(d[["time", "event", "arm", "w", "cl"]])

    def run() -> object:
        return time_r(
            "f <- survfit(Surv(time, event) ~ arm, data = d, weights = w, cluster = cl, "
            "conf.type = 'log-log')",
            path,
            repeat=3,
        )

    return run


def _has_lifelines() -> bool:
    try:
        import lifelines  # noqa: F401
    except ImportError:
        return False
    return True


def _lifelines_km(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        import warnings

        from lifelines import KaplanMeierFitter

        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines warns about non-integer weights
            for _, part in d.groupby("arm"):
                fit = KaplanMeierFitter().fit(part["time"], part["event"], weights=part["w"])
                out.append(fit.median_survival_time_)
        return out

    return run


def cases(scale: str) -> list[Task]:
    """Benchmark tasks at ``scale`` "full" or "quick" (1/10)."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    div = 1 if scale == "full" else 10
    n5, n4 = 100_000 // div, 10_000 // div
    big, small = weighted(n5), weighted(n4)
    big["arm"] = (big["x2"] > 0).map({True: "B", False: "A"})
    return [
        Task(
            f"Weighted Kaplan-Meier by 2 groups, weights + cluster (IJ SE), {n5:,} rows",
            [
                Impl("cartcohort", lambda: _km(big)),
                Impl("R survival", lambda: _r_km(big), r_available),
                Impl("lifelines", lambda: _lifelines_km(big), _has_lifelines),
            ],
            notes=["lifelines: weighted estimate with its Greenwood-type CI, no robust SE"],
        ),
        Task(
            f"Cox Efron, weights + cluster (robust), {n5:,} rows, concordance not read",
            [
                Impl("cartcohort", lambda: _cox_fit(big)),
                Impl("R survival", lambda: _r_cox(big), r_available),
            ],
            notes=["R's coxph also computes the weighted concordance (O(n log n))"],
        ),
        Task(
            f"Cox Efron, weights + cluster, fit + weighted clustered concordance, {n4:,} rows",
            [
                Impl("cartcohort", lambda: _cox_concordance(small)),
                Impl("R survival", lambda: _r_cox(small), r_available),
            ],
            notes=["cartcohort's weighted concordance is O(n x deaths)"],
        ),
        Task(
            f"Logistic ML, weights + vcovCL, 5 covariates, {n5:,} rows",
            [
                Impl("cartcohort", lambda: _logistic(big)),
                Impl("R glm + sandwich", lambda: _r_logistic(big), r_available),
            ],
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
