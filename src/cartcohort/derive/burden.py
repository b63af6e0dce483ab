"""Pre-infusion tumour burden groups for CD19 CAR-T in B-ALL.

Three groupings, each with configurable cut-points and a citation:

* ``burden_group`` -- **low** (MRD-positive disease with < 5 % marrow blasts) vs **high**
  (>= 5 % marrow blasts, and, by default, *or* extramedullary disease). Two published rules:

  - blasts alone (``emd_makes_high=False``), seed 000: "low tumor burden group ... minimal
    residual disease (MRD) with bone marrow blast percentages ranging from 0.01 to less
    than 5; the remaining 45 patients were in the high tumor burden group, with bone marrow
    blasts percentages equalling or exceeding 5";
  - blasts or extramedullary disease (``emd_makes_high=True``, the default), seed 002:
    "active disease (blasts >= 5 % or with extramedullary disease)"; Park JH et al., NEJM
    2018;378:449 (< 5 % vs >= 5 % or extramedullary).

  Under the second rule a patient with < 5 % blasts whose extramedullary status is missing
  could be either: ``missing_extramedullary`` says whether such a patient has no group
  (``"unknown"``, the default), is read as without (``"absent"``) or with (``"present"``)
  extramedullary disease.
* ``burden_subgroup`` -- seed 000's five ordered subgroups: "(a) 0% tumor burden with MRD
  positivity; (b) 0% < tumor burden < 5%; (c) 5% <= tumor burden < 20%; (d) 20% <= tumor
  burden < 50%; and e) tumor burden >= 50%".
* ``burden_split`` -- seed 004's split of marrow blasts ">= 20% vs. < 20%".

Missing inputs never default to "low": a patient whose group cannot be determined gets a
missing value and the reason in ``burden_reason``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.derive.response import MRD_NEGATIVE_BELOW_PCT, _flag, _number, _patient_ids
from cartcohort.errors import DerivationError

#: Marrow blasts (%) below which MRD-positive disease is "low burden" (seeds 000, 002; Park 2018).
LOW_MAX_BLASTS_PCT: float = 5.0
#: Lower bounds of seed 000's subgroups b-e (subgroup a is 0 % blasts with MRD positivity).
SUBGROUP_CUTS: tuple[float, ...] = (0.0, 5.0, 20.0, 50.0)
#: Marrow-blast split of seed 004 (">= 20% vs. < 20%").
HIGH_SPLIT_PCT: float = 20.0

BURDEN_GROUPS: tuple[str, str] = ("low", "high")
MissingExtramedullary = Literal["unknown", "absent", "present"]
#: The accepted ``missing_extramedullary`` settings.
MISSING_EXTRAMEDULLARY: tuple[str, ...] = ("unknown", "absent", "present")

_FloatArray = npt.NDArray[np.float64]


def subgroup_labels(cuts: Sequence[float]) -> tuple[str, ...]:
    """Ordered labels of the burden subgroups for ``cuts``.

    Parameters
    ----------
    cuts
        Increasing lower bounds starting at 0, e.g. ``(0, 5, 20, 50)``.

    Returns
    -------
    tuple of str
        ``("0% MRD+", "0-5%", "5-20%", "20-50%", ">=50%")`` for the default cuts.

    Examples
    --------
    >>> subgroup_labels((0, 5, 20, 50))
    ('0% MRD+', '0-5%', '5-20%', '20-50%', '>=50%')
    """
    bounds = [float(c) for c in cuts]
    middle = [f"{a:g}-{b:g}%" for a, b in itertools.pairwise(bounds)]
    return ("0% MRD+", *middle, f">={bounds[-1]:g}%")


def _check_settings(low_max: float, cuts: Sequence[float], split: float) -> None:
    c = [float(x) for x in cuts]
    if len(c) < 2 or c[0] != 0.0 or any(b <= a for a, b in itertools.pairwise(c)):
        msg = (
            f"`subgroup_cuts` must be strictly increasing lower bounds starting at 0 with at "
            f"least two values, e.g. (0, 5, 20, 50); got {tuple(cuts)!r}."
        )
        raise DerivationError(msg)
    for name, value in (("low_max_blasts_pct", low_max), ("high_split_pct", split)):
        if not 0 < value <= 100:
            msg = f"`{name}` must be a percentage in (0, 100]; got {value!r}."
            raise DerivationError(msg)


def _check_range(ids: pd.Series, values: _FloatArray, col: str) -> None:
    bad = ~np.isnan(values) & ((values < 0) | (values > 100))
    if bad.any():
        who = ids.to_numpy(dtype=object)[bad][:5].tolist()
        msg = f"`{col}` must be a percentage in [0, 100]; patients {who} are outside."
        raise DerivationError(msg)


def derive_burden(
    patients: pd.DataFrame,
    *,
    low_max_blasts_pct: float = LOW_MAX_BLASTS_PCT,
    subgroup_cuts: Sequence[float] = SUBGROUP_CUTS,
    high_split_pct: float = HIGH_SPLIT_PCT,
    mrd_negative_below_pct: float = MRD_NEGATIVE_BELOW_PCT,
    missing_extramedullary: MissingExtramedullary = "unknown",
    emd_makes_high: bool = True,
) -> pd.DataFrame:
    """Tumour burden group, seed 000 subgroup and seed 004 split for each patient.

    Parameters
    ----------
    patients
        Patient sheet with ``patient_id``, ``bm_blasts_pct`` (pre-infusion marrow blasts,
        %), ``mrd_pct`` (pre-infusion MRD, % of nucleated cells) and
        ``extramedullary_disease`` (at infusion). Nullable or plain dtypes.
    low_max_blasts_pct
        Blasts below this are low burden (if MRD-positive and no extramedullary disease);
        at or above it, high. Default 5 %.
    subgroup_cuts
        Lower bounds of the blast subgroups after "0% MRD+"; default ``(0, 5, 20, 50)``
        gives seed 000's five subgroups. Intervals are closed on the left:
        ``cuts[i] <= blasts < cuts[i+1]``, except that the first interval excludes 0.
    high_split_pct
        Blast level of ``burden_split`` (default 20 %, seed 004): ``>= split`` vs ``< split``.
    mrd_negative_below_pct
        MRD below this is negative (default 0.01 %), so a patient with 0 % blasts is
        "0% MRD+" only when ``mrd_pct >= 0.01``.
    missing_extramedullary
        ``"unknown"`` (default): a patient with < 5 % blasts whose extramedullary status is
        missing has no group (it could be high). ``"absent"``: read a missing status as no
        extramedullary disease; ``"present"``: as extramedullary disease (say so in the
        methods when used). Ignored when ``emd_makes_high`` is false.
    emd_makes_high
        Whether extramedullary disease makes a patient high burden whatever the blasts
        (seed 002; default) or the groups use marrow blasts alone (seed 000).

    Returns
    -------
    pandas.DataFrame
        A copy of ``patients`` (same rows and order) with ordered Categoricals
        ``burden_group`` (low < high), ``burden_subgroup`` (five levels for the default
        cuts) and ``burden_split`` (``<20%`` < ``>=20%``), and the string column
        ``burden_reason`` saying how each group was reached or why it is missing.

    Raises
    ------
    DerivationError
        If a percentage is outside [0, 100] or the cut-points are invalid.

    Notes
    -----
    The subgroups and the split use marrow blasts only; the group also uses
    extramedullary disease, which makes a patient high whatever the blasts (so it can be
    known when blasts are missing). A patient with 0 % blasts and MRD < 0.01 % (seed
    002's "< 0.01 %" row) has no detectable disease and belongs to no group.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "bm_blasts_pct": [3.0, 60.0],
    ...                   "mrd_pct": [2.5, None], "extramedullary_disease": [False, False]})
    >>> derive_burden(p)["burden_subgroup"].astype(str).tolist()
    ['0-5%', '>=50%']
    """
    _check_settings(low_max_blasts_pct, subgroup_cuts, high_split_pct)
    ids = _patient_ids(patients, "patients")
    blasts = _number(patients, "bm_blasts_pct")
    mrd = _number(patients, "mrd_pct")
    _check_range(ids, blasts, "bm_blasts_pct")
    _check_range(ids, mrd, "mrd_pct")
    if missing_extramedullary not in MISSING_EXTRAMEDULLARY:
        msg = (
            "`missing_extramedullary` must be 'unknown', 'absent' or 'present'; "
            f"got {missing_extramedullary!r}."
        )
        raise DerivationError(msg)
    n = len(patients)
    if emd_makes_high:
        emd = _flag(patients, "extramedullary_disease")
        emd_true = emd.fillna(value=missing_extramedullary == "present").to_numpy(dtype=bool)
        emd_known_false = (~emd.fillna(value=missing_extramedullary != "absent")).to_numpy(
            dtype=bool
        )
    else:  # marrow blasts alone (seed 000): extramedullary disease plays no part
        emd_true = np.zeros(n, dtype=bool)
        emd_known_false = np.ones(n, dtype=bool)

    has_b = ~np.isnan(blasts)
    zero = has_b & (blasts == 0)
    mrd_pos = ~np.isnan(mrd) & (mrd >= mrd_negative_below_pct)
    mrd_neg = ~np.isnan(mrd) & (mrd < mrd_negative_below_pct)
    marrow_disease = (has_b & (blasts > 0)) | (zero & mrd_pos)  # MRD-positive or more
    b = np.where(has_b, blasts, 0.0)

    out = patients.copy()
    out["burden_group"] = _group(
        emd_true, emd_known_false, has_b & (b >= low_max_blasts_pct), marrow_disease
    )
    cuts = tuple(float(c) for c in subgroup_cuts)
    labels = subgroup_labels(cuts)
    code = np.where(zero, 0, 1 + np.searchsorted(cuts[1:], b, side="right"))
    code = np.where(has_b & (~zero | mrd_pos), code, -1)
    out["burden_subgroup"] = pd.Categorical.from_codes(
        code, dtype=pd.CategoricalDtype(list(labels), ordered=True)
    )
    split_labels = [f"<{high_split_pct:g}%", f">={high_split_pct:g}%"]
    split_code = np.where(has_b, (b >= high_split_pct).astype(int), -1)
    out["burden_split"] = pd.Categorical.from_codes(
        split_code, dtype=pd.CategoricalDtype(split_labels, ordered=True)
    )
    reasons = _reasons(blasts, mrd, emd_true, emd_known_false, zero, mrd_neg, low_max_blasts_pct)
    if emd_makes_high and missing_extramedullary != "unknown":
        # say where a missing extramedullary status was read as absent or present
        missing = _flag(patients, "extramedullary_disease").isna().to_numpy(dtype=bool)
        read = f"extramedullary_disease missing, read as {missing_extramedullary}"
        reasons = [
            ("high: " + read if r.startswith("high: extra") else f"{r} ({read})")
            if m and (r.startswith("low") or r.startswith("high: extra"))
            else r
            for r, m in zip(reasons, missing, strict=True)
        ]
    out["burden_reason"] = pd.array(reasons, dtype="string")
    return out


def _group(
    emd_true: npt.NDArray[np.bool_],
    emd_known_false: npt.NDArray[np.bool_],
    blasts_high: npt.NDArray[np.bool_],
    marrow_disease: npt.NDArray[np.bool_],
) -> pd.Categorical:
    high = emd_true | blasts_high
    low = ~high & marrow_disease & emd_known_false
    code = np.where(high, 1, np.where(low, 0, -1))
    return pd.Categorical.from_codes(
        code, dtype=pd.CategoricalDtype(list(BURDEN_GROUPS), ordered=True)
    )


def _reasons(
    blasts: _FloatArray,
    mrd: _FloatArray,
    emd_true: npt.NDArray[np.bool_],
    emd_known_false: npt.NDArray[np.bool_],
    zero: npt.NDArray[np.bool_],
    mrd_neg: npt.NDArray[np.bool_],
    low_max: float,
) -> list[str]:
    out: list[str] = []
    for i in range(blasts.shape[0]):
        b, m = blasts[i], mrd[i]
        if emd_true[i]:
            out.append("high: extramedullary disease")
        elif np.isnan(b):
            out.append("not derivable: bm_blasts_pct missing")
        elif b >= low_max:
            out.append(f"high: bm_blasts_pct {b:g} >= {low_max:g}")
        elif zero[i] and np.isnan(m):
            out.append("not derivable: bm_blasts_pct 0 and mrd_pct missing (MRD+ or negative?)")
        elif zero[i] and mrd_neg[i]:
            out.append(f"no group: no detectable disease (blasts 0 %, mrd_pct {m:g})")
        elif not emd_known_false[i]:
            out.append(
                f"not derivable: extramedullary_disease missing (blasts < {low_max:g} % "
                "could still be high)"
            )
        elif zero[i]:
            out.append(f"low: bm_blasts_pct 0, MRD-positive (mrd_pct {m:g})")
        else:
            out.append(f"low: bm_blasts_pct {b:g} < {low_max:g}")
    return out


__all__ = [
    "BURDEN_GROUPS",
    "HIGH_SPLIT_PCT",
    "LOW_MAX_BLASTS_PCT",
    "MISSING_EXTRAMEDULLARY",
    "SUBGROUP_CUTS",
    "derive_burden",
    "subgroup_labels",
]
