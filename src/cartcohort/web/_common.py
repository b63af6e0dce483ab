"""Shared by the routes: the app's settings, its templates, the session, error pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from cartcohort.web._sessions import Session


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
    context.setdefault("session", getattr(request.state, "session", None))
    context.setdefault("section", "")
    context.setdefault("token_required", config_of(request).token is not None)
    return templates_of(request).TemplateResponse(request, name, context, status_code=status)


def error_page(
    request: Request, status: int, title: str, message: str, *, hint: str = ""
) -> HTMLResponse:
    """A page that says, in words, what went wrong and what to do next."""
    context = {"title": title, "message": message, "hint": hint, "status": status}
    return render(request, "error.html", context, status=status)


def session_of(request: Request) -> Session:
    """The session attached by :class:`SessionMiddleware`."""
    session: Session = request.state.session
    return session


__all__ = ["WebConfig", "config_of", "error_page", "render", "session_of", "templates_of"]
