"""Quantify qPCR and immunoassay samples on their plate's standard curve.

:func:`quantify_qpcr` turns Ct values into transgene copies per µg genomic DNA and
:func:`quantify_immunoassay` turns MFI or OD into pg/mL. Both fit one curve per plate
and analyte (:func:`~cartcohort.assay.curves.fit_standard_curve`), back-calculate every
well, combine replicate wells per sample and return a result whose ``table`` is one
row per sample with its flag, the limit it lies beyond and the fit it came from.
:meth:`QuantificationResult.to_kinetics` / :meth:`~QuantificationResult.to_labs` give
rows of the standard's ``kinetics`` / ``labs`` tables with provenance columns
``plate, fit_id, flag``, and :func:`add_assay_results` appends them to a cohort.

Replicates: each well is back-calculated; a sample's value is the mean of its wells that
are within the range, and its CV (%) is the CV of those values (copies for qPCR, as the
ABI "Quantity Mean"). Wells that disagree (some in range, some not) give the mean of the
in-range wells and the flag ``replicates_disagree``; when no well is in range the sample
takes the wells' common side (``<LLOQ`` if all are low, ``>ULOQ`` if all are high).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector
from cartcohort.assay.curves import (
    HIGH_FLAGS,
    LOW_FLAGS,
    AcceptanceCriteria,
    CurveModel,
    StandardCurveResult,
    Weighting,
    fit_standard_curve,
)
from cartcohort.errors import AnalysisError
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import ANALYTES, TABLE_BY_NAME

AssayKind = Literal["qpcr", "immunoassay"]
BelowLloq = Literal["zero", "half_lloq", "missing"]

#: Additive flags (joined to the range flag with ``;``).
EXTRA_FLAGS: Mapping[str, str] = {
    "high_cv": "replicate CV above acceptance.max_replicate_cv_percent",
    "replicates_disagree": "some replicate wells in range, some not; mean of in-range wells",
    "curve_rejected": "the plate's standard curve failed acceptance",
}

#: Columns of :attr:`QuantificationResult.table` (qPCR adds ``dna_ng_per_reaction``,
#: ``copies_per_reaction``, ``n_undetermined``; ``patient_id, infusion, day`` are carried
#: when the samples have them).
TABLE_COLUMNS = (
    "plate",
    "analyte",
    "sample_id",
    "n_wells",
    "n_quantified",
    "signal_mean",
    "value",
    "unit",
    "flag",
    "limit",
    "cv_percent",
    "lloq",
    "uloq",
    "dilution",
    "fit_id",
)
_CARRIED = ("patient_id", "infusion", "day")


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantificationResult:
    """Samples quantified on their plates' standard curves.

    Attributes
    ----------
    kind
        ``"qpcr"`` or ``"immunoassay"``.
    table
        One row per sample x analyte x plate (:data:`TABLE_COLUMNS`): ``value`` in
        ``unit`` (copies_per_ug_dna or pg/mL) is NaN unless ``flag`` has no range flag;
        ``limit`` is the LLOQ or ULOQ (same unit) the sample lies beyond; ``lloq`` /
        ``uloq`` are the range in the sample's units (after dilution or DNA input).
    wells
        One row per sample well: ``plate, well, analyte, sample_id, signal, undetermined,
        value, flag, limit, fit_id`` with ``value`` in the curve's unit (per reaction or
        per mL of diluted sample).
    fits
        ``fit_id`` -> :class:`~cartcohort.assay.curves.StandardCurveResult`.
    method, warnings
        How the values were computed; problems worth a footnote.
    """

    kind: AssayKind
    table: pd.DataFrame = field(repr=False)
    wells: pd.DataFrame = field(repr=False)
    fits: Mapping[str, StandardCurveResult] = field(repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-sample table."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows of every fit's parameters (``analysis = standard_curve``)."""
        return pd.concat([f.to_ard() for f in self.fits.values()], ignore_index=True)

    def to_kinetics(self, *, below_lloq: BelowLloq = "zero") -> pd.DataFrame:
        """Rows of the standard's ``kinetics`` table (qPCR only).

        Parameters
        ----------
        below_lloq
            Value written for samples below the LLOQ: ``"zero"`` (default; the standard's
            and PKNCA's BLQ coding, with the LLOQ in the ``lloq`` column so
            :func:`~cartcohort.derive.kinetics.kinetics_nca` treats them as BLQ),
            ``"half_lloq"`` or ``"missing"`` (NaN).

        Returns
        -------
        pandas.DataFrame
            ``patient_id, [infusion,] day, value, unit, lloq, plate, fit_id, flag``.
            Samples above the ULOQ have ``value`` NaN (re-assay diluted) and their flag.
        """
        if self.kind != "qpcr":
            msg = "to_kinetics() is for qPCR results; use to_labs() for immunoassays."
            raise AnalysisError(msg)
        out = self._standard_rows(below_lloq)
        out["unit"] = "copies_per_ug_dna"
        cols = ["patient_id", "infusion", "day", "value", "unit", "lloq", "plate", "fit_id"]
        return out[[c for c in cols if c in out.columns] + ["flag"]]

    def to_labs(self, *, below_lloq: BelowLloq = "missing") -> pd.DataFrame:
        """Rows of the standard's ``labs`` table (immunoassays only).

        Parameters
        ----------
        below_lloq
            Value written for samples below the LLOQ: ``"missing"`` (default, NaN: no
            number is invented), ``"half_lloq"`` or ``"zero"``. The ``flag`` column says
            which rows were substituted.

        Returns
        -------
        pandas.DataFrame
            ``patient_id, day, analyte, value, unit, plate, fit_id, flag`` with ``analyte``
            mapped to the standard's names (``IL-6`` -> ``il6``).
        """
        if self.kind != "immunoassay":
            msg = "to_labs() is for immunoassay results; use to_kinetics() for qPCR."
            raise AnalysisError(msg)
        out = self._standard_rows(below_lloq)
        out["analyte"] = [_canonical_analyte(a) for a in out["analyte"]]
        cols = ["patient_id", "day", "analyte", "value", "unit", "plate", "fit_id", "flag"]
        return out[cols]

    def _standard_rows(self, below_lloq: BelowLloq) -> pd.DataFrame:
        if below_lloq not in get_args(BelowLloq):
            msg = f"`below_lloq` must be one of {get_args(BelowLloq)}; got {below_lloq!r}."
            raise ValueError(msg)
        missing = [c for c in ("patient_id", "day") if c not in self.table.columns]
        if missing:
            msg = (
                f"The samples had no {' or '.join(missing)} column, so the values cannot be "
                "placed in the cohort. Add patient_id and day to the samples table (or merge "
                "them onto result.table by sample_id) and quantify again."
            )
            raise AnalysisError(msg)
        out = self.table.copy()
        low = out["flag"].str.split(";").map(lambda f: bool(set(f) & set(LOW_FLAGS)))
        sub = {"zero": 0.0, "half_lloq": 0.5, "missing": np.nan}[below_lloq]
        out.loc[low, "value"] = out.loc[low, "lloq"] * sub
        return out.reset_index(drop=True)

    def __repr__(self) -> str:
        flagged = int((self.table["flag"] != "").sum())
        return (
            f"QuantificationResult({self.kind}: {len(self.table)} samples on "
            f"{len(self.fits)} curve(s), {flagged} flagged)"
        )


def _canonical_analyte(name: object) -> str:
    key = str(name).strip().lower()
    for analyte in ANALYTES:
        if key == analyte.name or key == analyte.label.lower() or key in analyte.aliases:
            return analyte.name
    known = ", ".join(a.name for a in ANALYTES)
    msg = f"Analyte {name!r} is not in the data standard's labs analytes ({known})."
    raise AnalysisError(msg)


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------


def _group_keys(standards: pd.DataFrame) -> list[str]:
    return [c for c in ("plate", "analyte") if c in standards.columns]


def _fit_all(
    standards: pd.DataFrame,
    model: CurveModel,
    weighting: Weighting,
    acceptance: AcceptanceCriteria | None,
    unit: str | None,
) -> dict[tuple[str, ...], StandardCurveResult]:
    keys = _group_keys(standards)
    if not keys:
        fit = fit_standard_curve(
            standards, model=model, weighting=weighting, acceptance=acceptance, unit=unit
        )
        return {(): fit}
    fits = {}
    for key, group in standards.groupby(keys, sort=True, dropna=False):
        key_t = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        fits[key_t] = fit_standard_curve(
            group, model=model, weighting=weighting, acceptance=acceptance, unit=unit
        )
    return fits


def _check_samples(samples: pd.DataFrame, keys: list[str]) -> None:
    needed = ["sample_id", "signal", *keys]
    missing = [c for c in needed if c not in samples.columns]
    if missing:
        msg = (
            f"`samples` has no column {', '.join(map(repr, missing))} (needed: "
            f"{', '.join(needed)}; plate/analyte are needed because the standards have them)."
        )
        raise AnalysisError(msg)


def _quantify_wells(
    samples: pd.DataFrame, fits: dict[tuple[str, ...], StandardCurveResult], keys: list[str]
) -> pd.DataFrame:
    parts = []
    grouped = [((), samples)] if not keys else samples.groupby(keys, sort=True, dropna=False)
    for key, group in grouped:
        key_t = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        fit = fits.get(key_t)
        if fit is None:
            label = ", ".join(f"{k}={v}" for k, v in zip(keys, key_t, strict=True))
            msg = f"No standards for samples with {label}; every plate/analyte needs a curve."
            raise AnalysisError(msg)
        pred = fit.predict(group["signal"].to_numpy(float))
        well = group.copy()
        well["value"] = pred["value"].to_numpy()
        well["flag"] = pred["flag"].to_numpy()
        well["limit"] = pred["limit"].to_numpy()
        well["fit_id"] = fit.fit_id
        parts.append(well)
    return pd.concat(parts, ignore_index=True)


def _sample_flag(flags: list[str]) -> str:
    if all(f == "" for f in flags):
        return ""
    if any(f == "" for f in flags):
        return "replicates_disagree"
    if len(set(flags)) == 1:
        return flags[0]
    if all(f in LOW_FLAGS for f in flags):
        return "<LLOQ"
    if all(f in HIGH_FLAGS for f in flags):
        return ">ULOQ"
    return "replicates_disagree"


def _summarise(
    wells: pd.DataFrame,
    fits: Mapping[str, StandardCurveResult],
    by: list[str],
    scale_column: str,
) -> pd.DataFrame:
    """One row per sample: mean of in-range wells, CV, flag and limits in assay units."""
    rows = []
    for key, group in wells.groupby(by, sort=True, dropna=False):
        flags = list(group["flag"])
        ok = group["flag"].to_numpy() == ""
        values = group["value"].to_numpy(float)[ok]
        fit = fits[group["fit_id"].iloc[0]]
        mean = float(values.mean()) if ok.any() else np.nan
        cv = float(values.std(ddof=1) / mean * 100) if ok.sum() >= 2 and mean > 0 else np.nan
        flag = _sample_flag(flags)
        parts = [flag] if flag else []
        if cv > fit.acceptance.max_replicate_cv_percent:
            parts.append("high_cv")
        if not fit.accepted:
            parts.append("curve_rejected")
        side = flag if flag in LOW_FLAGS + HIGH_FLAGS else ""
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        scale = group[scale_column].iloc[0]
        row.update(
            n_wells=len(group),
            n_quantified=int(ok.sum()),
            signal_mean=float(group["signal"].mean()),
            assay_value=mean,
            flag=";".join(p for p in parts if p),
            limit=(fit.lloq if side in LOW_FLAGS else fit.uloq if side in HIGH_FLAGS else np.nan),
            cv_percent=cv,
            lloq=fit.lloq,
            uloq=fit.uloq,
            scale=scale,
            fit_id=fit.fit_id,
        )
        if "undetermined" in group.columns:
            row["n_undetermined"] = int(group["undetermined"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _per_sample_constant(samples: pd.DataFrame, by: list[str], column: str) -> None:
    n = samples.groupby(by, dropna=False)[column].nunique(dropna=False)
    if (n > 1).any():
        bad = n[n > 1].index[0]
        msg = (
            f"Sample {bad} has more than one `{column}` across its replicate wells; "
            "replicates share one value."
        )
        raise AnalysisError(msg)


def _prepare_samples(samples: pd.DataFrame) -> pd.DataFrame:
    s = samples.copy()
    s["signal"] = pd.to_numeric(s["signal"], errors="raise").astype(float)
    if "undetermined" not in s.columns:
        s["undetermined"] = s["signal"].isna()
    return s


def _method(kind: str, fits: Mapping[str, StandardCurveResult], extra: str) -> MethodInfo:
    first = next(iter(fits.values()))
    return MethodInfo(
        estimator=f"{kind} quantification",
        description=(
            f"Samples back-calculated on {len(fits)} standard curve(s) "
            f"({first.method.description}); replicate wells averaged over those in range; "
            f"{extra}"
        ),
        options={
            "model": first.model,
            "weighting": first.weighting,
            "max_replicate_cv_percent": first.acceptance.max_replicate_cv_percent,
            "acceptance_source": first.acceptance.source,
        },
        reference=first.method.reference,
    )


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def quantify_qpcr(
    samples: pd.DataFrame,
    standards: pd.DataFrame,
    *,
    dna_ng_per_reaction: float | None,
    acceptance: AcceptanceCriteria | None = None,
) -> QuantificationResult:
    """Transgene copies per µg genomic DNA from qPCR Ct values and a plasmid standard curve.

    Parameters
    ----------
    samples
        One row per well: ``sample_id``, ``signal`` (Ct; NaN = undetermined), plus
        ``plate`` / ``analyte`` when the standards have them, and optionally
        ``patient_id``, ``infusion``, ``day`` (carried to the output) and
        ``dna_ng_per_reaction``.
    standards
        One row per standard well: ``nominal`` (copies per reaction) and ``signal`` (Ct);
        one curve is fitted per ``plate`` (and ``analyte``) present.
    dna_ng_per_reaction
        Genomic DNA input per reaction in ng, for every sample; ``None`` to take it from
        the samples' ``dna_ng_per_reaction`` column.
    acceptance
        Acceptance limits (default :data:`~cartcohort.assay.curves.QPCR_ACCEPTANCE`).

    Returns
    -------
    QuantificationResult
        ``table`` in copies_per_ug_dna; ``to_kinetics()`` gives ``kinetics`` rows.

    Raises
    ------
    AnalysisError
        Missing columns, no curve for a plate, no or non-positive DNA input.
    ConvergenceError, DegenerateDataError
        From :func:`~cartcohort.assay.curves.fit_standard_curve`.

    Notes
    -----
    copies/µg DNA = copies per reaction / (ng DNA per reaction / 1000). An undetermined
    Ct ("Undetermined", "NaN", ">40", empty) is below the LLOQ, as is a Ct above the
    Ct of the LLOQ standard: never extrapolated. Replicate CV is on copies (default limit
    30 %), not SD on Ct.

    Examples
    --------
    >>> from importlib.resources import files
    >>> from cartcohort.assay.read import read_plate
    >>> plate = read_plate(files("cartcohort.assay") / "example" / "qpcr_plate.csv")
    >>> res = quantify_qpcr(plate.samples, plate.standards, dna_ng_per_reaction=100)
    >>> res.table["flag"].tolist()[:3]
    ['', '', '<LLOQ']
    """
    keys = _group_keys(standards)
    _check_samples(samples, keys)
    s = _prepare_samples(samples)
    if dna_ng_per_reaction is not None:
        s["dna_ng_per_reaction"] = float(dna_ng_per_reaction)
    elif "dna_ng_per_reaction" not in s.columns:
        msg = (
            "`dna_ng_per_reaction` is None and the samples have no `dna_ng_per_reaction` "
            "column; give the ng of genomic DNA per reaction (e.g. 100)."
        )
        raise AnalysisError(msg)
    dna = pd.to_numeric(s["dna_ng_per_reaction"]).astype(float)
    if not (dna > 0).all():
        msg = "`dna_ng_per_reaction` must be > 0 ng for every sample."
        raise AnalysisError(msg)
    fits = _fit_all(standards, "qpcr", "none", acceptance, None)
    wells = _quantify_wells(s, fits, keys)
    by = [*keys, "sample_id", *[c for c in _CARRIED if c in s.columns]]
    _per_sample_constant(wells, [*keys, "sample_id"], "dna_ng_per_reaction")
    by_fit = {f.fit_id: f for f in fits.values()}
    summary = _summarise(wells, by_fit, by, "dna_ng_per_reaction")
    ug = summary["scale"] / 1000.0
    table = summary.assign(
        dna_ng_per_reaction=summary["scale"],
        copies_per_reaction=summary["assay_value"],
        value=summary["assay_value"] / ug,
        unit="copies_per_ug_dna",
        limit=summary["limit"] / ug,
        lloq=summary["lloq"] / ug,
        uloq=summary["uloq"] / ug,
        dilution=1.0,
    )
    if "analyte" not in table.columns:
        table["analyte"] = ""
    if "plate" not in table.columns:
        table["plate"] = ""
    extra = ["dna_ng_per_reaction", "copies_per_reaction", "n_undetermined"]
    carried = [c for c in _CARRIED if c in table.columns]
    table = table[[*TABLE_COLUMNS[:3], *carried, *TABLE_COLUMNS[3:], *extra]]
    return _result("qpcr", table, wells, by_fit, "copies/µg DNA = copies / (ng DNA / 1000).")


def quantify_immunoassay(
    samples: pd.DataFrame,
    standards: pd.DataFrame,
    *,
    model: CurveModel = "4pl",
    weighting: Weighting = "none",
    acceptance: AcceptanceCriteria | None = None,
    unit: str = "pg/mL",
) -> QuantificationResult:
    """Concentrations from bead-array (MFI) or ELISA (OD) signals on 4PL/5PL standard curves.

    Parameters
    ----------
    samples
        One row per well: ``sample_id``, ``signal``, ``analyte`` and ``plate`` (when the
        standards have them), optional ``dilution`` (factor, default 1) and
        ``patient_id``, ``infusion``, ``day`` (carried to the output).
    standards
        One row per standard well: ``nominal`` (in ``unit``), ``signal``, and ``analyte``
        / ``plate``; one curve is fitted per plate and analyte.
    model
        ``"4pl"`` (default) or ``"5pl"``.
    weighting
        ``"none"`` (default) or ``"1/y^2"``.
    acceptance
        Acceptance limits (default :data:`~cartcohort.assay.curves.IMMUNOASSAY_ACCEPTANCE`).
    unit
        Unit of the standards' nominal concentrations (default pg/mL, the standard's
        canonical cytokine unit).

    Returns
    -------
    QuantificationResult
        ``table`` in ``unit`` after dilution; ``to_labs()`` gives ``labs`` rows.

    Raises
    ------
    AnalysisError
        Missing columns, no curve for a plate/analyte, ``model='qpcr'``, dilution < 1.
    ConvergenceError, DegenerateDataError
        From :func:`~cartcohort.assay.curves.fit_standard_curve`.

    Notes
    -----
    value = back-calculated concentration x dilution; the sample's LLOQ/ULOQ are the
    curve's times its dilution. Values outside the range are NaN with a flag and the
    limit, never extrapolated.

    Examples
    --------
    >>> from importlib.resources import files
    >>> from cartcohort.assay.read import read_plate
    >>> plate = read_plate(files("cartcohort.assay") / "example" / "cba_plate.csv")
    >>> res = quantify_immunoassay(plate.samples, plate.standards, weighting="1/y^2")
    >>> sorted(res.fits)
    ['SYN-CBA-01/IL-10/4pl', 'SYN-CBA-01/IL-6/4pl']
    """
    if model == "qpcr":
        msg = "`model='qpcr'` is for quantify_qpcr; immunoassays use '4pl' or '5pl'."
        raise AnalysisError(msg)
    keys = _group_keys(standards)
    _check_samples(samples, keys)
    s = _prepare_samples(samples)
    if "dilution" not in s.columns:
        s["dilution"] = 1.0
    s["dilution"] = pd.to_numeric(s["dilution"]).astype(float).fillna(1.0)
    if (s["dilution"] < 1).any():
        msg = "`samples.dilution` must be a dilution factor >= 1 (e.g. 2 for 1:2)."
        raise AnalysisError(msg)
    fits = _fit_all(standards, model, weighting, acceptance, unit)
    wells = _quantify_wells(s, fits, keys)
    by = [*keys, "sample_id", *[c for c in _CARRIED if c in s.columns], "dilution"]
    by_fit = {f.fit_id: f for f in fits.values()}
    summary = _summarise(wells, by_fit, by, "dilution")
    f = summary["scale"]
    table = summary.assign(
        value=summary["assay_value"] * f,
        unit=unit,
        limit=summary["limit"] * f,
        lloq=summary["lloq"] * f,
        uloq=summary["uloq"] * f,
    )
    if "plate" not in table.columns:
        table["plate"] = ""
    if "analyte" not in table.columns:
        table["analyte"] = ""
    carried = [c for c in _CARRIED if c in table.columns]
    table = table[[*TABLE_COLUMNS[:3], *carried, *TABLE_COLUMNS[3:]]]
    return _result("immunoassay", table, wells, by_fit, "value = concentration x dilution.")


def _result(
    kind: AssayKind,
    table: pd.DataFrame,
    wells: pd.DataFrame,
    fits: dict[str, StandardCurveResult],
    extra: str,
) -> QuantificationResult:
    collector = WarningCollector()
    for fit in fits.values():
        collector.extend(list(fit.warnings))
    flagged = table["flag"] != ""
    if flagged.any():
        counts = table.loc[flagged, "flag"].value_counts()
        text = ", ".join(f"{k} {v}" for k, v in counts.items())
        collector.extend([f"{int(flagged.sum())} of {len(table)} samples flagged ({text})."])
    well_cols = [
        c
        for c in (
            "plate", "well", "analyte", "sample_id", "signal", "undetermined", "value",
            "flag", "limit", "fit_id",
        )
        if c in wells.columns
    ]  # fmt: skip
    return QuantificationResult(
        kind=kind,
        table=table.reset_index(drop=True),
        wells=wells[well_cols].reset_index(drop=True),
        fits=fits,
        method=_method(kind, fits, extra),
        warnings=collector.as_tuple(),
    )


def add_assay_results(cohort: Cohort, result: QuantificationResult) -> Cohort:
    """A new cohort with the quantified values appended to its kinetics or labs table.

    qPCR results go to ``kinetics`` (:meth:`QuantificationResult.to_kinetics`, BLQ coded
    0 with ``lloq``); immunoassays to ``labs`` (:meth:`QuantificationResult.to_labs`,
    BLQ missing). The provenance columns ``plate, fit_id, flag`` are kept as extra columns.
    Rows whose value is missing (``>ULOQ``, BLQ in labs) are kept so the flag is visible.

    Parameters
    ----------
    cohort
        The cohort to extend; it is not modified.
    result
        A :class:`QuantificationResult`.

    Returns
    -------
    Cohort
        A copy with the rows appended.
    """
    name = "kinetics" if result.kind == "qpcr" else "labs"
    rows = result.to_kinetics() if result.kind == "qpcr" else result.to_labs()
    spec = TABLE_BY_NAME[name]
    old = cohort.tables.get(name)
    combined = (
        rows
        if old is None or old.empty
        else pd.concat([old.astype(object), rows.astype(object)], ignore_index=True)
    )
    tables = dict(cohort.tables)
    tables[name] = apply_dtypes(spec, combined)
    extra = dict(cohort.extra_columns)
    kept = tuple(c for c in tables[name].columns if c not in spec.column_names)
    extra[name] = kept
    return dataclasses.replace(cohort, tables=tables, extra_columns=extra)


__all__ = [
    "QuantificationResult",
    "add_assay_results",
    "quantify_immunoassay",
    "quantify_qpcr",
]
