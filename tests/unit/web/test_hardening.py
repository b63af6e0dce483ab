"""Hostile requests to the web app: session floods, forged forms, weak tokens, oversize and
damaged uploads (issue 17, finding 9). Every hostile file is generated here, in memory.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import typer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cartcohort.cli import app as cli_app
from cartcohort.web import create_app
from cartcohort.web._sessions import Job, SessionStore
from cartcohort.web.cli import serve

BASE = "http://127.0.0.1"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
GOOD_CSV = b"patient_id,sex\nP1,M\nP2,F\n"
LOADED = 'Loaded: <span class="filename">patients.csv</span>'
HIDDEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _token(client: TestClient, path: str = "/cohort") -> str:
    match = TOKEN.search(client.get(path).text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(tmp_path / "work", max_sessions_per_client=3)


@pytest.fixture
def user(app: Any) -> Iterator[TestClient]:
    """A browser that has uploaded a sheet (so it has a session and a folder)."""
    with TestClient(app, base_url=BASE) as c:
        token = _token(c)
        files = {"file": ("patients.csv", GOOD_CSV)}
        r = c.post("/cohort/upload", files=files, data={"csrf_token": token})
        assert LOADED in r.text
        c.headers["X-CSRF-Token"] = _token(c)
        yield c


def _folders(tmp_path: Path) -> list[Path]:
    root = tmp_path / "work" / "sessions"
    return sorted(root.iterdir()) if root.exists() else []


# -----------------------------------------------------------------------------------------
# Sessions: made only by a form, capped without evicting anyone, expired by age only
# -----------------------------------------------------------------------------------------
def test_page_views_never_create_sessions_nor_evict_one(
    app: Any, user: TestClient, tmp_path: Path
) -> None:
    store: SessionStore = app.state.sessions
    store.limit = 5  # the total cap, small so that a short flood would reach it
    (folder,) = _folders(tmp_path)
    uploads = sorted(folder.rglob("*.csv"))
    # Cookie-less page views (what <img src=...> tags on any web site can send).
    with TestClient(app, base_url=BASE) as stranger:
        for i in range(30):
            stranger.cookies.clear()
            path = ("/", "/cohort", "/analysis", "/cohort/mapping", "/calculators")[i % 5]
            r = stranger.get(path)
            assert r.status_code == 200
            assert "cartcohort_session" not in r.headers.get("set-cookie", "")
    assert len(store) == 1
    assert _folders(tmp_path) == [folder]
    assert sorted(folder.rglob("*.csv")) == uploads
    assert LOADED in user.get("/cohort").text


def test_session_cap_refuses_a_new_session_and_evicts_nobody(
    app: Any, user: TestClient, tmp_path: Path
) -> None:
    store: SessionStore = app.state.sessions
    (folder,) = _folders(tmp_path)
    statuses = []
    for _ in range(4):  # the cap is 3 per client; the user holds one
        with TestClient(app, base_url=BASE) as other:
            token = _token(other)
            r = other.post("/cohort/forget", data={"csrf_token": token})
            statuses.append(r.status_code)
    assert statuses == [200, 200, 429, 429]
    assert "already has 3 open sessions" in r.text
    assert "Traceback" not in r.text
    assert len(store) == 3
    assert folder in _folders(tmp_path)
    assert list(folder.rglob("patients.csv"))
    assert LOADED in user.get("/cohort").text


def test_total_session_cap_answers_503(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, per_client=10, limit=2)
    store.create("a")
    store.create("b")
    with pytest.raises(Exception, match="already has 2 open sessions") as info:
        store.create("c")
    assert getattr(info.value, "status", None) == 503


def test_idle_sessions_expire_by_age_only(tmp_path: Path) -> None:
    now = [1000.0]
    store = SessionStore(tmp_path, per_client=5, idle_seconds=60, clock=lambda: now[0])
    idle = store.create("a")
    busy = store.create("a")
    used = store.create("a")
    idle.ensure_folder()
    busy.ensure_folder()
    busy.jobs["j"] = Job(id="j", plan_title="p", out_dir=tmp_path, state="running")
    now[0] += 50
    assert store.get(used.id) is used  # a request keeps it alive
    now[0] += 20  # 70 s after creation: idle and busy are past 60 s, used is at 20 s
    assert store.get(idle.id) is None
    assert not idle.folder.exists()
    assert store.get(busy.id) is busy  # a run in progress keeps its session
    assert busy.folder.exists()
    assert store.get(used.id) is used


# -----------------------------------------------------------------------------------------
# CSRF token and origin on every form
# -----------------------------------------------------------------------------------------
POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/cohort/upload", {"files": {"file": ("p.csv", b"patient_id\nP1\n")}}),
    ("/cohort/demo", {"data": {"demo": "synthetic"}}),
    ("/cohort/import", {}),
    ("/cohort/forget", {}),
    ("/cohort/mapping", {"data": {"target-0": "age_years"}}),
    ("/cohort/mapping/upload", {"files": {"file": ("m.yaml", b"columns: {}\n")}}),
    ("/cohort/mapping/clear", {}),
    ("/cohort/mapping/layout", {"data": {"header_row": "1"}}),
    ("/cohort/mapping/wide", {"data": {"table": "labs", "group": "Day (?P<day>\\d+)"}}),
    ("/cohort/mapping/wide/remove", {"data": {"rule": "1"}}),
    ("/cohort/mapping/recode", {"data": {"header": "sex", "to-1": "sex"}}),
    ("/cohort/mapping/settings", {"data": {"date_format": "DD.MM.YYYY"}}),
    ("/analysis/plan", {"files": {"file": ("p.yaml", b"name: x\n")}}),
    ("/analysis/run", {"data": {"plan": "tumor-burden"}}),
    ("/calculators/crs", {"data": {"temp_c": "39"}}),
    ("/calculators/icans", {"data": {"ice_score": "5"}}),
    ("/calculators/easix", {"data": {"ldh": "300"}}),
    ("/assay", {"files": {"file": ("a.csv", b"x\n1\n")}}),
]


def test_every_form_needs_the_csrf_token(app: Any, user: TestClient, tmp_path: Path) -> None:
    store: SessionStore = app.state.sessions
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    user.headers.pop("X-CSRF-Token")
    real = _token(user)
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    for path, body in POSTS:
        for token in (None, "", "x" * 43, tampered):
            headers = {} if token is None else {"X-CSRF-Token": token}
            r = user.post(path, headers=headers, **body)
            assert r.status_code == 403, (path, token, r.text[:300])
            assert "Form expired" in r.text
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert len(store) == 1
    assert LOADED in user.get("/cohort").text  # nothing was forgotten


def test_token_of_another_browser_is_refused(app: Any, user: TestClient) -> None:
    with TestClient(app, base_url=BASE) as other:
        theirs = _token(other)
    user.headers.pop("X-CSRF-Token")
    r = user.post("/cohort/forget", data={"csrf_token": theirs})
    assert r.status_code == 403
    assert LOADED in user.get("/cohort").text


def test_forms_carry_the_token_in_a_hidden_field(user: TestClient) -> None:
    page = user.get("/cohort").text
    forms = re.findall(r"<form [^>]*method=\"post\".*?</form>", page, re.S)
    assert len(forms) >= 3
    for form in forms:
        match = HIDDEN.search(form)
        assert match is not None, form
        assert match.group(1) == _token(user)
    user.headers.pop("X-CSRF-Token")
    r = user.post("/cohort/forget", data={"csrf_token": _token(user)})
    assert r.status_code == 200
    assert LOADED not in r.text


def test_script_sends_the_token_header(user: TestClient) -> None:
    script = user.get("/static/app.js").text
    assert '"X-CSRF-Token"' in script
    assert "csrfHeaders(" in script.split("fetch(", 1)[1].split(")", 1)[0] + ")"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "null"}, id="origin-null"),
        pytest.param({"Origin": "http://evil.example"}, id="foreign-origin"),
        pytest.param({"Origin": "http://127.0.0.1:9999"}, id="other-port"),
        pytest.param({"Referer": "http://evil.example/page"}, id="foreign-referer"),
        pytest.param({"Origin": "file://"}, id="file-origin"),
    ],
)
def test_forms_from_another_origin_are_refused(user: TestClient, headers: dict[str, str]) -> None:
    r = user.post("/cohort/forget", headers=headers)
    assert r.status_code == 403
    assert "sent from another web site" in r.text
    assert LOADED in user.get("/cohort").text


def test_form_from_this_origin_is_accepted(user: TestClient) -> None:
    r = user.post("/cohort/forget", headers={"Origin": BASE, "Referer": f"{BASE}/cohort"})
    assert r.status_code == 200


# -----------------------------------------------------------------------------------------
# Access token length
# -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["x", "fifteen-chars-x"])
def test_short_access_tokens_are_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        create_app(tmp_path / "work", token)
    with pytest.raises(typer.BadParameter, match="at least 16 characters"):
        serve(host="0.0.0.0", token=token, workdir=tmp_path / "w")
    result = CliRunner().invoke(cli_app, ["serve", "--token", token])
    assert result.exit_code == 2
    assert "at least 16 characters" in result.output


def test_generated_access_token_is_strong(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    serve(host="0.0.0.0", workdir=tmp_path / "a")
    serve(host="0.0.0.0", workdir=tmp_path / "b")
    first, second = (a.state.config.token for a in apps)
    assert len(first) >= 32
    assert first != second
    serve(host="0.0.0.0", token="a-long-enough-token", workdir=tmp_path / "c")
    assert apps[-1].state.config.token == "a-long-enough-token"


# -----------------------------------------------------------------------------------------
# Oversize chunked upload, damaged and hostile workbooks
# -----------------------------------------------------------------------------------------
def test_chunked_upload_over_the_cap_gets_413(tmp_path: Path) -> None:
    app = create_app(tmp_path / "work", max_upload_mb=0.01)

    def body() -> Iterator[bytes]:  # no Content-Length: sent in chunks
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n\r\n'
        for _ in range(100):
            yield b"P1,M\n" * 100
        yield b"\r\n--B--\r\n"

    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        token = _token(c)
        r = c.post(
            "/cohort/upload",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=B", "X-CSRF-Token": token},
        )
    assert r.status_code == 413
    assert "larger than this server accepts (0.01 MB)" in r.text
    assert not list((tmp_path / "work").rglob("p.csv"))


def _workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "patients"
    sheet.append(["patient_id", "sex"])
    sheet.append(["P1", "M"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite(change: Callable[[str, bytes], bytes | None]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def _cell_a2(xml: str) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != SHEET:
            return data
        return re.sub(rb'<c r="A2"[^>]*>.*?</c>', xml.encode(), data)

    return change


def _zip(**parts: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/"), data)
    return out.getvalue()


def _bad_crc() -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    raw = bytearray(out.getvalue())
    raw[raw.find(b"<workbook") + 1] ^= 0x20
    return bytes(raw)


def _encrypted_flag() -> bytes:
    raw = bytearray(_workbook())
    raw[raw.find(b"PK\x03\x04") + 6] |= 1
    raw[raw.find(b"PK\x01\x02") + 8] |= 1
    return bytes(raw)


HOSTILE: list[tuple[str, Callable[[], bytes], str]] = [
    ("garbage", lambda: bytes(range(256)) * 40, "is not an Excel workbook"),
    ("truncated", lambda: _workbook()[:2000], "is not an Excel workbook"),
    ("old-xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000, "not an Excel"),
    ("zip-not-workbook", lambda: _zip(hello__txt=b"x"), "has no xl/workbook.xml part"),
    (
        "zip-bomb",
        lambda: _zip(xl__workbook__xml=b"<w/>", xl__big__xml=b"\0" * 30_000_000),
        "the workbook unpacks to 30 MB, more than the 25 MB limit",
    ),
    (
        "broken-workbook-xml",
        lambda: _rewrite(lambda n, d: b"<notxml" if n == "xl/workbook.xml" else d),
        "part xl/workbook.xml is not valid XML (unclosed token",
    ),
    (
        "truncated-sheet-xml",
        lambda: _rewrite(lambda n, d: d[: len(d) // 2] if n == SHEET else d),
        f"part {SHEET} is not valid XML",
    ),
    (
        "broken-styles",
        lambda: _rewrite(lambda n, d: b"<x>" if n == "xl/styles.xml" else d),
        "part xl/styles.xml is not valid XML",
    ),
    ("bad-crc", _bad_crc, "part xl/workbook.xml cannot be unpacked (Bad CRC-32"),
    ("encrypted", _encrypted_flag, "password-protected"),
    (
        "text-in-number-cell",
        lambda: _rewrite(_cell_a2('<c r="A2" t="n"><v>abc</v></c>')),
        "sheet 'patients', after row 1): ValueError: invalid literal",
    ),
    (
        "cell-beyond-xfd",
        lambda: _rewrite(_cell_a2('<c r="ZZZZZZ2" t="n"><v>1</v></c>')),
        "'ZZZZZZ' is not a valid column",
    ),
    (
        "bad-date-cell",
        lambda: _rewrite(_cell_a2('<c r="A2" t="d"><v>not-a-date</v></c>')),
        "Invalid datetime value not-a-date",
    ),
    (
        "missing-relationship",
        lambda: _rewrite(
            lambda n, d: b"<Relationships/>" if n == "xl/_rels/workbook.xml.rels" else d
        ),
        "KeyError: 'rId1'",
    ),
]


@pytest.fixture(scope="module")
def uploader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    work = tmp_path_factory.mktemp("hostile") / "work"
    app = create_app(work, max_upload_mb=1)  # workbooks may unpack to 25 MB
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        c.headers["X-CSRF-Token"] = _token(c)
        yield c, work


@pytest.mark.parametrize(
    ("make", "expected"), [(m, e) for _, m, e in HOSTILE], ids=[n for n, _, _ in HOSTILE]
)
def test_hostile_workbook_gets_a_400_naming_the_problem(
    uploader: tuple[TestClient, Path], make: Callable[[], bytes], expected: str
) -> None:
    client, work = uploader
    r = client.post("/cohort/upload", files={"file": ("centre.xlsx", make())})
    assert r.status_code == 400, r.text[:500]
    assert expected in html.unescape(r.text)
    assert "bug in cartcohort" not in r.text
    assert not list(work.rglob("centre.xlsx"))  # refused files are deleted


def test_referrer_policy_keeps_the_origin_of_own_forms(user: TestClient) -> None:
    # With "no-referrer", browsers send "Origin: null" on every form post, which is refused.
    assert user.get("/cohort").headers["referrer-policy"] == "same-origin"
