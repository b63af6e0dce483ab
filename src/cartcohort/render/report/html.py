"""``report.html`` from the Jinja2 templates in ``templates/``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


_BACKTICK = re.compile(r"`([^`<>]+)`")
_TEMPLATES = "templates"


def _code(text: object) -> Any:
    """Escape ``text`` and show `back-ticked` names as code."""
    from markupsafe import Markup, escape

    return Markup(_BACKTICK.sub(r"<code>\1</code>", str(escape(str(text)))))


def _environment() -> Any:
    import jinja2

    from cartcohort.render.format import format_p, format_percent, round_half_up

    loader = jinja2.PackageLoader("cartcohort.render.report", _TEMPLATES)
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["code"] = _code
    env.filters["p"] = format_p
    env.filters["pct"] = format_percent
    env.filters["r"] = round_half_up
    return env


def render_html(context: Mapping[str, Any]) -> str:
    """Render ``report.html`` from the template context (see :func:`write_report`)."""
    template = _environment().get_template("report.html.j2")
    return str(template.render(**context))


def template_names() -> list[str]:
    """List the report templates shipped with the package."""
    folder = resources.files("cartcohort.render.report") / _TEMPLATES
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".j2"))
