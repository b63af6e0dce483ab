"""Column rules: types, ranges, vocabularies, required values and lab units, one table at a time.

Every rule works on the distinct values of a column (``pandas.factorize``), so a
100,000-row column with a few hundred distinct values is checked in milliseconds;
Python loops run only over distinct values and over the few rows that are reported.

Lenient reading. A value that is not in canonical form but has one obvious reading
is accepted and summarised in one ``coerced`` warning per column: surrounding
spaces, ``3.0`` in an integer column, a case variant of a category (``cr`` -> ``CR``)
or an alias from :data:`ALIAS_TABLES` (``male`` -> ``M``), an ISO date with a
midnight time. Tokens of the standard itself (any case of ``yes``/``no``/``1``/``0``
for booleans, a decimal comma in a semicolon-separated file, a lab unit the
standard lists) are not coercions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._types import Severity
from cartcohort.ingest.readers import Issue, RawTable
from cartcohort.ingest.synonyms import suggest_columns
from cartcohort.model.standard import (
    ANALYTE_BY_NAME,
    ANALYTES,
    BURDEN_ASSESSED,
    CEREBRAL_EDEMA,
    COSTIM_DOMAIN,
    CRS_GRADING_SYSTEM,
    CYTOGENETIC_RISK,
    DISEASE_STATUS,
    EVENT,
    FALSE_TOKENS,
    KINETICS_UNIT,
    MARROW_RESPONSE,
    MOTOR_WEAKNESS,
    MRD_METHOD,
    O2_DEVICE,
    RESPONSE,
    SEIZURE,
    SEX,
    TABLE_BY_NAME,
    TRUE_TOKENS,
    Analyte,
    Column,
    Table,
    analyte_for,
    conversion_factor,
    normalise_unit,
)
from cartcohort.validate.identifiers import REFERENCE as IDENTIFIER_REFERENCE
from cartcohort.validate.identifiers import (
    IdentifierColumn,
    header_category,
    identify_column,
    is_allowed,
)
from cartcohort.validate.report import TableIssues, rows_text

ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
Positions = npt.NDArray[np.intp]

OK, COERCED, BAD = 0, 1, 2
#: Largest magnitude accepted in an integer or day column (beyond it, floats lose integers).
MAX_INTEGER = 1e15
#: Whole numbers in a day column in this range are Excel date serials (1960-01-01 to
#: 2099-12-31: a date cell formatted as a number), not 60 to 200 years of follow-up.
EXCEL_SERIAL_RANGE = (21916, 73415)
_EXCEL_EPOCH = np.datetime64("1899-12-30")


# ---------------------------------------------------------------------------------------------
# Vocabulary aliases
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class AliasTable:
    """Accepted alternative spellings for one vocabulary of the standard.

    Attributes
    ----------
    name
        Name of the vocabulary (as in ``docs/validation-rules.md``).
    vocabulary
        The canonical values (a vocabulary tuple of :mod:`cartcohort.model.standard`).
    aliases
        Alias -> canonical value. Matching ignores case, spaces, ``_`` and ``-``.
        Only unambiguous aliases are listed.
    """

    name: str
    vocabulary: tuple[str, ...]
    aliases: Mapping[str, str]


_RESPONSE_ALIASES = {
    "complete response": "CR",
    "complete remission": "CR",
    "CR with incomplete recovery": "CRi",
    "CR with incomplete count recovery": "CRi",
    "CR with incomplete hematologic recovery": "CRi",
    "CR with incomplete haematologic recovery": "CRi",
    "CR with incomplete blood count recovery": "CRi",
    "partial response": "PR",
    "partial remission": "PR",
    "no response": "NR",
    "non-response": "NR",
    "non-responder": "NR",
    "not evaluable": "NE",
    "not evaluated": "NE",
    "non-evaluable": "NE",
}

#: Every alias table, documented in ``docs/validation-rules.md``.
ALIAS_TABLES: tuple[AliasTable, ...] = (
    AliasTable(
        name="sex",
        vocabulary=SEX,
        aliases={"male": "M", "man": "M", "boy": "M", "female": "F", "woman": "F", "girl": "F"},
    ),
    AliasTable(name="response", vocabulary=RESPONSE, aliases=_RESPONSE_ALIASES),
    AliasTable(
        name="marrow_response",
        vocabulary=MARROW_RESPONSE,
        aliases={**_RESPONSE_ALIASES, "relapsed": "relapse"},
    ),
    AliasTable(
        name="costim_domain",
        vocabulary=COSTIM_DOMAIN,
        aliases={"CD137": "4-1BB"},  # '41BB', '4-1bb' match 4-1BB without an alias
    ),
    AliasTable(
        name="o2_device",
        vocabulary=O2_DEVICE,
        aliases={
            "room air": "none",
            "RA": "none",
            "no oxygen": "none",
            "NC": "low_flow_nasal_cannula",
            "nasal cannula": "low_flow_nasal_cannula",
            "LFNC": "low_flow_nasal_cannula",
            "low flow": "low_flow_nasal_cannula",
            "nasal prongs": "low_flow_nasal_cannula",
            "HFNC": "high_flow_nasal_cannula",
            "HFNO": "high_flow_nasal_cannula",
            "high flow": "high_flow_nasal_cannula",
            "high-flow nasal oxygen": "high_flow_nasal_cannula",
            "simple mask": "facemask",
            "simple face mask": "facemask",
            "NRB": "non_rebreather_mask",
            "NRBM": "non_rebreather_mask",
            "non rebreather": "non_rebreather_mask",
            "venturi": "venturi_mask",
            "bilevel": "bipap",
            "MV": "mechanical_ventilation",
            "intubated": "mechanical_ventilation",
            "invasive ventilation": "mechanical_ventilation",
            "ventilator": "mechanical_ventilation",
        },
    ),
    AliasTable(
        name="mrd_method",
        vocabulary=MRD_METHOD,
        aliases={
            "flow cytometry": "flow",
            "MFC": "flow",
            "FCM": "flow",
            "qPCR": "pcr",
            "RQ-PCR": "pcr",
            "clonoSEQ": "ngs",
            "HTS": "ngs",
            "high-throughput sequencing": "ngs",
            "next-generation sequencing": "ngs",
        },
    ),
    AliasTable(
        name="disease_status",
        vocabulary=DISEASE_STATUS,
        aliases={"relapse": "relapsed", "primary refractory": "refractory"},
    ),
    AliasTable(
        name="burden_assessed",
        vocabulary=BURDEN_ASSESSED,
        aliases={
            "before lymphodepletion": "before_ld",
            "pre-LD": "before_ld",
            "after lymphodepletion": "after_ld",
            "post-LD": "after_ld",
        },
    ),
    AliasTable(
        name="cytogenetic_risk",
        vocabulary=CYTOGENETIC_RISK,
        aliases={"favourable": "favorable", "adverse": "poor"},
    ),
    AliasTable(
        name="crs_grading_system",
        vocabulary=CRS_GRADING_SYSTEM,
        aliases={
            "ASTCT 2019": "astct",
            "ASBMT": "astct",
            "Lee": "lee2014",
            "UPenn": "penn",
            "MSK": "mskcc",
            "CARTOX-10": "cartox",
            "CTCAE 4.03": "ctcae_v4.03",
            "CTCAE v4": "ctcae_v4.03",
            "CTCAE 5": "ctcae_v5.0",
            "CTCAE v5": "ctcae_v5.0",
            "CTCAE 5.0": "ctcae_v5.0",
        },
    ),
    AliasTable(
        name="event",
        vocabulary=EVENT,
        aliases={
            "died": "death",
            "dead": "death",
            "deceased": "death",
            "relapsed": "relapse",
            "transplant": "hsct",
            "allo-HSCT": "hsct",
            "allo-SCT": "hsct",
            "SCT": "hsct",
            "BMT": "hsct",
            "PD": "progression",
            "progressive disease": "progression",
            "new treatment": "new_therapy",
            "subsequent therapy": "new_therapy",
        },
    ),
    AliasTable(name="seizure", vocabulary=SEIZURE, aliases={"no": "none"}),
    AliasTable(name="motor_weakness", vocabulary=MOTOR_WEAKNESS, aliases={"no": "none"}),
    AliasTable(name="cerebral_edema", vocabulary=CEREBRAL_EDEMA, aliases={"no": "none"}),
    AliasTable(
        name="kinetics_unit",
        vocabulary=KINETICS_UNIT,
        aliases={
            "copies/µg DNA": "copies_per_ug_dna",
            "copies/µg": "copies_per_ug_dna",
            "cells/µL": "cells_per_ul",
        },
    ),
)
_ALIASES_BY_VOCABULARY: Mapping[tuple[str, ...], AliasTable] = {
    t.vocabulary: t for t in ALIAS_TABLES
}
_KEY_DROP = re.compile(r"[\s_\-]+")


def vocabulary_key(text: str) -> str:
    """Matching key of a category value: case-folded, µ as u, no spaces, ``_`` or ``-``."""
    return _KEY_DROP.sub("", text.strip().casefold().replace("µ", "u").replace("μ", "u"))


def _lookup(col: Column) -> dict[str, str]:
    table = _ALIASES_BY_VOCABULARY.get(col.allowed)
    out = {vocabulary_key(a): c for a, c in (table.aliases.items() if table else ())}
    out.update({vocabulary_key(c): c for c in col.allowed})
    return out


# ---------------------------------------------------------------------------------------------
# The result of checking one table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedTable:
    """One table after the column rules.

    Attributes
    ----------
    name, spec
        The standard table.
    frame
        Clean values (canonical categories, converted units, days as integers);
        values that broke a rule are missing. Columns in file order.
    row_numbers
        User-visible row number of each frame row.
    source, sheet
        Where the table came from.
    extra_columns
        Columns that are not in the standard (kept as text).
    issues
        Problems found by the column rules.
    invalid
        Column -> mask of the rows whose value broke a column rule (and is missing
        in ``frame``), so that later rules do not report it again as empty.
    """

    name: str
    spec: Table
    frame: pd.DataFrame
    row_numbers: npt.NDArray[np.int64]
    source: str
    sheet: str | None
    extra_columns: tuple[str, ...]
    issues: tuple[Issue, ...]
    invalid: Mapping[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def is_invalid(self, column: str) -> npt.NDArray[np.bool_]:
        """Mask of rows whose ``column`` value broke a column rule."""
        mask = self.invalid.get(column)
        return mask if mask is not None else np.zeros(len(self.frame), dtype=bool)

    def row_of(self, position: int) -> int:
        """The user-visible row number of a frame position."""
        return int(self.row_numbers[position])

    def sink(self) -> TableIssues:
        """A fresh issue collector located in this table."""
        return TableIssues(
            file=self.source, sheet=self.sheet, table=self.name, row_numbers=self.row_numbers
        )


# ---------------------------------------------------------------------------------------------
# Parsers: distinct values (non-missing text) -> parsed values and a status per value
# ---------------------------------------------------------------------------------------------
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_INTEGER = r"[+-]?\d+"
_DECIMAL_COMMA = r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_TIME = r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Parsed:
    values: npt.NDArray[np.generic]
    status: npt.NDArray[np.int8]
    is_date: npt.NDArray[np.bool_] | None = None


def _status(bad: npt.NDArray[np.bool_], coerced: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
    return np.where(bad, BAD, np.where(coerced, COERCED, OK)).astype(np.int8)


def _stripped(uniques: ObjectArray) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    text = pd.Series(uniques, dtype=object).astype(str)
    stripped = text.str.strip()
    return stripped, (stripped != text).to_numpy()


def _numbers(
    text: pd.Series, decimal: str, *, percent: bool
) -> tuple[FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_], pd.Series]:
    """Parse numbers; returns values, ok mask, coerced mask and the normalised text."""
    coerced = np.zeros(len(text), dtype=bool)
    if decimal == ",":
        comma = text.str.fullmatch(_DECIMAL_COMMA)
        text = text.where(~comma, text.str.replace(",", ".", regex=False))
    if percent:
        pct = text.str.endswith("%")
        text = text.where(~pct, text.str[:-1].str.strip())
        coerced |= pct.to_numpy()
    ok = text.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    values = pd.to_numeric(text.where(ok), errors="coerce").to_numpy(dtype=np.float64)
    ok = ok & np.isfinite(values)  # a new array: to_numpy() may be read-only (pandas 3)
    return values, ok, coerced, text


def _parse_number(uniques: ObjectArray, col: Column, decimal: str) -> _Parsed:
    text, coerced = _stripped(uniques)
    values, ok, pct, _ = _numbers(text, decimal, percent=col.unit == "%")
    return _Parsed(values=values, status=_status(~ok, coerced | pct))


def _parse_integer(uniques: ObjectArray, decimal: str) -> _Parsed:
    text, coerced = _stripped(uniques)
    values, ok, _, norm = _numbers(text, decimal, percent=False)
    with np.errstate(invalid="ignore"):
        whole = ok & (values == np.round(values)) & (np.abs(values) < MAX_INTEGER)
    canonical = norm.str.fullmatch(_INTEGER).to_numpy(dtype=bool)
    return _Parsed(values=values, status=_status(~whole, coerced | ~canonical))


def _parse_day(uniques: ObjectArray, decimal: str) -> _Parsed:
    parsed = _parse_integer(uniques, decimal)
    text, coerced = _stripped(uniques)
    dated = text.str.fullmatch(_ISO_DATE + _ISO_TIME).to_numpy(dtype=bool)
    dates = pd.to_datetime(text.str[:10].where(dated), format="%Y-%m-%d", errors="coerce")
    valid_date = dated & dates.notna().to_numpy()
    status = parsed.status.copy()
    status[dated] = np.where(valid_date[dated], np.where(coerced[dated], COERCED, OK), BAD)
    values = parsed.values.astype(object)
    values[valid_date] = dates.to_numpy()[valid_date]
    return _Parsed(values=values, status=status.astype(np.int8), is_date=valid_date)


def _parse_date(uniques: ObjectArray) -> _Parsed:
    text, coerced = _stripped(uniques)
    shaped = text.str.fullmatch(_ISO_DATE + _ISO_TIME).to_numpy(dtype=bool)
    dates = pd.to_datetime(text.str[:10].where(shaped), format="%Y-%m-%d", errors="coerce")
    ok = shaped & dates.notna().to_numpy()
    with_time = text.str.len().to_numpy() > 10
    return _Parsed(values=dates.to_numpy(), status=_status(~ok, coerced | with_time))


def _parse_boolean(uniques: ObjectArray) -> _Parsed:
    text, coerced = _stripped(uniques)
    key = text.str.casefold()
    true = key.isin(TRUE_TOKENS).to_numpy()
    false = key.isin(FALSE_TOKENS).to_numpy()
    values = np.full(len(uniques), None, dtype=object)
    values[true] = True
    values[false] = False
    return _Parsed(values=values, status=_status(~(true | false), coerced))


def _parse_category(uniques: ObjectArray, lookup: Mapping[str, str]) -> _Parsed:
    values = np.array([lookup.get(vocabulary_key(str(u))) for u in uniques], dtype=object)
    found = np.array([v is not None for v in values], dtype=bool)
    exact = np.array([v == u for u, v in zip(uniques, values, strict=True)], dtype=bool)
    return _Parsed(values=values, status=_status(~found, found & ~exact))


def _parse_analyte(uniques: ObjectArray) -> _Parsed:
    found = [analyte_for(str(u)) for u in uniques]
    values = np.array([a.name if a else None for a in found], dtype=object)
    ok = np.array([a is not None for a in found], dtype=bool)
    exact = np.array([v == u for u, v in zip(uniques, values, strict=True)], dtype=bool)
    return _Parsed(values=values, status=_status(~ok, ok & ~exact))


def _parse_string(uniques: ObjectArray) -> _Parsed:
    text, coerced = _stripped(uniques)
    return _Parsed(
        values=text.to_numpy(dtype=object), status=_status(np.zeros_like(coerced), coerced)
    )


# ---------------------------------------------------------------------------------------------
# Messages and hints
# ---------------------------------------------------------------------------------------------
def _range_text(col: Column) -> str:
    unit = f" {col.unit}" if col.unit and col.unit != "%" else (col.unit or "")
    if col.minimum is not None and col.maximum is not None:
        return f"{col.minimum:g}-{col.maximum:g}{unit}"
    if col.minimum is not None:
        return f"at least {col.minimum:g}{unit}"
    if col.maximum is not None:
        return f"at most {col.maximum:g}{unit}"
    return "any value"


def _type_hint(col: Column, decimal: str) -> str:
    if col.type == "number":
        mark = "a decimal comma (12,5)" if decimal == "," else "a decimal point (12.5)"
        return (
            f"{col.name} holds a plain number with {mark}: no units, text or '<' signs "
            "(write a value below the detection limit in a comment column)."
        )
    if col.type == "integer":
        return f"{col.name} holds a whole number ({_range_text(col)}). {col.description}"
    if col.type == "day":
        return (
            "Days are whole numbers of days since the first infusion (day 0; negative = "
            "before), or ISO dates (YYYY-MM-DD) counted from the patient's infusion_date."
        )
    if col.type == "date":
        return "Write dates as YYYY-MM-DD (ISO 8601); '04/03/2021' could be 4 March or 3 April."
    if col.type == "boolean":
        return "Use yes/no (also accepted: true/false, y/n, 1/0); leave the cell empty if unknown."
    return col.description


def _factor(scale: float) -> str:
    """``1000000`` -> ``'1,000,000'``; ``0.001`` -> ``'0.001'``."""
    return f"{int(scale):,}" if scale.is_integer() else f"{scale:g}"


def _show(value: object) -> str:
    """Canonical value as shown in a coerced warning."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(value).date())
    return str(value)


# ---------------------------------------------------------------------------------------------
# Checking one column
# ---------------------------------------------------------------------------------------------
class _ColumnCheck:
    """Checks of one column of one table; writes issues into ``sink``."""

    def __init__(self, sink: TableIssues, col: Column, raw: ObjectArray, decimal: str) -> None:
        self.sink = sink
        self.col = col
        self.raw = raw
        self.decimal = decimal
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        self.codes: npt.NDArray[np.intp] = codes
        self.uniques: ObjectArray = np.asarray(uniques, dtype=object)
        self.present = codes >= 0

    def value(self, pos: int) -> str | None:
        v = self.raw[pos]
        return None if v is None else str(v)

    def parse(self) -> _Parsed:
        col, u = self.col, self.uniques
        if col.type == "number":
            return _parse_number(u, col, self.decimal)
        if col.type == "integer":
            return _parse_integer(u, self.decimal)
        if col.type == "day":
            return _parse_day(u, self.decimal)
        if col.type == "date":
            return _parse_date(u)
        if col.type == "boolean":
            return _parse_boolean(u)
        if col.type == "category":
            if self.sink.table == "labs" and col.name == "analyte":
                return _parse_analyte(u)
            return _parse_category(u, _lookup(col))
        return _parse_string(u)

    def rows_with(self, status_u: npt.NDArray[np.int8], status: int) -> Positions:
        per_row = np.where(self.present, status_u[np.maximum(self.codes, 0)], OK)
        return np.flatnonzero(per_row == status)

    def required(self) -> None:
        if not self.col.required:
            return
        missing = np.flatnonzero(~self.present)
        name = self.col.name
        self.sink.per_row(
            "error",
            "required.value",
            missing,
            column=name,
            message=lambda _p: f"{name} is empty; every row of {self.sink.table} needs one.",
            value=lambda _p: None,
            hint=f"Fill in {name}: {self.col.description}",
            what=f"an empty {name}",
        )

    def bad(self, positions: Positions) -> None:
        col = self.col
        if len(positions) == 0:
            return
        if col.type == "category":
            self._bad_category(positions)
            return
        what = {
            "number": "not a number",
            "integer": "not a whole number",
            "day": "neither a whole number of days nor an ISO date (YYYY-MM-DD)",
            "date": "not a valid date in the form YYYY-MM-DD",
            "boolean": "not yes or no",
        }[col.type]
        self.sink.per_row(
            "error",
            f"type.{col.type}",
            positions,
            column=col.name,
            message=lambda p: f"value {self.value(p)!r} is {what}.",
            value=self.value,
            hint=_type_hint(col, self.decimal),
            what=f"values that are {what}",
        )

    def _bad_category(self, positions: Positions) -> None:
        col = self.col
        if self.sink.table == "labs" and col.name == "analyte":
            names = [n for a in ANALYTES for n in (a.name, a.label, *a.aliases)]
            rule, hint = (
                "lab.analyte",
                "Use an analyte of the standard or one of its aliases: "
                + ", ".join(a.name for a in ANALYTES)
                + " (see docs/data-standard.md).",
            )
        else:
            table = _ALIASES_BY_VOCABULARY.get(col.allowed)
            names = [*col.allowed, *(table.aliases if table else ())]
            rule, hint = (
                "vocabulary",
                f"{col.name} must be one of: {', '.join(col.allowed)}"
                + (" (or an alias listed in docs/validation-rules.md)." if table else "."),
            )

        def message(pos: int) -> str:
            raw = self.value(pos) or ""
            close = difflib.get_close_matches(raw, names, n=1, cutoff=0.6)
            close = close or difflib.get_close_matches(raw.casefold(), names, n=1, cutoff=0.6)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            kind = "a known analyte" if rule == "lab.analyte" else f"an allowed {col.name}"
            return f"value {raw!r} is not {kind}.{guess}"

        self.sink.per_row(
            "error",
            rule,
            positions,
            column=col.name,
            message=message,
            value=self.value,
            hint=hint,
            what=f"values that are not an allowed {col.name}",
        )

    def coerced(self, positions: Positions, parsed: _Parsed) -> None:
        if len(positions) == 0:
            return
        codes = self.codes[positions]
        _, first = np.unique(codes, return_index=True)
        examples = []
        for idx in np.sort(first)[:3].tolist():
            code = int(codes[idx])
            rows = [self.sink.row_of(p) for p in positions[codes == code][:3].tolist()]
            raw = str(self.uniques[code])
            examples.append(f"{raw!r} -> {_show(parsed.values[code])!r} ({rows_text(rows, 3)})")
        more = "" if len(first) <= 3 else f", and {len(first) - 3} other distinct value(s)"
        self.sink.add(
            "warning",
            "coerced",
            f"{len(positions)} value(s) were read leniently: {'; '.join(examples)}{more}.",
            "Check that these readings are what you meant; write the canonical form "
            "to silence this warning (aliases: docs/validation-rules.md).",
            position=int(positions[0]),
            column=self.col.name,
            value=self.value(int(positions[0])),
            count=len(positions),
        )


def _check_bound(
    check: _ColumnCheck,
    values: FloatArray,
    note: Callable[[int], str],
    bound: tuple[str, Severity, float],
) -> None:
    rule, severity, limit = bound
    col = check.col
    with np.errstate(invalid="ignore"):
        mask = values > limit if rule != "range.min" else values < limit
    positions = np.flatnonzero(mask & ~np.isnan(values))
    words = {
        "range.min": "below the minimum",
        "range.max": "above the maximum",
        "range.soft_max": "above the plausible maximum",
    }[rule]
    hint = f"{col.name} is {_range_text(col)}. {col.description}"
    if rule == "range.soft_max":
        hint = f"Values above {limit:g} are unusual for {col.name}; check the value and its unit."
    check.sink.per_row(
        severity,
        rule,
        positions,
        column=col.name,
        message=lambda p: f"value {check.value(p)!r}{note(p)} is {words} {limit:g}.",
        value=check.value,
        hint=hint,
        what=f"values {words} {limit:g}",
    )


def _check_ranges(check: _ColumnCheck, values: FloatArray, note: Callable[[int], str]) -> None:
    col = check.col
    if col.minimum is not None:
        _check_bound(check, values, note, ("range.min", "error", col.minimum))
    if col.maximum is not None:
        _check_bound(check, values, note, ("range.max", "error", col.maximum))
    if col.soft_maximum is not None:
        _check_bound(check, values, note, ("range.soft_max", "warning", col.soft_maximum))


# ---------------------------------------------------------------------------------------------
# Checking a table
# ---------------------------------------------------------------------------------------------
def _empty(col: Column, n: int) -> npt.NDArray[np.generic]:
    if col.type in ("number", "integer", "day"):
        return np.full(n, np.nan)
    if col.type == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, None, dtype=object)


def _as_series(col: Column, values: npt.NDArray[np.generic]) -> pd.Series:
    if col.type in ("integer", "day"):
        return pd.Series(np.round(values.astype(np.float64))).astype("Int64")
    if col.type == "number":
        return pd.Series(values.astype(np.float64))
    if col.type == "boolean":
        return pd.Series(pd.array(values.tolist(), dtype="boolean"))
    if col.type == "date":
        return pd.Series(values.astype("datetime64[ns]"))
    return pd.Series(values, dtype=object)


_Anchor = Callable[[], npt.NDArray[np.datetime64]]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    raw: RawTable
    spec: Table
    sink: TableIssues
    anchors: pd.Series | None
    invalid: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def mark_invalid(self, column: str, positions: Positions) -> None:
        """Remember rows whose value in ``column`` broke a rule."""
        if len(positions) == 0:
            return
        mask = self.invalid.setdefault(column, np.zeros(len(self.raw.frame), dtype=bool))
        mask[positions] = True


def _check_column(
    ctx: _Context, col: Column, row_anchor: _Anchor, pids: ObjectArray
) -> npt.NDArray[np.generic]:
    """Clean values of one column (bad values missing), reporting every problem."""
    raw = ctx.raw.frame[col.name].to_numpy(dtype=object)
    check = _ColumnCheck(ctx.sink, col, raw, ctx.raw.decimal)
    check.required()
    n = len(raw)
    if not check.present.any():
        return _empty(col, n)
    parsed = check.parse()
    bad = check.rows_with(parsed.status, BAD)
    check.bad(bad)
    ctx.mark_invalid(col.name, bad)
    check.coerced(check.rows_with(parsed.status, COERCED), parsed)
    codes = np.maximum(check.codes, 0)
    keep = check.present.copy()
    keep[bad] = False
    values = np.where(keep, parsed.values[codes], _empty(col, n))
    if col.type == "day":
        _refuse_excel_serials(ctx, check, parsed, values, keep)
        values = _days_from_dates(ctx, check, parsed, values, keep, row_anchor, pids)
    if col.type in ("number", "integer", "day"):
        numbers = values.astype(np.float64)
        scale = ctx.raw.scales.get(col.name)
        note: Callable[[int], str] = lambda _p: ""  # noqa: E731
        if scale is not None:
            numbers = numbers * scale
            note = lambda p: f" (x {_factor(scale)} = {numbers[p]:g})"  # noqa: E731
        elif col.type == "day":
            note = lambda p: (  # noqa: E731
                f" (day {numbers[p]:g})" if not _is_int_text(check.value(p)) else ""
            )
        _check_ranges(check, numbers, note)
        return numbers
    return values


def _refuse_excel_serials(
    ctx: _Context,
    check: _ColumnCheck,
    parsed: _Parsed,
    values: npt.NDArray[np.generic],
    keep: npt.NDArray[np.bool_],
) -> None:
    """Day values that are Excel date serials: an error each; removed from ``values``/``keep``.

    Refused rather than converted: whether 45123 is a date (2023-07-16) or a typing error
    is for the data manager to say, and a date is one cell format away.
    """
    assert parsed.is_date is not None
    candidates = np.flatnonzero(keep & ~parsed.is_date[np.maximum(check.codes, 0)])
    if candidates.size == 0:
        return
    numbers = values[candidates].astype(np.float64)
    low, high = EXCEL_SERIAL_RANGE
    hits = candidates[(numbers >= low) & (numbers <= high) & (numbers == np.round(numbers))]
    if hits.size == 0:
        return

    def message(p: int) -> str:
        date = _EXCEL_EPOCH + np.timedelta64(round(float(values[p])), "D")
        return (
            f"value {check.value(p)!r} is not a number of days but how Excel stores the date "
            f"{date} (a date cell formatted as a number); it would be "
            f"{float(values[p]) / 365.25:.0f} years of follow-up."
        )

    check.sink.per_row(
        "error",
        "day.excel_serial",
        hits,
        column=check.col.name,
        message=message,
        value=check.value,
        hint=f"Format the column as a date in Excel (it is then read as YYYY-MM-DD and "
        f"converted with the patient's infusion_date), or give {check.col.name} as whole "
        "days since the first infusion.",
        what="Excel date serials",
    )
    ctx.mark_invalid(check.col.name, hits)
    keep[hits] = False
    values[hits] = np.nan


def _is_int_text(text: str | None) -> bool:
    return text is not None and re.fullmatch(_INTEGER, text.strip()) is not None


def _days_from_dates(
    ctx: _Context,
    check: _ColumnCheck,
    parsed: _Parsed,
    values: npt.NDArray[np.generic],
    keep: npt.NDArray[np.bool_],
    row_anchor: _Anchor,
    pids: ObjectArray,
) -> FloatArray:
    """Turn ISO dates in a day column into days since the patient's infusion_date."""
    assert parsed.is_date is not None
    dated = keep & parsed.is_date[np.maximum(check.codes, 0)]
    out = np.full(len(values), np.nan)
    out[keep & ~dated] = values[keep & ~dated].astype(np.float64)
    if not dated.any():
        return out
    positions = np.flatnonzero(dated)
    when = pd.to_datetime(pd.Series(values[positions])).to_numpy(dtype="datetime64[ns]")
    anchor = row_anchor()[positions]
    days = (when - anchor) / np.timedelta64(1, "D")
    out[positions] = days
    orphan = positions[np.isnan(days)]
    ctx.mark_invalid(check.col.name, orphan)
    table = ctx.spec.name
    where = "in this row" if table == "patients" else "in the patients table"
    ctx.sink.per_row(
        "error",
        "day.no_infusion_date",
        orphan,
        column=check.col.name,
        message=lambda p: (
            f"value {check.value(p)!r} is a date, but patient {pids[p]!r} has no "
            f"infusion_date {where} to count days from."
        ),
        value=check.value,
        hint="Fill in infusion_date (YYYY-MM-DD) in the patients table, or give days since "
        "the first infusion instead of a date.",
        what="dates without an infusion_date to count from",
    )
    return out


def _convert_group(
    ctx: _Context,
    analyte: Analyte,
    given: str,
    positions: Positions,
    columns: dict[str, npt.NDArray[np.generic]],
) -> None:
    """Convert one (analyte, unit) group of lab rows in place, or report the unit."""
    value = columns["value"]
    unit: ObjectArray = columns["unit"]  # type: ignore[assignment]  # object array of text
    factor = conversion_factor(analyte, given)
    if factor is None:
        raw_unit = ctx.raw.frame["unit"].to_numpy(dtype=object)
        ctx.sink.per_row(
            "error",
            "lab.unit",
            positions,
            column="unit",
            message=lambda _p: (
                f"unit {given!r} is not a known unit of {analyte.label} ({analyte.name})."
            ),
            value=lambda p: str(raw_unit[p]),
            hint=f"Accepted units for {analyte.label}: {', '.join(analyte.conversions)}. "
            "Convert the values or use one of these units.",
            what=f"an unknown unit for {analyte.name}",
        )
        value[positions] = np.nan
        unit[positions] = None
        ctx.mark_invalid("unit", positions)
        ctx.mark_invalid("value", positions)
        return
    if given == analyte.unit:
        return
    value[positions] = value[positions].astype(np.float64) * factor
    unit[positions] = analyte.unit
    if normalise_unit(given) == normalise_unit(analyte.unit):
        return  # a spelling of the canonical unit ('mg/l', 'µg/L' for 'ug/L')
    ctx.sink.add(
        "warning",
        "lab.converted",
        f"{len(positions)} {analyte.label} value(s) in {given} were converted to "
        f"{analyte.unit} (x {factor:.6g}), first at row {ctx.sink.row_of(int(positions[0]))}.",
        "No action needed if the unit is right; analyses use the canonical unit.",
        position=int(positions[0]),
        column="unit",
        value=given,
        count=len(positions),
    )


def _check_labs(ctx: _Context, columns: dict[str, npt.NDArray[np.generic]]) -> None:
    """Convert lab values to the canonical unit of their analyte; report unknown units."""
    if not {"analyte", "unit", "value"} <= columns.keys():
        return
    columns["value"] = columns["value"].astype(np.float64)
    columns["unit"] = columns["unit"].astype(object)
    frame = pd.DataFrame({"a": columns["analyte"], "u": columns["unit"]})
    groups = frame.groupby(["a", "u"], sort=False, dropna=True).indices
    for (name, given), positions in groups.items():
        _convert_group(ctx, ANALYTE_BY_NAME[str(name)], str(given), positions, columns)


def _extra_column(ctx: _Context, name: str) -> None:
    header = ctx.raw.original_headers.get(name, name)
    close = suggest_columns(header or name, ctx.spec.name)
    guess = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
    label = repr(header) if header else f"an unnamed column (kept as {name!r})"
    ctx.sink.add(
        "warning",
        "extra.column",
        f"{label} is not a column of the {ctx.spec.name} table{guess} "
        "It was kept as an extra column (text, not analysed).",
        "Add it to a column-mapping file to use it under a standard name (cartcohort map "
        "suggest FILE writes a starting one), list it under 'ignore:', or ignore this warning "
        "to keep it as it is.",
        column=name,
        value=header,
    )


def _identifier_column(ctx: _Context, name: str, allow: Sequence[str]) -> bool:
    """Report an extra column that looks like a direct identifier; False when it does not."""
    header = ctx.raw.original_headers.get(name, name) or name
    found = identify_column(ctx.spec.name, name, ctx.raw.frame[name], header=header)
    if found is None:
        return False
    evidence = "its header" if found.evidence == "header" else "its values"
    if is_allowed(found, allow):
        ctx.sink.add(
            "warning",
            "extra.identifier",
            f"{header!r} looks like a direct identifier ({found.category}, from {evidence}) "
            "and was kept because it is allowed explicitly (--allow-identifiers).",
            "Keep the files and the database it goes into as protected as the source data.",
            column=name,
            value=header,
        )
        return True
    ctx.sink.add(
        "error",
        "extra.identifier",
        f"{header!r} looks like a direct identifier of patients ({found.category}, from "
        f"{evidence}; {IDENTIFIER_REFERENCE}). It is refused from the store and every output.",
        "Delete the column (the standard needs only the pseudonymous patient_id), or, if "
        f"your approvals allow keeping it, pass --allow-identifiers {name} "
        "(Python: allow_identifiers=[...]).",
        column=name,
        value=header,
    )
    return True


def _identifier_pseudonym(ctx: _Context, allow: Sequence[str]) -> None:
    """Refuse a ``patient_id`` taken from a header that names a direct identifier (MRN ...)."""
    header = ctx.raw.original_headers.get("patient_id")
    if "patient_id" not in ctx.raw.frame.columns or not header:
        return
    category = header_category(header)
    if category is None:
        return
    found = IdentifierColumn(
        table=ctx.spec.name,
        column="patient_id",
        header=header,
        category=category,
        evidence="header",
    )
    if is_allowed(found, allow):
        return
    ctx.sink.add(
        "error",
        "mapping.identifier",
        f"patient_id is read from the header {header!r}, which looks like a direct "
        f"identifier ({category}; {IDENTIFIER_REFERENCE}); patient_id must be a study "
        "pseudonym.",
        "Replace the values by study pseudonyms (P001, P002 ...) and keep the key apart, "
        "or, if your approvals allow it, pass --allow-identifiers patient_id.",
        column="patient_id",
        value=header,
    )


def check_table(
    raw: RawTable,
    *,
    anchors: pd.Series | None = None,
    allow_identifiers: Sequence[str] = (),
) -> CheckedTable:
    """Apply the column rules to one raw table.

    Parameters
    ----------
    raw
        The table as read.
    anchors
        ``patient_id`` -> ``infusion_date`` (datetime64) from the patients table, used
        to turn ISO dates in day columns into days. The patients table anchors its
        own day columns with its own ``infusion_date``.
    allow_identifiers
        Extra columns that look like direct identifiers but are kept (a warning instead
        of an ``extra.identifier`` error; see :mod:`cartcohort.validate.identifiers`).

    Returns
    -------
    CheckedTable
        Clean values and every problem found.
    """
    spec = TABLE_BY_NAME[raw.name]
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    sink = TableIssues(
        file=raw.source, sheet=raw.sheet, table=raw.name, row_numbers=rows, cells=raw.cells
    )
    ctx = _Context(raw=raw, spec=spec, sink=sink, anchors=anchors)
    for col in spec.columns:
        if col.required and col.name not in raw.frame.columns:
            sink.add(
                "error",
                "required.column",
                f"required column {col.name!r} is missing from the {spec.name} table.",
                f"Add a column {col.name!r} ({col.description.rstrip('.')}), or map your "
                "header to it in a column-mapping file.",
                column=col.name,
            )
    n = len(raw.frame)
    pid_raw = (
        raw.frame["patient_id"].to_numpy(dtype=object)
        if "patient_id" in raw.frame.columns
        else np.full(n, None, dtype=object)
    )
    pids = np.array([p.strip() if isinstance(p, str) else None for p in pid_raw], dtype=object)
    columns: dict[str, npt.NDArray[np.generic]] = {}
    order = sorted(
        (c for c in raw.frame.columns if c in spec.column_names),
        key=lambda c: spec.column(c).type == "day",  # dates (infusion_date) before days
    )
    cache: list[npt.NDArray[np.datetime64]] = []

    def row_anchor() -> npt.NDArray[np.datetime64]:
        # Computed once, and only if a day column holds a date (after infusion_date is read).
        if not cache:
            cache.append(_row_anchor(spec, columns, pids, anchors))
        return cache[0]

    for name in order:
        col = spec.column(name)
        columns[name] = _check_column(ctx, col, row_anchor, pids)
        _scale_issue(ctx, col)
    if spec.name == "labs":
        _check_labs(ctx, columns)
    extras = tuple(c for c in raw.frame.columns if c not in spec.column_names)
    _identifier_pseudonym(ctx, allow_identifiers)
    for name in extras:
        if not _identifier_column(ctx, str(name), allow_identifiers):
            _extra_column(ctx, str(name))
    data = {}
    for name in raw.frame.columns:
        if name in columns:
            data[name] = _as_series(spec.column(name), columns[name])
        else:
            data[name] = pd.Series(raw.frame[name].to_numpy(dtype=object), dtype=object)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    return CheckedTable(
        name=spec.name,
        spec=spec,
        frame=frame,
        row_numbers=rows,
        source=raw.source,
        sheet=raw.sheet,
        extra_columns=tuple(str(c) for c in extras),
        issues=tuple(sink.issues),
        invalid=dict(ctx.invalid),
    )


def _row_anchor(
    spec: Table,
    columns: Mapping[str, npt.NDArray[np.generic]],
    pids: ObjectArray,
    anchors: pd.Series | None,
) -> npt.NDArray[np.datetime64]:
    n = len(pids)
    if spec.name == "patients":
        if "infusion_date" in columns:
            return np.asarray(columns["infusion_date"], dtype="datetime64[ns]")
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if anchors is None or anchors.empty:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    mapped = pd.to_datetime(pd.Series(pids, dtype=object).map(anchors))
    out: npt.NDArray[np.datetime64] = mapped.to_numpy(dtype="datetime64[ns]")
    return out


def _scale_issue(ctx: _Context, col: Column) -> None:
    scale = ctx.raw.scales.get(col.name)
    if scale is None:
        return
    header = ctx.raw.original_headers.get(col.name, col.name)
    if col.type not in ("number", "integer"):
        ctx.sink.add(
            "error",
            "mapping.scale",
            f"the column mapping gives a scale for {col.name!r} (header {header!r}), "
            f"but {col.name} is a {col.type} column, not a number.",
            "Remove 'scale' from this entry of the column mapping.",
            column=col.name,
        )
        return
    ctx.sink.add(
        "warning",
        "mapping.scale",
        f"values of header {header!r} were multiplied by {_factor(scale)} to give {col.name} "
        "(column mapping).",
        "No action needed if the scale is right.",
        column=col.name,
        value=header,
    )


__all__ = ["ALIAS_TABLES", "AliasTable", "CheckedTable", "check_table", "vocabulary_key"]
