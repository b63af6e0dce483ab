"""The sheet as the mapping page sees it agrees with what the reader reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from cartcohort.ingest import read_mapping, read_source
from cartcohort.ingest.sheet_preview import block_headers, preview_wide, sheet_layouts

Make = Callable[..., tuple[Path, Path, dict[str, int]]]


def test_layout_and_wide_preview_match_the_reader(centre_workbook: Make) -> None:
    book, mapping_path, counts = centre_workbook()
    found = sheet_layouts(book, None, rows=5)[0]
    assert (found.header_row, found.group_rows, found.detected) == (3, (1, 2), True)
    assert [n for n, _ in found.top] == [1, 2, 3, 4, 5]
    assert found.top[0][1][0] == "Demographics and Clinical Data"
    assert found.notes == (13,)  # the footnote row, left out of the body
    assert len(found.body) == 8

    mapping = read_mapping(mapping_path)
    layout = sheet_layouts(book, mapping)[0]
    assert layout.detected is False
    preview = preview_wide(layout, mapping)
    raw = read_source(book, mapping=mapping_path)
    assert {k: len(v.records) for k, v in preview.rows.items()} == {
        name: raw.tables[name].n_rows for name in ("labs", "kinetics")
    }
    assert len(preview.rows["kinetics"].records) == counts["kinetics"]
    # Values and CRP's day columns are taken; the seven unknown cytokines are not.
    assert set(preview.taken.values()) == {1, 2, 3}
    taken = {layout.headers[j] for j in preview.taken}
    assert "true date_CRP" in taken
    assert "IL-1beta" not in taken


def test_block_headers_by_group_and_by_header(centre_workbook: Make) -> None:
    book, _, _ = centre_workbook()
    layout = sheet_layouts(book)[0]
    cytokines = block_headers(layout, re.compile(r"^CYTOKINES / Day (?P<day>\d+)"), None)
    assert len(cytokines) == 14
    assert all(len(columns) == 8 for _, columns in cytokines)
    cart = block_headers(layout, None, re.compile(r"^Day (?P<day>\d+)_(?P<column>.+)$"))
    assert [name for name, _ in cart] == ["Abs CAR (cells/uL)"]
    assert block_headers(layout, None, None) == []
