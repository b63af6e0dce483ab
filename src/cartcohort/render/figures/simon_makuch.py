"""Simon-Makuch curves: survival by a yes/no exposure that starts during follow-up.

:func:`plot_simon_makuch` draws the result of
:func:`~cartcohort.analyse.counting.simon_makuch` (Kaplan–Meier with time-dependent
group membership) in the style of :func:`~cartcohort.render.figures.km.plot_survival`,
with three differences that keep the time-dependent membership visible:

* the exposed curve starts on the first exposure day, not at day 0 (nobody is in the
  exposed group before it);
* a patient's move from the unexposed to the exposed group is not a censoring: "+"
  marks show only the end of a patient's follow-up without the event;
* the number-at-risk table counts the patients *currently* in each group
  (:func:`exposure_risk_table`), so the exposed row starts at 0 and can rise, and a
  grey row counts the patients exposed so far.

The numbers of the table come from the counting-process intervals
(:func:`~cartcohort.analyse.counting.to_counting_process`), not from the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.render.figures._style import GREY, Width, palette, style_axes, style_context
from cartcohort.render.figures.km import (
    _MAX_TICKS,
    TestResultLike,
    TimeUnit,
    _draw_risk_table,
    _finish,
    _header_lines,
    _layout,
    test_label,
    time_ticks,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from cartcohort.analyse.km import KaplanMeierResult

#: Columns of the intervals :func:`exposure_risk_table` and :func:`plot_simon_makuch` read.
INTERVAL_COLUMNS = ("id", "tstart", "tstop", "event", "exposed")

#: Group value of the grey "exposed so far" row of the at-risk table.
CUMULATIVE = "cumulative"


def _check_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in INTERVAL_COLUMNS if c not in intervals.columns]
    if missing:
        msg = (
            f"`intervals` needs the columns {list(INTERVAL_COLUMNS)} (counting-process rows "
            f"from to_counting_process); missing {missing}."
        )
        raise ValueError(msg)
    return intervals.loc[:, list(INTERVAL_COLUMNS)]


def exposure_risk_table(
    intervals: pd.DataFrame, ticks: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Patients in each exposure state at each tick, and the number exposed so far.

    Parameters
    ----------
    intervals
        Counting-process rows with the columns of :data:`INTERVAL_COLUMNS`: patient
        ``id``, ``(tstart, tstop]``, ``event`` (0/1) and ``exposed`` (0/1).
    ticks
        Times (days).

    Returns
    -------
    pandas.DataFrame
        ``group, time, n_risk``: groups ``0`` and ``1`` count the patients at risk in
        that state at ``t`` (an interval with ``tstart < t <= tstop``; at ``t = 0`` the
        intervals starting at 0), as R ``survfit(Surv(tstart, tstop, event) ~
        exposed)``'s ``n.risk`` counts them at an event time; group
        :data:`CUMULATIVE` counts the patients exposed on or before ``t`` (whatever
        happened to them later).
    """
    rows = _check_intervals(intervals)
    query = np.asarray(ticks, dtype=np.float64)
    t0 = rows["tstart"].to_numpy(dtype=np.float64)
    t1 = rows["tstop"].to_numpy(dtype=np.float64)
    exposed = rows["exposed"].to_numpy(dtype=np.int64) == 1
    q = query[:, None]
    at_risk = ((t0[None, :] < q) | ((q == 0) & (t0[None, :] == 0))) & (q <= t1[None, :])
    first = rows.loc[exposed].groupby("id", sort=False)["tstart"].min().to_numpy(np.float64)
    out = []
    for group, mask in ((0, ~exposed), (1, exposed)):
        out.append(
            pd.DataFrame(
                {"group": group, "time": query, "n_risk": at_risk[:, mask].sum(axis=1)}
            ).astype({"group": object})
        )
    out.append(
        pd.DataFrame(
            {"group": CUMULATIVE, "time": query, "n_risk": (first[None, :] <= q).sum(axis=1)}
        )
    )
    return pd.concat(out, ignore_index=True).astype({"n_risk": np.int64})


def _censor_times(rows: pd.DataFrame, group: int) -> np.ndarray:
    """End of follow-up without the event (a move to the exposed group is not one)."""
    last = ~rows["id"].duplicated(keep="last").to_numpy()
    keep = last & (rows["event"].to_numpy() == 0) & (rows["exposed"].to_numpy() == group)
    return np.unique(rows["tstop"].to_numpy(dtype=np.float64)[keep])


def plot_simon_makuch(
    km_result: KaplanMeierResult,
    intervals: pd.DataFrame,
    *,
    test: TestResultLike | None = None,
    group_labels: Mapping[object, str] | None = None,
    cumulative_label: str = "Exposed so far",
    ylabel: str = "Survival (%)",
    time_unit: TimeUnit = "months",
    time_origin: str = "infusion",
    title: str | None = None,
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """Simon-Makuch curves with a number-at-risk table of time-dependent membership.

    Parameters
    ----------
    km_result
        Result of :func:`~cartcohort.analyse.counting.simon_makuch` (groups ``0``
        unexposed and ``1`` exposed; times in days).
    intervals
        The counting-process rows it was computed from, with the columns of
        :data:`INTERVAL_COLUMNS` (for the at-risk table, the censor marks and the
        start of the exposed curve).
    test
        E.g. :func:`~cartcohort.analyse.counting.mantel_byar_test`; shown as
        "Mantel-Byar test p = 0.031" in the header.
    group_labels
        Display labels of groups ``0`` and ``1`` (default "Unexposed", "Exposed").
    cumulative_label
        Label of the grey at-risk row counting the patients exposed so far.
    ylabel, time_unit, time_origin, title, width, height
        As :func:`~cartcohort.render.figures.km.plot_survival`.

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: header, curves, the at-risk table.
    """
    rows = _check_intervals(intervals)
    groups = [g for g in (0, 1) if g in list(km_result.groups)]
    names = {0: "Unexposed", 1: "Exposed", **dict(group_labels or {})}
    labels = [names[g] for g in groups]
    colors = [palette(2)[g] for g in groups]
    last_time = float(rows["tstop"].max())
    ticks = time_ticks(last_time, time_unit=time_unit, max_ticks=_MAX_TICKS[width])
    scale = DAYS_PER_MONTH if time_unit == "months" else 1.0
    legend_labels = [
        f"{label} (n = {int((rows['exposed'] == g).sum())})"
        for g, label in zip(groups, labels, strict=True)
    ]
    test_text = test_label(test) if test is not None else None
    ncols, n_lines = _header_lines(legend_labels, width, has_test=test_text is not None)
    with style_context():
        lay = _layout(
            width,
            height,
            n_header_lines=n_lines,
            n_table_rows=len(groups) + 1,
            has_days_row=time_unit == "months",
        )
        ax = lay.main
        style_axes(ax, width)
        handles: list[Line2D] = []
        for group, color in zip(groups, colors, strict=True):
            sub = km_result.table.loc[km_result.table["group"] == group]
            entry = float(rows.loc[rows["exposed"] == group, "tstart"].min())
            t = sub["time"].to_numpy(dtype=np.float64)
            s = sub["estimate"].to_numpy(dtype=np.float64)
            x = np.r_[entry, t] / scale
            y = np.r_[1.0, s]
            (line,) = ax.step(x, y, where="post", color=color, linewidth=1.2, zorder=3)
            handles.append(line)
            cens = _censor_times(rows, group)
            idx = np.searchsorted(t, cens, side="right") - 1
            ax.plot(
                cens / scale,
                np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0),
                linestyle="none",
                marker="+",
                markersize=4.0,
                markeredgewidth=0.8,
                color=color,
                zorder=4,
            )
        _finish(
            lay,
            ax,
            landmarks=None,
            ticks=ticks,
            time_unit=time_unit,
            width=width,
            ylabel=ylabel,
            xlabel=None,
            last_time=last_time,
            time_origin=time_origin,
            header=(handles, legend_labels, ncols, test_text, title),
            at_risk=None,
            groups=groups,
            labels=labels,
            colors=colors,
        )
        assert lay.table is not None
        frame = exposure_risk_table(rows, ticks * scale)
        _draw_risk_table(
            lay.table,
            frame,
            groups=[*groups, CUMULATIVE],
            labels=[*labels, cumulative_label],
            colors=[*colors, GREY],
            x_display=ticks,
            width=width,
        )
    return lay.fig


__all__ = ["CUMULATIVE", "INTERVAL_COLUMNS", "exposure_risk_table", "plot_simon_makuch"]
