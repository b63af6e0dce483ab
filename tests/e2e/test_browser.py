"""End-to-end: headless Chromium (Debian's ``chromium`` package) drives ``cartcohort serve``.

The server is the real ``serve`` function, started in a subprocess on a free port of
127.0.0.1 and stopped with SIGTERM. Playwright only drives the browser; no browser is
downloaded (``playwright install`` is not needed). A missing ``/usr/bin/chromium`` fails
the tests with the command that installs it: these tests are never skipped.

Screenshots go to ``$CARTCOHORT_SCREENSHOTS`` when set (``docs/img`` to refresh the
documentation), otherwise to a temporary folder.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cartcohort.demo import write_demo

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RENAMED = ("bm_blasts_pct", "BM blasts pct.")
BAD_CSV = "patient_id,Age (yrs),sex,crs_grade,death\nP1,45,M,2,no\nP2,-3,X,7,no\nP2,51,F,1,maybe\n"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text(errors="replace")
            pytest.fail(f"cartcohort serve exited with {proc.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"cartcohort serve did not answer on {url} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    workdir = tmp_path_factory.mktemp("serve")
    code = (
        "from pathlib import Path\n"
        "from cartcohort.web.cli import serve\n"
        f"serve(host='127.0.0.1', port={port}, workdir=Path({str(workdir)!r}))\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    log = workdir / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            _wait_until_up(url + "/", proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # The server log is the place to look when a page says "bug in cartcohort".
    assert "Internal error" not in log.read_text(errors="replace"), log.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: these browser tests need Debian's Chromium. Install it with "
            "'apt-get update && apt-get install -y chromium' (no browser is downloaded)."
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    # Nothing may leave 127.0.0.1: abort any other request and remember it.
    outside: list[str] = []

    def guard(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith((server, "data:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CARTCOHORT_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def renamed_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo as one Excel workbook, with one header as a centre might write it."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, fmt="xlsx")
    workbook_path = folder / "synthetic" / "synthetic.xlsx"
    workbook = openpyxl.load_workbook(workbook_path)
    for cell in workbook["patients"][1]:
        if cell.value == RENAMED[0]:
            cell.value = RENAMED[1]
    target = folder / "Centre cohort 2024.xlsx"
    workbook.save(target)
    return target


# -----------------------------------------------------------------------------------------
# Cohort -> mapping -> import -> analysis -> report with the KM figure
# -----------------------------------------------------------------------------------------
def test_excel_file_to_report_with_km_figure(page: Page, renamed_demo: Path, shots: Path) -> None:
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="1 · Cohort").click()
    page.get_by_label("Patient sheet or workbook").set_input_files(renamed_demo)
    # reading and validating the 40,000-row demo workbook takes about 5 s on a quiet
    # machine and several times that on a loaded one: wait for it, not for Playwright's
    # default 30 s
    page.get_by_role("button", name="Upload and check").click(timeout=180_000)

    status = page.get_by_test_id("validation-status")
    expect(status).to_contain_text("150 patients")
    expect(page.locator("#issues")).to_contain_text(RENAMED[1])

    page.get_by_role("link", name="Map columns").click()
    expect(page.get_by_role("heading", name="Map your column headers")).to_be_visible()
    select = page.get_by_label(f"Standard column for “{RENAMED[1]}” (patients)")
    expect(select).to_have_value(RENAMED[0])  # the validator's suggestion, pre-selected
    page.screenshot(path=shots / "web_mapping.png", full_page=True)
    page.get_by_role("button", name="Save the mapping and check again").click()

    expect(page.get_by_role("status").filter(has_text="Mapping saved")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("extra.column")
    with page.expect_download() as download:
        page.goto("/cohort/mapping")
        page.get_by_role("link", name="Download mapping.yaml").click()
    assert f"{RENAMED[1]}: {RENAMED[0]}" in Path(download.value.path()).read_text()

    page.get_by_role("link", name="← Back to the cohort").click()
    page.get_by_role("button", name="Import into the cohort database").click()
    expect(page.get_by_text("Imported 150 patients")).to_be_visible()
    page.get_by_role("link", name="Continue to the analysis →").click()

    page.get_by_label(
        "Tumour burden before infusion and the efficacy and safety of CAR-T cells"
    ).check()
    page.get_by_role("button", name="Run the plan").click()
    expect(page.get_by_test_id("job-done")).to_be_visible(timeout=120_000)

    # The analyses that need the mapped column ran (burden groups come from bm_blasts_pct).
    efs = page.locator("table.analyses-status tr", has_text="Event-free survival by tumour burden")
    expect(efs.locator(".badge")).to_have_text("done")
    report = page.frame_locator("iframe.report")
    km = report.locator('img[alt^="Event-free survival by tumour burden (Fig. 2D)"]')
    expect(km).to_be_visible()
    assert km.evaluate("img => img.naturalWidth") > 200
    expect(page.get_by_test_id("counts")).to_contain_text("analyses done")
    km.scroll_into_view_if_needed()
    page.screenshot(path=shots / "web_analysis_report.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report folder (.zip)").click()
    assert download.value.suggested_filename == "cartcohort-report.zip"
    assert Path(download.value.path()).stat().st_size > 100_000


def test_bad_sheet_shows_its_errors_sortable_and_downloadable(
    page: Page, tmp_path: Path, shots: Path
) -> None:
    sheet = tmp_path / "ward sheet.csv"
    sheet.write_text(BAD_CSV, encoding="utf-8")
    page.goto("/cohort")
    page.get_by_label("Patient sheet or workbook").set_input_files(sheet)
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_test_id("validation-status")).to_contain_text("Not usable yet")
    issues = page.locator("#issues")
    for text in ("vocabulary", "range.max", "ward sheet.csv", "sex must be one of: M, F"):
        expect(issues).to_contain_text(text)
    expect(page.get_by_role("button", name="Import into the cohort database")).to_have_count(0)

    # Sort by row, descending, with the keyboard.
    header = page.locator("#issues th").filter(has_text="Row")
    header.get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    first_row = issues.locator("tbody tr").first.locator("td").nth(4)
    expect(first_row).to_have_text("4")
    page.screenshot(path=shots / "web_cohort_errors.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    with Path(download.value.path()).open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {"vocabulary", "range.max"} <= {r["rule"] for r in rows}
    assert {r["file"] for r in rows} == {"ward sheet.csv"}


def test_oversize_upload_gets_a_page_not_a_reset(page: Page, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as handle:
        handle.write("patient_id,notes\n")
        row = "P,".ljust(1000, "x") + "\n"
        handle.writelines(row for _ in range(21_000))  # ~21 MB > the 20 MB default
    page.goto("/cohort")
    page.get_by_label("Patient sheet or workbook").set_input_files(big)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="File too large")).to_be_visible()
    expect(page.locator("main")).to_contain_text("larger than this server accepts (20 MB)")


# -----------------------------------------------------------------------------------------
# Calculators
# -----------------------------------------------------------------------------------------
def test_crs_calculator(page: Page, shots: Path) -> None:
    page.goto("/calculators")
    page.get_by_role("link", name="CRS grade (ASTCT 2019, CTCAE v5.0, CTCAE v6.0)").click()
    page.get_by_label("Highest temperature today").fill("37.4")
    page.get_by_label("Tocilizumab (or another anti-cytokine drug)").select_option("yes")
    page.get_by_label("Hypotension (needing fluids or vasopressors)").select_option("yes")
    page.get_by_label("Number of vasopressors, not counting vasopressin").fill("1")
    page.get_by_label("Oxygen device (highest today)").select_option("low_flow_nasal_cannula")
    page.get_by_label("Oxygen flow").fill("3")
    page.get_by_role("button", name="Grade CRS").click()
    expect(page.get_by_test_id("grade")).to_have_text("Grade 3")
    expect(page.get_by_test_id("explanation")).to_contain_text("decided by hypotension")
    result = page.locator("#result")
    expect(result).to_contain_text("astct-crs-fever-waiver")  # fever after tocilizumab
    expect(result).to_contain_text("Requiring a vasopressor with or without vasopressin")
    expect(result).to_contain_text("Biol Blood Marrow Transplant. 2019")
    page.screenshot(path=shots / "web_calc_crs.png", full_page=True)


def test_icans_calculator(page: Page, shots: Path) -> None:
    page.goto("/calculators/icans")
    page.get_by_label("Age").fill("54")
    page.get_by_label("Baseline developmental delay").select_option("no")
    # Nothing is pre-selected: ICE counts only once it is "done" and all ten points answered.
    page.get_by_label("ICE assessment").select_option("yes")
    scored = (
        "Orientation: year",
        "Orientation: month",
        "Orientation: city",
        "Naming: first object (e.g. clock)",
        "Naming: second object (e.g. pen)",
    )
    for label in scored:
        page.get_by_label(label).select_option("yes")
    for label in (
        "Orientation: hospital",
        "Naming: third object (e.g. button)",
        "Follows simple commands (e.g. 'show me two fingers')",
        "Writes a standard sentence",
        "Counts backwards from 100 by 10",
    ):
        page.get_by_label(label).select_option("no")
    page.get_by_label("Level of consciousness").select_option("awakens_to_voice")
    page.get_by_label("Seizure").select_option("none")
    page.get_by_label("Motor findings").select_option("none")
    page.get_by_label("Raised intracranial pressure / cerebral oedema").select_option("none")
    page.get_by_role("button", name="Grade ICANS").click()
    expect(page.get_by_test_id("grade")).to_have_text("Grade 2")
    expect(page.get_by_test_id("explanation")).to_contain_text(
        "the ICE score and the level of consciousness"
    )
    expect(page.locator("#result")).to_contain_text("ICE score (0–10)5")
    page.screenshot(path=shots / "web_calc_icans.png", full_page=True)


def test_easix_calculator(page: Page, shots: Path) -> None:
    page.goto("/calculators/easix")
    page.get_by_label("LDH", exact=True).fill("300")
    page.get_by_label("Creatinine", exact=True).fill("106.104")
    page.get_by_label("Creatinine unit").select_option("umol/L")
    page.get_by_label("Platelets", exact=True).fill("150")
    page.get_by_label("CRP", exact=True).fill("50")
    page.get_by_role("button", name="Compute").click()
    expect(page.get_by_test_id("score-EASIX")).to_have_text("2.40")
    expect(page.get_by_test_id("score-m-EASIX")).to_have_text("10.0")
    expect(page.locator("#result")).to_contain_text("Pennisi M")
    page.screenshot(path=shots / "web_calc_easix.png", full_page=True)


def test_keyboard_reaches_the_content_first(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
