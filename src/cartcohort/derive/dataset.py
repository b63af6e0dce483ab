"""The analysis dataset: every derivation applied to a cohort, with provenance.

:func:`derive` turns a validated :class:`~cartcohort.model.cohort.Cohort` into an
:class:`AnalysisDataset`: one row per patient with every derived column, the long
endpoint table, the per-infusion CAR-T kinetics, and the daily CRS/ICANS grades.

Reported versus derived. A patient sheet often already carries summaries
(``crs_grade``, ``icans_grade``, peaks ...). Such a value is used as given and
marked *reported*; only where it is missing is the value derived from the detailed
tables and marked *derived*. Where both exist and disagree, the reported value is
kept and the disagreement is listed in the dataset's warnings, so a reader can
see that the bedside data grade differently. :attr:`AnalysisDataset.provenance`
counts, per column, how many values were reported, derived or missing, and says
how the derived ones were computed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from cartcohort.derive.bcell_aplasia import BCA_COLUMNS, derive_bcell_aplasia
from cartcohort.derive.burden import LOW_MAX_BLASTS_PCT, MissingExtramedullary, derive_burden
from cartcohort.derive.endpoints import EfsNonresponse, derive_endpoints_with_exclusions
from cartcohort.derive.kinetics import KineticsResult, kinetics_nca
from cartcohort.derive.labs import peak_table
from cartcohort.derive.response import (
    MRD_NEGATIVE_BELOW_PCT,
    RelapseRule,
    derive_response,
    resolve_relapse_rule,
)
from cartcohort.derive.risk_scores import easix, m_easix
from cartcohort.derive.toxicity import grade_crs, grade_icans, summarize_crs, summarize_icans
from cartcohort.derive.toxicity.crs import CrsSystem
from cartcohort.derive.toxicity.icaht import ICAHT_COLUMNS, grade_icaht
from cartcohort.derive.toxicity.icans import IcansSystem
from cartcohort.model.cohort import Cohort

T = TypeVar("T")

#: Endpoint parameters spread onto the patient rows as ``<param>_days`` / ``<param>_event``.
WIDE_ENDPOINTS = ("OS", "EFS", "LFS", "PFS", "CIR", "OS_CENS_HSCT", "EFS_CENS_HSCT")

#: Product characteristics copied from the first infusion when the patient sheet lacks them.
_PRODUCT_COLUMNS = (
    "dose_cells_per_kg",
    "costim_domain",
    "lymphodepletion",
    "transduction_pct",
    "viability_pct",
    "cd4_cd8_ratio",
    "tn_pct",
    "tscm_pct",
    "tcm_pct",
    "tem_pct",
    "temra_pct",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisDataset:
    """Everything the analyses need, derived from one cohort.

    Attributes
    ----------
    patients
        One row per patient: the cohort's patient columns plus derived columns
        (burden groups, response, CRS/ICANS maxima and flags, cytokine and CAR-T peaks,
        endpoint times ``os_days``/``os_event`` ...).
    endpoints
        Long endpoint table (``patient_id, param, start_day, day, time_days, event,
        reason, source``); see :func:`cartcohort.derive_endpoints_with_exclusions`.
    endpoint_exclusions
        Patients who could not be given an endpoint, with the reason.
    kinetics
        Per patient and infusion CAR-T kinetics (NCA), or ``None`` without kinetics data.
    crs_daily, icans_daily
        Daily grades from the bedside observations, or ``None`` without observations.
    provenance
        Per derived column: how many values were reported, derived, missing, and how.
    options
        The settings used (grading system, EFS convention ...).
    cohort_name, synthetic
        Label of the cohort and whether it is simulated data.
    warnings
        Messages raised while deriving (each also names the patients concerned).
    settings
        The keyword arguments :func:`derive` was called with (so a plan can ask for the
        same dataset with other definitions: :func:`cartcohort.plan.run.iter_plans`).
    unavailable
        Per derived column whose values are missing for some patients for a known reason
        (a reported grade on another scale, say): that reason, for skip messages.
    """

    patients: pd.DataFrame
    endpoints: pd.DataFrame
    endpoint_exclusions: pd.DataFrame
    kinetics: pd.DataFrame | None
    crs_daily: pd.DataFrame | None
    icans_daily: pd.DataFrame | None
    provenance: pd.DataFrame
    options: dict[str, str]
    cohort_name: str
    synthetic: bool
    warnings: tuple[str, ...] = field(default_factory=tuple)
    settings: dict[str, object] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        label = " (synthetic)" if self.synthetic else ""
        return (
            f"AnalysisDataset({self.cohort_name!r}{label}: {len(self.patients)} patients, "
            f"{len(self.endpoints)} endpoint rows, {len(self.warnings)} warnings)"
        )


class _Log:
    """Collects warnings raised by the derivations and provenance rows."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.provenance: list[dict[str, object]] = []
        self.unavailable: dict[str, str] = {}

    @contextmanager
    def capture(self) -> Iterator[None]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            text = str(w.message)
            if text not in self.messages:
                self.messages.append(text)

    def call(self, fn: Callable[[], T]) -> T:
        with self.capture():
            return fn()


def _combine(
    patients: pd.DataFrame,
    column: str,
    derived: pd.Series,
    *,
    method: str,
    log: _Log,
    compare: bool = True,
) -> None:
    """Fill ``column`` from ``derived`` (indexed by patient_id) where it is not reported."""
    ids = patients["patient_id"]
    values = derived.reindex(ids.to_numpy())
    values.index = patients.index
    if column in patients.columns:
        reported = patients[column]
        is_reported = reported.notna()
        if compare:
            both = is_reported & values.notna()
            differ = both & (reported.astype("object") != values.astype("object"))
            if differ.any():
                who = ", ".join(ids[differ].astype(str).head(5))
                more = f" and {int(differ.sum()) - 5} more" if differ.sum() > 5 else ""
                log.messages.append(
                    f"{column}: the reported value differs from the one derived from the "
                    f"detailed data ({method}) for {int(differ.sum())} patient(s): {who}{more}. "
                    "The reported value is used."
                )
        filled = reported.astype("object").where(is_reported, values.astype("object"))
    else:
        is_reported = pd.Series(data=False, index=patients.index)
        filled = values.astype("object")
    patients[column] = _restore_dtype(filled, like=values)
    n_reported = int(is_reported.sum())
    n_derived = int((~is_reported & values.notna()).sum())
    log.provenance.append(
        {
            "column": column,
            "reported": n_reported,
            "derived": n_derived,
            "missing": len(patients) - n_reported - n_derived,
            "method": method,
        }
    )


def _restore_dtype(values: pd.Series, *, like: pd.Series) -> pd.Series:
    dtype = like.dtype
    if pd.api.types.is_bool_dtype(dtype) or str(dtype) == "boolean":
        return values.astype("boolean")
    if pd.api.types.is_integer_dtype(dtype):
        return pd.to_numeric(values).astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        return pd.to_numeric(values).astype("float64")
    return values


def _reported_crs_scale(cohort: Cohort, patients: pd.DataFrame, system: str, log: _Log) -> None:
    """Keep a reported ``crs_grade`` only where its declared scale is the one asked for.

    A grade declared (``crs_grading_system``) on another scale is removed: it is graded
    again from the daily observations when the cohort has them (``_toxicity``), else the
    patient has no CRS grade and :attr:`AnalysisDataset.unavailable` says why. A grade
    without a declared scale is taken to be on ``system``, and a warning says so.
    """
    if "crs_grade" not in patients or not patients["crs_grade"].notna().any():
        return
    reported = patients["crs_grade"].notna()
    if "crs_grading_system" in patients:
        declared = patients["crs_grading_system"].astype("object")
    else:
        declared = pd.Series(None, index=patients.index, dtype="object")
    other = reported & declared.notna() & (declared.astype("string") != system).fillna(value=False)
    undeclared = reported & declared.isna()
    if undeclared.any():
        log.messages.append(
            f"crs_grade: {int(undeclared.sum())} patient(s) have a reported grade without "
            f"crs_grading_system; taken to be graded by {system}, the scale in use. Add "
            "crs_grading_system to say which scale they are on."
        )
    if not other.any():
        return
    n = int(other.sum())
    scales = ", ".join(sorted(str(v) for v in declared[other].unique()))
    patients["crs_grade"] = patients["crs_grade"].mask(other)
    if cohort.has("observations"):
        log.messages.append(
            f"crs_grade: {n} patient(s) have a reported grade on {scales}, not on {system}, "
            f"the scale in use; their grades are derived again from the daily observations."
        )
        return
    log.unavailable["crs_grade"] = (
        f"{n} patient(s) have a reported crs_grade on {scales}, not on {system}, the scale "
        f"in use, and the cohort has no daily observations to grade them by {system}; give "
        f"grades on {system} or set definitions.crs_scale: {scales.split(', ')[0]}"
    )
    log.messages.append(f"crs_grade: {log.unavailable['crs_grade']}.")


def _toxicity(
    cohort: Cohort,
    patients: pd.DataFrame,
    system: CrsSystem,
    log: _Log,
    icans_system: IcansSystem = "astct",
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    if not cohort.has("observations"):
        return None, None
    obs = cohort.table("observations")
    events = cohort.tables.get("events")
    crs = log.call(lambda: grade_crs(obs, events=events, system=system))
    crs_sum = log.call(lambda: summarize_crs(crs, observations=obs)).set_index("patient_id")
    label = f"maximum grade from daily observations ({crs['system'].iloc[0]})" if len(crs) else ""
    reported = patients["crs_grade"].notna() if "crs_grade" in patients else None
    _combine(patients, "crs_grade", crs_sum["max_grade"], method=label, log=log)
    _mark_scale(patients, reported, system)
    _combine(
        patients, "crs_onset_day", crs_sum["onset_day"], method="first day with grade >= 1", log=log
    )
    _combine(
        patients,
        "crs_duration_days",
        crs_sum["episode_days"],
        method="days from onset to the last day with CRS findings, summed over episodes",
        log=log,
    )
    _combine(
        patients, "crs_n_episodes", crs_sum["n_episodes"], method="number of CRS episodes", log=log
    )
    for drug in ("tocilizumab", "corticosteroids"):
        _combine(patients, drug, crs_sum[drug], method=f"any {drug} in daily observations", log=log)
    ages = patients.set_index("patient_id")["age_years"] if "age_years" in patients else None
    # A developmental_delay column left empty for every patient is "not recorded" (nobody is
    # delayed, as without the column); once any patient has it, a missing flag is unknown.
    recorded = "developmental_delay" in patients and patients["developmental_delay"].notna().any()
    delay = patients.set_index("patient_id")["developmental_delay"] if recorded else None
    icans = log.call(
        lambda: grade_icans(obs, system=icans_system, age_years=ages, developmental_delay=delay)
    )
    icans_sum = log.call(lambda: summarize_icans(icans)).set_index("patient_id")
    _combine(
        patients,
        "icans_grade",
        icans_sum["max_grade"],
        method=(
            f"maximum ICANS grade from daily observations ({icans['system'].iloc[0]})"
            if len(icans)
            else ""
        ),
        log=log,
    )
    _combine(
        patients,
        "seizure",
        icans_sum["any_seizure"],
        method="any seizure in daily observations",
        log=log,
    )
    return crs, icans


def _mark_scale(patients: pd.DataFrame, reported: pd.Series | None, system: str) -> None:
    """``crs_grading_system`` of the grades just derived from the daily observations: the
    scale they were graded on (reported grades keep the scale they declare), so a table
    labels every grade with the scale it is really on."""
    derived = patients["crs_grade"].notna()
    if reported is not None:
        derived &= ~reported
    if not derived.any():
        return
    column = patients.get("crs_grading_system")
    if column is None:
        column = pd.Series(pd.NA, index=patients.index, dtype="object")
    if isinstance(column.dtype, pd.CategoricalDtype) and system not in column.cat.categories:
        column = column.cat.add_categories([system])
    patients["crs_grading_system"] = column.mask(derived, system)


def _ungradable(
    patients: pd.DataFrame, daily: pd.DataFrame | None, column: str, system: str, log: _Log
) -> None:
    """Record why patients with daily observations still have no ``column`` (their days
    could not be graded on ``system``: the inputs the scale needs are missing)."""
    if daily is None or column in log.unavailable or "driver" not in daily:
        return
    missing = set(patients.loc[patients[column].isna(), "patient_id"])
    if not missing:
        return
    drivers = daily.loc[daily["patient_id"].isin(missing), "driver"].astype("string")
    lacking = drivers[drivers.str.startswith("not_gradable").fillna(value=False)]
    if lacking.empty:
        return
    inputs = sorted(
        {i.strip() for d in lacking.str.split(":").str[1].dropna() for i in d.split(",")}
    )
    n = int(daily.loc[lacking.index, "patient_id"].nunique())
    log.unavailable[column] = (
        f"{n} patient(s) could not be graded by {system} from the daily observations, "
        f"which lack what that scale needs ({', '.join(inputs)}); record it, or give "
        f"reported grades on {system}, or set definitions.crs_scale to a scale the "
        "observations can grade"
    )


def _flags(
    patients: pd.DataFrame, log: _Log, severe_crs_grade: int = 3, severe_icans_grade: int = 3
) -> None:
    """Severe CRS / neurotoxicity flags from the (reported or derived) grades."""

    def at_least(column: str, grade: int) -> pd.Series:
        if column not in patients:
            return pd.Series(pd.NA, index=patients.index, dtype="boolean")
        g = pd.to_numeric(patients[column]).astype("Float64")
        return (g >= grade).astype("boolean")

    patients["any_crs"] = at_least("crs_grade", 1)
    patients["severe_crs"] = at_least("crs_grade", severe_crs_grade)
    patients["any_icans"] = at_least("icans_grade", 1)
    severe_icans = at_least("icans_grade", severe_icans_grade)
    seizure = (
        patients["seizure"].astype("boolean")
        if "seizure" in patients
        else pd.Series(pd.NA, index=patients.index, dtype="boolean")
    )
    # Kleene logic: a seizure makes it True even when the grade is unknown.
    patients["severe_neurotoxicity"] = seizure | severe_icans
    # Seed 004 groups: CRS and ICANS in the same patient, and the worse of the two grades.
    patients["crs_icans_concurrent"] = patients["any_crs"] & patients["any_icans"]
    grades = [
        pd.to_numeric(patients[c]).astype("Float64") if c in patients else None
        for c in ("crs_grade", "icans_grade")
    ]
    if grades[0] is not None and grades[1] is not None:
        both = pd.concat(grades, axis=1)
        worst = both.max(axis=1, skipna=True)
        # Unknown when a missing grade could be the worse one.
        unknown = both.isna().any(axis=1) & ~(worst >= 5)
        patients["crs_icans_max_grade"] = worst.astype("Int64").mask(unknown)
    else:
        patients["crs_icans_max_grade"] = pd.array([pd.NA] * len(patients), dtype="Int64")
    for column, rule in (
        ("any_crs", "crs_grade >= 1"),
        ("severe_crs", f"crs_grade >= {severe_crs_grade}"),
        ("any_icans", "icans_grade >= 1"),
        ("severe_neurotoxicity", f"any seizure or icans_grade >= {severe_icans_grade}"),
        ("crs_icans_concurrent", "any_crs and any_icans (seed 004)"),
        ("crs_icans_max_grade", "the worse of crs_grade and icans_grade (seed 004)"),
    ):
        n = int(patients[column].notna().sum())
        log.provenance.append(
            {
                "column": column,
                "reported": 0,
                "derived": n,
                "missing": len(patients) - n,
                "method": rule,
            }
        )


def _kinetics(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> pd.DataFrame | None:
    if not cohort.has("kinetics"):
        return None
    infusions = cohort.tables.get("infusions")
    result: KineticsResult = log.call(
        lambda: kinetics_nca(cohort.table("kinetics"), infusions=infusions)
    )
    first = result.table[result.table["infusion"] == 1].set_index("patient_id")
    for column, source, method in (
        ("peak_cart_copies_per_ug", "cmax", "Cmax after the first infusion (NCA)"),
        ("cart_tmax_day", "tmax", "Tmax after the first infusion (NCA)"),
        ("cart_auc_0_28", "auc_0_28", "AUC0-28d after the first infusion (lin-up/log-down)"),
        ("cart_persistence_day", "persistence_day", "last day at or above LLOQ"),
    ):
        _combine(patients, column, first[source].astype("float64"), method=method, log=log)
    return result.table


def _labs(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> None:
    if not cohort.has("labs"):
        return
    peaks = log.call(lambda: peak_table(cohort.table("labs"))).set_index("patient_id")
    for column in peaks.columns:
        if column.startswith("peak_") and column != "peak_cart_copies_per_ug":
            _combine(
                patients,
                column,
                peaks[column].astype("float64"),
                method="maximum after infusion (labs table)",
                log=log,
            )


def _icaht(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> None:
    """ICAHT grades and day counts (docs/methods/icaht.md) from daily ANC and platelets."""
    labs = cohort.table("labs")
    if not cohort.has("labs") or not labs["analyte"].isin(["anc", "platelets"]).any():
        return
    result = log.call(
        lambda: grade_icaht(
            labs,
            events=cohort.tables.get("events"),
            treatments=cohort.tables.get("treatments"),
            patient_ids=patients["patient_id"].tolist(),
        )
    )
    log.messages.extend(w for w in result.warnings if w not in log.messages)
    table = result.table.set_index("patient_id")
    for column in ICAHT_COLUMNS[1:-1]:
        _combine(patients, column, table[column], method=result.method.description, log=log)


def _bcell_aplasia(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> None:
    """B-cell aplasia (docs/methods/b-cell-aplasia.md) from serial CD19+ % of lymphocytes."""
    labs = cohort.table("labs")
    if not cohort.has("labs") or not (labs["analyte"] == "cd19_pct").any():
        return
    result = log.call(
        lambda: derive_bcell_aplasia(labs, patient_ids=patients["patient_id"].tolist())
    )
    table = result.table.set_index("patient_id")
    for column in BCA_COLUMNS[1:-1]:
        _combine(patients, column, table[column], method=result.method.description, log=log)


#: Pre-lymphodepletion window for EASIX-pre and m-EASIX (days; the latest sample is used):
#: lymphodepletion usually starts on day -5 to -3 (risk_scores.PUBLISHED_TIME_POINTS).
PRE_LD_WINDOW = (-14, -5)


def _risk_scores(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> None:
    if not cohort.has("labs"):
        return
    labs = cohort.table("labs")
    scores = {
        "easix_pre_ld": ("EASIX = LDH x creatinine / platelets", easix),
        "m_easix_pre_ld": ("m-EASIX = LDH x CRP (mg/dL) / platelets", m_easix),
    }
    for column, (name, score) in scores.items():
        with log.capture():
            values = score(labs, window=PRE_LD_WINDOW).set_index("patient_id")["value"]
        _combine(
            patients,
            column,
            values.astype("float64"),
            method=f"{name}, latest same-day sample in days {PRE_LD_WINDOW[0]} to "
            f"{PRE_LD_WINDOW[1]} (before lymphodepletion)",
            log=log,
            compare=False,
        )


def _product(cohort: Cohort, patients: pd.DataFrame, log: _Log) -> None:
    if not cohort.has("infusions"):
        return
    inf = cohort.table("infusions")
    first = inf[inf["infusion"] == 1].set_index("patient_id")
    counts = inf.groupby("patient_id").size()
    _combine(patients, "n_infusions", counts.astype("Int64"), method="infusions table", log=log)
    for column in _PRODUCT_COLUMNS:
        if column in first.columns:
            _combine(
                patients,
                column,
                first[column],
                method="first infusion (infusions table)",
                log=log,
                compare=False,
            )


def _wide_endpoints(patients: pd.DataFrame, endpoints: pd.DataFrame) -> None:
    for param in WIDE_ENDPOINTS:
        rows = endpoints[endpoints["param"] == param].set_index("patient_id")
        key = param.lower()
        days = rows["time_days"].reindex(patients["patient_id"].to_numpy())
        event = rows["event"].reindex(patients["patient_id"].to_numpy())
        patients[f"{key}_days"] = pd.array(days.to_numpy(dtype="float64"), dtype="Float64")
        name = f"{key}_status" if param == "CIR" else f"{key}_event"
        patients[name] = pd.array(
            np.where(event.isna(), np.nan, event.to_numpy(dtype="float64")), dtype="Float64"
        ).astype("Int64")


#: Display titles of derived patient columns (figures and tables of a report).
DERIVED_TITLES: dict[str, str] = {
    "responder": "CR/CRi",
    "mrd_negative_cr": "MRD-negative CR",
    "any_crs": "Any CRS",
    "severe_crs": "Severe CRS (grade ≥ 3)",
    "any_icans": "Any ICANS",
    "severe_neurotoxicity": "Severe neurotoxicity (seizure or ICANS grade ≥ 3)",
    "crs_icans_concurrent": "CRS and ICANS",
    "crs_icans_max_grade": "Worse of CRS and ICANS grade",
    "lfs_days": "Time from response to relapse or death (days)",
}


def derive(
    cohort: Cohort,
    *,
    crs_system: CrsSystem = "astct",
    efs_nonresponse: EfsNonresponse = "day0",
    icans_system: IcansSystem = "astct",
    relapse_rule: RelapseRule = "bbmt2010",
    relapse_blasts_pct: float | None = None,
    severe_crs_grade: int = 3,
    severe_icans_grade: int = 3,
    burden_blasts_cut_pct: float = LOW_MAX_BLASTS_PCT,
    burden_emd_makes_high: bool = True,
    burden_missing_emd: MissingExtramedullary = "unknown",
    mrd_negative_below_pct: float = MRD_NEGATIVE_BELOW_PCT,
    response_by_day: int = 28,
    crs_any_reported_scale: bool = True,
) -> AnalysisDataset:
    """Apply every derivation to ``cohort`` and return the analysis dataset.

    Parameters
    ----------
    cohort
        A validated cohort (:func:`cartcohort.load_cohort`).
    crs_system
        CRS grading system for grades derived from bedside observations (default ASTCT
        2019; see :func:`cartcohort.grade_crs`).
    efs_nonresponse
        ``"day0"`` or ``"assessment"``: when non-response is an EFS event
        (see :func:`cartcohort.derive_endpoints`).
    icans_system
        ICANS grading system for grades derived from bedside observations: ``"astct"``
        (default, ASTCT 2019) or ``"ctcae_v6.0"`` (see :func:`cartcohort.grade_icans`).
    relapse_rule
        How a marrow shows relapse after CR: ``"bbmt2010"`` (default, marrow blasts >= 25 %),
        ``"ponte_di_legno_2022"`` or ``"threshold"`` with ``relapse_blasts_pct`` (see
        :func:`cartcohort.derive_response`).
    relapse_blasts_pct
        The marrow-blast percent of the ``"threshold"`` rule (only with that rule).
    severe_crs_grade, severe_icans_grade
        Lowest grade of ``severe_crs`` and of the ICANS part of ``severe_neurotoxicity``
        (default 3, seeds 000, 003, 004).
    burden_blasts_cut_pct, burden_emd_makes_high, burden_missing_emd
        Tumour burden groups (:func:`cartcohort.derive.burden.derive_burden`'s
        ``low_max_blasts_pct``, ``emd_makes_high`` and ``missing_extramedullary``).
    mrd_negative_below_pct
        MRD below this (%) is negative (default 0.01 %), for response and burden.
    response_by_day
        Best response is assessed by this day (default 28; :func:`derive_response`).
    crs_any_reported_scale
        ``True`` (default): a reported ``crs_grade`` is used on whatever scale its
        ``crs_grading_system`` declares (a centre's grades stay as recorded, labelled
        with their scale), and ``crs_system`` grades only the patients without one.
        ``False`` (a plan whose ``definitions.crs_scale`` names a scale): a reported
        ``crs_grade`` is used only where ``crs_grading_system`` declares ``crs_system``
        (or declares nothing: a warning says it is taken to be on ``crs_system``); a
        grade declared on another scale is graded again from the daily observations,
        or, without them, left missing with the reason in
        :attr:`AnalysisDataset.unavailable`.

    Returns
    -------
    AnalysisDataset
        Patients with derived columns, endpoints, kinetics, daily grades, provenance.

    Notes
    -----
    Order: product characteristics from the infusions table; CRS/ICANS grades and
    treatment flags from daily observations; severe CRS/neurotoxicity flags; cytokine
    and lab peaks; ICAHT grades from daily ANC and platelets (:func:`grade_icaht`,
    N-ICAHT table UNVERIFIED); B-cell aplasia from serial CD19+ % of lymphocytes
    (:func:`derive_bcell_aplasia`, default definition); CAR-T kinetics; tumour burden
    groups; response; endpoints. Each step runs only when its input tables exist;
    reported values always take precedence over derived ones (module docstring).
    Warnings raised by the derivations are collected in :attr:`AnalysisDataset.warnings`
    rather than emitted.

    Examples
    --------
    >>> import cartcohort as cc
    >>> ds = cc.derive(cc.load_cohort(cc.demo_path("synthetic")))
    >>> int(ds.patients["severe_crs"].sum()) > 0
    True
    """
    settings: dict[str, object] = {
        "crs_system": crs_system,
        "efs_nonresponse": efs_nonresponse,
        "icans_system": icans_system,
        "relapse_rule": relapse_rule,
        "relapse_blasts_pct": relapse_blasts_pct,
        "severe_crs_grade": severe_crs_grade,
        "severe_icans_grade": severe_icans_grade,
        "burden_blasts_cut_pct": burden_blasts_cut_pct,
        "burden_emd_makes_high": burden_emd_makes_high,
        "burden_missing_emd": burden_missing_emd,
        "mrd_negative_below_pct": mrd_negative_below_pct,
        "response_by_day": response_by_day,
        "crs_any_reported_scale": crs_any_reported_scale,
    }
    resolve_relapse_rule(relapse_rule, relapse_blasts_pct)  # a wrong setting fails at once
    log = _Log()
    patients = cohort.patients.copy()
    _product(cohort, patients, log)
    if not crs_any_reported_scale:
        _reported_crs_scale(cohort, patients, crs_system, log)
    crs, icans = _toxicity(cohort, patients, crs_system, log, icans_system)
    _ungradable(patients, crs, "crs_grade", crs_system, log)
    _flags(patients, log, severe_crs_grade, severe_icans_grade)
    if "crs_grade" in log.unavailable:
        for column in ("any_crs", "severe_crs", "crs_icans_concurrent", "crs_icans_max_grade"):
            log.unavailable[column] = (
                f"{column} comes from crs_grade: " + log.unavailable["crs_grade"]
            )
    _labs(cohort, patients, log)
    _icaht(cohort, patients, log)
    _bcell_aplasia(cohort, patients, log)
    _risk_scores(cohort, patients, log)
    nca = _kinetics(cohort, patients, log)
    patients = log.call(
        lambda: derive_burden(
            patients,
            low_max_blasts_pct=burden_blasts_cut_pct,
            mrd_negative_below_pct=mrd_negative_below_pct,
            missing_extramedullary=burden_missing_emd,
            emd_makes_high=burden_emd_makes_high,
        )
    )
    marrow = cohort.tables.get("marrow")
    patients = log.call(
        lambda: derive_response(
            patients,
            marrow,
            by_day=response_by_day,
            mrd_negative_below_pct=mrd_negative_below_pct,
            relapse_rule=relapse_rule,
            relapse_blasts_pct=relapse_blasts_pct,
        )
    )
    events = cohort.tables.get("events")
    result = log.call(
        lambda: derive_endpoints_with_exclusions(
            patients,
            events,
            efs_nonresponse=efs_nonresponse,
        )
    )
    _wide_endpoints(patients, result.endpoints)
    return AnalysisDataset(
        patients=patients,
        endpoints=result.endpoints,
        endpoint_exclusions=result.exclusions,
        kinetics=nca,
        crs_daily=crs,
        icans_daily=icans,
        provenance=pd.DataFrame(
            log.provenance, columns=["column", "reported", "derived", "missing", "method"]
        ),
        options={
            "crs_system": crs_system,
            "icans_system": icans_system,
            "efs_nonresponse": efs_nonresponse,
            "relapse_rule": relapse_rule,
            **(
                {"relapse_blasts_pct": str(relapse_blasts_pct)}
                if relapse_blasts_pct is not None
                else {}
            ),
            **{k: str(v) for k, v in result.options.items()},
        },
        cohort_name=cohort.name,
        synthetic=cohort.synthetic,
        warnings=tuple(log.messages),
        settings=settings,
        unavailable=dict(log.unavailable),
    )


__all__ = ["DERIVED_TITLES", "WIDE_ENDPOINTS", "AnalysisDataset", "derive"]
