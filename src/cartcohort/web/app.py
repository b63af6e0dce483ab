"""The cartcohort web app: a thin HTTP layer over the library (house style B1: no statistics here).

:func:`create_app` builds a Starlette application with server-rendered Jinja2 pages:

* ``/cohort`` — upload a sheet or workbook (or open the demo), read the validation
  report, map unrecognised headers, import into the cohort database;
* ``/analysis`` — choose or upload a plan, run it with visible progress, read the
  report inline, download it as a zip;
* ``/calculators`` — bedside ASTCT CRS and ICANS grades, EASIX and m-EASIX.

Safety: uploads are parsed by the library's readers, never executed; file names are
reduced to safe characters and stored under random folders; request bodies are capped;
the ``Host`` header is checked (DNS rebinding) and cross-site form posts are refused;
an access token is required when one is configured; every error is a page in words,
never a traceback. Nothing is sent anywhere: pages load no external resource.
"""

from __future__ import annotations

import hmac
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
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
    routes_analysis,
    routes_assay,
    routes_calculators,
    routes_cohort,
    routes_mapping,
)
from cartcohort.web._common import WebConfig, error_page, render, session_of
from cartcohort.web._sessions import COOKIE, SessionStore

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cartcohort.web")

HERE = Path(__file__).resolve().parent
#: Host names accepted when the server listens on the loopback interface.
LOCAL_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "cartcohort_token"
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
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


class PayloadTooLargeError(Exception):
    """The request body is larger than the configured cap."""


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
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLargeError
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
        if request.method == "POST":
            origin = request.headers.get("origin")
            if (
                origin
                and origin != "null"
                and urlsplit(origin).netloc != request.headers.get("host", "")
            ):
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


def _has_token(request: Request, token: str) -> bool:
    given = [
        request.cookies.get(TOKEN_COOKIE, ""),
        request.query_params.get("token", ""),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    ]
    return any(g and hmac.compare_digest(g.encode(), token.encode()) for g in given)


class SessionMiddleware(BaseHTTPMiddleware):
    """Attach the browser's :class:`Session` to ``request.state.session`` (cookie-based)."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Find or create the session, pass the request on, set the cookie if new."""
        if request.url.path.startswith("/static/"):
            return await call_next(request)
        store: SessionStore = request.app.state.sessions
        session = store.get(request.cookies.get(COOKIE))
        new = session is None
        if session is None:
            session = store.create()
        request.state.session = session
        response = await call_next(request)
        if new:
            response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict")
        return response


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
    return render(request, "home.html", {"session": session_of(request), "section": "home"})


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
        listens on an address other than the loopback.
    max_upload_mb
        Largest accepted request body, in MB (10^6 bytes).
    max_rows
        Largest accepted number of data rows in one upload (all tables together).
    allowed_hosts
        Host names accepted in the ``Host`` header (protects a local server from DNS
        rebinding); ``None`` accepts any (for a server bound to a public address,
        which then needs ``token``).

    Returns
    -------
    starlette.applications.Starlette
        The ASGI application, e.g. for ``uvicorn.run(app)``.
    """
    if max_upload_mb <= 0 or max_rows <= 0:
        msg = f"max_upload_mb and max_rows must be positive; got {max_upload_mb}, {max_rows}."
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
        *routes_assay.ROUTES,
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(GuardMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=config.max_upload_bytes),
            Middleware(SessionMiddleware),
        ],
        exception_handlers={
            HTTPException: _http_error,
            PayloadTooLargeError: _too_large,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.templates = _templates()
    app.state.sessions = SessionStore(root)
    app.state.job_slot = routes_analysis.new_job_slot()
    return app


__all__ = ["LOCAL_HOSTS", "create_app"]
