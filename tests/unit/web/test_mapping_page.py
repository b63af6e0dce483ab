"""The mapping page through HTTP, as a browser sends its forms: issue #12's workbook (three
header rows, summary columns, per-day blocks, a note row) from upload to a report with
cytokine peaks and dynamics, with a mapping made only on the page; and the page's checks.

Forms are sent as the page renders them (:class:`_Forms` reads every field's value, the
ticked boxes and the selected options), so a field the page forgets to fill fails here.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from cartcohort.ingest import read_mapping, read_source
from cartcohort.validate import validate_cohort
from cartcohort.web import create_app

BASE = "http://127.0.0.1"
Make = Callable[..., tuple[Path, Path, dict[str, int]]]
INFLAMMATORY = r"^Inflammatory Markers / Day (?P<day>-?\d+)"
CYTOKINES = r"^CYTOKINES / Day (?P<day>-?\d+)"
CART = r"^Day (?P<day>\d+)_(?P<column>.+)$"


class _Forms(HTMLParser):
    """The fields of every form of a page, with the values a browser would send."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._option: str | None = None
        self._first: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"attrs": a, "fields": []})
            return
        if not self.forms:
            return
        fields: list[tuple[str, str]] = self.forms[-1]["fields"]
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("file", "submit"):
                fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = a.get("name")
            self._first = {}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._first.setdefault(self._select, value)
            if "selected" in a:
                fields.append((self._select, value))
                self._first[self._select] = "\0taken"

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            first = self._first.get(self._select)
            if first is not None and first != "\0taken":
                self.forms[-1]["fields"].append((self._select, first))
            self._select = None

    def form(self, action: str, testid: str | None = None) -> list[tuple[str, str]]:
        """The fields of the page's POST form to ``action`` (with ``data-testid``)."""
        for form in self.forms:
            attrs = form["attrs"]
            if (
                attrs.get("action") == action
                and attrs.get("method") == "post"
                and (testid is None or attrs.get("data-testid") == testid)
            ):
                return list(form["fields"])
        pytest.fail(f"no form {action!r} ({testid}) on the page")


def _forms(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    return parser


def _set(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    """Fields with some values replaced (or added), as a user would set them."""
    out = [(k, v) for k, v in fields if k not in values]
    return out + list(values.items())


def _data(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """The fields as the HTTP client takes them (a repeated name as a list)."""
    out: dict[str, list[str]] = {}
    for key, value in fields:
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def _row(page: str, header: str) -> str:
    match = re.search(r'id="header-(\d+)">' + re.escape(html.escape(header)) + "<", page)
    assert match is not None, header
    return match.group(1)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(tmp_path / "work")
    with TestClient(app, base_url=BASE) as c:
        page = c.get("/").text
        match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert match is not None
        c.headers["X-CSRF-Token"] = match.group(1)
        yield c


def _add_rule(client: TestClient, table: str, *, group: str = "", header: str = "") -> str:
    """Find a block with the wide-rule form, preview it, add it; returns the preview page."""
    fields = _forms(client.get("/cohort/mapping").text).form("/cohort/mapping/wide", "wide-form")
    fields = _set(fields, table=table, group=group, header=header, action="find")
    found = client.post("/cohort/mapping/wide", data=_data(fields))
    assert found.status_code == 200, found.text[-2000:]
    fields = _forms(found.text).form("/cohort/mapping/wide", "wide-form")
    shown = client.post("/cohort/mapping/wide", data=_data(_set(fields, action="preview")))
    assert shown.status_code == 200
    fields = _forms(shown.text).form("/cohort/mapping/wide", "wide-form")
    added = client.post("/cohort/mapping/wide", data=_data(_set(fields, action="add")))
    assert added.status_code == 200, added.text[-3000:]
    assert "Per-day rule added" in added.text
    return shown.text


@pytest.mark.slow
def test_centre_workbook_is_mapped_on_the_page_and_reported(
    client: TestClient, centre_workbook: Make, tmp_path: Path
) -> None:
    book, cli_mapping, counts = centre_workbook()
    r = client.post("/cohort/upload", files={"file": ("centre.xlsx", book.read_bytes())})
    assert r.status_code == 200

    # 1. The header-row picker shows the first rows; row 3 was found and is chosen.
    page = client.get("/cohort/mapping").text
    picker = page[page.index('data-testid="header-picker"') :]
    assert "Demographics and Clinical Data" in picker
    assert 'value="3" id="header-row-3" checked' in picker
    assert "Row 13 looks like a note" in page
    fields = _forms(page).form("/cohort/mapping/layout")
    assert ("header_row", "3") in fields
    r = client.post("/cohort/mapping/layout", data=_data(fields))
    assert "Header row 3 saved with group rows 1, 2." in r.text

    # 2. The summary columns: the synonyms' suggestions are pre-selected; they are sent as is.
    page = client.get("/cohort/mapping").text
    fields = _forms(page).form("/cohort/mapping")
    chosen = dict(fields)
    response = "Response (0 = MRD- CR, 1 = MRD+ CR, 2 = PR, 3 = SD, 4 = PD)"
    for header, column in {
        "Randomized ID": "patient_id",
        "Gender": "sex",
        "Age": "age_years",
        "Date of infusion": "infusion_date",
        response: "best_response",
        "Max Grade CRS": "crs_grade",
        "Max Grade ICANS": "icans_grade",
        "Toci": "tocilizumab",
        "Died": "death",
        "Date of death": "death_day",
        "Last follow-up (days)": "last_followup_day",
        "Comments": "",
    }.items():
        assert chosen[f"target-{_row(page, header)}"] == column, header
    r = client.post("/cohort/mapping", data=_data(fields))
    assert r.status_code == 200
    assert "Mapping saved" in r.text

    # 3. The per-day blocks, through the wide-rule form with its preview.
    shown = _add_rule(client, "labs", group=INFLAMMATORY)
    assert "This rule gives 72 rows of labs." in shown  # 8 patients x 3 days x 3 analytes
    assert 'value="true date_CRP" selected' in shown  # CRP's exact day column
    shown = _add_rule(client, "labs", group=CYTOKINES)
    assert f"This rule gives {8 * 8 * 7} rows of labs." in shown
    assert 'id="e-0-analyte"' in shown
    shown = _add_rule(client, "kinetics", header=CART)
    assert f"This rule gives {counts['kinetics']} rows of kinetics." in shown

    # 4. The coded response column feeds best_response and mrd_negative.
    page = client.get("/cohort/mapping", params={"recode": response}).text
    fields = _forms(page).form("/cohort/mapping/recode")
    codes = re.findall(r'<th scope="row"><code>([^<]*)</code>', page)
    assert len(codes) == len(set(codes)) >= 3
    assert set(codes) <= {"0", "1", "2", "3", "4"}
    best = {"0": "CR", "1": "CR", "2": "PR", "3": "NR", "4": "NR"}
    mrd = {"0": "yes", "1": "no", "2": "no", "3": "no", "4": "no"}
    values = {f"r1-{i}": best[c] for i, c in enumerate(codes)}
    values |= {f"r2-{i}": mrd[c] for i, c in enumerate(codes)}
    fields = _set(fields, **{"to-1": "best_response", "to-2": "mrd_negative"}, **values)
    r = client.post("/cohort/mapping/recode", data=_data(fields))
    assert "recoded to best_response and mrd_negative" in r.text

    # 5. Constants and the date format.
    fields = _forms(r.text).form("/cohort/mapping/settings")
    fields = _set(
        fields,
        date_format="DD.MM.YYYY",
        **{"c-0-column": "crs_grading_system", "c-0-value": "Lee 2014"},
    )
    r = client.post("/cohort/mapping/settings", data=_data(fields))
    assert "Constants and date format saved." in r.text

    # 6. Leave the rest out: Comments and the seven cytokines the standard does not have.
    page = client.get("/cohort/mapping", params={"only": "unrecognised"}).text
    left = re.findall(r'<span class="header-cell" id="header-\d+">([^<]*)</span>', page)
    assert sorted(left) == sorted(
        ["Comments", "IL-1beta", "IL-4", "IL-5", "IL-12p70", "IL-17A", "GM-CSF", "IFN-alpha"]
    )
    fields = _forms(page).form("/cohort/mapping")
    fields = [(k, "") if k.startswith("target-") else (k, v) for k, v in fields]
    r = client.post("/cohort/mapping", data=_data([*fields, ("rest", "ignore")]))
    assert r.status_code == 200
    summary = re.search(r'data-testid="validation-summary">([^<]*)<', r.text)
    assert summary is not None
    assert summary.group(1).startswith("83 of 140 columns recognised (57 left out")
    assert "Valid:" in r.text

    # The page's file is the command line's: it gives the same cohort as the CLI's mapping.
    saved = tmp_path / "page-mapping.yaml"
    saved.write_text(client.get("/cohort/mapping.yaml").text, encoding="utf-8")
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert data["header_row"] == 3
    assert data["group_rows"] == [1, 2]
    assert len(data["wide"]) == 3
    read_mapping(saved)
    ours, our_report = validate_cohort(read_source(book, mapping=saved))
    theirs, their_report = validate_cohort(read_source(book, mapping=cli_mapping))
    assert ours is not None
    assert theirs is not None
    assert our_report.summary == their_report.summary
    assert sorted(ours.tables) == sorted(theirs.tables)
    for name, frame in theirs.tables.items():
        mine = ours.tables[name]
        assert sorted(mine.columns) == sorted(frame.columns), name
        key = [c for c in ("patient_id", "day", "analyte") if c in frame.columns]
        a = mine[sorted(frame.columns)].sort_values(key).reset_index(drop=True)
        b = frame[sorted(frame.columns)].sort_values(key).reset_index(drop=True)
        assert a.astype(str).equals(b.astype(str)), name
    notes = [i.row for i in our_report.issues if i.rule == "row.note"]
    assert notes == [13]

    # The report: cytokine peaks and dynamics computed, not skipped.
    assert client.post("/cohort/import").status_code == 200
    r = client.post("/analysis/run", data={"plan": "crs-survival-factors"}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    deadline = time.monotonic() + 120
    while client.get(f"{location}/status").json()["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the report did not finish within 120 s"
        time.sleep(0.1)
    results = json.loads(client.get(f"{location}/files/results.json").text)
    analyses = results["plans"]["crs-survival-factors"]["analyses"]
    for key in ("il6_dynamics_by_severity", "peak_il6_by_severity", "peak_crp_by_severity"):
        assert analyses[key]["status"] == "done", key


def test_search_and_unrecognised_filter_work_without_javascript(
    client: TestClient, centre_workbook: Make
) -> None:
    book, _, _ = centre_workbook()
    client.post("/cohort/upload", files={"file": ("centre.xlsx", book.read_bytes())})
    page = client.get("/cohort/mapping", params={"q": "crp"}).text
    headers = re.findall(r'<span class="header-cell" id="header-\d+">([^<]*)</span>', page)
    assert headers == ["CRP (mg/L)", "true date_CRP"]
    assert "2 of " in page
    page = client.get("/cohort/mapping", params={"q": "day 7"}).text  # group labels count
    headers = re.findall(r'<span class="header-cell" id="header-\d+">([^<]*)</span>', page)
    assert "IL-6" in headers
    assert "Gender" not in headers


def test_header_row_below_a_group_row_is_refused(client: TestClient, centre_workbook: Make) -> None:
    book, _, _ = centre_workbook()
    client.post("/cohort/upload", files={"file": ("centre.xlsx", book.read_bytes())})
    r = client.post("/cohort/mapping/layout", data={"header_row": "2", "group_rows": ["1", "3"]})
    assert r.status_code == 400
    assert "Group-label rows must lie above the header row 2; untick row 3." in r.text
    r = client.post("/cohort/mapping/layout", data={"header_row": "x"})
    assert r.status_code == 400
    assert "must be a row number" in r.text


def test_wide_form_reports_bad_patterns_and_escapes_them(
    client: TestClient, centre_workbook: Make
) -> None:
    book, _, _ = centre_workbook()
    client.post("/cohort/upload", files={"file": ("centre.xlsx", book.read_bytes())})
    bad = "<script>alert(1)</script>(("
    r = client.post("/cohort/mapping/wide", data={"table": "labs", "group": bad, "action": "find"})
    assert r.status_code == 400
    assert "is not a valid regular expression" in r.text
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;alert(1)" in r.text
    r = client.post("/cohort/mapping/wide", data={"table": "patients", "group": "x"})
    assert r.status_code == 400
    assert "is not a long table" in r.text


def test_recode_refuses_a_column_that_is_not_offered(
    client: TestClient, centre_workbook: Make
) -> None:
    book, _, _ = centre_workbook()
    client.post("/cohort/upload", files={"file": ("centre.xlsx", book.read_bytes())})
    r = client.post("/cohort/mapping/recode", data={"header": "Gender", "to-1": "os.system"})
    assert r.status_code == 400
    assert "'os.system' is not a column of the patients table." in html.unescape(r.text)


def test_demo_folder_lists_its_headers_as_standard(client: TestClient) -> None:
    client.post("/cohort/demo", data={"demo": "synthetic"})
    page = client.get("/cohort/mapping").text
    assert 'data-testid="header-picker"' in page
    statuses = set(re.findall(r'<tr data-status="([a-z]+)"', page))
    assert statuses == {"standard"}
    assert "0 not recognised yet" in page
