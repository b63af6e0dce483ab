"""Benchmark reading and validating: a demo-sized cohort and a 100,000-row observations table.

Run ``python benchmarks/bench_validate.py`` to print median wall times; the
``cases(scale)`` function plugs into the shared harness (``benchmarks/_harness.py``).
The data are generated with a fixed seed (20240601) and are valid, so the timings
measure the full pipeline that a clean cohort goes through (every rule runs;
none reports).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, standalone

from cartcohort.ingest import read_frames, read_source
from cartcohort.validate import validate_cohort

SEED = 20240601


def make_cohort(n_patients: int, n_days: int, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """A valid synthetic cohort: patients, one infusion each, daily observations and labs."""
    rng = np.random.default_rng(seed)
    pid = np.array([f"P{i:05d}" for i in range(n_patients)], dtype=object)
    best = rng.choice(["CR", "CRi", "PR", "NR"], n_patients, p=[0.6, 0.1, 0.1, 0.2])
    death = rng.random(n_patients) < 0.3
    death_day = np.where(death, rng.integers(n_days, 3 * n_days + 30, n_patients), np.nan)
    followup = np.where(death, death_day, rng.integers(n_days, 4 * n_days + 30, n_patients))
    patients = pd.DataFrame(
        {
            "patient_id": pid,
            "sex": rng.choice(["M", "F"], n_patients),
            "age_years": rng.integers(2, 80, n_patients),
            "infusion_date": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n_patients), unit="D"),
            "dose_cells_per_kg": rng.choice([1e6, 3e6, 5e6], n_patients),
            "crs_grade": rng.integers(0, 5, n_patients),
            "best_response": best,
            "response_day": 28,
            "death": death,
            "death_day": pd.array(death_day, dtype="Int64"),
            "last_followup_day": pd.array(followup, dtype="Int64"),
        }
    )
    days = np.arange(-2, n_days - 2)
    n = n_patients * len(days)
    observations = pd.DataFrame(
        {
            "patient_id": np.repeat(pid, len(days)),
            "day": np.tile(days, n_patients),
            "temp_c": np.round(rng.normal(37.6, 0.9, n), 1),
            "antipyretic": rng.random(n) < 0.2,
            "hypotension": rng.random(n) < 0.1,
            "vasopressors": rng.integers(0, 2, n),
            "o2_device": rng.choice(
                ["none", "low_flow_nasal_cannula", "high_flow_nasal_cannula"],
                n,
                p=[0.8, 0.15, 0.05],
            ),
            "o2_flow_l_min": np.round(rng.uniform(0, 10, n), 1),
            "ice_score": rng.integers(4, 11, n),
            "consciousness": rng.choice(["alert", "awakens_to_voice"], n, p=[0.95, 0.05]),
        }
    )
    analytes = {"crp": "mg/dL", "il6": "pg/mL", "ferritin": "ug/L"}
    labs = observations[["patient_id", "day"]].copy()
    labs["analyte"] = rng.choice(list(analytes), len(labs))
    labs["value"] = np.round(rng.lognormal(3, 1, len(labs)), 2)
    labs["unit"] = labs["analyte"].map(analytes)
    return {"patients": patients, "observations": observations, "labs": labs}


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _write_csv(frames: dict[str, pd.DataFrame]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cartcohort-bench-"))
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _validate_frames(frames: dict[str, pd.DataFrame]) -> Callable[[], object]:
    raw = read_frames(frames)

    def run() -> object:
        cohort, report = validate_cohort(raw)
        assert cohort is not None, report.render_text()
        return cohort

    return run


def _read_and_validate(folder: Path) -> Callable[[], object]:
    def run() -> object:
        cohort, report = validate_cohort(read_source(folder))
        assert cohort is not None, report.render_text()
        return cohort

    return run


def cases(scale: str = "full") -> list[Task]:
    """Benchmark tasks for the shared harness (``scale="small"`` for a quick run)."""
    big = 100_000 if scale == "full" else 10_000
    demo = make_cohort(150, 30)
    large = make_cohort(big // 50, 50)
    large_csv = _write_csv(large)
    return [
        Task(
            name="validate demo-sized cohort (150 patients, 4,500 observations)",
            impls=[Impl("cartcohort", lambda: _validate_frames(demo))],
            target_seconds=1.0,
        ),
        Task(
            name=f"validate {big:,}-row observations + labs (in memory)",
            impls=[Impl("cartcohort", lambda: _validate_frames(large))],
            target_seconds=5.0,
        ),
        Task(
            name=f"read CSV folder + validate, {big:,}-row observations + labs",
            impls=[Impl("cartcohort", lambda: _read_and_validate(large_csv))],
            target_seconds=10.0,
        ),
    ]


if __name__ == "__main__":
    standalone(cases)
