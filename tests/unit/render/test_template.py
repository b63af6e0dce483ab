"""The Excel fill-in template."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from cartcohort.model.standard import TABLES
from cartcohort.render.standard import TEMPLATE_INFO_SHEETS, write_template


def test_template_has_one_sheet_per_table_with_headers_and_notes(tmp_path: Path) -> None:
    path = write_template(tmp_path / "cohort.xlsx")
    wb = load_workbook(path)
    assert set(wb.sheetnames) == {t.name for t in TABLES} | set(TEMPLATE_INFO_SHEETS)
    for table in TABLES:
        ws = wb[table.name]
        headers = [c.value for c in ws[1]]
        assert headers == list(table.column_names)
        assert all(c.comment is not None for c in ws[1])
        assert ws.max_row == 1  # no example rows that could be mistaken for data
    sex = wb["patients"]["B1"]
    assert sex.value == "sex"
    assert "M, F" in sex.comment.text
    lists = [dv.formula1 for dv in wb["observations"].data_validations.dataValidation]
    assert any("high_flow_nasal_cannula" in f for f in lists)
