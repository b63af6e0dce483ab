"""Endothelial risk scores before and after CAR-T infusion: EASIX, simplified EASIX, m-EASIX.

* **EASIX** = LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L)
  (Luft T et al., Lancet Haematol 2017, allogeneic HCT; formula and units as stated by
  Pennisi M et al., Blood Adv 2021;5:3397 and Greenbaum U et al., Blood Adv 2021;5:2799).
* **simplified EASIX** = LDH (U/L) / platelets (10^9/L) (Pennisi 2021: "excludes creatinine").
* **m-EASIX** = LDH (U/L) x CRP (**mg/dL**) / platelets (10^9/L) (Pennisi 2021: "replaces
  creatinine with CRP [mg/dL]").

The data standard stores CRP in mg/L; m-EASIX needs mg/dL. The conversion is made in one
place, :func:`crp_mg_l_to_mg_dl` (x 0.1), so that the 10-fold error the clinical standards
warn about cannot creep in elsewhere.

No cut-off is invented. The one published cut-off shipped is :data:`EASIX_PRE_CUTOFF`
(EASIX-pre > 4.67, Korell F et al., Front Immunol 2022), with the population it was derived
in. CAR-HEMATOTOX is **not** shipped: its point table is a figure of Rejeski K et al.,
Blood 2021;138:2499 that could not be read and verified here (see
``docs/methods/risk-scores.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.errors import DerivationError
from cartcohort.model.standard import ANALYTE_BY_NAME, analyte_for, normalise_unit

FloatArray = npt.NDArray[np.float64]
Pairing = Literal["same_day", "nearest_each"]

#: Factor converting CRP from mg/L (the data standard's unit) to mg/dL (m-EASIX's unit).
CRP_MG_DL_PER_MG_L = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedCutoff:
    """A published threshold of a risk score, with its provenance.

    Attributes
    ----------
    score
        Score it applies to, e.g. ``"EASIX"``.
    value
        The threshold, on the untransformed score.
    operator
        ``">"``: "high" means ``score > value``.
    time_point
        When the score was measured in the deriving study.
    outcome
        What the cut-off predicts.
    population
        The cohort it was derived in and validated in.
    citation
        The primary publication.
    status
        How the value was confirmed.
    """

    score: str
    value: float
    operator: Literal[">"]
    time_point: str
    outcome: str
    population: str
    citation: str
    status: str


#: EASIX-pre > 4.67 (Korell 2022): derived in the ZUMA-1 training cohort (n = 93, axi-cel,
#: large B-cell lymphoma) and associated with a 4.3-fold odds of grade >=3 CRS and/or ICANS
#: in an independent validation cohort (n = 121, Heidelberg and Charité, CD19 CAR-T).
#: Not derived in B-ALL; confirm before applying it to an ALL cohort.
EASIX_PRE_CUTOFF = PublishedCutoff(
    score="EASIX",
    value=4.67,
    operator=">",
    time_point="EASIX-pre: immediately before the start of lymphodepletion",
    outcome="grade >=3 CRS and/or ICANS",
    population=(
        "derived in the ZUMA-1 training cohort (n = 93, axicabtagene ciloleucel, LBCL); "
        "validated in 121 patients with CD19-directed CAR-T from two centres (Heidelberg, "
        "Berlin Charité)"
    ),
    citation=(
        "Korell F, Penack O, Mattie M, et al. EASIX and severe endothelial complications "
        "after CD19-directed CAR-T cell therapy - a cohort study. Front Immunol. "
        "2022;13:877477. doi:10.3389/fimmu.2022.877477"
    ),
    status=(
        "confirmed in the abstract ('An EASIX-pre cutoff >4.67 derived from the training "
        "cohort'); the scale (untransformed EASIX) is read from the abstract, the methods "
        "section was not read"
    ),
)

#: Time points at which the scores were published; pass the matching ``day``/``window``.
PUBLISHED_TIME_POINTS: dict[str, str] = {
    "EASIX-pre": (
        "immediately before the start of lymphodepletion (Korell 2022; Greenbaum 2021 "
        "'before lymphodepletion'); lymphodepletion usually starts on day -5 to -3"
    ),
    "m-EASIX": (
        "at lymphodepletion, day -1, day +1 and day +3 (Pennisi 2021: AUC for severe CRS "
        "80.4% at lymphodepletion, 73.0% at day -1, 75.4% at day +1)"
    ),
}

_COMPONENTS: dict[str, tuple[str, ...]] = {
    "EASIX": ("ldh", "creatinine", "platelets"),
    "simplified EASIX": ("ldh", "platelets"),
    "m-EASIX": ("ldh", "crp", "platelets"),
}

#: Component column of the result -> analyte; the name carries the unit the score uses.
_COLUMN: dict[str, str] = {
    "ldh": "ldh_u_l",
    "creatinine": "creatinine_mg_dl",
    "platelets": "platelets_10e9_l",
    "crp": "crp_mg_dl",
}


def crp_mg_l_to_mg_dl(crp_mg_l: FloatArray | float) -> FloatArray:
    """Convert CRP from mg/L (data standard) to mg/dL (m-EASIX): multiply by 0.1.

    Parameters
    ----------
    crp_mg_l
        CRP in mg/L.

    Returns
    -------
    numpy.ndarray
        CRP in mg/dL.

    Examples
    --------
    >>> float(crp_mg_l_to_mg_dl(50.0))
    5.0
    """
    return np.asarray(crp_mg_l, dtype=np.float64) * CRP_MG_DL_PER_MG_L


def _prepare(labs: object, analytes: Sequence[str]) -> pd.DataFrame:
    if not isinstance(labs, pd.DataFrame):
        msg = f"`labs` must be a pandas DataFrame; got {type(labs).__name__}."
        raise DerivationError(msg)
    missing = [c for c in ("patient_id", "day", "analyte", "value", "unit") if c not in labs]
    if missing:
        msg = f"`labs` lacks column(s) {missing}; expected patient_id, day, analyte, value, unit."
        raise DerivationError(msg)
    frame = labs[["patient_id", "day", "analyte", "value", "unit"]].copy()
    names: dict[object, str | None] = {}
    for a in frame["analyte"].dropna().unique():
        found = analyte_for(str(a))
        names[a] = found.name if found is not None else None
    frame["analyte"] = frame["analyte"].map(names)
    frame = frame[frame["analyte"].isin(analytes)]
    try:
        frame["day"] = pd.to_numeric(frame["day"]).astype(np.float64)
        frame["value"] = pd.to_numeric(frame["value"]).astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = "`labs.day` and `labs.value` must be numeric; validate the table first."
        raise DerivationError(msg) from exc
    frame = frame[frame["value"].notna()]
    for (name, unit), _ in frame.groupby(["analyte", "unit"], sort=True):
        canonical = ANALYTE_BY_NAME[str(name)].unit
        if normalise_unit(str(unit)) != normalise_unit(canonical):
            msg = (
                f"labs: {name} is in {unit!r}; risk scores need the canonical unit "
                f"{canonical!r} (LDH U/L, creatinine mg/dL, platelets 10^9/L, CRP mg/L, "
                "converted to mg/dL for m-EASIX here). Load the cohort with "
                "cartcohort.validate.load_cohort, which converts units."
            )
            raise DerivationError(msg)
    if (frame["analyte"] == "platelets").any() and (
        frame.loc[frame["analyte"] == "platelets", "value"] <= 0
    ).any():
        msg = "labs: a platelet count of 0 makes EASIX undefined (division by zero)."
        raise DerivationError(msg)
    if frame.duplicated(["patient_id", "analyte", "day"]).any():
        msg = "More than one lab value per patient, analyte and day; keep one value per day."
        raise DerivationError(msg)
    return frame


def _choose_day(days: pd.Series, day: float | None) -> pd.Series:
    """Per patient: the day closest to ``day`` (ties: earlier), or the latest day."""
    frame = days.reset_index()
    frame.columns = ["patient_id", "day"]
    if day is None:
        return frame.groupby("patient_id")["day"].max()
    frame["dist"] = (frame["day"] - day).abs()
    frame = frame.sort_values(["patient_id", "dist", "day"], kind="mergesort")
    return frame.groupby("patient_id")["day"].first()


def _risk_score(
    name: str,
    labs: pd.DataFrame,
    *,
    day: float | None,
    window: tuple[float, float],
    pairing: Pairing,
) -> pd.DataFrame:
    if pairing not in ("same_day", "nearest_each"):
        msg = f"`pairing` must be 'same_day' or 'nearest_each'; got {pairing!r}."
        raise DerivationError(msg)
    try:
        lo, hi = float(window[0]), float(window[1])
    except (TypeError, ValueError, IndexError) as exc:
        msg = f"`window` must be (first_day, last_day), inclusive; got {window!r}."
        raise DerivationError(msg) from exc
    if lo > hi:
        msg = f"`window` must be (first_day, last_day) with first <= last; got {window!r}."
        raise DerivationError(msg)
    comps = _COMPONENTS[name]
    all_patients = pd.Index(pd.unique(labs["patient_id"]), name="patient_id")
    frame = _prepare(labs, comps)
    frame = frame[(frame["day"] >= lo) & (frame["day"] <= hi)]
    wide = frame.pivot(index=["patient_id", "day"], columns="analyte", values="value")
    wide = wide.reindex(columns=list(comps))
    out = pd.DataFrame(index=all_patients)
    if pairing == "same_day":
        complete = wide.dropna()
        chosen = _choose_day(
            complete.index.to_frame(index=False).set_index("patient_id")["day"], day
        )
        for a in comps:
            vals = complete[a]
            out[a] = [
                vals.get((p, chosen[p]), np.nan) if p in chosen else np.nan for p in out.index
            ]
        out["day"] = chosen.reindex(out.index)
    else:
        for a in comps:
            sub = wide[a].dropna()
            chosen = _choose_day(
                sub.index.to_frame(index=False).set_index("patient_id")["day"], day
            )
            out[a] = [sub.get((p, chosen[p]), np.nan) if p in chosen else np.nan for p in out.index]
            out[f"day_{a}"] = chosen.reindex(out.index)
    present = wide.notna().groupby(level="patient_id").any().reindex(out.index, fill_value=False)
    return _finish(name, out, comps, _reasons(out, present, comps))


def _reasons(out: pd.DataFrame, present: pd.DataFrame, comps: Sequence[str]) -> list[str]:
    """Why a score could not be computed: absent components, or no day with all of them."""
    reasons = []
    missing = np.isnan(out[list(comps)].to_numpy(dtype=np.float64)).any(axis=1)
    found = present.loc[out.index, list(comps)].to_numpy(dtype=bool)
    for incomplete, row in zip(missing, found, strict=True):
        if not incomplete:
            reasons.append("")
            continue
        absent = [a for a, ok in zip(comps, row, strict=True) if not ok]
        if absent:
            reasons.append(f"no {', '.join(absent)} in window")
        else:
            reasons.append(f"no day in window with {', '.join(comps)} together")
    return reasons


def _finish(name: str, out: pd.DataFrame, comps: Sequence[str], reasons: list[str]) -> pd.DataFrame:
    if "crp" in comps:
        # the one place where CRP changes unit: mg/L (standard) -> mg/dL (m-EASIX)
        out["crp"] = crp_mg_l_to_mg_dl(out["crp"].to_numpy(dtype=np.float64))
    ldh = out["ldh"].to_numpy(dtype=np.float64)
    plt = out["platelets"].to_numpy(dtype=np.float64)
    middle = np.ones(len(out))
    if name == "EASIX":
        middle = out["creatinine"].to_numpy(dtype=np.float64)
    elif name == "m-EASIX":
        middle = out["crp"].to_numpy(dtype=np.float64)
    value = ldh * middle / plt
    with np.errstate(divide="ignore"):
        log2 = np.where(value > 0, np.log2(np.where(value > 0, value, 1.0)), np.nan)
    log2 = np.where(value == 0, -np.inf, log2)
    result = pd.DataFrame(
        {
            "patient_id": out.index.to_numpy(),
            "score": name,
            "value": value,
            "log2_value": log2,
        }
    )
    day_cols = ["day"] if "day" in out else [f"day_{a}" for a in comps]
    for c in day_cols:
        result[c] = out[c].to_numpy(dtype=np.float64)
    for a in comps:
        result[_COLUMN[a]] = out[a].to_numpy(dtype=np.float64)
    result["not_computable"] = reasons
    return result


def easix(
    labs: pd.DataFrame,
    *,
    day: float | None = None,
    window: tuple[float, float],
    pairing: Pairing = "same_day",
) -> pd.DataFrame:
    """EASIX = LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L), per patient.

    Parameters
    ----------
    labs
        The ``labs`` table in canonical units (see Notes).
    day
        Target day; the sample day closest to it in ``window`` is used (ties: earlier).
        ``None``: the latest day in the window.
    window
        ``(first_day, last_day)``, inclusive. See :data:`PUBLISHED_TIME_POINTS`.
    pairing
        ``"same_day"`` (default) or ``"nearest_each"``.

    Returns
    -------
    pandas.DataFrame
        One row per patient in ``labs``: ``patient_id, score, value, log2_value, day,
        ldh_u_l, creatinine_mg_dl, platelets_10e9_l, not_computable`` (``value`` NaN and
        the missing components named when the score cannot be computed).

    Raises
    ------
    DerivationError
        If a unit is not canonical (named in the message), a platelet count is 0, or an
        option is invalid.

    Notes
    -----
    Units: LDH U/L, creatinine mg/dL, platelets 10^9/L (Pennisi 2021). ``log2_value`` is
    log2(EASIX), the scale on which Korell 2022 reports effects ("OR per 2-fold
    increase"). The published cut-off :data:`EASIX_PRE_CUTOFF` (> 4.67) applies to
    untransformed EASIX measured before lymphodepletion, in the population it describes.

    References
    ----------
    Luft T, et al. Lancet Haematol. 2017;4:e414 (EASIX, alloHCT). Pennisi M, et al.
    Blood Adv. 2021;5(17):3397-3406. Korell F, et al. Front Immunol. 2022;13:877477.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": ["P1"] * 3, "day": [-5] * 3,
    ...                      "analyte": ["ldh", "creatinine", "platelets"],
    ...                      "value": [300.0, 1.2, 150.0], "unit": ["U/L", "mg/dL", "10^9/L"]})
    >>> round(float(easix(labs, window=(-7, -5))["value"].iloc[0]), 6)
    2.4
    """
    return _risk_score("EASIX", labs, day=day, window=window, pairing=pairing)


def simplified_easix(
    labs: pd.DataFrame,
    *,
    day: float | None = None,
    window: tuple[float, float],
    pairing: Pairing = "same_day",
) -> pd.DataFrame:
    """Simplified EASIX = LDH (U/L) / platelets (10^9/L), per patient (Pennisi 2021).

    Parameters
    ----------
    labs
        The ``labs`` table in canonical units.
    day
        Target day; ``None``: the latest day in ``window``.
    window
        ``(first_day, last_day)``, inclusive.
    pairing
        ``"same_day"`` (default) or ``"nearest_each"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`easix`, with components ``ldh_u_l, platelets_10e9_l``.

    Raises
    ------
    DerivationError
        If a unit is not canonical, a platelet count is 0, or an option is invalid.

    Notes
    -----
    No published cut-off is shipped.

    References
    ----------
    Pennisi M, et al. Blood Adv. 2021;5(17):3397-3406.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": ["P1"] * 2, "day": [0, 0],
    ...                      "analyte": ["ldh", "platelets"], "value": [300.0, 150.0],
    ...                      "unit": ["U/L", "10^9/L"]})
    >>> float(simplified_easix(labs, window=(0, 0))["value"].iloc[0])
    2.0
    """
    return _risk_score("simplified EASIX", labs, day=day, window=window, pairing=pairing)


def m_easix(
    labs: pd.DataFrame,
    *,
    day: float | None = None,
    window: tuple[float, float],
    pairing: Pairing = "same_day",
) -> pd.DataFrame:
    """m-EASIX = LDH (U/L) x CRP (mg/dL) / platelets (10^9/L), per patient (Pennisi 2021).

    Parameters
    ----------
    labs
        The ``labs`` table in canonical units; CRP in **mg/L** as the data standard stores
        it. It is converted to mg/dL by :func:`crp_mg_l_to_mg_dl` (x 0.1) before use.
    day
        Target day; ``None``: the latest day in ``window``.
    window
        ``(first_day, last_day)``, inclusive. Published time points: lymphodepletion,
        day -1, day +1, day +3 (:data:`PUBLISHED_TIME_POINTS`).
    pairing
        ``"same_day"`` (default) or ``"nearest_each"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`easix`, with components ``ldh_u_l, crp_mg_dl, platelets_10e9_l``
        (``crp_mg_dl`` is the converted value that entered the score).

    Raises
    ------
    DerivationError
        If a unit is not canonical, a platelet count is 0, or an option is invalid.

    Notes
    -----
    CRP in mg/L instead of mg/dL would make m-EASIX 10 times too large; the conversion is
    made once, explicitly. Numeric m-EASIX cut-offs were not confirmed and none is shipped.

    References
    ----------
    Pennisi M, et al. Modified EASIX predicts severe cytokine release syndrome and
    neurotoxicity after chimeric antigen receptor T cells. Blood Adv. 2021;5(17):3397-3406.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": ["P1"] * 3, "day": [1] * 3,
    ...                      "analyte": ["ldh", "crp", "platelets"],
    ...                      "value": [300.0, 50.0, 150.0], "unit": ["U/L", "mg/L", "10^9/L"]})
    >>> float(m_easix(labs, window=(1, 1))["value"].iloc[0])
    10.0
    """
    return _risk_score("m-EASIX", labs, day=day, window=window, pairing=pairing)


__all__ = [
    "CRP_MG_DL_PER_MG_L",
    "EASIX_PRE_CUTOFF",
    "PUBLISHED_TIME_POINTS",
    "PublishedCutoff",
    "crp_mg_l_to_mg_dl",
    "easix",
    "m_easix",
    "simplified_easix",
]
