"""Cross-scale CRS concordance: one cohort graded under several systems.

Published comparisons find that CRS scales agree on the *presence* of CRS far
more often than on its *grade* (Pennisi et al., Blood Adv 2020;4:676: same
grade in 25 % of patients). :func:`crs_concordance` grades every patient under
each requested system and :func:`concordance_table` reports, for every pair of
systems, how often the per-patient maximum grades agree -- counting only
patients whose maximum grade is determined under both systems.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from cartcohort.derive.toxicity.crs import (
    CRS_METHOD,
    CRS_SCALES,
    RESOLUTION_DAYS,
    FeverWaiver,
    MissingTreatment,
    VasopressinAlone,
    WaiverStart,
    grade_crs,
    summarize_crs,
)
from cartcohort.errors import DerivationError

_DEFAULT_SYSTEMS = ("astct", "lee2014", "penn", "mskcc", "cartox", "ctcae_v4.03")


def crs_concordance(
    observations: pd.DataFrame,
    *,
    systems: Sequence[str] = _DEFAULT_SYSTEMS,
    events: pd.DataFrame | None = None,
    fever_waiver: FeverWaiver = "within_episode",
    waiver_start: WaiverStart = "same_day",
    waiver_drugs: Sequence[str] = ("antipyretic", "tocilizumab", "corticosteroids", "anticytokine"),
    vasopressin_alone: VasopressinAlone = "one_vasopressor",
    missing_treatment: MissingTreatment = "unknown",
    resolution_days: int = RESOLUTION_DAYS,
) -> pd.DataFrame:
    """Per-patient maximum CRS grade under several grading systems.

    Parameters
    ----------
    observations
        The observations table (see :func:`~cartcohort.grade_crs`), including the
        extra columns the legacy scales need.
    systems
        Keys of the systems to compare (default: all six).
    events
        Optional events table for grade 5 (death from CRS).
    fever_waiver, waiver_start, waiver_drugs, vasopressin_alone, missing_treatment
        ASTCT settings, passed to :func:`~cartcohort.grade_crs` for ``"astct"``.
    resolution_days
        Days without findings that end a CRS episode, passed to every system.

    Returns
    -------
    pandas.DataFrame
        ``patient_id`` and one ``Int64`` column per system key holding the
        maximum grade (``<NA>`` when it is not determined by the data). The
        provenance (system key -> version string) is in ``.attrs["systems"]``.

    Raises
    ------
    DerivationError
        An unknown system, or no system.
    """
    if isinstance(systems, str) or not systems:
        msg = f"`systems` must be a non-empty sequence of keys from {list(CRS_SCALES)}."
        raise DerivationError(msg)
    unknown = [s for s in systems if s not in CRS_SCALES]
    if unknown:
        msg = f"unknown CRS systems {unknown}; choose from {list(CRS_SCALES)}."
        raise DerivationError(msg)
    out: pd.DataFrame | None = None
    for system in systems:
        graded = grade_crs(
            observations,
            events=events,
            system=system,  # type: ignore[arg-type]  # checked above
            fever_waiver=fever_waiver,
            waiver_start=waiver_start,
            waiver_drugs=waiver_drugs,
            vasopressin_alone=vasopressin_alone,
            missing_treatment=missing_treatment,
            resolution_days=resolution_days,
        )
        summary = summarize_crs(graded)
        col = summary[["patient_id", "max_grade"]].rename(columns={"max_grade": system})
        out = col if out is None else out.merge(col, on="patient_id", how="outer")
    assert out is not None  # systems is non-empty
    out.attrs["systems"] = {s: CRS_METHOD[s] for s in systems}
    return out.sort_values("patient_id", ignore_index=True)


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Unweighted Cohen's kappa of two integer vectors."""
    if a.size == 0:
        return float("nan")
    cats = np.union1d(a, b)
    p_o = float(np.mean(a == b))
    pa = np.array([np.mean(a == k) for k in cats])
    pb = np.array([np.mean(b == k) for k in cats])
    p_e = float(np.sum(pa * pb))
    if p_e >= 1.0:
        return float("nan")
    return (p_o - p_e) / (1.0 - p_e)


def concordance_table(
    concordance: pd.DataFrame, *, systems: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pairwise agreement between grading systems.

    Parameters
    ----------
    concordance
        Output of :func:`crs_concordance`.
    systems
        Columns to compare (default: every system column of ``concordance``).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``system_a, system_b, n`` (patients gradable under
        both), ``n_same_grade, prop_same_grade, n_same_presence,
        prop_same_presence`` (both >= 1 or both 0), ``n_a_higher, n_b_higher``
        and ``kappa`` (unweighted Cohen's kappa on the grades; NaN when
        undefined). Proportions are in [0, 1]; they are NaN when ``n == 0``.

    Raises
    ------
    DerivationError
        Fewer than two systems, or a named column missing.
    """
    cols = (
        list(systems)
        if systems is not None
        else [c for c in concordance.columns if c != "patient_id"]
    )
    missing = [c for c in cols if c not in concordance.columns]
    if missing or len(cols) < 2:
        msg = f"need at least two system columns present in `concordance`; got {cols}."
        raise DerivationError(msg)
    rows = []
    for a, b in combinations(cols, 2):
        both = concordance[a].notna() & concordance[b].notna()
        ga = concordance.loc[both, a].to_numpy(dtype=np.int64)
        gb = concordance.loc[both, b].to_numpy(dtype=np.int64)
        n = int(ga.size)
        same = int(np.sum(ga == gb))
        presence = int(np.sum((ga >= 1) == (gb >= 1)))
        rows.append(
            {
                "system_a": a,
                "system_b": b,
                "n": n,
                "n_same_grade": same,
                "prop_same_grade": same / n if n else float("nan"),
                "n_same_presence": presence,
                "prop_same_presence": presence / n if n else float("nan"),
                "n_a_higher": int(np.sum(ga > gb)),
                "n_b_higher": int(np.sum(ga < gb)),
                "kappa": _kappa(ga, gb),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["concordance_table", "crs_concordance"]
