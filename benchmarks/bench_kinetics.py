"""Benchmarks: CAR-T kinetics NCA (Cmax, Tmax, AUC0-28/84, Tlast, half-life) per infusion.

Run alone with ``python benchmarks/bench_kinetics.py [full|quick]``. ``full`` is 10,000
patients x 2 infusions x 15 samples (300,000 rows, 20,000 profiles; target: at most 2 s);
``quick`` uses 1/100 of the patients.

Peers: R PKNCA is not installed here (and cannot be installed from CRAN in this
environment), so it is listed as skipped rather than estimated. A straightforward
per-profile Python loop (Cmax, lin-up/log-down AUC0-28 and the half-life point selection,
one profile at a time, as a reader would write it) does the same profiles, to show what
the vectorised segment reductions buy.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, r_available, standalone

from cartcohort.derive.kinetics import kinetics_nca

TARGET_SECONDS = 2.0
FULL_PATIENTS = 10_000
DAYS = np.array([0, 4, 7, 10, 14, 21, 28, 42, 56, 84, 120, 180, 270, 365, 540], dtype=float)


def make_data(n_patients: int, *, seed: int = 20240611) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic qPCR profiles: expansion to a peak near day 10-14, biexponential decline.

    Two infusions per patient, the second 600 days after the first, 15 samples each,
    LLOQ 50 copies/µg with values below it coded 0.
    """
    rng = np.random.default_rng(seed)
    n_prof = n_patients * 2
    peak = np.exp(rng.normal(np.log(3e4), 1.0, n_prof))
    tpk = rng.choice([7.0, 10.0, 14.0], n_prof)
    k1 = np.exp(rng.normal(np.log(0.2), 0.3, n_prof))
    k2 = np.exp(rng.normal(np.log(0.01), 0.4, n_prof))
    t = np.tile(DAYS, n_prof)
    i = np.repeat(np.arange(n_prof), len(DAYS))
    rise = peak[i] * np.exp(-(((t - tpk[i]) / 4.0) ** 2))
    fall = peak[i] * (0.9 * np.exp(-k1[i] * (t - tpk[i])) + 0.1 * np.exp(-k2[i] * (t - tpk[i])))
    value = np.where(t <= tpk[i], rise, fall) * np.exp(rng.normal(0, 0.2, len(t)))
    value = np.where(value < 50.0, 0.0, np.round(value, 1))
    patient = np.char.add("P", (i // 2).astype(str))
    infusion = i % 2 + 1
    day = t + np.where(infusion == 2, 600.0, 0.0)
    kin = pd.DataFrame(
        {
            "patient_id": patient,
            "infusion": infusion,
            "day": day,
            "value": value,
            "unit": "copies_per_ug_dna",
            "lloq": 50.0,
        }
    )
    inf = pd.DataFrame(
        {
            "patient_id": np.repeat(np.char.add("P", np.arange(n_patients).astype(str)), 2),
            "infusion": np.tile([1, 2], n_patients),
            "day": np.tile([0.0, 600.0], n_patients),
        }
    )
    return kin, inf


def _cartcohort(kin: pd.DataFrame, inf: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return kinetics_nca(kin, infusions=inf)

    return run


def _loop_one(t: np.ndarray, c: np.ndarray) -> tuple[float, float, float]:
    """Cmax, AUC0-28 (lin-up/log-down, BLQ kept) and half-life of one profile, naively."""
    cmax = float(c.max())
    auc = 0.0
    for j in range(len(t) - 1):
        if t[j + 1] > 28:
            break
        if c[j + 1] < c[j] and c[j + 1] > 0:
            auc += (t[j + 1] - t[j]) * (c[j] - c[j + 1]) / np.log(c[j] / c[j + 1])
        else:
            auc += (t[j + 1] - t[j]) * (c[j] + c[j + 1]) / 2
    after = (t > t[int(np.argmax(c))]) & (c > 0)
    tt, yy = t[after], np.log(c[after])
    best = (-np.inf, np.nan, 0)
    for n in range(3, len(tt) + 1):
        slope, intercept = np.polyfit(tt[-n:], yy[-n:], 1)
        resid = yy[-n:] - (slope * tt[-n:] + intercept)
        r2 = 1 - resid @ resid / np.sum((yy[-n:] - yy[-n:].mean()) ** 2)
        adj = 1 - (1 - r2) * (n - 1) / (n - 2)
        if -slope > 0 and adj > best[0] - 1e-4:
            best = (max(adj, best[0]), np.log(2) / -slope, n)
    return cmax, auc, best[1]


def _loop(kin: pd.DataFrame) -> Callable[[], object]:
    profiles = [
        (g["day"].to_numpy() - g["day"].min(), g["value"].to_numpy())
        for _, g in kin.groupby(["patient_id", "infusion"], sort=False)
    ]

    def run() -> object:
        return [_loop_one(t, c) for t, c in profiles]

    return run


def _pknca_available() -> bool:
    if not r_available():
        return False
    out = subprocess.run(
        ["Rscript", "-e", "cat(requireNamespace('PKNCA', quietly=TRUE))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip().endswith("TRUE")


def cases(scale: str) -> list[Task]:
    """Tasks for ``run.py``: NCA of 20,000 profiles (``full``) or 200 (``quick``)."""
    n = FULL_PATIENTS if scale == "full" else FULL_PATIENTS // 100
    kin, inf = make_data(n)
    return [
        Task(
            name=f"kinetics NCA, {n:,} patients x 2 infusions x 15 samples",
            impls=[
                Impl("cartcohort", lambda: _cartcohort(kin, inf)),
                Impl("python per-profile loop", lambda: _loop(kin)),
                Impl("R PKNCA", lambda: lambda: None, available=_pknca_available),
            ],
            target_seconds=TARGET_SECONDS if scale == "full" else None,
            notes=[
                "The loop peer computes fewer parameters (Cmax, AUC0-28, half-life).",
                "R PKNCA is skipped when not installed (no CRAN access here).",
            ],
        )
    ]


if __name__ == "__main__":
    standalone(cases)
