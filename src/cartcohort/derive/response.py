"""Best response, responder flags and MRD-negative CR for CD19 CAR-T in B-ALL.

Definitions (sources in ``docs/methods/tumour-burden-and-response.md``):

* **CR**: < 5 % marrow blasts (M1), no circulating blasts, no extramedullary disease,
  ANC >= 1.0 x 10^9/L and platelets >= 100 x 10^9/L; **CRi**: CR criteria without the
  count recovery (BBMT 2010 ALL response table; CIBMTR ALL response criteria).
* **Responder**: CR or CRi (the overall remission rate of ELIANA and ZUMA-3). PR is *not*
  a response in B-ALL CAR-T reporting; NE (not evaluable) is neither a response nor a
  failure and gives a missing ``responder``.
* **MRD-negative CR**: a responder whose marrow MRD at the response assessment is below
  0.01 % (10^-4; seeds 000 and 004: "less than 0.01 % ... by multiparameter flow
  cytometry"). NGS results below the assay's own limit of detection are reported
  separately in ``mrd_negative_ngs`` (clonoSEQ reaches 10^-6).
* **Relapse** (``relapse_day_marrow``): ``relapse_rule`` -- ``bbmt2010`` (default; marrow
  blasts >= 25 %, BBMT 2010 ALL response table), ``ponte_di_legno_2022`` (Buchmann et al.,
  Blood 2022: MRD >= 25 %, or 5-25 % / 1-5 % with confirming tests) or ``threshold`` (a
  user-given percent).
* **B-cell aplasia** is derived separately, from serial peripheral-blood CD19+ counts
  (:func:`cartcohort.derive.bcell_aplasia.derive_bcell_aplasia`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._pandas import categorical
from cartcohort.errors import DerivationError
from cartcohort.model.standard import RESPONSE

#: Responses that count as a response (remission) in B-ALL CAR-T reporting.
RESPONDER_LEVELS: tuple[str, ...] = ("CR", "CRi")
#: Responses that count as treatment failure (no CR/CRi).
FAILURE_LEVELS: tuple[str, ...] = ("PR", "NR")
#: Rank used to pick the best response from marrow assessments (higher is better).
RESPONSE_RANK: dict[str, int] = {"CR": 4, "CRi": 3, "PR": 2, "NR": 1, "NE": 0}
#: MRD below this level (% of nucleated cells) is negative: 0.01 % = 10^-4 (seeds 000, 004).
MRD_NEGATIVE_BELOW_PCT: float = 0.01
#: Marrow-blast level (%) of the former single-threshold default (loss of M1 marrow, seed
#: 000's "> 5 %"). No published relapse rule uses it alone; kept for ``relapse_rule=
#: "threshold"`` callers that want the old numbers (``relapse_blasts_pct=RELAPSE_BLASTS_PCT``).
RELAPSE_BLASTS_PCT: float = 5.0
#: Relapse rules of :func:`derive_response` (docs/methods/tumour-burden-and-response.md):
#: ``bbmt2010`` -- BBMT 2010 ALL response table, marrow blasts >= 25 % (default);
#: ``ponte_di_legno_2022`` -- Buchmann et al. Blood 2022, graded by MRD with confirming tests;
#: ``threshold`` -- marrow blasts >= a user-given ``relapse_blasts_pct``.
RELAPSE_RULES: tuple[str, ...] = ("bbmt2010", "ponte_di_legno_2022", "threshold")
#: BBMT 2010: "The reappearance of leukemia blast cells in the blood or the bone marrow
#: (>= 25%) or in any other extramedullary site after a CR" (PMC7272718, table T4).
BBMT2010_RELAPSE_BLASTS_PCT: float = 25.0
RelapseRule = Literal["bbmt2010", "ponte_di_legno_2022", "threshold"]

_RESPONSE_SOURCES = ("reported", "marrow")
_BoolArray = npt.NDArray[np.bool_]


# ------------------------------------------------------------------------------------------
# Input coercion shared by the derive modules (accepts nullable and plain dtypes)
# ------------------------------------------------------------------------------------------
def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as a nullable ``boolean`` Series (all missing when absent)."""
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    s = frame[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("object")
    try:
        return s.astype("boolean")
    except (TypeError, ValueError) as exc:
        values = s.dropna().unique()[:3].tolist()
        msg = (
            f"column `{col}` must be boolean (True/False/missing); got values such as "
            f"{values!r}. Run the validator (cartcohort validate) to normalise yes/no codes."
        )
        raise DerivationError(msg) from exc


def _number(frame: pd.DataFrame, col: str) -> npt.NDArray[np.float64]:
    """Column ``col`` as float64 with NaN for missing (all NaN when absent)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    try:
        values = pd.to_numeric(frame[col], errors="raise").astype("Float64")
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"column `{col}` must be numeric; {exc}."
        raise DerivationError(msg) from exc


def _days(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as ``Int64`` study days; non-integer values are an error."""
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    try:
        values = pd.to_numeric(frame[col], errors="raise")
        return values.astype("Int64")
    except (TypeError, ValueError) as exc:
        msg = (
            f"column `{col}` must hold integer days since infusion; {exc}. Convert ISO dates "
            "with the validator (it uses infusion_date)."
        )
        raise DerivationError(msg) from exc


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as a stripped ``string`` Series (all missing when absent)."""
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[col].astype("object").astype("string").str.strip()


def _patient_ids(frame: pd.DataFrame, table: str) -> pd.Series:
    if "patient_id" not in frame.columns:
        msg = f"`{table}` needs a `patient_id` column (see docs/data-standard.md)."
        raise DerivationError(msg)
    ids = frame["patient_id"].astype("string")
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())[:5].tolist()
        msg = f"`{table}.patient_id` is missing in rows {rows}; every row needs an identifier."
        raise DerivationError(msg)
    return ids


def _response_levels(frame: pd.DataFrame, col: str = "best_response") -> pd.Series:
    """Response column with canonical spellings (case-insensitive) or an error."""
    raw = _text(frame, col)
    canon = {level.lower(): level for level in (*RESPONSE, "relapse")}
    lowered = raw.str.lower()
    out = lowered.map(canon, na_action="ignore").astype("string")
    bad = raw.notna() & out.isna()
    if bad.any():
        values = sorted(set(raw[bad].tolist()))[:5]
        msg = (
            f"column `{col}` must be one of {', '.join(RESPONSE)}; found {values!r}. "
            "Map local codes with the ingest mapping before deriving."
        )
        raise DerivationError(msg)
    return out


# ------------------------------------------------------------------------------------------
# Marrow-based derivation
# ------------------------------------------------------------------------------------------
def _marrow_frame(marrow: pd.DataFrame) -> pd.DataFrame:
    ids = _patient_ids(marrow, "marrow")
    day = _days(marrow, "day")
    if day.isna().any():
        msg = "`marrow.day` is missing in some rows; every assessment needs its day."
        raise DerivationError(msg)
    return pd.DataFrame(
        {
            "patient_id": ids.to_numpy(dtype=object),
            "day": day.to_numpy(dtype=np.int64),
            "response": _response_levels(marrow, "response").to_numpy(dtype=object),
            "bm_blasts_pct": _number(marrow, "bm_blasts_pct"),
            "mrd_pct": _number(marrow, "mrd_pct"),
            "mrd_method": _text(marrow, "mrd_method").str.lower().to_numpy(dtype=object),
            "mrd_sensitivity_pct": _number(marrow, "mrd_sensitivity_pct"),
            "emd": _flag(marrow, "extramedullary_disease").fillna(value=False).to_numpy(bool),
        }
    )


def _best_from_marrow(mf: pd.DataFrame, last_day: int) -> pd.DataFrame:
    """Best response (and the first day it was reached) per patient, days 1..last_day."""
    window = mf[(mf["day"] > 0) & (mf["day"] <= last_day) & mf["response"].isin(RESPONSE_RANK)]
    if window.empty:
        return pd.DataFrame(columns=["patient_id", "best", "best_day"])
    ranked = window.assign(rank=window["response"].map(RESPONSE_RANK))
    ranked = ranked.sort_values(["patient_id", "rank", "day"], ascending=[True, False, True])
    first = ranked.drop_duplicates("patient_id", keep="first")
    return pd.DataFrame(
        {
            "patient_id": first["patient_id"].to_numpy(),
            "best": first["response"].to_numpy(),
            "best_day": first["day"].to_numpy(),
        }
    )


def _mrd_call(
    value: float, method: object, sensitivity: float, threshold: float
) -> tuple[object, object, str]:
    """(negative at threshold, NGS negative below its LOD, reason) for one assessment."""
    if np.isnan(value):
        return pd.NA, pd.NA, "mrd_pct missing at the response assessment"
    if not np.isnan(sensitivity) and sensitivity > threshold and value < threshold:
        neg: object = pd.NA
        why = f"assay sensitivity {sensitivity:g} % cannot show MRD < {threshold:g} %"
    else:
        neg = bool(value < threshold)
        why = f"mrd_pct {value:g} % ({method if isinstance(method, str) else 'method ?'})"
    if method != "ngs":
        return neg, pd.NA, why
    if np.isnan(sensitivity):
        return neg, pd.NA, why + "; NGS sensitivity missing"
    return neg, bool(value < sensitivity), why + f"; NGS LOD {sensitivity:g} %"


def _pdl_relapse(mf: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Ponte-di-Legno 2022 marrow relapse per row (BM1), confirmed on BM1 or the next marrow.

    The standard carries per marrow one MRD value (``mrd_pct``, its method) and the
    morphology blasts (``bm_blasts_pct``) -- at most one "other test" besides MRD. A test is
    positive at >= 1 %. BM1 MRD >= 25 %: relapse; 5 to < 25 %: relapse with one other
    positive test on BM1 or two positive tests on the next marrow (BM2); 1 to < 5 %: two
    other positive tests on BM1 (never available here) or two positive tests on BM2.
    """
    out = np.zeros(len(mf), dtype=bool)
    order = mf.sort_values(["patient_id", "day"], kind="mergesort")
    for _, rows in order.groupby("patient_id", sort=False):
        idx = rows.index.to_numpy()
        mrd = rows["mrd_pct"].to_numpy(dtype=np.float64)
        blasts = rows["bm_blasts_pct"].to_numpy(dtype=np.float64)
        for k in range(len(idx)):
            level = mrd[k]
            if np.isnan(level) or level < 1.0:
                continue
            # morphology is the one "other test" the standard carries (MRD is flow/PCR/NGS)
            other = int(bool(blasts[k] >= 1.0))
            nxt = k + 1
            bm2_two = nxt < len(idx) and bool(mrd[nxt] >= 1.0) and bool(blasts[nxt] >= 1.0)
            if level >= 25.0:
                out[mf.index.get_loc(idx[k])] = True
            elif level >= 5.0:
                out[mf.index.get_loc(idx[k])] = other >= 1 or bm2_two
            else:
                out[mf.index.get_loc(idx[k])] = other >= 2 or bm2_two
    return out


def _relapse_hits(
    mf: pd.DataFrame, rule: RelapseRule, relapse_blasts_pct: float
) -> npt.NDArray[np.bool_]:
    """Marrow rows that are a relapse under ``rule`` (a ``relapse`` call and extramedullary
    disease count under every rule)."""
    called = (mf["response"] == "relapse").to_numpy(dtype=bool) | mf["emd"].to_numpy(dtype=bool)
    blasts = mf["bm_blasts_pct"].to_numpy(dtype=np.float64)
    if rule == "bbmt2010":
        hit = blasts >= BBMT2010_RELAPSE_BLASTS_PCT
    elif rule == "threshold":
        hit = blasts >= relapse_blasts_pct
    else:
        hit = _pdl_relapse(mf)
    return np.asarray(called | hit, dtype=bool)


def _marrow_relapse_days(
    mf: pd.DataFrame, start: pd.Series, rule: RelapseRule, relapse_blasts_pct: float
) -> pd.Series:
    """First marrow relapse after ``start`` (patient_id -> response day) per patient."""
    hit = _relapse_hits(mf, rule, relapse_blasts_pct)
    rows = mf.loc[hit, ["patient_id", "day"]]
    rows = rows[rows["day"].to_numpy() > start.reindex(rows["patient_id"]).to_numpy(float)]
    return rows.groupby("patient_id")["day"].min()


def resolve_relapse_rule(rule: RelapseRule | None, pct: float | None) -> tuple[RelapseRule, float]:
    """The rule and threshold to use; ``relapse_blasts_pct`` alone means ``threshold``."""
    if rule is None:
        rule = "threshold" if pct is not None else "bbmt2010"
    if rule not in RELAPSE_RULES:
        msg = f"`relapse_rule` must be one of {', '.join(RELAPSE_RULES)}; got {rule!r}."
        raise DerivationError(msg)
    if rule == "threshold":
        if pct is None:
            msg = "`relapse_rule='threshold'` needs `relapse_blasts_pct` (a percent, 0-100)."
            raise DerivationError(msg)
        if not 0 < float(pct) <= 100:
            msg = f"`relapse_blasts_pct` must be in (0, 100]; got {pct!r}."
            raise DerivationError(msg)
        return rule, float(pct)
    if pct is not None:
        msg = (
            f"`relapse_blasts_pct` applies only to relapse_rule='threshold'; the {rule} rule "
            "fixes its own levels."
        )
        raise DerivationError(msg)
    return rule, np.nan


# ------------------------------------------------------------------------------------------
# Public function
# ------------------------------------------------------------------------------------------
def derive_response(
    patients: pd.DataFrame,
    marrow: pd.DataFrame | None = None,
    *,
    by_day: int = 28,
    window_days: int = 7,
    mrd_negative_below_pct: float = MRD_NEGATIVE_BELOW_PCT,
    relapse_rule: RelapseRule | None = None,
    relapse_blasts_pct: float | None = None,
) -> pd.DataFrame:
    """Best response by day 28, responder and MRD-negative-CR flags, one row per patient.

    Parameters
    ----------
    patients
        Patient sheet (data standard ``patients``): ``patient_id`` and, where known,
        ``best_response``, ``response_day``, ``mrd_negative``. Nullable or plain dtypes.
    marrow
        Optional marrow assessments (``marrow`` table: ``day``, ``response``, ``mrd_pct``,
        ``mrd_method``, ``mrd_sensitivity_pct``, ``bm_blasts_pct``,
        ``extramedullary_disease``). Used to derive a best response where the sheet has
        none, to read the MRD value at the response assessment, and to find the first
        marrow relapse.
    by_day, window_days
        Marrow assessments on days ``1 .. by_day + window_days`` count towards the best
        response (default days 1-35: "day 28" with a one-week visit window).
    mrd_negative_below_pct
        MRD strictly below this level (%) is negative (default 0.01 % = 10^-4).
    relapse_rule
        How a responder's later marrow is called a relapse (only for
        ``relapse_day_marrow``): ``"bbmt2010"`` (default; blasts >= 25 %, BBMT 2010 ALL
        response table), ``"ponte_di_legno_2022"`` (MRD >= 25 %, or 1-25 % with confirming
        tests; Buchmann et al. Blood 2022) or ``"threshold"`` (blasts >=
        ``relapse_blasts_pct``). A ``relapse`` call or extramedullary disease is a relapse
        under every rule. Sources and what the data cannot carry:
        docs/methods/tumour-burden-and-response.md.
    relapse_blasts_pct
        Percent for ``relapse_rule="threshold"``; given alone, it selects that rule (the
        behaviour before ``relapse_rule`` existed, whose default was 5).

    Returns
    -------
    pandas.DataFrame
        A copy of ``patients`` (same rows and order) with ``best_response`` and
        ``response_day`` filled from the marrow where they were missing, and new columns:

        ``response_source``
            ``reported`` (taken from the sheet as given) or ``marrow`` (derived).
        ``responder``
            ``True`` for CR/CRi, ``False`` for PR/NR, missing for NE or no response.
        ``mrd_negative_cr``
            ``True`` for a responder with MRD < ``mrd_negative_below_pct`` at the
            response assessment (any method whose sensitivity reaches the threshold), or
            with the sheet's ``mrd_negative`` flag when no marrow value exists; ``False``
            for non-responders; missing when unknown.
        ``mrd_negative_ngs``
            ``True`` for a responder whose NGS MRD is below the assay's own limit of
            detection (``mrd_sensitivity_pct``); missing without an NGS result.
        ``relapse_day_marrow``
            First marrow assessment after the response that is a relapse under
            ``relapse_rule`` (responders only).
        ``response_reason``
            How each value was obtained or why it is missing.

    Raises
    ------
    DerivationError
        For unknown response codes, non-integer days or bad settings.

    Notes
    -----
    Best of the marrow calls is CR > CRi > PR > NR (NE only if nothing else was
    called); ``response_day`` is the first assessment reaching that best level. Calls
    ``relapse`` are ignored for the best response. A reported ``best_response`` is used
    as reported, whatever its day. B-cell aplasia: see ``derive_bcell_aplasia``.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "best_response": ["CRi", "NR"]})
    >>> derive_response(p)["responder"].tolist()
    [True, False]
    """
    if by_day < 0 or window_days < 0:
        msg = f"`by_day` and `window_days` must be >= 0; got {by_day} and {window_days}."
        raise DerivationError(msg)
    rule, pct = resolve_relapse_rule(relapse_rule, relapse_blasts_pct)
    ids = _patient_ids(patients, "patients")
    out = patients.copy()
    best = _response_levels(patients).to_numpy(dtype=object, copy=True)
    rday = _days(patients, "response_day").to_numpy(dtype=object, copy=True)
    known = [pd.notna(b) for b in best]
    source = np.array(["reported" if k else None for k in known], dtype=object)
    reason = np.array(
        ["best_response as reported" if k else "best_response missing" for k in known],
        dtype=object,
    )
    mf = _marrow_frame(marrow) if marrow is not None else None
    if mf is not None:
        derived = _best_from_marrow(mf, by_day + window_days).set_index("patient_id")
        for i, pid in enumerate(ids.to_numpy(dtype=object)):
            if pd.isna(best[i]) and pid in derived.index:
                best[i] = derived.at[pid, "best"]
                rday[i] = int(derived.at[pid, "best_day"])
                source[i] = "marrow"
                reason[i] = f"best marrow call by day {by_day + window_days}"
            elif pd.isna(best[i]):
                reason[i] = f"no reported response and no marrow call by day {by_day + window_days}"
    out["best_response"] = categorical(best, list(RESPONSE))
    out["response_day"] = pd.array(rday, dtype="Int64")
    out["response_source"] = categorical(source, list(_RESPONSE_SOURCES))
    responder = np.array(
        [pd.NA if pd.isna(b) or b == "NE" else b in RESPONDER_LEVELS for b in best],
        dtype=object,
    )
    out["responder"] = pd.array(responder, dtype="boolean")
    neg, ngs, mrd_reason = _mrd_columns(patients, ids, responder, rday, mf, mrd_negative_below_pct)
    out["mrd_negative_cr"] = pd.array(neg, dtype="boolean")
    out["mrd_negative_ngs"] = pd.array(ngs, dtype="boolean")
    relapse = pd.Series(pd.NA, index=ids.to_numpy(dtype=object), dtype="Int64")
    if mf is not None:
        is_resp = np.array([r is True for r in responder]) & pd.notna(rday)
        start = pd.Series(
            [float(d) if ok else np.nan for d, ok in zip(rday, is_resp, strict=True)],
            index=ids.to_numpy(dtype=object),
        )
        found = _marrow_relapse_days(mf, start[~start.index.duplicated()], rule, pct)
        relapse = found.reindex(ids.to_numpy(dtype=object)).astype("Int64")
    out["relapse_day_marrow"] = relapse.to_numpy()
    out["response_reason"] = pd.array(
        [f"{r}; {m}" for r, m in zip(reason, mrd_reason, strict=True)], dtype="string"
    )
    return out


def _mrd_columns(
    patients: pd.DataFrame,
    ids: pd.Series,
    responder: npt.NDArray[np.object_],
    rday: npt.NDArray[np.object_],
    mf: pd.DataFrame | None,
    threshold: float,
) -> tuple[list[object], list[object], list[str]]:
    flag = _flag(patients, "mrd_negative").to_numpy(dtype=object)
    at_response: dict[tuple[str, int], tuple[float, object, float]] = {}
    if mf is not None:
        rows = mf.dropna(subset=["mrd_pct"])
        for pid, day, val, meth, sens in rows[
            ["patient_id", "day", "mrd_pct", "mrd_method", "mrd_sensitivity_pct"]
        ].itertuples(index=False):
            at_response[(pid, int(day))] = (float(val), meth, float(sens))
    neg: list[object] = []
    ngs: list[object] = []
    why: list[str] = []
    for i, pid in enumerate(ids.to_numpy(dtype=object)):
        if responder[i] is False:
            neg.append(False)
            ngs.append(False)
            why.append("MRD-negative CR: no (not a responder)")
            continue
        if responder[i] is pd.NA:
            neg.append(pd.NA)
            ngs.append(pd.NA)
            why.append("MRD-negative CR: unknown (response missing or NE)")
            continue
        key = (pid, int(rday[i])) if pd.notna(rday[i]) else None
        if key is not None and key in at_response:
            n, g, w = _mrd_call(*at_response[key], threshold)
            neg.append(n)
            ngs.append(g)
            why.append(f"MRD from marrow day {key[1]}: {w}")
        elif flag[i] is not pd.NA and pd.notna(flag[i]):
            neg.append(bool(flag[i]))
            ngs.append(pd.NA)
            why.append("MRD from the reported mrd_negative flag")
        else:
            neg.append(pd.NA)
            ngs.append(pd.NA)
            why.append("MRD-negative CR: not derivable (no MRD at the response assessment)")
    return neg, ngs, why


def responder_mask(best_response: Sequence[object]) -> _BoolArray:
    """Boolean mask of CR/CRi in a sequence of response codes (missing -> ``False``).

    Parameters
    ----------
    best_response
        Response codes (``CR``, ``CRi``, ``PR``, ``NR``, ``NE`` or missing).

    Returns
    -------
    numpy.ndarray
        ``True`` where the code is CR or CRi.

    Examples
    --------
    >>> responder_mask(["CR", "PR", None]).tolist()
    [True, False, False]
    """
    return np.array([b in RESPONDER_LEVELS for b in best_response], dtype=bool)


__all__ = [
    "BBMT2010_RELAPSE_BLASTS_PCT",
    "FAILURE_LEVELS",
    "MRD_NEGATIVE_BELOW_PCT",
    "RELAPSE_BLASTS_PCT",
    "RELAPSE_RULES",
    "RESPONDER_LEVELS",
    "RESPONSE_RANK",
    "derive_response",
    "responder_mask",
]
