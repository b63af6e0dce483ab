"""Kaplan–Meier curves with a number-at-risk table, censor marks and the test p-value.

:func:`plot_survival` draws a :class:`~cartcohort.analyse.km.KaplanMeierResult`;
:func:`risk_table_frame` gives the numbers of the at-risk table as data. The helpers for
the time axis (months with days underneath), the at-risk table and the header (legend
and test) are shared with :mod:`cartcohort.render.figures.cif`.

Compared with survminer's ``ggsurvplot(risk.table = TRUE)``: the test is named ("Log-rank
p = 0.031") and sits in the header, never over the curves; confidence bands, median
lines and landmark estimates (± SE) are available; the table has no "Strata" title and
does not repeat the axis title; time is in months with the days underneath.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from cartcohort.derive.dates import DAYS_PER_MONTH, DAYS_PER_YEAR
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    GREY,
    Width,
    figure,
    font_sizes,
    palette,
    style_axes,
    style_context,
)
from cartcohort.render.format import format_p, format_percent, round_half_up

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cartcohort.analyse.km import KaplanMeierResult

TimeUnit = Literal["months", "days"]
FloatArray = npt.NDArray[np.float64]

#: Candidate tick steps, in the display unit.
_MONTH_STEPS = (1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 60.0, 120.0)
_DAY_STEPS = (1.0, 2.0, 7.0, 14.0, 28.0, 30.0, 60.0, 90.0, 180.0, 365.0, 730.0)
_MAX_TICKS = {"single": 7, "double": 10}


class _MethodLike(Protocol):
    @property
    def estimator(self) -> str: ...


class TestResultLike(Protocol):
    """Any result with a ``p_value`` and a ``method.estimator`` naming the test."""

    @property
    def p_value(self) -> float: ...

    @property
    def method(self) -> _MethodLike: ...


# ----------------------------------------------------------------------------------------------
# data: time axis and at-risk numbers
# ----------------------------------------------------------------------------------------------


def time_ticks(
    max_days: float,
    *,
    time_unit: TimeUnit = "months",
    max_ticks: int = 7,
    step: float | None = None,
) -> FloatArray:
    """Tick positions, in the display unit, covering ``[0, max_days]``.

    Parameters
    ----------
    max_days
        Largest time to show, in days.
    time_unit
        ``"months"`` (days / :data:`~cartcohort.derive.dates.DAYS_PER_MONTH`) or ``"days"``.
    max_ticks
        Most ticks allowed (including 0).
    step
        Tick step in the display unit; default the smallest of 1, 2, 3, 6, 12, 24 ...
        months (1, 2, 7, 14, 28, 30, 60, 90, 180, 365 ... days) giving at most
        ``max_ticks`` ticks.

    Returns
    -------
    numpy.ndarray
        ``0, step, 2 step, ...``; the last tick is at or just past the largest time (a
        time less than 10 % of a step past the last tick does not add a tick).
    """
    top = _to_unit(float(max_days), time_unit)
    if step is None:
        steps = _MONTH_STEPS if time_unit == "months" else _DAY_STEPS
        step = next((s for s in steps if math.ceil(top / s - 0.1) + 1 <= max_ticks), steps[-1])
    if not step > 0:
        msg = f"`tick_step` must be positive; got {step!r}."
        raise ValueError(msg)
    n = max(math.ceil(top / step - 0.1), 1)
    return np.arange(n + 1, dtype=np.float64) * step


def _to_unit(days: float, unit: TimeUnit) -> float:
    if unit == "months":
        return days / DAYS_PER_MONTH
    if unit == "days":
        return days
    msg = f"`time_unit` must be 'months' or 'days'; got {unit!r}."
    raise ValueError(msg)


def _to_days(value: FloatArray, unit: TimeUnit) -> FloatArray:
    out: FloatArray = value * DAYS_PER_MONTH if unit == "months" else value.copy()
    return out


def risk_table_frame(
    km_result: KaplanMeierResult, ticks: Sequence[float] | npt.NDArray[np.float64]
) -> pd.DataFrame:
    """Number at risk at each tick, per group: the numbers of the at-risk table.

    Parameters
    ----------
    km_result
        A Kaplan–Meier result (its ``table`` has every distinct event and censoring time).
    ticks
        Times in the result's unit (days), e.g. ``time_ticks(...) * DAYS_PER_MONTH``.

    Returns
    -------
    pandas.DataFrame
        ``group, time, n_risk`` in group order, then tick order.

    Notes
    -----
    The number at risk at ``t`` is the number of subjects with follow-up time
    ``>= t`` (R ``summary(survfit, times = t)$n.risk``, survminer's table): the
    ``n_risk`` of the first table row with ``time >= t``, which counts exactly those
    subjects because the table lists every distinct time. Past a group's last time it
    is 0.
    """
    query = np.asarray(ticks, dtype=np.float64)
    table = km_result.table
    rows: list[pd.DataFrame] = []
    for group in km_result.groups:
        sub = table.loc[table["group"] == group]
        t = sub["time"].to_numpy(dtype=np.float64)
        n_risk = np.r_[sub["n_risk"].to_numpy(dtype=np.int64), 0]
        idx = np.searchsorted(t, query, side="left")
        rows.append(
            pd.DataFrame(
                {"group": [group] * query.size, "time": query, "n_risk": n_risk[idx]}
            ).astype({"group": object})
        )
    return pd.concat(rows, ignore_index=True)


def landmark_label(days: float) -> str:
    """Short label of a landmark time: 730 -> ``"2-y"``, 183 -> ``"6-mo"``, 100 -> ``"100-d"``.

    Whole years and whole months are recognised within one day (730 days is 2 years of
    365.25 days to within 0.5 day).
    """
    years = days / DAYS_PER_YEAR
    if round(years) >= 1 and abs(days - round(years) * DAYS_PER_YEAR) <= 1.0:
        return f"{round(years)}-y"
    months = days / DAYS_PER_MONTH
    if round(months) >= 1 and abs(days - round(months) * DAYS_PER_MONTH) <= 1.0:
        return f"{round(months)}-mo"
    return f"{round_half_up(days)}-d"


def test_label(test: TestResultLike) -> str:
    """``"Log-rank p = 0.031"``: the test named by ``test.method.estimator`` and its p-value."""
    name = str(test.method.estimator)
    name = name[:1].upper() + name[1:]
    return f"{name} {format_p(float(test.p_value))}"


# ----------------------------------------------------------------------------------------------
# drawing helpers shared with cif.py
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    fig: Figure
    header: Axes
    main: Axes
    table: Axes | None


#: Height ratio of the header row (its content is laid out as margin, see ``_layout``):
#: small next to the curves' 2-2.7, but not tiny: at 1e-3 the constrained-layout solver
#: (kiwisolver, C++) aborted the whole process on about one figure in ten.
_HEADER_RATIO = 0.05


def _legend_budget(width: Width) -> int:
    """Characters of legend text that fit on one header line."""
    return 42 if width == "single" else 95


def _wrap_label(label: str, width: Width) -> str:
    """A legend label wrapped to the figure width (long group names stay readable); the
    group size "(n = 60)", estimates such as "20 % ± 5 %" and "2-y OS" are never split."""
    keep = re.sub(r"\(n = (\d+)\)", "(n\u00a0=\u00a0\\1)", label)
    keep = re.sub(r"(\d) (%|±)", "\\1\u00a0\\2", keep)
    keep = re.sub(r"(±|%) (\d)", "\\1\u00a0\\2", keep)
    keep = re.sub(r"\b(\d+-(?:y|mo|d)) (\w)", "\\1\u00a0\\2", keep)  # "2-y OS"
    wrapped = textwrap.fill(
        keep, width=_legend_budget(width) - 4, break_long_words=False, break_on_hyphens=False
    )
    return wrapped.replace("\u00a0", " ")


def _table_label(label: str, limit: int = 16) -> str:
    """Row label of the number-at-risk table: short, because it takes width from the curves;
    the full label is in the legend, in the same colour."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _header_lines(labels: Sequence[str], width: Width, *, has_test: bool) -> tuple[int, int]:
    """Legend columns and header lines: one row if the labels fit, else one per label."""
    budget = _legend_budget(width)
    one_row = sum(len(s) + 6 for s in labels) <= budget
    ncols = len(labels) if one_row else 1
    rows = 1 if one_row else sum(_wrap_label(s, width).count("\n") + 1 for s in labels)
    return ncols, rows + int(has_test)


def _layout(
    width: Width,
    height: float | None,
    *,
    n_header_lines: int,
    n_table_rows: int,
    has_days_row: bool,
) -> _Layout:
    sizes = font_sizes(width)
    line_in = sizes["text"] * 1.55 / 72
    header_h = n_header_lines * line_in + 0.02
    table_h = n_table_rows * sizes["small"] * 1.6 / 72 if n_table_rows else 0.0
    axis_area = (0.50 if has_days_row else 0.38) + (0.22 if n_table_rows else 0.0)
    main_h = 2.0 if width == "single" else 2.7
    total = header_h + main_h + table_h + axis_area + 0.12
    if height is not None:
        main_h = max(height - (total - main_h), 0.8)
        total = height
    fig = figure(width, total)
    # The header row is all margin: its legend and test text hang below the (near-zero
    # height) header axes, and constrained layout makes room for them when it lays out
    # the figure, so the header takes exactly the height of its content without a
    # separate measuring pass. Its estimated height stays in the figure's total height.
    ratios = [_HEADER_RATIO, main_h] + ([table_h] if n_table_rows else [])
    gs = fig.add_gridspec(len(ratios), 1, height_ratios=ratios)
    header = fig.add_subplot(gs[0])
    header.set_axis_off()
    main = fig.add_subplot(gs[1])
    table = fig.add_subplot(gs[2], sharex=main) if n_table_rows else None
    return _Layout(fig=fig, header=header, main=main, table=table)


def _draw_header(
    ax: Axes,
    handles: Sequence[Line2D],
    labels: Sequence[str],
    *,
    ncols: int,
    test_text: str | None,
    width: Width,
    title: str | None,
) -> None:
    sizes = font_sizes(width)
    legend = None
    if handles:
        one_row = ncols == len(labels) and len(labels) > 1
        shown = list(labels) if one_row else [_wrap_label(s, width) for s in labels]
        legend = ax.legend(
            handles,
            shown,
            loc="upper left",
            # x from the figure's left edge (the legend may use the y-label margin)
            bbox_to_anchor=(0.01, 1.0),
            bbox_transform=blended_transform_factory(ax.figure.transFigure, ax.transAxes),
            ncols=ncols,
            frameon=False,
            borderaxespad=0.0,
            borderpad=0.0,
            handlelength=1.6,
            handletextpad=0.5,
            columnspacing=1.2,
            labelspacing=0.3,
            prop={"size": sizes["text"], "family": FONT_FAMILY},
        )
    if test_text:
        # anchored under the legend (or at the top without one), whatever the header height
        ax.annotate(
            test_text,
            xy=(0.0, 0.0) if legend is not None else (0.0, 1.0),
            xycoords=legend if legend is not None else ax.transAxes,
            xytext=(0.0, -2.0 if legend is not None else 0.0),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=sizes["text"],
            fontfamily=FONT_FAMILY,
        )
    if title:
        ax.set_title(title, loc="left", fontsize=sizes["title"], fontweight="bold", pad=4)


def _finish(
    lay: _Layout,
    ax: Axes,
    *,
    landmarks: Sequence[float] | None,
    ticks: FloatArray,
    time_unit: TimeUnit,
    width: Width,
    ylabel: str,
    xlabel: str | None,
    last_time: float,
    time_origin: str,
    header: tuple[Sequence[Line2D], Sequence[str], int, str | None, str | None],
    at_risk: KaplanMeierResult | None,
    groups: Sequence[object],
    labels: Sequence[str],
    colors: Sequence[str],
) -> None:
    """Landmark lines, axes, header and number-at-risk table: the end of every curve figure."""
    for t in landmarks or []:
        ax.axvline(_to_unit(float(t), time_unit), color=GREY, linestyle=":", linewidth=0.8)
    _percent_axis(ax, ylabel, width)
    _format_time_axis(
        ax,
        ticks,
        time_unit=time_unit,
        width=width,
        xlabel=xlabel,
        x_max=_to_unit(last_time, time_unit),
        origin=time_origin,
    )
    handles, legend_labels, ncols, test_text, title = header
    _draw_header(
        lay.header,
        handles,
        legend_labels,
        ncols=ncols,
        test_text=test_text,
        width=width,
        title=title,
    )
    if lay.table is not None and at_risk is not None:
        _draw_risk_table(
            lay.table,
            risk_table_frame(at_risk, _to_days(ticks, time_unit)),
            groups=groups,
            labels=labels,
            colors=colors,
            x_display=ticks,
            width=width,
        )


def _format_time_axis(
    ax: Axes,
    ticks: FloatArray,
    *,
    time_unit: TimeUnit,
    width: Width,
    xlabel: str | None,
    x_max: float,
    origin: str = "infusion",
) -> None:
    """Ticks in the display unit; in months, a grey row of days under the months."""
    sizes = font_sizes(width)
    span = max(float(ticks[-1]), x_max)
    ax.set_xlim(-0.015 * span, 1.015 * span)
    ax.set_xticks(ticks, labels=[round_half_up(float(t), 0 if t == int(t) else 1) for t in ticks])
    unit_word = "Months" if time_unit == "months" else "Days"
    label = xlabel if xlabel is not None else f"{unit_word} since {origin}"
    if time_unit == "months" and xlabel is None:
        label += " (days in grey)"
    if time_unit == "months":
        # The days under the months are annotations at the ticks, in grey, one line below
        # the month labels (a secondary x axis looks the same but costs a set of ticks,
        # labels and a layout for every drawing pass), and the axis title goes under them.
        tick = mpl.rcParams["xtick.major.size"] + mpl.rcParams["xtick.major.pad"]
        below = tick + _TEXT_HEIGHT * sizes["text"] + 1.0
        days = _to_days(ticks, "months")
        for x, d in zip(ticks, days, strict=True):
            ax.annotate(
                round_half_up(float(d)),
                xy=(float(x), 0.0),
                xycoords=ax.get_xaxis_transform(),
                xytext=(0.0, -below),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=sizes["small"] - 0.5,
                color=GREY,
                fontfamily=FONT_FAMILY,
                annotation_clip=False,
            )
        pad = 1.0 + _TEXT_HEIGHT * (sizes["small"] - 0.5) + 3.0
        ax.set_xlabel(label, fontsize=sizes["text"], fontfamily=FONT_FAMILY, labelpad=pad)
    else:
        ax.set_xlabel(label, fontsize=sizes["text"], fontfamily=FONT_FAMILY)


#: Height of a line of digits in DejaVu Sans, in units of the font size (ascent + descent).
_TEXT_HEIGHT = 1.17


def _draw_risk_table(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    groups: Sequence[object],
    labels: Sequence[str],
    colors: Sequence[str],
    x_display: FloatArray,
    width: Width,
) -> None:
    """Counts at the curve axes' x positions (shared axis: same transform), one row per group."""
    sizes = font_sizes(width)
    n = len(groups)
    for row, group in enumerate(groups):
        counts = frame.loc[frame["group"] == group, "n_risk"].to_numpy()
        for x, count in zip(x_display, counts, strict=True):
            ax.text(
                x,
                row,
                str(int(count)),
                ha="center",
                va="center",
                fontsize=sizes["small"],
                fontfamily=FONT_FAMILY,
            )
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(n), labels=[_table_label(s) for s in labels])
    for tick_label, color in zip(ax.get_yticklabels(), colors, strict=True):
        tick_label.set_color(color)
        tick_label.set_fontweight("bold")
    # pad: the counts at time 0 are centred on the axis origin and reach left of it
    ax.tick_params(
        axis="y", length=0, pad=10.0, labelsize=sizes["small"], labelfontfamily=FONT_FAMILY
    )
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(
        "Number at risk",
        loc="left",
        fontsize=sizes["small"],
        fontweight="bold",
        fontfamily=FONT_FAMILY,
        pad=2.0,
    )
    ax.patch.set_visible(False)


def _group_display(
    groups: Sequence[object], group_labels: Mapping[object, str] | None
) -> list[str]:
    labels = dict(group_labels or {})
    return [labels.get(g, str(g)) for g in groups]


def _percent_axis(ax: Axes, ylabel: str, width: Width) -> None:
    ax.set_ylim(-0.02, 1.02)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: round_half_up(v * 100)))
    ax.set_ylabel(ylabel, fontsize=font_sizes(width)["text"], fontfamily=FONT_FAMILY)


def _curve_xy(sub: pd.DataFrame, column: str, start: float) -> tuple[FloatArray, FloatArray]:
    x = np.r_[0.0, sub["time"].to_numpy(dtype=np.float64)]
    y = np.r_[start, sub[column].to_numpy(dtype=np.float64)]
    return x, y


# ----------------------------------------------------------------------------------------------
# the plot
# ----------------------------------------------------------------------------------------------


def _median_text(km_result: KaplanMeierResult, group: object, unit: TimeUnit) -> str:
    row = km_result.median.loc[km_result.median["group"] == group].iloc[0]
    est = float(row["estimate"])
    if math.isnan(est):
        return "median NR"
    short = "mo" if unit == "months" else "d"
    return f"median {round_half_up(_to_unit(est, unit), 1 if unit == 'months' else 0)} {short}"


def _landmark_texts(
    km_result: KaplanMeierResult, landmarks: Sequence[float], endpoint: str | None
) -> dict[object, list[str]]:
    """Per group, ``"2-y OS 61 % ± 14 %"`` for each landmark the group reaches."""
    at = km_result.at(list(landmarks))
    out: dict[object, list[str]] = {g: [] for g in km_result.groups}
    for row in at.itertuples(index=False):
        name = landmark_label(float(row.time)) + (f" {endpoint}" if endpoint else "")
        out[row.group].append(
            f"{name} {format_percent(float(row.estimate))} ± {format_percent(float(row.std_err))}"
        )
    return out


def plot_survival(
    km_result: KaplanMeierResult,
    *,
    test: TestResultLike | None = None,
    risk_table: bool = True,
    time_unit: TimeUnit = "months",
    landmarks: Sequence[float] | None = None,
    confidence_band: bool = False,
    median_lines: bool = False,
    title: str | None = None,
    group_labels: Mapping[object, str] | None = None,
    endpoint: str | None = None,
    ylabel: str = "Survival (%)",
    xlabel: str | None = None,
    max_time: float | None = None,
    tick_step: float | None = None,
    time_origin: str = "infusion",
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """Kaplan–Meier curves with censor marks, the test, and a number-at-risk table.

    Parameters
    ----------
    km_result
        Result of :func:`cartcohort.kaplan_meier` (times in days).
    test
        A test result with ``p_value`` and ``method.estimator`` (e.g.
        :func:`cartcohort.logrank_test`); shown as "Log-rank p = 0.031" in the header.
    risk_table
        Draw the number-at-risk table under the curves (numbers from
        :func:`risk_table_frame`).
    time_unit
        ``"months"`` (with the days in grey underneath) or ``"days"``.
    landmarks
        Times in days (e.g. ``[365.25, 730.5]`` or ``[730]``); each group's estimate ± SE
        at each time is written in its legend entry ("2-y OS 61 % ± 14 %", from
        ``km_result.at``) and a dotted line marks the time.
    confidence_band
        Shade the pointwise confidence band (the result's ``ci_method`` and level).
    median_lines
        Dashed lines at 50 % to each reached median, and "median 9.1 mo" / "median NR"
        in the legend.
    title
        Title above the header (top left).
    group_labels
        Display label per group value (default ``str(group)``).
    endpoint
        Endpoint abbreviation used in landmark texts, e.g. ``"OS"``.
    ylabel, xlabel
        Axis titles (the x title defaults to "Months since infusion"/"Days since
        infusion").
    max_time
        Cut the axis at this time (days); default the longest follow-up.
    tick_step
        Tick interval in the display unit (default chosen from 1, 2, 3, 6, 12 ... months).
    time_origin
        What time 0 is, for the default x title ("Months since infusion"); e.g.
        ``"response"`` for LFS, DOR and CIR.
    width
        ``"single"`` (8.5 cm) or ``"double"`` (17 cm) column.
    height
        Figure height in inches (default: from the number of groups).

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: header, curves, then the risk table (if drawn).

    Notes
    -----
    Nothing is estimated here: curves, censor marks and bands come from
    ``km_result.table``, medians from ``km_result.median``, landmarks from
    ``km_result.at`` and the p-value from ``test``. The at-risk table shares the x
    axis of the curves (``sharex``), so each count sits exactly under its tick.
    Censored times are marked "+" at the curve's value, as R's ``mark.time``.
    """
    groups = list(km_result.groups)
    labels = _group_display(groups, group_labels)
    colors = palette(len(groups)) if len(groups) > 1 else ["#000000"]
    last_time = float(km_result.table["time"].max()) if max_time is None else float(max_time)
    ticks = time_ticks(last_time, time_unit=time_unit, max_ticks=_MAX_TICKS[width], step=tick_step)
    extra = _landmark_texts(km_result, landmarks, endpoint) if landmarks else {}

    legend_labels: list[str] = []
    for group, label in zip(groups, labels, strict=True):
        n = int(km_result.median.loc[km_result.median["group"] == group, "n"].iloc[0])
        parts = [f"{label} (n = {n})"] if len(groups) > 1 else [f"All patients (n = {n})"]
        if median_lines:
            parts.append(_median_text(km_result, group, time_unit))
        parts.extend(extra.get(group, []))
        legend_labels.append(parts[0] + (": " + "; ".join(parts[1:]) if parts[1:] else ""))
    test_text = test_label(test) if test is not None else None
    ncols, n_lines = _header_lines(legend_labels, width, has_test=test_text is not None)

    with style_context():
        lay = _layout(
            width,
            height,
            n_header_lines=n_lines,
            n_table_rows=len(groups) if risk_table else 0,
            has_days_row=time_unit == "months",
        )
        ax = lay.main
        style_axes(ax, width)
        handles: list[Line2D] = []
        for group, color in zip(groups, colors, strict=True):
            sub = km_result.table.loc[km_result.table["group"] == group]
            x, y = _curve_xy(sub, "estimate", 1.0)
            x = x / (DAYS_PER_MONTH if time_unit == "months" else 1.0)
            (line,) = ax.step(x, y, where="post", color=color, linewidth=1.2, zorder=3)
            handles.append(line)
            cens = sub["n_censor"].to_numpy() > 0
            ax.plot(
                x[1:][cens],
                y[1:][cens],
                linestyle="none",
                marker="+",
                markersize=4.0,
                markeredgewidth=0.8,
                color=color,
                zorder=4,
            )
            if confidence_band:
                _, lo = _curve_xy(sub, "lower", 1.0)
                _, hi = _curve_xy(sub, "upper", 1.0)
                # log-log limits are NaN while S = 1: the band is [1, 1] there
                at_one = y >= 1.0
                lo[at_one & np.isnan(lo)] = 1.0
                hi[at_one & np.isnan(hi)] = 1.0
                ax.fill_between(
                    x, lo, hi, step="post", color=color, alpha=0.15, linewidth=0, zorder=2
                )
            if median_lines:
                med = km_result.median.loc[km_result.median["group"] == group, "estimate"]
                m = float(med.iloc[0])
                if not math.isnan(m):
                    mx = _to_unit(m, time_unit)
                    ax.plot([mx, mx], [0, 0.5], linestyle="--", linewidth=0.7, color=color)
                    ax.plot([0, mx], [0.5, 0.5], linestyle="--", linewidth=0.7, color=GREY)
        _finish(
            lay,
            ax,
            landmarks=landmarks,
            ticks=ticks,
            time_unit=time_unit,
            width=width,
            ylabel=ylabel,
            xlabel=xlabel,
            last_time=last_time,
            time_origin=time_origin,
            header=(handles, legend_labels, ncols, test_text, title),
            at_risk=km_result if lay.table is not None else None,
            groups=groups,
            labels=labels if len(groups) > 1 else ["All"],
            colors=colors,
        )
    return lay.fig


__all__ = [
    "TestResultLike",
    "landmark_label",
    "plot_survival",
    "risk_table_frame",
    "test_label",
    "time_ticks",
]
