"""The HTML report: one self-contained file per cohort, plus ``results.json``, tables, figures.

See :func:`write_report` and ``docs/report.md``.
"""

from __future__ import annotations

from cartcohort.render.report.build import (
    chromium_available,
    render_html,
    results_payload,
    write_pdf,
    write_report,
    write_results_json,
)

__all__ = [
    "chromium_available",
    "render_html",
    "results_payload",
    "write_pdf",
    "write_report",
    "write_results_json",
]
