"""Benchmarks: competing risks (Aalen–Johansen CIF + Gray's test; Fine–Gray) against peers.

Run alone with ``python benchmarks/bench_competing.py [full|quick]``. ``full`` uses the
target sizes: the CIF of 2 causes in 3 groups plus Gray's test on 100,000 rows (target
1 s), and Fine–Gray with 3 covariates on 100,000 rows (target 5 s). ``quick`` uses 1/100.

Peers:
- lifelines ``AalenJohansenFitter`` (one fit per group and cause, with variance; it has no
  Gray test, and it jitters tied times, so its numbers differ from cmprsk's);
- R ``cmprsk::cuminc`` (CIF + Gray's test) and ``cmprsk::crr``. ``crr`` is O(n^2) per
  iteration and O(n^3) in its variance (about 90 s at 10,000 rows), so it is run only on
  5,000 rows (50 in ``quick``), in a separate task; the 100,000-row Fine–Gray task has no
  peer (neither lifelines nor statsmodels has Fine–Gray).
R is timed inside R (``system.time``, CSV reading and start-up excluded).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, r_available, standalone, time_r, tmp_csv

from cartcohort.analyse.competing import cumulative_incidence, fine_gray

CIF_TARGET_SECONDS = 1.0
FG_TARGET_SECONDS = 5.0
FULL_ROWS = 100_000
CRR_ROWS = 5_000


def _has(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return check


def make_data(n: int, *, tied: bool, seed: int = 20240611) -> pd.DataFrame:
    """Synthetic cohort: cause 1 depends on covariates, cause 2 does not, uniform censoring.

    ``tied`` rounds times to whole days (a few hundred distinct values); otherwise times
    are continuous (n distinct values).
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], size=n)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    lp = 0.4 * x1 - 0.3 * x2 + 0.2 * (group == "B") + 0.4 * (group == "C")
    t1 = rng.exponential(365.0 * np.exp(-lp))
    t2 = rng.exponential(540.0, size=n)
    tc = rng.uniform(30.0, 900.0, size=n)
    t = np.minimum(np.minimum(t1, t2), tc)
    status = np.where(t == tc, 0, np.where(t1 < t2, 1, 2))
    return pd.DataFrame(
        {
            "time": np.ceil(t) if tied else t,
            "status": status,
            "group": group,
            "x1": x1,
            "x2": x2,
        }
    )


def _with_entry(d: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    late = rng.uniform(size=len(d)) < 0.5
    entry = np.where(late, np.floor(rng.uniform(size=len(d)) * d["time"].to_numpy()), 0.0)
    out = d.assign(entry=entry)
    return out[out["entry"] < out["time"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# implementations
# --------------------------------------------------------------------------------------


def _cc_cif(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        return cumulative_incidence(d, time="time", event="status", by="group").gray_test

    return run


def _cc_cif_entry(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Gray's test is not computed with delayed entry"
            return cumulative_incidence(
                d, time="time", event="status", by="group", start="entry"
            ).table

    return run


def _lifelines_cif(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        from lifelines import AalenJohansenFitter

        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "tied event times ... jittering"
            for g in ("A", "B", "C"):
                sub = d[d["group"] == g]
                for cause in (1, 2):
                    fit = AalenJohansenFitter(calculate_variance=True, seed=1)
                    fit.fit(sub["time"], sub["status"], event_of_interest=cause)
                    out.append(fit.cumulative_density_)
        return out

    return run


def _cc_fine_gray(d: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        return fine_gray(
            d, time="time", event="status", cause=1, covariates=["x1", "x2", "group"]
        ).table

    return run


def _r(d: pd.DataFrame, script: str, repeat: int) -> Callable[[], object]:
    path = tmp_csv(d)

    def run() -> object:
        return time_r(script, path, repeat=repeat)

    return run


R_CUMINC = "f <- cuminc(d$time, d$status, d$group)"
R_SURVFIT_ENTRY = (
    "d$id <- seq_len(nrow(d)); "
    "f <- survfit(Surv(entry, time, factor(status)) ~ group, data = d, id = id)"
)
R_CRR = (
    "x <- cbind(d$x1, d$x2, d$group == 'B', d$group == 'C'); "
    "f <- crr(d$time, d$status, x, failcode = 1, cencode = 0)"
)


def cases(scale: str) -> list[Task]:
    """Benchmark tasks at ``scale`` "full" (target sizes) or "quick" (1/100 of them)."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    div = 1 if scale == "full" else 100
    n, n_crr = FULL_ROWS // div, CRR_ROWS // div
    tied, cont, small = (
        make_data(n, tied=True),
        make_data(n, tied=False),
        make_data(n_crr, tied=True),
    )
    # Delayed entry: half the rows enter at a uniform fraction of their time. The
    # jackknife variance costs O(n) per distinct event time, so the continuous case is
    # run at 1/10 of the rows.
    entry_tied = _with_entry(tied)
    entry_cont = _with_entry(make_data(max(n // 10, 100), tied=False))

    def size(d: pd.DataFrame) -> str:
        return f"{len(d):,} rows, {d['time'].nunique():,} distinct times"

    def cif_impls(d: pd.DataFrame) -> list[Impl]:
        return [
            Impl("cartcohort", lambda: _cc_cif(d)),
            Impl("lifelines", lambda: _lifelines_cif(d), _has("lifelines")),
            Impl("R cmprsk", lambda: _r(d, R_CUMINC, repeat=3), r_available),
        ]

    return [
        Task(
            f"CIF 3 groups x 2 causes + Gray test ({size(tied)})",
            cif_impls(tied),
            target_seconds=CIF_TARGET_SECONDS,
        ),
        Task(
            f"CIF 3 groups x 2 causes + Gray test ({size(cont)})",
            cif_impls(cont),
            target_seconds=CIF_TARGET_SECONDS,
        ),
        Task(
            f"CIF with delayed entry, 3 groups x 2 causes ({size(entry_tied)})",
            [
                Impl("cartcohort", lambda: _cc_cif_entry(entry_tied)),
                Impl("R survival", lambda: _r(entry_tied, R_SURVFIT_ENTRY, repeat=1), r_available),
            ],
            repeat=1 if scale == "full" else 3,
        ),
        Task(
            f"CIF with delayed entry, 3 groups x 2 causes ({size(entry_cont)})",
            [
                Impl("cartcohort", lambda: _cc_cif_entry(entry_cont)),
                Impl("R survival", lambda: _r(entry_cont, R_SURVFIT_ENTRY, repeat=1), r_available),
            ],
            repeat=1 if scale == "full" else 3,
        ),
        Task(
            f"Fine-Gray, 4 terms ({size(tied)})",
            [Impl("cartcohort", lambda: _cc_fine_gray(tied))],
            target_seconds=FG_TARGET_SECONDS,
        ),
        Task(
            f"Fine-Gray, 4 terms ({size(cont)})",
            [Impl("cartcohort", lambda: _cc_fine_gray(cont))],
            target_seconds=FG_TARGET_SECONDS,
        ),
        Task(
            f"Fine-Gray, 4 terms, R-sized ({size(small)})",
            [
                Impl("cartcohort", lambda: _cc_fine_gray(small)),
                Impl("R cmprsk", lambda: _r(small, R_CRR, repeat=1), r_available),
            ],
            repeat=1 if scale == "full" else 3,
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
