"""Publication figures: each ``plot_*`` takes results (or tidy data) and returns a Figure.

All figures share one style (:mod:`cartcohort.render.figures._style`): Okabe–Ito colours,
fonts sized for 8.5 cm / 17 cm columns, constrained layout, no pyplot state. Save with
:func:`save` (PNG at 300 dpi and SVG, byte-identical from run to run). The numbers each
figure draws are available as data (``risk_table_frame``, ``forest_frame``,
``group_summary``, ``category_counts``, ``dynamics_summary``, ``swimmer_frame``) so they
can be tested and tabulated. See ``docs/figures.md``.
"""

from __future__ import annotations

from cartcohort.render.figures._style import (
    OKABE_ITO,
    add_footnote,
    figure,
    save,
)
from cartcohort.render.figures.cif import plot_cumulative_incidence
from cartcohort.render.figures.consort import check_flow, plot_flow
from cartcohort.render.figures.dynamics import dynamics_summary, plot_dynamics
from cartcohort.render.figures.forest import forest_frame, plot_forest
from cartcohort.render.figures.groups import (
    category_counts,
    group_summary,
    plot_group_values,
    plot_stacked_bars,
)
from cartcohort.render.figures.icaht import icaht_counts_frame, plot_icaht_counts
from cartcohort.render.figures.km import plot_survival, risk_table_frame, time_ticks
from cartcohort.render.figures.swimmer import plot_swimmer, swimmer_frame

__all__ = [
    "OKABE_ITO",
    "add_footnote",
    "category_counts",
    "check_flow",
    "dynamics_summary",
    "figure",
    "forest_frame",
    "group_summary",
    "icaht_counts_frame",
    "plot_cumulative_incidence",
    "plot_dynamics",
    "plot_flow",
    "plot_forest",
    "plot_group_values",
    "plot_icaht_counts",
    "plot_stacked_bars",
    "plot_survival",
    "plot_swimmer",
    "risk_table_frame",
    "save",
    "swimmer_frame",
    "time_ticks",
]
