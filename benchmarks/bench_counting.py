"""Benchmarks: counting-process (start, stop] Cox regression and the split, against R.

Run alone with ``python benchmarks/bench_counting.py [full|quick]``. ``full`` uses the
target sizes; ``quick`` 1/100 of them (a smoke run).

Data: 100,000 patients with 5 standard-normal covariates, exponential event times in
whole days (about 60 % events), and three time-dependent indicators, each switching on
at a uniform day in [1, 1.5 x follow-up) (missing when after follow-up), so follow-up
splits into about 300,000 intervals. Tasks: ``to_counting_process`` against R ``tmerge``
(three ``tdc``), and ``cox_ph(start=)`` with 8 covariates (Efron) against R
``coxph(Surv(tstart, tstop, event) ~ ...)`` (fit, tests and concordance in both).
lifelines' ``CoxTimeVaryingFitter`` is listed when lifelines is installed (it is not a
dependency and not installed in the reference environment).

For one exposure (``hsct`` alone, about 1.7 intervals per patient), the two tests of
``type: time_dependent_exposure`` on the split rows: the Mantel-Byar test (log-rank with
``start=``) and the Simon-Makuch curves (Kaplan–Meier with ``start=``) against R
``survfit(Surv(tstart, tstop, event) ~ hsct)`` and lifelines' ``KaplanMeierFitter`` with
``entry=`` (one fit per group). R has no counting-process log-rank: the Mantel-Byar test
is the score test of ``coxph(..., ties = "exact")``, which gave no answer within 120 s
already at 1,000 patients (1,655 intervals), so it is not timed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, r_available, standalone, time_r, tmp_csv

from cartcohort.analyse.counting import to_counting_process
from cartcohort.analyse.cox import cox_ph
from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test

COVARIATES = [f"x{i}" for i in range(1, 6)]
TD = ("hsct", "relapse", "gvhd")
BETA = np.array([0.5, -0.3, 0.2, 0.1, 0.0])


def _has(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return check


def make_patients(n: int, seed: int = 20261207) -> pd.DataFrame:
    """One row per patient; both change days fall strictly inside follow-up."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    event_time = np.ceil(rng.exponential(300.0 * np.exp(-x @ BETA))) + 2
    censor_time = np.ceil(rng.exponential(600.0, n)) + 2
    time = np.minimum(event_time, censor_time)
    frame = pd.DataFrame(x, columns=COVARIATES)
    frame.insert(0, "id", np.arange(n))
    frame["time"] = time
    frame["event"] = (event_time <= censor_time).astype(np.int64)
    # Three indicators; each switches on at a uniform day in [1, 1.5 time): inside
    # follow-up for about 2/3 of patients (later days are unobserved: missing), so
    # follow-up splits into about 3 intervals per patient.
    for name in TD:
        day = 1 + np.floor(rng.random(n) * (1.5 * time - 1))
        frame[f"{name}_day"] = np.where(day < time, day, np.nan)
    return frame


def _split(p: pd.DataFrame) -> pd.DataFrame:
    return to_counting_process(
        p,
        id="id",
        time="time",
        event="event",
        changes={t: f"{t}_day" for t in TD},
    )


def _cartcohort_split(p: pd.DataFrame) -> Callable[[], object]:
    return lambda: _split(p)


def _cartcohort_fit(s: pd.DataFrame) -> Callable[[], object]:
    covariates = [*COVARIATES, *TD]
    return lambda: cox_ph(s, start="tstart", time="tstop", event="event", covariates=covariates)


def _r_split(p: pd.DataFrame, repeat: int) -> Callable[[], object]:
    script = (
        "s <- tmerge(d[, c('id', 'x1', 'x2', 'x3', 'x4', 'x5')], d, id = id,"
        " death = event(time, event));"
        "s <- tmerge(s, d, id = id, hsct = tdc(hsct_day), relapse = tdc(relapse_day),"
        " gvhd = tdc(gvhd_day))"
    )
    path = tmp_csv(p)
    return lambda: time_r(script, path, repeat=repeat)


def _r_fit(s: pd.DataFrame, repeat: int) -> Callable[[], object]:
    script = (
        "f <- coxph(Surv(tstart, tstop, event) ~ x1 + x2 + x3 + x4 + x5 + hsct + relapse + gvhd,"
        " data = d, ties = 'efron')"
    )
    path = tmp_csv(s)
    return lambda: time_r(script, path, repeat=repeat)


def _lifelines(s: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        from lifelines import CoxTimeVaryingFitter

        cols = ["id", "tstart", "tstop", "event", *COVARIATES, *TD]
        return (
            CoxTimeVaryingFitter()
            .fit(s[cols], id_col="id", event_col="event", start_col="tstart", stop_col="tstop")
            .summary
        )

    return run


def _split_one(p: pd.DataFrame) -> pd.DataFrame:
    """Follow-up split at the HSCT day only (one time-dependent exposure)."""
    cols = ["id", "time", "event", "hsct_day"]
    return to_counting_process(
        p[cols], id="id", time="time", event="event", changes={"hsct": "hsct_day"}
    )


def _cartcohort_mantel_byar(s: pd.DataFrame) -> Callable[[], object]:
    return lambda: logrank_test(s, start="tstart", time="tstop", event="event", by="hsct")


def _cartcohort_simon_makuch(s: pd.DataFrame) -> Callable[[], object]:
    return lambda: kaplan_meier(s, start="tstart", time="tstop", event="event", by="hsct")


def _r_simon_makuch(s: pd.DataFrame, repeat: int) -> Callable[[], object]:
    script = "f <- survfit(Surv(tstart, tstop, event) ~ hsct, data = d, conf.type = 'log-log')"
    path = tmp_csv(s)
    return lambda: time_r(script, path, repeat=repeat)


def _lifelines_simon_makuch(s: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        from lifelines import KaplanMeierFitter

        fits = []
        for _, group in s.groupby("hsct"):
            fits.append(
                KaplanMeierFitter()
                .fit(group["tstop"], group["event"], entry=group["tstart"])
                .survival_function_
            )
        return fits

    return run


def cases(scale: str) -> list[Task]:
    """Benchmark tasks at ``scale`` "full" (target sizes) or "quick" (1/100)."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    n = 100_000 if scale == "full" else 1_000
    patients = make_patients(n)
    split = _split(patients)
    rows = f"{n:,} patients -> {len(split):,} intervals"
    one = _split_one(patients)
    rows_one = f"{n:,} patients -> {len(one):,} intervals"
    return [
        Task(
            f"to_counting_process, 3 time-dependent indicators, {rows}",
            [
                Impl("cartcohort", lambda: _cartcohort_split(patients)),
                Impl("R survival", lambda: _r_split(patients, 3), r_available),
            ],
        ),
        Task(
            f"Cox Efron, counting process, 5 + 3 time-dependent covariates, {rows}",
            [
                Impl("cartcohort", lambda: _cartcohort_fit(split)),
                Impl("lifelines", lambda: _lifelines(split), _has("lifelines")),
                Impl("R survival", lambda: _r_fit(split, 3), r_available),
            ],
        ),
        Task(
            f"Mantel-Byar test (log-rank, start=), HSCT as time-dependent exposure, {rows_one}",
            [Impl("cartcohort", lambda: _cartcohort_mantel_byar(one))],
        ),
        Task(
            f"Simon-Makuch curves (Kaplan-Meier, start=), by current HSCT state, {rows_one}",
            [
                Impl("cartcohort", lambda: _cartcohort_simon_makuch(one)),
                Impl("lifelines", lambda: _lifelines_simon_makuch(one), _has("lifelines")),
                Impl("R survival", lambda: _r_simon_makuch(one, 3), r_available),
            ],
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
