"""Cytokine and CAR-T dynamics over time: mean ± SEM (or median and IQR) per nominal day.

:func:`plot_dynamics` draws a long table (one row per patient and sampling day) as one
line per group, with the summaries from :func:`dynamics_summary`.

Zeros on a log axis
-------------------
Values below the assay's lower limit of quantification are stored as 0 (kinetics data
standard), and a mean - SEM can be <= 0. A log axis cannot show either. cartcohort does
not drop zeros (that would bias the summary upwards) and does not substitute LLOQ/2
(that would invent values): the summary is computed on the raw values with the zeros
in, and whatever is <= the axis floor is drawn *at the floor* with an open down-triangle
(▽), so the reader sees that the value or the lower bar is cut. The floor is ``floor=``
(e.g. the LLOQ), by default half the smallest positive value. The number of zeros per
point is in ``dynamics_summary(...)["n_zero"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from cartcohort.analyse._data import group_levels
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    GREY,
    Width,
    figure,
    font_sizes,
    log_y_axis,
    palette,
    style_axes,
    style_context,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Stat = Literal["mean_sem", "median_iqr"]

#: Columns of :func:`dynamics_summary`.
DYNAMICS_COLUMNS = ("group", "day", "n", "n_zero", "centre", "lower", "upper")
_ALL = "all"


def dynamics_summary(
    long: pd.DataFrame,
    *,
    value: str,
    day: str,
    by: str | None = None,
    stat: Stat = "mean_sem",
    min_n: int = 3,
) -> pd.DataFrame:
    """Per group and day: the centre and spread drawn by :func:`plot_dynamics`.

    Parameters
    ----------
    long
        One row per patient and sampling day.
    value
        Numeric column (zeros allowed: below LLOQ).
    day
        Nominal sampling day column (map actual days to nominal days before plotting).
    by
        Optional grouping column.
    stat
        ``"mean_sem"``: arithmetic mean and mean ± SEM (SD / sqrt(n), SD with n - 1);
        ``"median_iqr"``: median and the 25th/75th percentiles (linear interpolation, R
        type 7).
    min_n
        Days with fewer values in a group are left out (a mean of two is not a curve).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DYNAMICS_COLUMNS`, sorted by group then day; ``n_zero`` counts
        values equal to 0 (below LLOQ) included in ``n``. Missing values are ignored.
    """
    if stat not in ("mean_sem", "median_iqr"):
        msg = f"`stat` must be 'mean_sem' or 'median_iqr'; got {stat!r}."
        raise ValueError(msg)
    frame = long[[day, value] + ([by] if by else [])].copy()
    frame[value] = pd.to_numeric(frame[value], errors="coerce")
    frame = frame.dropna(subset=[day, value])
    levels = group_levels(frame[by]) if by else [_ALL]
    rows = []
    for level in levels:
        sub = frame.loc[frame[by] == level] if by else frame
        for d, vals in sub.groupby(day, sort=True)[value]:
            v = vals.to_numpy(dtype=np.float64)
            if v.size < min_n:
                continue
            if stat == "mean_sem":
                centre = float(v.mean())
                sem = float(v.std(ddof=1)) / math.sqrt(v.size)
                lo, hi = centre - sem, centre + sem
            else:
                lo, centre, hi = (float(q) for q in np.quantile(v, [0.25, 0.5, 0.75]))
            rows.append([level, float(d), int(v.size), int((v == 0).sum()), centre, lo, hi])
    out = pd.DataFrame(rows, columns=list(DYNAMICS_COLUMNS))
    return out.astype({"group": object})


def _day_ticks(ax: Axes, days: np.ndarray, xscale: str) -> None:
    """Nominal days as ticks when they do not crowd; otherwise matplotlib's ticks."""
    width_in = ax.get_position().width * ax.get_figure(root=True).get_figwidth()  # type: ignore[union-attr]
    pos = np.sign(days) * np.log1p(np.abs(days) / 7.0) if xscale == "symlog" else days
    span = float(pos.max() - pos.min()) or 1.0
    gaps = np.diff(pos) / span * width_in * 72  # points between neighbouring ticks
    if days.size <= 14 and (gaps.size == 0 or gaps.min() >= 12.0):
        ax.set_xticks(days, labels=[f"{d:g}" for d in days])
    elif xscale == "symlog":
        marks = [d for d in (0, 7, 14, 28, 90, 180, 365, 730) if days.min() <= d <= days.max()]
        ax.set_xticks(marks, labels=[f"{d:g}" for d in marks])
    ax.xaxis.set_minor_locator(NullLocator())


def plot_dynamics(  # noqa: C901 - one figure, many documented options
    long: pd.DataFrame,
    *,
    value: str,
    day: str,
    by: str | None = None,
    log: bool = True,
    stat: Stat = "mean_sem",
    floor: float | None = None,
    min_n: int = 3,
    group_labels: Mapping[object, str] | None = None,
    ylabel: str | None = None,
    xlabel: str = "Days since infusion",
    xscale: Literal["linear", "symlog"] = "linear",
    title: str | None = None,
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """Dynamics of a cytokine or CAR-T level: one line per group with error bars.

    Parameters
    ----------
    long
        One row per patient and sampling day (e.g. the ``labs`` table filtered to one
        analyte, or ``kinetics`` for the first infusion).
    value, day, by
        Value column, nominal day column, optional group column.
    log
        Log10 y axis (default). See the module notes for zeros.
    stat
        ``"mean_sem"`` (mean ± SEM) or ``"median_iqr"`` (median and IQR).
    floor
        Lowest value shown on a log axis (e.g. the LLOQ); values and bars at or below
        it are drawn at the floor with ▽. Default half the smallest positive value.
    min_n
        Minimum values per point (see :func:`dynamics_summary`).
    group_labels
        Display labels of the groups.
    ylabel, xlabel, title
        Axis titles and figure title (the statistic is named in the legend title).
    xscale
        ``"linear"`` or ``"symlog"`` (linear to day 7, logarithmic after: shows the
        expansion in week 1 and persistence to a year on one axis).
    width, height
        Column width class and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.
    """
    summary = dynamics_summary(long, value=value, day=day, by=by, stat=stat, min_n=min_n)
    if summary.empty:
        msg = f"No day has at least `min_n` = {min_n} values of {value!r}; nothing to plot."
        raise ValueError(msg)
    levels = list(dict.fromkeys(summary["group"]))
    names = dict(group_labels or {})
    colors = palette(len(levels)) if by else ["#000000"]
    sizes = font_sizes(width)
    floor_given = floor is not None
    if log and floor is None:
        raw = pd.to_numeric(long[value], errors="coerce").to_numpy(dtype=np.float64)
        positive = raw[np.isfinite(raw) & (raw > 0)]
        floor = float(positive.min()) / 2 if positive.size else 1.0
    days = np.sort(summary["day"].unique())
    spacing = float(np.diff(days).min()) if days.size > 1 else 1.0
    # groups side by side so error bars do not hide each other (not on the symlog axis,
    # where a fixed shift in days would look different at day 4 and day 365)
    offsets = (np.arange(len(levels)) - (len(levels) - 1) / 2) * 0.12 * spacing
    if xscale == "symlog":
        offsets = np.zeros(len(levels))
    truncated = False
    with style_context():
        fig = figure(width, height)
        ax = fig.add_subplot()
        style_axes(ax, width, grid=True)
        handles = []
        for level, color, off in zip(levels, colors, offsets, strict=True):
            s = summary.loc[summary["group"] == level]
            x = s["day"].to_numpy(dtype=np.float64) + off
            c = s["centre"].to_numpy(dtype=np.float64)
            lo = s["lower"].to_numpy(dtype=np.float64)
            hi = s["upper"].to_numpy(dtype=np.float64)
            if log:
                assert floor is not None
                cut_c, cut_lo = c <= floor, lo <= floor
                truncated = truncated or bool(cut_c.any() or cut_lo.any())
                c = np.maximum(c, floor)
                lo = np.maximum(lo, floor)
                hi = np.maximum(hi, floor)
                ax.plot(
                    x[cut_lo | cut_c],
                    np.full(int((cut_lo | cut_c).sum()), floor),
                    linestyle="none",
                    marker="v",
                    markerfacecolor="white",
                    markeredgecolor=color,
                    markersize=4,
                    zorder=5,
                )
            ax.vlines(x, lo, hi, color=color, linewidth=0.8, zorder=3)
            (line,) = ax.plot(x, c, color=color, marker="o", markersize=3, linewidth=1.1, zorder=4)
            n_max = int(s["n"].max())
            label = names.get(level, str(level)) if by else "All patients"
            handles.append((line, f"{label} (n ≤ {n_max})"))
        if log:
            assert floor is not None
            log_y_axis(ax)
            if truncated or floor_given:
                ax.axhline(floor, color=GREY, linestyle=":", linewidth=0.7, zorder=1)
            ax.set_ylim(bottom=floor / 1.6)
        ax.set_ylabel(ylabel or value, fontfamily=FONT_FAMILY)
        ax.set_xlabel(xlabel, fontfamily=FONT_FAMILY)
        if xscale == "symlog":
            ax.set_xscale("symlog", linthresh=7.0, linscale=1.0)
        _day_ticks(ax, days, xscale)
        items = [*handles]
        if truncated:
            marker = Line2D(
                [],
                [],
                linestyle="none",
                marker="v",
                markerfacecolor="white",
                markeredgecolor=GREY,
                markersize=4,
            )
            items.append((marker, "at or below the axis floor (zeros: < LLOQ)"))
        stat_name = "Mean ± SEM" if stat == "mean_sem" else "Median (IQR)"
        # above the axes (constrained layout makes room): never over the data
        fig.legend(
            [h for h, _ in items],
            [t for _, t in items],
            loc="outside upper left",
            frameon=False,
            fontsize=sizes["small"],
            handlelength=1.6,
            ncols=1,
            title=stat_name,
            title_fontsize=sizes["small"],
            alignment="left",
        )
        if days.size:
            lo_day, hi_day = float(days.min()), float(days.max())
            if xscale == "symlog":  # pad in the transformed space, not in days
                ax.set_xlim(lo_day, hi_day * 1.12 if hi_day > 0 else hi_day + 1)
            else:
                pad = 0.02 * (hi_day - lo_day or 1.0)
                ax.set_xlim(lo_day - pad, hi_day + pad)
        if title:
            # an axes title: a figure title would collide with the legend above the axes
            ax.set_title(title, loc="left", fontsize=sizes["title"], fontweight="bold")
    return fig


__all__ = ["DYNAMICS_COLUMNS", "dynamics_summary", "plot_dynamics"]
