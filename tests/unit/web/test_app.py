"""The web app through Starlette's TestClient: pages, limits, names, token, errors, calculators.

Statistics and grades are the library's and are tested there; these tests check that the
HTTP layer passes the right inputs, shows the library's answer and refuses what it must.
"""

from __future__ import annotations

import html
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cartcohort.errors import PlanError
from cartcohort.ingest import read_mapping, read_source
from cartcohort.store import read_cohort
from cartcohort.validate import validate_cohort
from cartcohort.web import _jobs, create_app, routes_cohort
from cartcohort.web._files import UploadRejectedError, safe_filename, safe_join
from cartcohort.web.cli import address, serve

BASE = "http://127.0.0.1"
BAD_CSV = b"patient_id,Age (yrs),sex,crs_grade\nP1,45,M,2\nP2,-3,X,7\n"
GOOD_CSV = b"patient_id,Age (yrs),sex\nP1,45,M\nP2,30,F\n"
PLAN = """\
name: tiny
title: Tiny plan
analyses:
  - {id: cr, type: compare_proportions, title: CR by burden, outcome: responder, by: burden_group}
  - {id: nothing, type: compare_values, title: Absent, value: no_such_column, by: burden_group}
"""


def _client(tmp_path: Path, **options: Any) -> TestClient:
    app = create_app(tmp_path / "work", **options)
    return TestClient(app, base_url=BASE)


def _arm(client: TestClient, **headers: str) -> TestClient:
    """Send the CSRF token of the app's pages with every request, as its forms do."""
    page = client.get("/", headers=headers).text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match is not None
    client.headers["X-CSRF-Token"] = match.group(1)
    return client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as c:
        yield _arm(c)


def _upload(client: TestClient, name: str, content: bytes, **kwargs: Any) -> Any:
    return client.post("/cohort/upload", files={"file": (name, content)}, **kwargs)


def _field(client: TestClient, header: str) -> str:
    """The index of ``header``'s row on the mapping page (its form fields end with it)."""
    page = client.get("/cohort/mapping").text
    match = re.search(r'id="header-(\d+)">' + re.escape(html.escape(header)) + "<", page)
    assert match is not None, header
    return match.group(1)


def _uploads(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "work").rglob("uploads/*/*") if p.is_file())


# -----------------------------------------------------------------------------------------
# Pages
# -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "heading"),
    [
        pytest.param("/", "From your spreadsheet", id="home"),
        pytest.param("/cohort", "1 · Cohort", id="cohort"),
        pytest.param("/cohort/mapping", "Map your column headers", id="mapping"),
        pytest.param("/analysis", "2 · Analysis", id="analysis"),
        pytest.param("/calculators", "Bedside calculators", id="calculators"),
        pytest.param(
            "/calculators/crs", "CRS grade (ASTCT 2019, CTCAE v5.0, CTCAE v6.0)", id="crs"
        ),
        pytest.param("/calculators/icans", "ICANS grade (ASTCT 2019, CTCAE v6.0)", id="icans"),
        pytest.param("/calculators/easix", "EASIX and m-EASIX", id="easix"),
        pytest.param("/calculators/hlh", "Secondary HLH grade (CTCAE v6.0)", id="hlh"),
    ],
)
def test_every_page_renders_with_its_heading(client: TestClient, path: str, heading: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}" in r.text
    assert "Content-Security-Policy" in r.headers
    assert "http://" not in r.text.replace(BASE, "")  # nothing loaded from elsewhere


def test_static_files_are_served(client: TestClient) -> None:
    assert client.get("/static/style.css").status_code == 200
    assert "initSorting" in client.get("/static/app.js").text


def test_unknown_page_is_a_page_in_words(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Page not found" in r.text
    assert "Traceback" not in r.text


def test_internal_error_is_a_page_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        msg = "secret internal detail"
        raise RuntimeError(msg)

    monkeypatch.setattr(routes_cohort, "validate_cohort", boom)
    app = create_app(tmp_path / "work")
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        r = _arm(c).post("/cohort/demo", data={"demo": "synthetic"})
    assert r.status_code == 500
    assert "bug in cartcohort" in r.text
    assert "secret internal detail" not in r.text
    assert "Traceback" not in r.text


# -----------------------------------------------------------------------------------------
# Uploads: limits, names, types
# -----------------------------------------------------------------------------------------
def test_upload_over_the_size_cap_gets_a_friendly_page(tmp_path: Path) -> None:
    with _client(tmp_path, max_upload_mb=0.001) as c:
        r = _upload(_arm(c), "big.csv", b"patient_id\n" + b"P1\n" * 2000)
    assert r.status_code == 413
    assert "larger than this server accepts (0.001 MB)" in r.text
    assert _uploads(tmp_path) == []


def test_upload_over_the_row_cap_is_refused_and_deleted(tmp_path: Path) -> None:
    rows = b"".join(f"P{i},M\n".encode() for i in range(10))
    with _client(tmp_path, max_rows=5) as c:
        r = _upload(_arm(c), "patients.csv", b"patient_id,sex\n" + rows)
    assert r.status_code == 413
    assert "holds 10 data rows; this server accepts at most 5" in r.text
    assert _uploads(tmp_path) == []


@pytest.mark.parametrize(
    "name", ["report.pdf", "macro.xlsm", "script.py", "noextension", "old.xls", "x.csv.exe"]
)
def test_only_csv_and_xlsx_are_accepted(client: TestClient, tmp_path: Path, name: str) -> None:
    r = _upload(client, name, b"patient_id\nP1\n")
    assert r.status_code == 400
    assert "are not accepted here; use .csv or .xlsx" in r.text
    assert _uploads(tmp_path) == []


def test_xlsx_that_is_not_a_workbook_is_refused(client: TestClient) -> None:
    r = _upload(client, "cohort.xlsx", b"patient_id\nP1\n")
    assert r.status_code == 400
    assert "is not an Excel workbook" in r.text


def test_empty_upload_is_refused(client: TestClient) -> None:
    r = _upload(client, "patients.csv", b"")
    assert r.status_code == 400
    assert "The file is empty." in r.text


def test_file_name_is_sanitised_and_stored_under_a_random_folder(
    client: TestClient, tmp_path: Path
) -> None:
    hostile = "../../<script>alert(1)</script> évil.csv"
    r = _upload(client, hostile, GOOD_CSV)
    assert r.status_code == 200
    (stored,) = _uploads(tmp_path)
    assert stored.resolve().is_relative_to((tmp_path / "work").resolve())
    assert re.fullmatch(r"[A-Za-z0-9._-]+", stored.name)
    assert re.fullmatch(r"[0-9a-f]{16}", stored.parent.name)
    # The original name is shown, escaped; the server path is never shown.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script>alert(1)" not in r.text
    assert str(tmp_path) not in r.text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("patients.csv", "patients.csv", id="plain"),
        pytest.param("../../etc/passwd.csv", "passwd.csv", id="traversal"),
        pytest.param("C:\\Users\\me\\Labs 2024.XLSX", "Labs_2024.xlsx", id="windows-path"),
        pytest.param(".hidden.csv", "hidden.csv", id="leading-dot"),
        pytest.param("<>.csv", "upload.csv", id="nothing-left"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given, allowed=(".csv", ".xlsx")) == expected


def test_safe_filename_refuses_other_extensions() -> None:
    with pytest.raises(UploadRejectedError, match=r"\.sh are not accepted"):
        safe_filename("run.sh", allowed=(".csv",))


def test_safe_join_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.html").write_text("x")
    (tmp_path / "secret.txt").write_text("x")
    assert safe_join(tmp_path / "in", "report.html") == (tmp_path / "in" / "report.html").resolve()
    for bad in ("../secret.txt", "/etc/passwd", "", "figures/../../secret.txt", "nope.html"):
        assert safe_join(tmp_path / "in", bad) is None


# -----------------------------------------------------------------------------------------
# Validation report, mapping, import
# -----------------------------------------------------------------------------------------
def test_bad_sheet_shows_every_problem_located(client: TestClient) -> None:
    r = _upload(client, "my sheet.csv", BAD_CSV)
    assert r.status_code == 200
    assert "Not usable yet" in r.text
    table = r.text[r.text.index('id="issues"') :]
    for expected in (
        "range.max",
        "vocabulary",
        "extra.column",
        ">3<",
        ">X<",
        ">7<",
        "my sheet.csv",
    ):
        assert expected in table
    assert "sex must be one of: M, F" in table  # the hint


def test_validation_report_downloads_as_csv(client: TestClient) -> None:
    _upload(client, "my sheet.csv", BAD_CSV)
    r = client.get("/cohort/validation.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:8] == ["severity", "rule", "file", "sheet", "table", "row", "column", "value"]
    assert "range.max" in text
    assert "my sheet.csv" in text
    assert "/work/" not in text


def test_mapping_step_suggests_saves_yaml_and_revalidates(
    client: TestClient, tmp_path: Path
) -> None:
    _upload(client, "patients.csv", GOOD_CSV)
    page = client.get("/cohort/mapping").text
    assert "Age (yrs)" in page
    selected = re.search(r'<option value="([a-z_0-9]+)" selected>Suggested', page)
    assert selected is not None
    assert selected.group(1) == "age_years"
    i = _field(client, "Age (yrs)")
    r = client.post("/cohort/mapping", data={f"target-{i}": "age_years", f"scale-{i}": ""})
    assert r.status_code == 200
    assert "Mapping saved" in r.text
    assert "extra.column" not in r.text
    # The file is the CLI's mapping format and gives the same result there.
    yaml_text = client.get("/cohort/mapping.yaml").text
    saved = tmp_path / "mapping.yaml"
    saved.write_text(yaml_text, encoding="utf-8")
    mapping = read_mapping(saved)
    assert mapping.for_table("patients").target("Age (yrs)").name == "age_years"
    source = tmp_path / "patients.csv"
    source.write_bytes(GOOD_CSV)
    cohort, _ = validate_cohort(read_source(source, mapping=saved))
    assert cohort is not None
    assert cohort.patients["age_years"].tolist() == [45, 30]


def test_mapping_refuses_a_target_that_was_not_offered(client: TestClient) -> None:
    _upload(client, "patients.csv", GOOD_CSV)
    i = _field(client, "Age (yrs)")
    r = client.post("/cohort/mapping", data={f"target-{i}": "__import__('os')"})
    assert r.status_code == 400
    assert "is not a column of the patients table" in r.text


def test_mapping_refuses_a_bad_scale(client: TestClient) -> None:
    _upload(client, "patients.csv", GOOD_CSV)
    i = _field(client, "Age (yrs)")
    r = client.post("/cohort/mapping", data={f"target-{i}": "age_years", f"scale-{i}": "-2"})
    assert r.status_code == 400
    assert "A scale must be a positive number" in r.text


def test_uploaded_mapping_file_is_checked_by_the_library(client: TestClient) -> None:
    _upload(client, "patients.csv", GOOD_CSV)
    bad = b"columns:\n  'Age (yrs)': {to: age_years, scale: -1}\n"
    r = client.post("/cohort/mapping/upload", files={"file": ("map.yaml", bad)})
    assert r.status_code == 400
    assert "map.yaml" in r.text
    good = b"columns:\n  'Age (yrs)': age_years\n"
    r = client.post("/cohort/mapping/upload", files={"file": ("map.yaml", good)})
    assert r.status_code == 200
    assert "Mapping file loaded" in r.text
    assert "extra.column" not in r.text


def test_demo_imports_into_the_cohort_database(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/cohort/demo", data={"demo": "synthetic"})
    assert "Valid:" in r.text
    assert "150 patients" in r.text
    r = client.post("/cohort/import")
    assert "Imported 150 patients" in r.text
    db = client.get("/cohort/cohort.duckdb")
    assert db.status_code == 200
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.content)
    assert read_cohort(copy).n_patients == 150


def test_unknown_demo_is_refused(client: TestClient) -> None:
    r = client.post("/cohort/demo", data={"demo": "../../etc"})
    assert r.status_code == 400
    assert "There is no demo called" in r.text


# -----------------------------------------------------------------------------------------
# Safety: host, origin, token
# -----------------------------------------------------------------------------------------
def test_foreign_host_header_is_refused(tmp_path: Path) -> None:
    app = create_app(tmp_path / "work")
    with TestClient(app, base_url="http://attacker.example") as c:
        r = c.get("/")
    assert r.status_code == 400
    assert "answers only on the address it printed" in r.text


def test_cross_site_form_post_is_refused(client: TestClient) -> None:
    r = client.post(
        "/cohort/demo", data={"demo": "synthetic"}, headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 403
    assert "sent from another web site" in r.text


def test_access_token_is_required_when_configured(tmp_path: Path) -> None:
    with _client(tmp_path, token="s3cret-token-0123") as c:
        assert c.get("/").status_code == 401
        assert c.get("/?token=wrong").status_code == 401
        assert c.get("/static/style.css").status_code == 401
        r = c.get("/cohort?token=s3cret-token-0123", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/cohort"
        assert c.get("/cohort").status_code == 200  # the cookie carries it now
    with _client(tmp_path, token="s3cret-token-0123") as c:
        assert c.get("/", headers={"Authorization": "Bearer s3cret-token-0123"}).status_code == 200


def test_serve_binds_locally_and_needs_a_token_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    serve(workdir=tmp_path / "a")
    assert calls[-1]["host"] == "127.0.0.1"
    assert calls[-1]["port"] == 8050
    assert calls[-1]["app"].state.config.token is None
    assert "http://127.0.0.1:8050/" in capsys.readouterr().out
    serve(host="0.0.0.0", port=9000, workdir=tmp_path / "b")
    token = calls[-1]["app"].state.config.token
    assert token
    assert calls[-1]["app"].state.config.allowed_hosts is None
    assert f"?token={token}" in capsys.readouterr().out


def test_address_brackets_ipv6() -> None:
    assert address("::1", 8050) == "http://[::1]:8050/"
    assert address("127.0.0.1", 1, "t") == "http://127.0.0.1:1/?token=t"


def test_workdir_inside_the_package_is_refused() -> None:
    import cartcohort

    with pytest.raises(ValueError, match="inside the cartcohort package"):
        create_app(Path(cartcohort.__file__).parent / "web" / "work")


# -----------------------------------------------------------------------------------------
# Analysis
# -----------------------------------------------------------------------------------------
def test_analysis_page_asks_for_a_cohort_first(client: TestClient) -> None:
    r = client.get("/analysis")
    assert "There is no valid cohort yet" in r.text
    r = client.post("/analysis/run", data={"plan": "tumor-burden"})
    assert r.status_code == 400


def test_invalid_plan_upload_names_the_line(client: TestClient) -> None:
    client.post("/cohort/demo", data={"demo": "synthetic"})
    bad = PLAN.replace("compare_values", "no_such_type")
    r = client.post("/analysis/plan", files={"file": ("mine.yaml", bad.encode())})
    assert r.status_code == 400
    assert "mine.yaml line 5" in r.text
    assert "unknown analysis type" in r.text


def _wait(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"{location}/status").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    pytest.fail("the analysis run did not finish within 60 s")


def _stub_writer(results: Any, out_dir: Path, **kwargs: Any) -> Path:
    assert kwargs["docx"] is True  # the job page offers the Word document
    (out_dir / "report.docx").write_bytes(b"PK stub")
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    (out_dir / "figures" / "km.png").write_bytes(b"\x89PNG")
    html = out_dir / "report.html"
    ids = ", ".join(o.id for o in results[0].outputs)
    html.write_text(f"<html><body>Report of {ids}</body></html>", encoding="utf-8")
    return html


def test_uploaded_plan_runs_with_progress_and_serves_the_report(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jobs, "report_writer", lambda: _stub_writer)
    client.post("/cohort/demo", data={"demo": "synthetic"})
    r = client.post("/analysis/plan", files={"file": ("tiny.yaml", PLAN.encode())})
    assert "Tiny plan" in r.text
    assert "tiny.yaml" in r.text
    r = client.post("/analysis/run", data={"plan": "uploaded"}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    status = _wait(client, location)
    assert status["state"] == "done", status
    page = client.get(location).text
    assert re.search(r"badge-done\">done</span></td>\s*<td>CR by burden", page)
    assert "Skipped: needs column &#39;no_such_column&#39;" in page
    assert "<iframe" in page
    report = client.get(f"{location}/files/report.html")
    assert report.status_code == 200
    assert "Report of cr, nothing" in report.text
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert client.get(f"{location}/files/../../mapping.yaml").status_code == 404
    assert client.get(f"{location}/files/%2e%2e/%2e%2e/x").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{location}/report.zip").content))
    assert sorted(archive.namelist()) == [
        "report/figures/km.png",
        "report/report.docx",
        "report/report.html",
    ]
    assert f'href="{location}/files/report.docx" download' in page
    assert client.get(f"{location}/files/report.docx").content == b"PK stub"


def test_run_of_someone_elses_job_is_not_found(client: TestClient) -> None:
    r = client.get("/analysis/jobs/0123456789ab")
    assert r.status_code == 404
    assert "Run not found" in r.text


# -----------------------------------------------------------------------------------------
# Calculators (answers are the library's; the table checks the form is passed through)
# -----------------------------------------------------------------------------------------
CRS_BASE = {
    "temp_c": "37.0",
    "hypotension": "no",
    "vasopressors": "0",
    "vasopressin": "no",
    "o2_device": "none",
    "o2_flow_l_min": "",
    "tocilizumab": "no",
    "antipyretic": "no",
    "corticosteroids": "no",
}


@pytest.mark.parametrize(
    ("changes", "grade", "decided"),
    [
        # "Grade 1: Temperature >= 38 C | Hypotension: None | Hypoxia: None"
        pytest.param({"temp_c": "38.0"}, "Grade 1", "decided by fever", id="fever-only"),
        pytest.param({}, "Grade 0", "no criterion of a higher grade", id="afebrile"),
        # "Requiring a vasopressor with or without vasopressin (Grade 3)"
        pytest.param(
            {"temp_c": "38.5", "hypotension": "yes", "vasopressors": "1"},
            "Grade 3",
            "decided by hypotension",
            id="one-pressor",
        ),
        # Fever masked by tocilizumab: "grading is driven by hypotension and hypoxia only".
        pytest.param(
            {"tocilizumab": "yes", "o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": "4"},
            "Grade 2",
            "decided by hypoxia",
            id="fever-waived-after-tocilizumab",
        ),
        # Nasal cannula > 6 L/min is high flow: grade 3.
        pytest.param(
            {"temp_c": "39", "o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": "8"},
            "Grade 3",
            "decided by hypoxia",
            id="cannula-high-flow",
        ),
        pytest.param({"temp_c": ""}, "Not gradable (0–1)", "depends on fever", id="no-temp"),
    ],
)
def test_crs_calculator(
    client: TestClient, changes: dict[str, str], grade: str, decided: str
) -> None:
    r = client.post("/calculators/crs", data={**CRS_BASE, **changes})
    assert r.status_code == 200
    assert grade in r.text
    assert decided in r.text
    assert "Biol Blood Marrow Transplant. 2019;25(4):625-638" in r.text


CTCAE_BASE = {k: v for k, v in CRS_BASE.items() if k not in ("tocilizumab", "antipyretic")}


@pytest.mark.parametrize(
    ("changes", "grade", "quote"),
    [
        # v5.0 "Hypotension managed with one pressor; hypoxia requiring ≥ 40% O2" (grade 3)
        pytest.param(
            {"scale": "ctcae_v5.0", "o2_device": "facemask", "fio2_pct": "40"},
            "Grade 3",
            "hypoxia requiring ≥ 40% O2",
            id="v5-fio2-40",
        ),
        pytest.param(
            {"scale": "ctcae_v5.0", "o2_device": "facemask", "fio2_pct": ""},
            "Not gradable (2–3)",
            "FiO2",
            id="v5-fio2-missing",
        ),
        # v6.0 "hypoxia requiring low-flow nasal cannula or blow-by" (grade 2), no fever gate
        pytest.param(
            {"scale": "ctcae_v6.0", "o2_device": "blow_by"},
            "Grade 2",
            "hypoxia requiring low-flow nasal cannula or blow-by",
            id="v6-blow-by",
        ),
        pytest.param(
            {"scale": "ctcae_v6.0", "hypotension": "yes"},
            "Grade 2",
            "Hypotension responding to fluids",
            id="v6-fluids",
        ),
    ],
)
def test_crs_calculator_ctcae_scales(
    client: TestClient, changes: dict[str, str], grade: str, quote: str
) -> None:
    r = client.post("/calculators/crs", data={**CTCAE_BASE, "fio2_pct": "21", **changes})
    assert r.status_code == 200
    assert grade in r.text
    assert quote in r.text
    assert "Common Terminology Criteria for Adverse Events" in r.text


def test_crs_calculator_refuses_an_unknown_scale(client: TestClient) -> None:
    r = client.post("/calculators/crs", data={**CRS_BASE, "scale": "ctcae_v9"})
    assert r.status_code == 400
    assert "is not one of the choices" in r.text


def test_crs_waiver_cites_its_criterion(client: TestClient) -> None:
    r = client.post(
        "/calculators/crs", data={**CRS_BASE, "tocilizumab": "yes", "hypotension": "yes"}
    )
    assert "astct-crs-fever-waiver" in r.text
    assert "CRS grading is driven by hypotension and hypoxia only" in r.text


def test_crs_calculator_reports_bad_input_by_field(client: TestClient) -> None:
    r = client.post("/calculators/crs", data={**CRS_BASE, "temp_c": "hot", "vasopressors": "1.5"})
    assert r.status_code == 400
    assert "Temperature: &#39;hot&#39; is not a number." in r.text
    assert "Vasopressors must be a whole number" in r.text
    assert 'aria-invalid="true"' in r.text


def _ice(points: int) -> dict[str, str]:
    """ICE done with every item answered: the first ``points`` scored, the rest not."""
    from cartcohort.web.calculators import ICE_ITEMS

    items = {name: ("yes" if i < points else "no") for i, (name, _, _) in enumerate(ICE_ITEMS)}
    return {"ice_assessed": "yes", **items}


ICANS_BASE = {
    "age_years": "40",
    "developmental_delay": "no",
    "consciousness": "alert",
    "seizure": "none",
    "motor_weakness": "none",
    "cerebral_edema": "none",
}


@pytest.mark.parametrize(
    ("form", "grade", "decided"),
    [
        pytest.param(_ice(10), "Grade 0", "no criterion", id="ice-10"),
        # "ICE score: 7-9 (Grade 1); 3-6 (Grade 2); 0-2 (Grade 3)"
        pytest.param(_ice(8), "Grade 1", "the ICE score", id="ice-8"),
        pytest.param(_ice(5), "Grade 2", "the ICE score", id="ice-5"),
        pytest.param(
            {**_ice(10), "seizure": "resolved_rapidly"},
            "Grade 3",
            "decided by seizure",
            id="seizure",
        ),
        pytest.param(
            {**_ice(10), "cerebral_edema": "diffuse"}, "Grade 4", "cerebral oedema", id="oedema"
        ),
        pytest.param(
            {"ice_assessed": "no"}, "Not gradable", "depends on the ICE score", id="ice-not-done"
        ),
        # Children < 12: CAPD >= 9 -> grade 3.
        pytest.param(
            {"age_years": "8", "capd_score": "12"}, "Grade 3", "the CAPD score", id="child-capd"
        ),
        # "older patients with baseline developmental delays": CAPD at 40 years.
        pytest.param(
            {"developmental_delay": "yes", "capd_score": "12"},
            "Grade 3",
            "the CAPD score",
            id="delay-capd",
        ),
        pytest.param(
            {**_ice(10), "developmental_delay": ""},
            "Not gradable (0–3)",
            "Developmental delay (CAPD at any age)",
            id="delay-unanswered",
        ),
    ],
)
def test_icans_calculator(
    client: TestClient, form: dict[str, str], grade: str, decided: str
) -> None:
    r = client.post("/calculators/icans", data={**ICANS_BASE, **form})
    assert r.status_code == 200
    assert grade in r.text
    assert decided in r.text


@pytest.mark.parametrize(
    ("form", "grade", "quote"),
    [
        # "ICE score 3 - 6" (grade 2); the seizure is not a CTCAE v6.0 domain.
        pytest.param(
            {**_ice(5), "seizure": "prolonged_or_repetitive"},
            "Grade 2",
            "ICE score 3 - 6",
            id="v6-ice-5-seizure-not-read",
        ),
        # "CAPD score 1 - 8 AND awakens to voice" (grade 2)
        pytest.param(
            {"age_years": "6", "capd_score": "5", "consciousness": "awakens_to_voice"},
            "Grade 2",
            "CAPD score 1 - 8 AND awakens to voice",
            id="v6-capd-voice",
        ),
        # CAPD >= 9 while alert: a combination the text does not name -> a range.
        pytest.param(
            {"age_years": "6", "capd_score": "12"},
            "Not gradable (1–3)",
            "ctcae60-icans-capd-unnamed",
            id="v6-capd-unnamed",
        ),
    ],
)
def test_icans_calculator_ctcae_v6(
    client: TestClient, form: dict[str, str], grade: str, quote: str
) -> None:
    r = client.post("/calculators/icans", data={**ICANS_BASE, **form, "scale": "ctcae_v6.0"})
    assert r.status_code == 200
    assert grade in r.text
    assert quote in r.text or grade.startswith("Not gradable")
    assert "CTCAE v6.0 ICANS grade" in r.text
    assert "Seizure grade" not in r.text


def test_easix_and_m_easix(client: TestClient) -> None:
    # EASIX = 300 x 1.2 / 150 = 2.4; m-EASIX = 300 x (50 mg/L = 5 mg/dL) / 150 = 10.
    form = {
        "ldh": "300",
        "ldh_unit": "U/L",
        "creatinine": "1.2",
        "creatinine_unit": "mg/dL",
        "platelets": "150",
        "platelets_unit": "10^9/L",
        "crp": "50",
        "crp_unit": "mg/L",
    }
    r = client.post("/calculators/easix", data=form)
    assert r.status_code == 200
    assert 'data-testid="score-EASIX">2.40<' in r.text
    assert 'data-testid="score-m-EASIX">10.0<' in r.text
    assert "4.67" in r.text
    assert "Pennisi M" in r.text


def test_easix_converts_units_with_the_standard(client: TestClient) -> None:
    # Creatinine 106.1 umol/L = 1.2 mg/dL (factor 1/88.42).
    form = {"ldh": "300", "creatinine": "106.104", "creatinine_unit": "umol/L", "platelets": "150"}
    r = client.post("/calculators/easix", data=form)
    assert 'data-testid="score-EASIX">2.40<' in r.text
    assert 'data-testid="score-m-EASIX">not computable<' in r.text


def test_easix_rejects_a_unit_that_was_not_offered(client: TestClient) -> None:
    r = client.post("/calculators/easix", data={"ldh": "300", "ldh_unit": "furlongs"})
    assert r.status_code == 400
    assert "is not one of the choices" in r.text


def test_analysis_page_says_which_analyses_the_cohort_allows_before_running(
    client: TestClient,
) -> None:
    client.post("/cohort/demo", data={"demo": "seed002_mrd"})
    page = client.get("/analysis").text
    # The 14-patient published sheet has no labs or kinetics: most analyses of the MRD
    # plan are skipped, and the page says which and why before anything is run.
    assert "On this cohort:" in page
    assert "will be skipped" in page
    assert "needs" in page


def test_assay_page_fits_curves_and_flags_out_of_range_values(client: TestClient) -> None:
    from importlib.resources import files

    assert client.get("/assay").status_code == 200
    plate = (files("cartcohort.assay") / "example" / "cba_plate.csv").read_bytes()
    r = client.post(
        "/assay",
        data={"kind": "immunoassay"},
        files={"file": ("my plate.csv", plate, "text/csv")},
    )
    assert r.status_code == 200, r.text[:500]
    assert r.text.count('alt="Standard curve SYN-CBA-01/') == 2  # one figure per fit
    assert "below_fit" in r.text or "&lt;LLOQ" in r.text  # flagged, not extrapolated
    assert 'download="labs.csv"' in r.text


def test_assay_page_refuses_bad_input_with_a_message(client: TestClient) -> None:
    r = client.post(
        "/assay", data={"kind": "qpcr"}, files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert r.status_code == 400
    assert "signal" in r.text
    assert "Traceback" not in r.text


def test_the_run_form_offers_every_scale_and_relapse_rule(client: TestClient) -> None:
    client.post("/cohort/demo", data={"demo": "synthetic"})
    page = client.get("/analysis").text
    for key in ("ctcae_v5.0", "ctcae_v6.0", "lee2014", "ponte_di_legno_2022", "threshold"):
        assert f'value="{key}"' in page
    assert '<select name="icans_system"' in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"crs_system": "ctcae_v7"}, "The CRS scale must be one of astct"),
        ({"icans_system": "lee2014"}, "The ICANS scale must be one of astct, ctcae_v6.0"),
        ({"relapse_rule": "threshold"}, "needs `relapse_blasts_pct`"),
        ({"relapse_rule": "threshold", "relapse_blasts_pct": "five"}, "must be a percent"),
    ],
)
def test_a_wrong_scale_or_rule_is_refused_before_the_run(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    client.post("/cohort/demo", data={"demo": "synthetic"})
    r = client.post("/analysis/run", data={"plan": "tumor-burden", **fields})
    assert r.status_code == 400
    assert message in html.unescape(r.text)


def test_the_chosen_scales_reach_the_derivation(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_derive(cohort: Any, **options: Any) -> Any:
        seen.update(options)
        raise PlanError("stop here")  # the test needs only the options

    import cartcohort.derive.dataset

    monkeypatch.setattr(cartcohort.derive.dataset, "derive", fake_derive)
    client.post("/cohort/demo", data={"demo": "synthetic"})
    r = client.post(
        "/analysis/run",
        data={
            "plan": "tumor-burden",
            "crs_system": "ctcae_v6.0",
            "icans_system": "ctcae_v6.0",
            "relapse_rule": "threshold",
            "relapse_blasts_pct": "5",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _wait(client, r.headers["location"])["state"] == "failed"
    assert seen == {
        "crs_system": "ctcae_v6.0",
        "icans_system": "ctcae_v6.0",
        "relapse_rule": "threshold",
        "relapse_blasts_pct": 5.0,
    }
