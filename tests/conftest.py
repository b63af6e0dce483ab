"""Workbooks shaped like a centre's own spreadsheet, made here (never real patient data).

:func:`write_centre_workbook` writes the workbook of issue #12's "Done when": a title row
and a row of group labels written as merged cells above the column names (three header
rows), summary columns (a coded response column, local dates), per-day blocks of
CRP/ferritin/LDH with a "true date" column, 14 cytokines over days 0-32, CAR-T counts with
the day in the header (``Day 7_Abs CAR (cells/uL)``), and a footnote row under the data.
:data:`CENTRE_MAPPING` is the one column mapping that reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

#: Days of the inflammatory-marker blocks, with the group labels the centre wrote.
LAB_DAYS = {0: "Day 0 (-1 -2) Timepoint", 7: "Day 7 (5-9) Timepoint", 14: "Day 14 (12-16)"}
LAB_HEADERS = ("CRP (mg/L)", "true date_CRP", "Ferritin (ug/L)", "LDH (U/L)")
#: The 14 cytokines of the panel: 7 are analytes of the standard, 7 are not (left out).
CYTOKINES_KNOWN = ("IL-6", "IFN-gamma", "IL-10", "IL-2", "IL-8", "TNF-alpha", "sIL-2R")
CYTOKINES_OTHER = ("IL-1beta", "IL-4", "IL-5", "IL-12p70", "IL-17A", "GM-CSF", "IFN-alpha")
CYTOKINE_DAYS = (0, 4, 7, 10, 14, 21, 28, 32)
CART_DAYS = (7, 14, 21, 28)
SUMMARY_HEADERS = (
    "Randomized ID",
    "Gender",
    "Age",
    "Date of infusion",
    "Response (0 = MRD- CR, 1 = MRD+ CR, 2 = PR, 3 = SD, 4 = PD)",
    "Max Grade CRS",
    "Max Grade ICANS",
    "Toci",
    "Died",
    "Date of death",
    "Last follow-up (days)",
    "Comments",
)
#: Reported maximum CRS grades, cycled over the patients (none, mild and severe CRS).
CRS_GRADES = (0, 1, 3, 2, 4, 1, 3, 0)
NOTE = "* CRS graded per Lee 2014; cytokines in pg/mL"

CENTRE_MAPPING = r"""# The column mapping of the worked example in docs/mapping.md.
version: 2
header_row: 3
group_rows: [1, 2]
date_format: DD.MM.YYYY
constants:
  crs_grading_system: Lee 2014
ignore: [Comments, IL-1beta, IL-4, IL-5, IL-12p70, IL-17A, GM-CSF, IFN-alpha]
columns:
  Randomized ID: patient_id
  Gender: sex
  Age: age_years
  Date of infusion: infusion_date
  "Response (0 = MRD- CR, 1 = MRD+ CR, 2 = PR, 3 = SD, 4 = PD)":
    - {to: best_response, values: {0: CR, 1: CR, 2: PR, 3: NR, 4: NR}}
    - {to: mrd_negative, values: {0: yes, 1: no, 2: no, 3: no, 4: no}}
  Max Grade CRS: crs_grade
  Max Grade ICANS: icans_grade
  Toci: tocilizumab
  Died: death
  Date of death: death_day
  Last follow-up (days): last_followup_day
wide:
  - table: labs
    group: '^Inflammatory Markers / Day (?P<day>-?\d+)'
    columns:
      "CRP (mg/L)": {analyte: CRP, unit: mg/L, day_column: "true date_CRP"}
      "Ferritin (ug/L)": {analyte: ferritin, unit: ug/L}
      "LDH (U/L)": {analyte: LDH, unit: U/L}
  - table: labs
    group: '^CYTOKINES / Day (?P<day>-?\d+)'
    columns:
      IL-6: {analyte: IL-6, unit: pg/mL}
      IFN-gamma: {analyte: IFN-gamma, unit: pg/mL}
      IL-10: {analyte: IL-10, unit: pg/mL}
      IL-2: {analyte: IL-2, unit: pg/mL}
      IL-8: {analyte: IL-8, unit: pg/mL}
      TNF-alpha: {analyte: TNF-alpha, unit: pg/mL}
      sIL-2R: {analyte: sIL-2R, unit: U/mL}
  - table: kinetics
    header: '^Day (?P<day>\d+)_(?P<column>.+)$'
    columns:
      "Abs CAR (cells/uL)": {unit: cells_per_ul}
"""


def _european(date: dt.date) -> str:
    return date.strftime("%d.%m.%Y")


def _summary_row(i: int, rng: np.random.Generator, infused: dt.date) -> list[object]:
    code = int(rng.integers(0, 5))
    died = i % 3 == 2
    follow = int(rng.integers(120, 700))
    death = _european(infused + dt.timedelta(days=follow)) if died else None
    return [
        f"R-{i + 1:03d}",
        "Male" if i % 2 else "Female",
        int(rng.integers(4, 70)),
        _european(infused),
        code,
        CRS_GRADES[i % len(CRS_GRADES)],
        int(rng.integers(0, 3)),
        "yes" if i % 2 == 0 else "no",
        "yes" if died else "no",
        death,
        follow,
        "seen in clinic" if i == 0 else None,
    ]


def _layout() -> tuple[list[str], dict[int, str], dict[int, str], list[tuple[int, int, int]]]:
    """Headers (row 3), section labels (row 1), group labels (row 2) and merged ranges."""
    headers: list[str] = list(SUMMARY_HEADERS)
    top: dict[int, str] = {1: "Demographics and Clinical Data"}
    second: dict[int, str] = {5: "PRIMARY OUTCOME"}
    merges: list[tuple[int, int, int]] = [(1, 1, len(SUMMARY_HEADERS)), (2, 5, 6)]
    top[len(headers) + 1] = "Inflammatory Markers"
    lab_start = len(headers) + 1
    for label in LAB_DAYS.values():
        second[len(headers) + 1] = label
        merges.append((2, len(headers) + 1, len(headers) + len(LAB_HEADERS)))
        headers.extend(LAB_HEADERS)
    merges.append((1, lab_start, len(headers)))
    top[len(headers) + 1] = "CYTOKINES"
    cyto_start = len(headers) + 1
    panel = [*CYTOKINES_KNOWN, *CYTOKINES_OTHER]
    for day in CYTOKINE_DAYS:
        second[len(headers) + 1] = f"Day {day}"
        merges.append((2, len(headers) + 1, len(headers) + len(panel)))
        headers.extend(panel)
    merges.append((1, cyto_start, len(headers)))
    top[len(headers) + 1] = "CAR-T Kinetics"
    cart_start = len(headers) + 1
    headers.extend(f"Day {d}_Abs CAR (cells/uL)" for d in CART_DAYS)
    merges.append((1, cart_start, len(headers)))
    return headers, top, second, merges


def write_centre_workbook(
    path: Path, *, n_patients: int = 8, note: bool = True, seed: int = 12
) -> dict[str, int]:
    """Write the workbook; returns the number of filled cells per long table."""
    from openpyxl import Workbook

    rng = np.random.default_rng(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    headers, top, second, merges = _layout()
    panel = [*CYTOKINES_KNOWN, *CYTOKINES_OTHER]
    for column, label in top.items():
        ws.cell(row=1, column=column, value=label)
    for column, label in second.items():
        ws.cell(row=2, column=column, value=label)
    for column, header in enumerate(headers, start=1):
        ws.cell(row=3, column=column, value=header)
    for row, first, last in merges:
        if last > first:
            ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    counts = {"labs": 0, "kinetics": 0}
    for i in range(n_patients):
        infused = dt.date(2021, 1, 4) + dt.timedelta(days=37 * i)
        values = _summary_row(i, rng, infused)
        for day in LAB_DAYS:
            crp = round(float(rng.uniform(1, 200)), 1)
            true_day = infused + dt.timedelta(days=day + int(rng.integers(-1, 2)))
            values.extend([crp, _european(true_day), round(float(rng.uniform(100, 5000))), 250])
            counts["labs"] += 3
        for _day in CYTOKINE_DAYS:
            values.extend(round(float(rng.lognormal(3, 1)), 2) for _ in panel)
            counts["labs"] += len(CYTOKINES_KNOWN)
        values.extend(round(float(rng.lognormal(4, 1)), 1) for _ in CART_DAYS)
        counts["kinetics"] += len(CART_DAYS)
        for column, value in enumerate(values, start=1):
            ws.cell(row=4 + i, column=column, value=value)
    if note:
        ws.cell(row=4 + n_patients + 1, column=1, value=NOTE)
    wb.save(path)
    return counts


@pytest.fixture
def centre_workbook(tmp_path: Path) -> Callable[..., tuple[Path, Path, dict[str, int]]]:
    """Write the centre workbook and its mapping into ``tmp_path``: (xlsx, yaml, counts)."""

    def make(**options: object) -> tuple[Path, Path, dict[str, int]]:
        book = tmp_path / "centre.xlsx"
        counts = write_centre_workbook(book, **options)  # type: ignore[arg-type]
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(CENTRE_MAPPING, encoding="utf-8")
        return book, mapping, counts

    return make
