"""Shared by the routes: the app's settings, its templates, the session, error pages."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from cartcohort.web._sessions import Session, SessionStore, transient_session

#: The form field and the request header that carry the CSRF token.
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebConfig:
    """Settings of one app instance (read by the routes from ``app.state.config``)."""

    workdir: Path
    token: str | None
    max_upload_bytes: int
    max_rows: int
    allowed_hosts: tuple[str, ...] | None


def config_of(request: Request) -> WebConfig:
    """The app's :class:`WebConfig`."""
    config: WebConfig = request.app.state.config
    return config


def templates_of(request: Request) -> Jinja2Templates:
    """The app's Jinja2 templates."""
    templates: Jinja2Templates = request.app.state.templates
    return templates


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """Render a page template; ``session`` and ``section`` default to the request's."""
    context.setdefault("session", current_session(request))
    context.setdefault("section", "")
    context.setdefault("csrf_token", csrf_token_of(request))
    context.setdefault("token_required", config_of(request).token is not None)
    return templates_of(request).TemplateResponse(request, name, context, status_code=status)


def error_page(
    request: Request, status: int, title: str, message: str, *, hint: str = ""
) -> HTMLResponse:
    """A page that says, in words, what went wrong and what to do next."""
    context = {"title": title, "message": message, "hint": hint, "status": status}
    return render(request, "error.html", context, status=status)


def current_session(request: Request) -> Session:
    """The browser's session, or an empty transient one when it has none (never creates one)."""
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        return session
    transient: Session | None = getattr(request.state, "transient", None)
    if transient is None:
        transient = transient_session(config_of(request).workdir)
        request.state.transient = transient
    return transient


def session_of(request: Request) -> Session:
    """The browser's session; a form sent without one creates it (page views never do).

    Raises
    ------
    SessionLimitError
        A new session was needed and the per-client or total cap is reached.
    """
    session: Session | None = getattr(request.state, "session", None)
    if session is None and request.method == "POST":
        store: SessionStore = request.app.state.sessions
        client = request.client.host if request.client is not None else ""
        session = store.create(client)
        request.state.session = session
    return session if session is not None else current_session(request)


def presession_token(secret: bytes, nonce: str) -> str:
    """The CSRF token of a browser without a session: an HMAC of its nonce cookie."""
    return hmac.new(secret, nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_token_of(request: Request) -> str:
    """The token the page's forms carry: the session's, or the browser's pre-session token."""
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        return session.csrf
    nonce: str = getattr(request.state, "csrf_nonce", "")
    return presession_token(request.app.state.csrf_secret, nonce) if nonce else ""


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "WebConfig",
    "config_of",
    "csrf_token_of",
    "current_session",
    "error_page",
    "presession_token",
    "render",
    "session_of",
    "templates_of",
]
