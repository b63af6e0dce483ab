"""B-cell aplasia after CD19 CAR-T as a parameterised definition.

There is no consensus definition (docs/methods/b-cell-aplasia.md). Published operational
definitions differ in threshold, denominator and confirmation (status S, from abstracts):

* Cincinnati re-infusion series: "Loss of BCA was defined as >1% CD19+ or 100 absolute
  CD19+ cells on peripheral analysis, confirmed on a subsequent sample."
* Moffitt (LBCL): "Prolonged B-cell aplasia was defined as a CD19+ B cell count comprising
  less than 1% of peripheral blood mononuclear cells during a minimum of two separate time
  points beyond 6 months ... B cell recovery if >1% B-cells were observed in peripheral
  blood at any time".

:func:`derive_bcell_aplasia` therefore takes the threshold, the denominator (``cd19_pct``:
% of lymphocytes, or ``cd19_abs``: cells/uL) and the number of consecutive samples that
confirm a state as settings. Its defaults follow the Cincinnati wording (> 1 % of
lymphocytes is B cells detected; two consecutive samples confirm) and are a documented
choice, not a consensus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector
from cartcohort.derive.labs import _prepare
from cartcohort.errors import DerivationError

Denominator = Literal["pct_lymphocytes", "cells_per_ul"]

#: Analyte read for each denominator.
DENOMINATOR_ANALYTE: dict[str, str] = {"pct_lymphocytes": "cd19_pct", "cells_per_ul": "cd19_abs"}

#: Columns of :attr:`BCellAplasiaResult.table`, in order.
BCA_COLUMNS = (
    "patient_id",
    "bca",
    "bca_onset_day",
    "bca_loss_day",
    "bca_duration_days",
    "bca_ongoing",
    "bca_n_samples",
    "bca_reason",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BCellAplasiaResult:
    """B-cell aplasia per patient.

    Attributes
    ----------
    table
        One row per patient (:data:`BCA_COLUMNS`): ``bca`` (aplasia established: ``True``,
        ``False``, or ``<NA>`` without samples), ``bca_onset_day`` (first of the confirming
        aplastic samples), ``bca_loss_day`` (first of the confirming samples with B cells
        detected after onset; loss of aplasia), ``bca_duration_days`` (loss day, or the last
        sample while ongoing, minus onset), ``bca_ongoing`` (no confirmed loss by the last
        sample: the duration is censored), ``bca_n_samples``, ``bca_reason``.
    method
        The definition used (threshold, denominator, confirmation).
    warnings
        Problems found.
    """

    table: pd.DataFrame
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-patient table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        return f"BCellAplasiaResult(patients={len(self.table)}, warnings={len(self.warnings)})"


def _first_run(flags: np.ndarray, start: int, length: int) -> int | None:
    """Index of the first of ``length`` consecutive ``True`` flags at or after ``start``."""
    run = 0
    for i in range(start, len(flags)):
        run = run + 1 if flags[i] else 0
        if run >= length:
            return i - length + 1
    return None


def _one(days: np.ndarray, detected: np.ndarray, confirm: int) -> dict[str, object]:
    onset_i = _first_run(~detected, 0, confirm)
    if onset_i is None:
        return {
            "bca": False,
            "bca_onset_day": pd.NA,
            "bca_loss_day": pd.NA,
            "bca_duration_days": pd.NA,
            "bca_ongoing": pd.NA,
            "bca_reason": f"no {confirm} consecutive samples without B cells",
        }
    loss_i = _first_run(detected, onset_i + confirm, confirm)
    onset = int(days[onset_i])
    if loss_i is None:
        return {
            "bca": True,
            "bca_onset_day": onset,
            "bca_loss_day": pd.NA,
            "bca_duration_days": int(days[-1]) - onset,
            "bca_ongoing": True,
            "bca_reason": f"aplasia from day {onset}, ongoing at the last sample (censored)",
        }
    loss = int(days[loss_i])
    return {
        "bca": True,
        "bca_onset_day": onset,
        "bca_loss_day": loss,
        "bca_duration_days": loss - onset,
        "bca_ongoing": False,
        "bca_reason": f"aplasia from day {onset}, lost on day {loss}",
    }


def derive_bcell_aplasia(
    labs: pd.DataFrame,
    *,
    denominator: Denominator = "pct_lymphocytes",
    threshold: float = 1.0,
    confirm_samples: int = 2,
    after_day: int = 0,
    patient_ids: list[object] | None = None,
) -> BCellAplasiaResult:
    """B-cell aplasia, its onset, duration and loss from serial CD19+ B-cell counts.

    Parameters
    ----------
    labs
        Long ``labs`` table; analyte ``cd19_pct`` (% of lymphocytes) or ``cd19_abs``
        (cells/uL), in its canonical unit.
    denominator
        ``"pct_lymphocytes"`` (default; analyte ``cd19_pct``) or ``"cells_per_ul"``
        (``cd19_abs``).
    threshold
        A sample has B cells detected when its value is strictly above ``threshold``
        (default 1: "> 1 % CD19+"); at or below it the sample is aplastic.
    confirm_samples
        Consecutive samples needed to establish aplasia and to confirm its loss (default
        2: "confirmed on a subsequent sample").
    after_day
        Only samples on days strictly after this day count (default 0, the infusion).
    patient_ids
        Patients to report (default: those with samples); others get ``bca = <NA>``.

    Returns
    -------
    BCellAplasiaResult
        Per-patient aplasia flag, onset, loss day, duration, method.

    Raises
    ------
    DerivationError
        For an unknown denominator, a bad threshold or confirmation count, or labs in a
        unit other than the analyte's canonical one.

    Notes
    -----
    Aplasia is established at the first of ``confirm_samples`` consecutive aplastic samples;
    loss of aplasia at the first of ``confirm_samples`` consecutive samples with B cells
    detected after that. A single sample in between does not end aplasia. Samples, not days,
    are counted: the definition does not say how far apart confirming samples must be.
    Duration while ongoing is censored at the last sample (``bca_ongoing``).

    Examples
    --------
    >>> labs = pd.DataFrame({"patient_id": "p", "day": [14, 28, 90, 180, 200],
    ...     "analyte": "cd19_pct", "value": [0.0, 0.1, 0.2, 3.0, 5.0], "unit": "%"})
    >>> r = derive_bcell_aplasia(labs).table.iloc[0]
    >>> int(r["bca_onset_day"]), int(r["bca_loss_day"]), int(r["bca_duration_days"])
    (14, 180, 166)
    """
    if denominator not in DENOMINATOR_ANALYTE:
        msg = f"`denominator` must be one of {', '.join(DENOMINATOR_ANALYTE)}; got {denominator!r}."
        raise DerivationError(msg)
    if not isinstance(threshold, int | float) or not np.isfinite(threshold) or threshold < 0:
        msg = f"`threshold` must be a finite number >= 0; got {threshold!r}."
        raise DerivationError(msg)
    if denominator == "pct_lymphocytes" and threshold >= 100:
        msg = f"`threshold` is a percent of lymphocytes and must be < 100; got {threshold!r}."
        raise DerivationError(msg)
    if (
        isinstance(confirm_samples, bool)
        or not isinstance(confirm_samples, int)
        or confirm_samples < 1
    ):
        msg = f"`confirm_samples` must be an integer >= 1; got {confirm_samples!r}."
        raise DerivationError(msg)
    analyte = DENOMINATOR_ANALYTE[denominator]
    collector = WarningCollector()
    frame = _prepare(labs, [analyte], collector)
    frame = frame[frame["day"] > after_day]
    ids = (
        list(dict.fromkeys(patient_ids))
        if patient_ids is not None
        else list(dict.fromkeys(frame["patient_id"].tolist()))
    )
    rows: list[dict[str, object]] = []
    for pid in ids:
        sub = frame[frame["patient_id"] == pid]
        days = sub["day"].to_numpy(dtype=np.float64)
        detected = sub["value"].to_numpy(dtype=np.float64) > threshold
        if len(days) == 0:
            row: dict[str, object] = {
                "bca": pd.NA,
                "bca_onset_day": pd.NA,
                "bca_loss_day": pd.NA,
                "bca_duration_days": pd.NA,
                "bca_ongoing": pd.NA,
                "bca_reason": f"no {analyte} sample after day {after_day}",
            }
        else:
            row = _one(days, detected, confirm_samples)
        rows.append({"patient_id": pid, **row, "bca_n_samples": len(days)})
    table = pd.DataFrame(rows, columns=list(BCA_COLUMNS))
    table["bca"] = pd.array(table["bca"].tolist(), dtype="boolean")
    table["bca_ongoing"] = pd.array(table["bca_ongoing"].tolist(), dtype="boolean")
    for col in ("bca_onset_day", "bca_loss_day", "bca_duration_days", "bca_n_samples"):
        table[col] = pd.array(table[col].tolist(), dtype="Int64")
    table["bca_reason"] = table["bca_reason"].astype("string")
    unit = "% of lymphocytes" if denominator == "pct_lymphocytes" else "cells/uL"
    method = MethodInfo(
        estimator="B-cell aplasia (parameterised; no consensus definition)",
        description=(
            f"B cells detected when CD19+ > {threshold:g} {unit}; aplasia from the first of "
            f"{confirm_samples} consecutive samples without B cells after day {after_day}, "
            f"lost at the first of {confirm_samples} consecutive samples with B cells."
        ),
        options={
            "denominator": denominator,
            "threshold": float(threshold),
            "confirm_samples": confirm_samples,
            "after_day": after_day,
        },
        reference="Operational definitions (Cincinnati re-infusion series; Moffitt LBCL); "
        "see docs/methods/b-cell-aplasia.md",
    )
    return BCellAplasiaResult(table=table, method=method, warnings=collector.as_tuple())


__all__ = [
    "BCA_COLUMNS",
    "DENOMINATOR_ANALYTE",
    "BCellAplasiaResult",
    "derive_bcell_aplasia",
]
