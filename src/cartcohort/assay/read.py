"""Read tidy plate exports (CSV or XLSX) into standards and samples tables.

A plate export has one row per well. Headers are matched case-insensitively after
replacing spaces and dashes with ``_``; common instrument spellings are accepted
(``Ct``/``Cq``/``MFI``/``OD`` -> ``signal``, ``Quantity``/``Conc`` -> ``nominal``,
``Task``/``Type`` -> ``role``, ``Sample Name`` -> ``sample_id``). Rows are split by
``role``: ``standard`` rows (or, without a ``role`` column, rows with a ``nominal``
value) are standards; ``sample``/``unknown`` rows are samples; blanks, NTCs and
controls are kept aside in ``other``.

A signal cell may say ``Undetermined`` (or ``No Ct``, ``>40``, empty, ``NaN``): it
becomes NaN with ``undetermined = True`` (qPCR: no amplification, below the LLOQ). Any
other text in a numeric column is an :class:`~cartcohort.errors.IngestError` that names
the file, the spreadsheet row (header = row 1) and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cartcohort.errors import IngestError

#: Header spellings accepted for each canonical column.
ALIASES: dict[str, tuple[str, ...]] = {
    "plate": ("plate", "plate_id", "run", "run_id"),
    "well": ("well", "well_position", "position", "location"),
    "role": ("role", "task", "type", "sample_type", "well_type", "well_role"),
    "sample_id": ("sample_id", "sample", "sample_name", "specimen", "specimen_id"),
    "standard_id": ("standard_id", "standard"),
    "analyte": ("analyte", "target", "target_name", "cytokine", "detector"),
    "signal": ("signal", "ct", "cq", "crt", "mfi", "fi", "od", "absorbance"),
    "nominal": (
        "nominal",
        "quantity",
        "nominal_concentration",
        "expected_concentration",
        "conc",
        "concentration",
        "copies",
        "expected",
    ),
    "dilution": ("dilution", "dilution_factor"),
    "dna_ng_per_reaction": ("dna_ng_per_reaction", "dna_ng", "dna_input_ng", "dna_input"),
    "patient_id": ("patient_id", "patient", "subject_id"),
    "day": ("day", "study_day"),
    "infusion": ("infusion",),
}
#: ``role`` values (lower case) read as standards / samples; everything else goes to ``other``.
STANDARD_ROLES = ("standard", "std", "calibrator", "s")
SAMPLE_ROLES = ("sample", "unknown", "unkn", "u", "patient")
#: Signal tokens meaning "no signal / did not amplify" (case-insensitive).
UNDETERMINED_TOKENS = ("", "undetermined", "undet", "no ct", "no cq", "nan", "na", "n/a", "-")

_NUMERIC = ("signal", "nominal", "dilution", "dna_ng_per_reaction", "day", "infusion")
_ABOVE_CYCLES = re.compile(r"^>\s*\d+(\.\d*)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlateExport:
    """A plate export split into standards, samples and other wells.

    Attributes
    ----------
    standards
        Standard wells (``nominal``, ``signal`` ...), one row per well.
    samples
        Sample wells (``sample_id``, ``signal`` ...), one row per well.
    other
        Blanks, no-template controls, QC controls: kept for inspection, not quantified.
    path
        The file read. Every table has a ``row`` column: the well's spreadsheet row.
    """

    standards: pd.DataFrame = field(repr=False)
    samples: pd.DataFrame = field(repr=False)
    other: pd.DataFrame = field(repr=False)
    path: str

    def __repr__(self) -> str:
        return (
            f"PlateExport({self.path!r}: {len(self.standards)} standard, "
            f"{len(self.samples)} sample, {len(self.other)} other wells)"
        )


def _normalise(header: object) -> str:
    text = str(header).strip().lower()
    text = re.sub(r"\(.*?\)", "", text).strip()  # "Conc (pg/mL)" -> "conc"
    return re.sub(r"[\s\-/.]+", "_", text).strip("_")


def _rename(frame: pd.DataFrame, shown: str) -> pd.DataFrame:
    lookup = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases}
    mapping: dict[str, str] = {}
    for col in frame.columns:
        canon = lookup.get(_normalise(col))
        if canon is None:
            continue
        if canon in mapping.values():
            first = next(k for k, v in mapping.items() if v == canon)
            msg = (
                f"{shown}: columns {first!r} and {col!r} both read as `{canon}`; "
                "keep one or rename the other."
            )
            raise IngestError(msg)
        mapping[str(col)] = canon
    return frame.rename(columns=mapping)


def _parse_numeric(frame: pd.DataFrame, column: str, shown: str) -> pd.DataFrame:
    text = frame[column].astype("string").str.strip()
    lower = text.str.lower().fillna("")
    out = pd.to_numeric(text.where(~lower.isin(UNDETERMINED_TOKENS)), errors="coerce")
    undetermined = lower.isin(UNDETERMINED_TOKENS) | text.isna()
    if column == "signal":
        undetermined |= lower.str.match(_ABOVE_CYCLES)
    bad = out.isna() & ~undetermined
    if column != "signal":
        bad = out.isna() & ~(text.isna() | (lower == ""))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        rows = frame["row"].to_numpy()
        msg = (
            f"{shown}, row {rows[i]}, column `{column}`: {frame[column].iloc[i]!r} is not a "
            f"number ({int(bad.sum())} such cell(s)). Fix the export or blank the cell."
        )
        raise IngestError(msg)
    frame[column] = out.astype(float)
    if column == "signal":
        frame["undetermined"] = undetermined.to_numpy(bool)
    return frame


def _load(path: Path, sheet: str | int | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            sep = "\t" if suffix == ".tsv" else None
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=sep, engine="python",
                comment=None, skip_blank_lines=True,
            )  # fmt: skip
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        msg = f"{path}: cannot be read as a plate export ({exc})."
        raise IngestError(msg) from exc
    msg = f"{path}: unsupported extension {suffix!r}; export the plate as .csv or .xlsx."
    raise IngestError(msg)


def read_plate(path: str | Path, *, sheet: str | int | None = None) -> PlateExport:
    """Read a tidy plate export and split it into standards, samples and other wells.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` or ``.xlsx`` file with one row per well.
    sheet
        Worksheet name or index for XLSX (default: the first sheet).

    Returns
    -------
    PlateExport
        ``standards`` and ``samples`` ready for :func:`~cartcohort.quantify_qpcr` or
        :func:`~cartcohort.quantify_immunoassay`. Every table has a ``row`` column with
        the spreadsheet row of the well and, when a signal column exists, ``undetermined``.

    Raises
    ------
    IngestError
        The file is missing, unreadable, has no ``signal`` column, or a numeric cell holds
        text; the message names the file, row and column.

    Examples
    --------
    >>> from importlib.resources import files
    >>> plate = read_plate(files("cartcohort.assay") / "example" / "qpcr_plate.csv")
    >>> len(plate.standards), len(plate.samples)
    (18, 18)
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file."
        raise IngestError(msg)
    shown = path.name
    frame = _rename(_load(path, sheet), shown)
    if frame.empty:
        msg = f"{shown}: the export has no rows."
        raise IngestError(msg)
    if "signal" not in frame.columns:
        msg = (
            f"{shown}: no signal column (expected one of "
            f"{', '.join(ALIASES['signal'])}); columns are {', '.join(map(str, frame.columns))}."
        )
        raise IngestError(msg)
    frame.insert(0, "row", np.arange(2, len(frame) + 2))
    for column in _NUMERIC:
        if column in frame.columns:
            frame = _parse_numeric(frame, column, shown)
    for column in ("plate", "well", "sample_id", "standard_id", "analyte", "patient_id"):
        if column in frame.columns:
            frame[column] = frame[column].astype("string").str.strip()
    if "role" in frame.columns:
        role = frame["role"].astype("string").str.strip().str.lower()
        is_std = role.isin(STANDARD_ROLES)
        is_sample = role.isin(SAMPLE_ROLES)
    elif "nominal" in frame.columns:
        is_std = frame["nominal"].notna()
        is_sample = ~is_std
    else:
        msg = f"{shown}: no `role` (Task/Type) and no `nominal` column to tell standards apart."
        raise IngestError(msg)
    if is_std.any() and "nominal" not in frame.columns:
        msg = f"{shown}: standard wells but no `nominal` (Quantity/Conc) column."
        raise IngestError(msg)
    if is_std.any() and frame.loc[is_std, "nominal"].isna().any():
        row = frame.loc[is_std & frame["nominal"].isna(), "row"].iloc[0]
        msg = f"{shown}, row {row}, column `nominal`: a standard well needs its nominal value."
        raise IngestError(msg)
    return PlateExport(
        standards=frame[is_std].reset_index(drop=True),
        samples=frame[is_sample].reset_index(drop=True),
        other=frame[~is_std & ~is_sample].reset_index(drop=True),
        path=str(path),
    )


__all__ = ["ALIASES", "UNDETERMINED_TOKENS", "PlateExport", "read_plate"]
