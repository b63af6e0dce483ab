"""End-to-end: the mapping page in headless Chromium, on issue #12's workbook.

The header-row picker (radio and group-row boxes, then the sheet is read again), the
search box and the "unrecognised only" box (filtered in the browser by ``app.js``), and the
wide-rule form with its preview. The server is the real ``serve`` in a subprocess on
127.0.0.1, as in ``test_browser.py``; screenshots (1366 px wide) go to
``$CARTCOHORT_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
Make = Callable[..., tuple[Path, Path, dict[str, int]]]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"cartcohort serve exited:\n{log.read_text(errors='replace')}")
                try:
                    with urllib.request.urlopen(url + "/", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"cartcohort serve did not answer on {url}")
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert "Internal error" not in log.read_text(errors="replace"), log.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "'apt-get update && apt-get install -y chromium' (no browser is downloaded)."
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport={"width": 1366, "height": 900})
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


def test_header_picker_search_filter_and_wide_preview(
    page: Page, centre_workbook: Make, shots: Path
) -> None:
    book, _, _ = centre_workbook()
    page.goto("/cohort")
    page.get_by_label("Patient sheet or workbook").set_input_files(book)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("validation-summary")).to_contain_text("of 140 columns recognised")
    page.get_by_role("link", name="Map columns").click()

    # The header-row picker: row 3 was found; choose it with rows 1-2 as group labels.
    picker = page.get_by_test_id("header-picker")
    expect(picker).to_contain_text("Demographics and Clinical Data")
    expect(page.get_by_label("Row 3 holds the column names")).to_be_checked()
    page.get_by_label("Row 2 holds the column names").check()
    expect(page.get_by_label("Row 3 holds the column names")).not_to_be_checked()
    page.get_by_label("Row 3 holds the column names").check()
    page.get_by_label("Row 1 holds group labels").check()
    page.get_by_label("Row 2 holds group labels").check()
    page.screenshot(path=shots / "web_mapping_header_row.png", full_page=False)
    page.get_by_role("button", name="Use this header row and read the sheet again").click()
    expect(page.get_by_role("status").filter(has_text="Header row 3 saved")).to_be_visible()

    # Save the suggested columns (the synonyms' choices), then come back to the list.
    page.get_by_role("button", name="Save the mapping and check again").click()
    expect(page.get_by_role("status").filter(has_text="Mapping saved")).to_be_visible()
    page.goto("/cohort/mapping#columns")

    # The search box filters the column list as one types (no round trip).
    rows = page.locator("#column-list tbody tr")
    n_all = rows.count()
    assert n_all > 20
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()  # JS filters instead
    url = page.url
    page.get_by_label("Search headers").fill("crp")
    visible = page.locator("#column-list tbody tr:visible")
    expect(visible).to_have_count(2)
    expect(visible.first).to_contain_text("CRP (mg/L)")
    expect(page.get_by_text(f"2 of {n_all} headers shown.")).to_be_visible()
    assert page.url == url
    page.get_by_label("Search headers").fill("")
    page.get_by_label("Unrecognised only").check()
    expect(visible).not_to_have_count(n_all)
    for status in visible.evaluate_all("rows => rows.map(r => r.dataset.status)"):
        assert status in ("unrecognised", "identifier")
    page.get_by_label("Unrecognised only").uncheck()
    expect(visible).to_have_count(n_all)
    page.get_by_label("Search headers").fill("il-")

    # The wide-rule form, filled from a block cartcohort found, and its preview.
    page.get_by_role("button", name="labs: ^CYTOKINES").click()
    expect(page.get_by_label("Analyte of “IL-6”")).to_have_value("IL-6")
    expect(page.get_by_label("Take “IL-1beta”")).not_to_be_checked()
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("wide-preview")
    expect(preview).to_contain_text("This rule gives")
    preview.scroll_into_view_if_needed()
    page.screenshot(path=shots / "web_mapping_wide.png", full_page=False)
