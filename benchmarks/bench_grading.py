"""CRS and ICANS grading at scale: 100,000 patients x 30 days of observations (target 10 s).

``cases(scale)`` returns the tasks for ``benchmarks/run.py``; run this file alone
(``python benchmarks/bench_grading.py [--scale quick]``) to print the timings.
There is no peer implementation: no other package grades daily CRS/ICANS series.
The synthetic cohort uses the data standard's nullable dtypes (``boolean``,
``Int64``, categorical) with about 5 % missing values per input, as the
validator produces them.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, standalone

from cartcohort.derive.toxicity import GradingWarning, grade_crs, grade_icans
from cartcohort.model.standard import (
    CEREBRAL_EDEMA,
    CONSCIOUSNESS,
    MOTOR_WEAKNESS,
    O2_DEVICE,
    SEIZURE,
)

SIZES = {"full": (100_000, 30), "quick": (1_000, 30)}
TARGET_SECONDS = 10.0


def _with_missing(
    values: pd.api.extensions.ExtensionArray, rng: np.random.Generator, frac: float = 0.05
) -> pd.api.extensions.ExtensionArray:
    out = values.copy()
    out[rng.random(len(values)) < frac] = pd.NA
    return out


def synthetic_observations(n_patients: int, n_days: int, seed: int = 20240501) -> pd.DataFrame:
    """A validator-shaped observations table with realistic CRS/ICANS mixes."""
    rng = np.random.default_rng(seed)
    n = n_patients * n_days
    pid = np.repeat(np.array([f"P{i:06d}" for i in range(n_patients)], dtype=object), n_days)
    day = np.tile(np.arange(n_days, dtype=np.int64), n_patients)

    def boolean(p: float) -> pd.api.extensions.ExtensionArray:
        return _with_missing(pd.array(rng.random(n) < p, dtype="boolean"), rng)

    def category(vocab: tuple[str, ...], p: list[float]) -> pd.Categorical:
        codes = rng.choice(len(vocab), size=n, p=p)
        codes[rng.random(n) < 0.05] = -1
        return pd.Categorical.from_codes(codes, categories=list(vocab))

    temp = np.round(rng.normal(37.6, 0.8, n), 1)
    temp[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "patient_id": pid,
            "day": day,
            "temp_c": temp,
            "antipyretic": boolean(0.2),
            "tocilizumab": boolean(0.05),
            "corticosteroids": boolean(0.03),
            "hypotension": boolean(0.1),
            "vasopressors": _with_missing(
                pd.array(rng.choice(3, size=n, p=[0.93, 0.05, 0.02]), dtype="Int64"), rng
            ),
            "vasopressin": boolean(0.02),
            "o2_device": category(
                O2_DEVICE, [0.8, 0.08, 0.02, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01]
            ),
            "o2_flow_l_min": np.where(
                rng.random(n) < 0.5,
                np.nan,
                rng.choice([0.0, 2.0, 4.0, 6.0, 6.5, 10.0, 40.0], size=n),
            ),
            "ice_score": _with_missing(pd.array(rng.integers(0, 11, n), dtype="Int64"), rng),
            "consciousness": category(CONSCIOUSNESS, [0.85, 0.06, 0.04, 0.03, 0.02]),
            "seizure": category(SEIZURE, [0.97, 0.02, 0.01]),
            "motor_weakness": category(MOTOR_WEAKNESS, [0.99, 0.01]),
            "cerebral_edema": category(CEREBRAL_EDEMA, [0.98, 0.015, 0.005]),
        }
    )


@lru_cache(maxsize=2)
def _cohort(scale: str) -> pd.DataFrame:
    return synthetic_observations(*SIZES[scale])


def _quiet(fn: Callable[[], object]) -> Callable[[], object]:
    """The synthetic oxygen records include contradictions on purpose; do not print warnings."""

    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GradingWarning)
            return fn()

    return run


def cases(scale: str) -> list[Task]:
    """Tasks for ``benchmarks/run.py``: 100,000 x 30 at ``full``, 1,000 x 30 at ``quick``."""
    n_patients, n_days = SIZES[scale]
    label = f"{n_patients:,} patients x {n_days} days"

    def setup_crs() -> Callable[[], object]:
        obs = _cohort(scale)
        return _quiet(lambda: grade_crs(obs))

    def setup_icans() -> Callable[[], object]:
        obs = _cohort(scale)
        return _quiet(lambda: grade_icans(obs))

    def setup_both() -> Callable[[], object]:
        obs = _cohort(scale)
        return _quiet(lambda: (grade_crs(obs), grade_icans(obs)))

    notes = ["no peer: no other package grades daily CRS/ICANS series"]
    return [
        Task(
            f"ASTCT CRS grading, {label}",
            [Impl("cartcohort", setup_crs)],
            target_seconds=TARGET_SECONDS,
            notes=notes,
        ),
        Task(
            f"ASTCT ICANS grading, {label}",
            [Impl("cartcohort", setup_icans)],
            target_seconds=TARGET_SECONDS,
            notes=notes,
        ),
        Task(
            f"CRS + ICANS grading, {label}",
            [Impl("cartcohort", setup_both)],
            target_seconds=TARGET_SECONDS,
            notes=notes,
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
