"""The cartcohort web app: a thin HTTP layer over the library (house style B1: no statistics here).

:func:`create_app` builds a Starlette application with server-rendered Jinja2 pages:

* ``/cohort`` — upload a sheet or workbook (or open the demo), read the validation
  report, map unrecognised headers, import into the cohort database;
* ``/analysis`` — choose or upload a plan, run it with visible progress, read the
  report inline, download it as a zip;
* ``/calculators`` — bedside ASTCT CRS and ICANS grades, EASIX and m-EASIX.

Safety: uploads are parsed by the library's readers, never executed; file names are
reduced to safe characters and stored under random folders; request bodies are capped
(also when sent in chunks); the ``Host`` header is checked (DNS rebinding); every form
carries a CSRF token and a form from another origin (or ``Origin: null``) is refused;
sessions are made only by sending a form, capped per client, never evicted while in
use; an access token (16 characters or more) is required when one is configured; every
error is a page in words, never a traceback. Nothing is sent anywhere: pages load no
external resource.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cartcohort import __version__
from cartcohort.render.format import round_significant
from cartcohort.web import (
    calculators_icaht,
    routes_analysis,
    routes_assay,
    routes_calculators,
    routes_cohort,
    routes_mapping,
)
from cartcohort.web._common import (
    CSRF_FIELD,
    CSRF_HEADER,
    WebConfig,
    current_session,
    error_page,
    presession_token,
    render,
)
from cartcohort.web._sessions import COOKIE, Session, SessionLimitError, SessionStore

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cartcohort.web")

HERE = Path(__file__).resolve().parent
#: Host names accepted when the server listens on the loopback interface.
LOCAL_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "cartcohort_token"
#: Random per-browser value from which the forms' token is derived before a session exists.
NONCE_COOKIE = "cartcohort_csrf"
#: Shortest access token accepted (a short one can be guessed).
MIN_TOKEN_LENGTH = 16
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_MAX_UPLOAD_MB = 20.0
DEFAULT_MAX_ROWS = 200_000

_SECURITY_HEADERS = {
    # Pages load nothing from elsewhere; scripts only from /static (no inline script).
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
        "connect-src 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    # No address leaves for another site; same-origin forms keep their Origin header (with
    # "no-referrer" browsers send "Origin: null", which the form check refuses).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


class PayloadTooLargeError(Exception):
    """The request body is larger than the configured cap."""

    def __init__(self, *, more_body: bool = False) -> None:
        super().__init__("request body over the cap")
        #: Whether more of the body is still to be received (then it is drained first).
        self.more_body = more_body


def _too_large_message(config: WebConfig) -> tuple[str, str]:
    mb = config.max_upload_bytes / 1e6
    return (
        f"The file is larger than this server accepts ({mb:g} MB).",
        "Save only the tables you need, or save each table as its own CSV file. To accept "
        "larger files, start the server with a larger --max-upload-mb.",
    )


# -----------------------------------------------------------------------------------------
# Middleware
# -----------------------------------------------------------------------------------------
class BodyLimitMiddleware:
    """Refuse request bodies larger than the cap, by Content-Length and while streaming.

    A declared oversize body is drained (up to a hard ceiling) before the 413 page is
    sent, so that the browser shows the page instead of a reset connection.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _drain(receive, ceiling=max(50 * self.max_bytes, 2**31))
            request = Request(scope, receive)
            config: WebConfig = scope["app"].state.config
            message, hint = _too_large_message(config)
            response = error_page(request, 413, "File too large", message, hint=hint)
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            # Raises once, when the cap is crossed; later calls pass the rest through so
            # that it can be drained before the 413 page is sent.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request" and seen <= self.max_bytes:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLargeError(more_body=message.get("more_body", False))
            return message

        await self.app(scope, limited, send)


async def _drain(receive: Receive, *, ceiling: int) -> None:
    total = 0
    while total <= ceiling:
        message = await receive()
        if message["type"] != "http.request":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _host_of(value: str) -> str:
    if value.startswith("["):  # [::1]:8050
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class GuardMiddleware(BaseHTTPMiddleware):
    """Host check, access token, same-origin form posts, security headers."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Check the request, pass it on, and add the security headers to the response."""
        config: WebConfig = request.app.state.config
        refusal = self._refuse(request, config)
        if refusal is not None:
            response = refusal
        elif config.token is not None and "token" in request.query_params:
            response = self._accept_token(request, config.token)
        else:
            response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @staticmethod
    def _refuse(request: Request, config: WebConfig) -> Response | None:
        host = _host_of(request.headers.get("host", ""))
        if config.allowed_hosts is not None and host not in config.allowed_hosts:
            return error_page(
                request,
                400,
                "Unknown address",
                "This server answers only on the address it printed when it started.",
                hint="Open http://127.0.0.1:<port>/ as printed by 'cartcohort serve'.",
            )
        if config.token is not None and not _has_token(request, config.token):
            return error_page(
                request,
                401,
                "Access token needed",
                "This server was started with an access token. Open the full address "
                "printed by 'cartcohort serve', which ends in ?token=…",
            )
        if request.method not in _SAFE_METHODS and not _same_origin(request):
            return error_page(
                request,
                403,
                "Form from another site",
                "This form was sent from another web site and was refused.",
            )
        return None

    @staticmethod
    def _accept_token(request: Request, token: str) -> Response:
        """Valid ?token=… in the address: remember it in a cookie and drop it from the URL."""
        url = request.url.remove_query_params("token")
        response = RedirectResponse(str(url.path) + (f"?{url.query}" if url.query else ""), 303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response


def _same_origin(request: Request) -> bool:
    """Whether a form comes from this server's pages, by ``Origin`` (else ``Referer``).

    ``Origin: null`` (sandboxed frames, ``data:`` pages, some redirects) is refused. A
    request with neither header (not a browser's cross-site form) is left to the CSRF
    token check.
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True
        origin = referer
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.headers.get("host", "")


def _has_token(request: Request, token: str) -> bool:
    given = [
        request.cookies.get(TOKEN_COOKIE, ""),
        request.query_params.get("token", ""),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    ]
    return any(g and hmac.compare_digest(g.encode(), token.encode()) for g in given)


class SessionMiddleware:
    """Attach the browser's :class:`Session` (or ``None``) and check the CSRF token of forms.

    A page view never creates a session: it is shown with an empty one, and the browser
    gets a random nonce cookie from which its forms' token is derived (an HMAC with the
    app's secret), so that its first form can be checked before any session exists.
    Every POST (and any other unsafe method) is read in full, within the body cap (a
    chunked body over the cap gets the 413 page), and must carry the token in the
    ``csrf_token`` field or the ``X-CSRF-Token`` header: the session's token, or this
    browser's pre-session token. The route then reads the same body. A new session
    made by the route (:func:`~cartcohort.web._common.session_of`) gets its cookie here.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        store: SessionStore = scope["app"].state.sessions
        session = store.get(request.cookies.get(COOKIE))
        nonce = request.cookies.get(NONCE_COOKIE, "")
        new_nonce = not _NONCE.match(nonce)
        if new_nonce:
            nonce = secrets.token_urlsafe(32)
        request.state.session = session
        request.state.csrf_nonce = nonce
        if scope["method"] not in _SAFE_METHODS:
            refusal, receive = await self._check_form(request, receive, session, nonce)
            if refusal is not None:
                await refusal(scope, receive, send)
                return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                made = request.state.session
                if made is not None and made is not session:
                    headers.append("set-cookie", _cookie(COOKIE, made.id))
                if new_nonce:
                    headers.append("set-cookie", _cookie(NONCE_COOKIE, nonce))
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    async def _check_form(
        self, request: Request, receive: Receive, session: Session | None, nonce: str
    ) -> tuple[Response | None, Receive]:
        try:
            body = await _read_body(receive)
        except PayloadTooLargeError as exc:
            if exc.more_body:
                await _drain(receive, ceiling=max(50 * self.max_bytes, 2**31))
            message, hint = _too_large_message(request.app.state.config)
            return error_page(request, 413, "File too large", message, hint=hint), receive
        replay = _replay(body, receive)
        given = request.headers.get(CSRF_HEADER) or await _form_token(request.scope, body)
        expected = [presession_token(request.app.state.csrf_secret, nonce)]
        if session is not None:
            expected.append(session.csrf)
        if given and any(secrets.compare_digest(given, e) for e in expected):
            return None, replay
        return (
            error_page(
                request,
                403,
                "Form expired",
                "This form did not come from a page of this app, or the page is too old "
                "(for example, the server was restarted since it was opened).",
                hint="Reload the page and send the form again.",
            ),
            replay,
        )


def _cookie(name: str, value: str) -> str:
    response = Response()
    response.set_cookie(name, value, httponly=True, samesite="strict")
    return response.headers["set-cookie"]


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (the body cap is enforced by :class:`BodyLimitMiddleware`)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then waits on the real one (disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_token(scope: Scope, body: bytes) -> str:
    """The ``csrf_token`` field of a url-encoded or multipart form body ("" if none)."""
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return ""
    request = Request(scope, _replay(body, _no_more))
    try:
        async with request.form(max_files=10, max_fields=10_000) as form:
            value = form.get(CSRF_FIELD)
    except (MultiPartException, HTTPException):
        return ""
    return value if isinstance(value, str) else ""


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


# -----------------------------------------------------------------------------------------
# Error pages
# -----------------------------------------------------------------------------------------
_HTTP_TITLES = {
    400: ("Request not understood", "The form could not be read. Go back and try again."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Not allowed", "This address does not accept this kind of request."),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title, message = _HTTP_TITLES.get(exc.status_code, ("Request refused", str(exc.detail)))
    if exc.status_code in _HTTP_TITLES and exc.detail and exc.detail != title:
        message = str(exc.detail) if exc.status_code == 400 else message
    return error_page(request, exc.status_code, title, message)


async def _too_large(request: Request, exc: Exception) -> Response:
    message, hint = _too_large_message(request.app.state.config)
    return error_page(request, 413, "File too large", message, hint=hint)


async def _session_limit(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SessionLimitError)
    title = "Too many sessions" if exc.status == 429 else "Server busy"
    return error_page(request, exc.status, title, str(exc))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("Internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(
        request,
        500,
        "Something went wrong inside cartcohort",
        "This is a bug in cartcohort, not a problem with your data. Nothing was sent anywhere.",
        hint="The details were written to the terminal running 'cartcohort serve'; please "
        "report them. Go back to the previous page to continue.",
    )


# -----------------------------------------------------------------------------------------
# Pages that belong to no section
# -----------------------------------------------------------------------------------------
async def home(request: Request) -> Response:
    """The start page: what the app does, with links to the three sections."""
    return render(request, "home.html", {"session": current_session(request), "section": "home"})


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    # Numbers are formatted here, at the edge, with the library's half-up rounding.
    env.filters["sig3"] = lambda value: round_significant(float(value), 3)
    return Jinja2Templates(env=env)


def create_app(
    workdir: Path | None = None,
    token: str | None = None,
    *,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    max_rows: int = DEFAULT_MAX_ROWS,
    allowed_hosts: Sequence[str] | None = LOCAL_HOSTS,
    max_sessions_per_client: int = 20,
    session_idle_hours: float = 8.0,
) -> Starlette:
    """Build the web application.

    Parameters
    ----------
    workdir
        Folder for the per-session working folders (uploads, mappings, databases,
        reports). ``None``: a new temporary folder, deleted when the app shuts down.
        Never a folder inside the installed package.
    token
        Access token; when given, every request must carry it (``?token=`` once,
        then a cookie; or ``Authorization: Bearer``). Use it whenever the server
        listens on an address other than the loopback. At least
        :data:`MIN_TOKEN_LENGTH` characters.
    max_upload_mb
        Largest accepted request body, in MB (10^6 bytes).
    max_rows
        Largest accepted number of data rows in one upload (all tables together).
    allowed_hosts
        Host names accepted in the ``Host`` header (protects a local server from DNS
        rebinding); ``None`` accepts any (for a server bound to a public address,
        which then needs ``token``).
    max_sessions_per_client
        Most sessions one client address may hold; a further one is refused (429),
        never made by closing another.
    session_idle_hours
        A session unused for this long is closed and its folder deleted.

    Returns
    -------
    starlette.applications.Starlette
        The ASGI application, e.g. for ``uvicorn.run(app)``.
    """
    if max_upload_mb <= 0 or max_rows <= 0:
        msg = f"max_upload_mb and max_rows must be positive; got {max_upload_mb}, {max_rows}."
        raise ValueError(msg)
    if token and len(token) < MIN_TOKEN_LENGTH:
        msg = (
            f"The access token must be at least {MIN_TOKEN_LENGTH} characters long; "
            f"this one has {len(token)}."
        )
        raise ValueError(msg)
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="cartcohort-web-")) if workdir is None else workdir
    root = root.resolve()
    if root.is_relative_to(HERE.parent):
        msg = f"workdir {root} is inside the cartcohort package; choose another folder."
        raise ValueError(msg)
    root.mkdir(parents=True, exist_ok=True)
    config = WebConfig(
        workdir=root,
        token=token or None,
        max_upload_bytes=int(max_upload_mb * 1_000_000),
        max_rows=max_rows,
        allowed_hosts=None if allowed_hosts is None else tuple(allowed_hosts),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owned:
            shutil.rmtree(root, ignore_errors=True)

    routes = [
        Route("/", home, name="home"),
        *routes_cohort.ROUTES,
        *routes_mapping.ROUTES,
        *routes_analysis.ROUTES,
        *routes_calculators.ROUTES,
        *calculators_icaht.ROUTES,
        *routes_assay.ROUTES,
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(GuardMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=config.max_upload_bytes),
            Middleware(SessionMiddleware, max_bytes=config.max_upload_bytes),
        ],
        exception_handlers={
            HTTPException: _http_error,
            PayloadTooLargeError: _too_large,
            SessionLimitError: _session_limit,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.templates = _templates()
    app.state.sessions = SessionStore(
        root, per_client=max_sessions_per_client, idle_seconds=session_idle_hours * 3600
    )
    app.state.csrf_secret = secrets.token_bytes(32)
    app.state.job_slot = routes_analysis.new_job_slot()
    return app


__all__ = ["LOCAL_HOSTS", "MIN_TOKEN_LENGTH", "create_app"]
