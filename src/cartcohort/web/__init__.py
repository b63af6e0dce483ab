"""The browser app (``cartcohort serve``): upload, validate, map, run a plan, read the report.

A thin HTTP layer over the library (house style B1): pages call the same functions as
the command line, and no statistic is computed here. Install with the ``web`` extra.
See ``docs/web-app.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cartcohort.web.app import create_app


def __getattr__(name: str) -> Any:
    # Lazy: ``cartcohort`` commands other than ``serve`` import ``cartcohort.web.cli``
    # (to list the command) and should not pay for starting the web stack.
    if name == "create_app":
        from cartcohort.web.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
