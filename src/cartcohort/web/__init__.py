"""The browser app (``cartcohort serve``): upload, validate, map, run a plan, read the report.

A thin HTTP layer over the library (house style B1): pages call the same functions as
the command line, and no statistic is computed here. Install with the ``web`` extra.
See ``docs/web-app.md``.
"""

from __future__ import annotations

from cartcohort.web.app import create_app

__all__ = ["create_app"]
