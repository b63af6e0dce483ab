"""Values by group (dot or box plots with mean ± SD) and stacked category bars.

:func:`plot_group_values` shows every patient's value with the group mean ± SD (or a box
plot) and the p-value of a test result passed in; :func:`plot_stacked_bars` shows the
distribution of a category (best response, CRS grade) across groups (e.g. tumour burden
subgroups) as 100 % stacked bars with the counts written in.

The summaries drawn come from :func:`group_summary` and :func:`category_counts`, which
are tested; the p-values come from the test result (``test=``), never computed here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from cartcohort.analyse._data import group_levels
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    GREY,
    Width,
    figure,
    font_sizes,
    log_y_axis,
    palette,
    sequential,
    style_axes,
    style_context,
    width_inches,
    wrap_tick_label,
)
from cartcohort.render.figures.km import TestResultLike, test_label
from cartcohort.render.format import round_half_up

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Kind = Literal["dot", "box"]

#: Columns of :func:`group_summary`.
SUMMARY_COLUMNS = (
    "group",
    "n",
    "n_missing",
    "mean",
    "sd",
    "lower",
    "upper",
    "q1",
    "median",
    "q3",
    "whisker_low",
    "whisker_high",
)


def _levels(values: pd.Series, order: Sequence[object] | None) -> list[object]:
    if order is not None:
        return list(order)
    return group_levels(values)


def group_summary(
    data: pd.DataFrame,
    *,
    value: str,
    by: str,
    log: bool = False,
    order: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Per-group summaries drawn by :func:`plot_group_values`.

    Parameters
    ----------
    data
        One row per patient.
    value
        Numeric column.
    by
        Grouping column (levels in Categorical order, else sorted, or ``order``).
    log
        Summarise on the log scale: ``mean`` is the geometric mean and
        ``lower``/``upper`` are geometric mean ÷/× geometric SD (``sd`` is the SD of
        log10 values). Non-positive values are left out and counted in ``n_missing``.
    order
        Group order.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`. ``lower``/``upper`` are mean ∓ SD (sample SD,
        n - 1); quartiles by linear interpolation (R's default type 7); whiskers at the
        most extreme values within 1.5 IQR of the quartiles (Tukey).
    """
    rows = []
    for level in _levels(data[by], order):
        x = pd.to_numeric(data.loc[data[by] == level, value], errors="coerce").to_numpy(
            dtype=np.float64
        )
        keep = np.isfinite(x) & ((x > 0) if log else True)
        v = x[keep]
        n = int(v.size)
        scale = np.log10(v) if log else v
        mean = float(scale.mean()) if n else math.nan
        sd = float(scale.std(ddof=1)) if n > 1 else math.nan
        lo, hi = mean - sd, mean + sd
        if n:
            q1, med, q3 = (float(q) for q in np.quantile(v, [0.25, 0.5, 0.75]))
            iqr = q3 - q1
            inside = v[(v >= q1 - 1.5 * iqr) & (v <= q3 + 1.5 * iqr)]
            wl, wh = float(inside.min()), float(inside.max())
        else:
            q1 = med = q3 = wl = wh = math.nan
        if log:
            mean, lo, hi = 10**mean, 10**lo, 10**hi
        rows.append([level, n, int(x.size - n), mean, sd, lo, hi, q1, med, q3, wl, wh])
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frame["group"] = frame["group"].astype(object)
    return frame


def _jitter(n: int, seed: int) -> np.ndarray:
    """Deterministic horizontal offsets in [-0.18, 0.18] (fixed seed: same figure every run)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.18, 0.18, size=n)


def _tick_text(name: str, n: int, slots: int, width: Width, reserved: float = 0.6) -> str:
    """Group label wrapped to its slot of the x axis, with the group size underneath
    ("(n = 21)", or "n=21" when the slots are too narrow for the long form)."""
    wrapped = wrap_tick_label(name, slots=slots, width=width, reserved=reserved)
    narrow = max(width_inches(width) - reserved, 0.5) / max(slots, 1) < 0.5
    return f"{wrapped}\nn={n}" if narrow else f"{wrapped}\n(n = {n})"


def _test_title(ax: Axes, test: TestResultLike | None, sizes: dict[str, float]) -> None:
    if test is not None:
        ax.set_title(
            test_label(test), loc="left", fontsize=sizes["text"], pad=6, fontfamily=FONT_FAMILY
        )


def plot_group_values(
    data: pd.DataFrame,
    *,
    value: str,
    by: str,
    test: TestResultLike | None = None,
    log: bool = False,
    kind: Kind = "dot",
    order: Sequence[object] | None = None,
    group_labels: Mapping[object, str] | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """Each patient's value by group, with mean ± SD (dot) or a box plot, and the p-value.

    Parameters
    ----------
    data
        One row per patient.
    value
        Numeric column (e.g. ``peak_il6_pg_ml``).
    by
        Grouping column.
    test
        Result of a group comparison (e.g. :func:`cartcohort.mann_whitney_test`); written
        above the plot as "Wilcoxon rank-sum test p = 0.031".
    log
        Log10 axis. The dot plot's bar is then the geometric mean ÷/× geometric SD
        (:func:`group_summary` with ``log=True``) and values <= 0 cannot be shown: they
        are counted under the group label ("2 values ≤ 0 not shown").
    kind
        ``"dot"``: points with a mean line and ± SD bar; ``"box"``: box (quartiles, median)
        with Tukey whiskers and the points over it.
    order
        Group order.
    group_labels
        Display labels of the groups.
    ylabel
        Y title (default the column name).
    title
        Figure title.
    width, height
        Column width class and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.
    """
    if kind not in ("dot", "box"):
        msg = f"`kind` must be 'dot' or 'box'; got {kind!r}."
        raise ValueError(msg)
    summary = group_summary(data, value=value, by=by, log=log, order=order)
    levels = list(summary["group"])
    names = dict(group_labels or {})
    colors = palette(len(levels))
    sizes = font_sizes(width)
    with style_context():
        fig = figure(width, height)
        ax = fig.add_subplot()
        style_axes(ax, width, grid=True)
        ticklabels = []
        for i, (level, color) in enumerate(zip(levels, colors, strict=True)):
            x = pd.to_numeric(data.loc[data[by] == level, value], errors="coerce").to_numpy(
                dtype=np.float64
            )
            x = x[np.isfinite(x) & ((x > 0) if log else True)]
            s = summary.iloc[i]
            ax.scatter(
                i + _jitter(x.size, seed=i),
                x,
                s=9,
                color=color,
                alpha=0.7,
                linewidths=0,
                zorder=3,
            )
            if kind == "dot" and s["n"] > 0:
                ax.plot(
                    [i - 0.28, i + 0.28],
                    [s["mean"], s["mean"]],
                    color="black",
                    linewidth=1.4,
                    zorder=4,
                )
                if math.isfinite(s["lower"]):
                    ax.plot(
                        [i, i], [s["lower"], s["upper"]], color="black", linewidth=1.0, zorder=4
                    )
                    for yv in (s["lower"], s["upper"]):
                        ax.plot(
                            [i - 0.1, i + 0.1], [yv, yv], color="black", linewidth=1.0, zorder=4
                        )
            elif kind == "box" and s["n"] > 0:
                ax.bxp(
                    [
                        {
                            "med": s["median"],
                            "q1": s["q1"],
                            "q3": s["q3"],
                            "whislo": s["whisker_low"],
                            "whishi": s["whisker_high"],
                            "fliers": [],
                        }
                    ],
                    positions=[i],
                    widths=0.5,
                    showfliers=False,
                    patch_artist=True,
                    boxprops={"facecolor": "none", "edgecolor": "black", "linewidth": 0.9},
                    medianprops={"color": "black", "linewidth": 1.4},
                    whiskerprops={"linewidth": 0.9},
                    capprops={"linewidth": 0.9},
                    manage_ticks=False,
                )
            label = _tick_text(names.get(level, str(level)), int(s["n"]), len(levels), width)
            if log and s["n_missing"]:
                label += f"\n{int(s['n_missing'])} ≤ 0 or missing"
            ticklabels.append(label)
        ax.set_xticks(range(len(levels)), labels=ticklabels)
        ax.set_xlim(-0.6, len(levels) - 0.4)
        if log:
            log_y_axis(ax)
        ax.set_ylabel(ylabel or value, fontfamily=FONT_FAMILY)
        ax.tick_params(axis="x", length=0)
        _test_title(ax, test, sizes)
        note = "Bar: geometric mean ÷/× geometric SD" if log else "Bar: mean ± SD"
        if kind == "box":
            note = "Box: median and quartiles; whiskers 1.5 IQR"
        ax.set_xlabel(note, fontsize=sizes["small"], color=GREY, fontfamily=FONT_FAMILY)
        if title:
            fig.suptitle(title, x=0.02, ha="left", fontsize=sizes["title"], fontweight="bold")
    return fig


# ----------------------------------------------------------------------------------------------
# stacked bars
# ----------------------------------------------------------------------------------------------


def category_counts(
    data: pd.DataFrame,
    *,
    by: str,
    category: str,
    order: Sequence[object] | None = None,
    by_order: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Counts and percentages of ``category`` within each group of ``by``.

    Parameters
    ----------
    data
        One row per patient.
    by
        Grouping column (bars).
    category
        Category column (segments).
    order, by_order
        Order of the categories and of the groups (default Categorical order, else
        sorted).

    Returns
    -------
    pandas.DataFrame
        ``group, category, n, group_n, percent, n_missing``: ``group_n`` counts patients of
        the group with a category; ``percent = 100 n / group_n``; ``n_missing`` counts
        patients of the group whose category is missing (left out of the bar).
    """
    cats = list(order) if order is not None else group_levels(data[category])
    rows = []
    for g in _levels(data[by], by_order):
        sub = data.loc[data[by] == g, category]
        present = sub.dropna()
        group_n = int(present.isin(cats).sum())
        for c in cats:
            n = int((present == c).sum())
            pct = 100.0 * n / group_n if group_n else math.nan
            rows.append([g, c, n, group_n, pct, int(sub.isna().sum())])
    frame = pd.DataFrame(
        rows, columns=["group", "category", "n", "group_n", "percent", "n_missing"]
    )
    return frame.astype({"group": object, "category": object})


def _is_ordinal(data: pd.DataFrame, category: str) -> bool:
    s = data[category]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return bool(s.cat.ordered)
    return bool(pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s))


def plot_stacked_bars(
    data: pd.DataFrame,
    *,
    by: str,
    category: str,
    order: Sequence[object] | None = None,
    test: TestResultLike | None = None,
    by_order: Sequence[object] | None = None,
    category_labels: Mapping[object, str] | None = None,
    group_labels: Mapping[object, str] | None = None,
    legend_title: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """100 % stacked bars of a category across groups, counts written in the segments.

    Parameters
    ----------
    data
        One row per patient.
    by
        Grouping column (one bar per level), e.g. ``burden_subgroup``.
    category
        Category column (segments), e.g. ``best_response`` or ``crs_grade``.
    order
        Category order, bottom segment first (default Categorical order, else sorted).
    test
        Test result (e.g. :func:`cartcohort.fisher_exact` or
        :func:`cartcohort.cochran_armitage_test`), shown as "Fisher's exact test
        p = 0.004".
    by_order
        Bar order.
    category_labels, group_labels
        Display labels, e.g. ``{0: "Grade 0", 1: "Grade 1"}``.
    legend_title
        Title of the legend (default the column name).
    xlabel
        X title (default the column name).
    title
        Figure title.
    colors
        One colour per category. Default: a light-to-dark cividis ramp for ordered or
        numeric categories (grades), Okabe–Ito otherwise.
    width, height
        Column width class and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the legend lists the categories top segment first.

    Notes
    -----
    Counts come from :func:`category_counts`. Segments too short for their count
    (< 6 % of the bar) are left unlabelled; the bar total is under each bar. Patients
    with a missing category are left out and counted under the bar.
    """
    counts = category_counts(data, by=by, category=category, order=order, by_order=by_order)
    groups = list(dict.fromkeys(counts["group"]))
    cats = list(dict.fromkeys(counts["category"]))
    if colors is None:
        colors = sequential(len(cats)) if _is_ordinal(data, category) else palette(len(cats))
    if len(colors) < len(cats):
        msg = f"`colors` needs {len(cats)} colours (one per category); got {len(colors)}."
        raise ValueError(msg)
    cat_names = dict(category_labels or {})
    grp_names = dict(group_labels or {})
    sizes = font_sizes(width)
    with style_context():
        fig = figure(width, height)
        ax = fig.add_subplot()
        style_axes(ax, width)
        bottom = np.zeros(len(groups))
        handles = []
        for c, color in zip(cats, colors, strict=False):
            sub = counts.loc[counts["category"] == c].set_index("group").loc[groups]
            pct = sub["percent"].fillna(0.0).to_numpy(dtype=np.float64)
            ax.bar(
                range(len(groups)),
                pct,
                bottom=bottom,
                color=color,
                width=0.7,
                edgecolor="white",
                linewidth=0.5,
                zorder=2,
            )
            rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
            dark = float(rgb @ [0.299, 0.587, 0.114]) < 0.55
            for i, (p, n) in enumerate(zip(pct, sub["n"], strict=True)):
                if p >= 6.0:
                    ax.text(
                        i,
                        bottom[i] + p / 2,
                        str(int(n)),
                        ha="center",
                        va="center",
                        fontsize=sizes["small"],
                        color="white" if dark else "black",
                        fontfamily=FONT_FAMILY,
                        zorder=3,
                    )
            bottom += pct
            handles.append(Patch(facecolor=color, edgecolor="none", label=cat_names.get(c, str(c))))
        first = counts.drop_duplicates("group").set_index("group").loc[groups]
        ticklabels = []
        for g, row in first.iterrows():
            text = _tick_text(
                grp_names.get(g, str(g)), int(row["group_n"]), len(groups), width, reserved=1.6
            )
            if row["n_missing"]:
                text += f"\n{int(row['n_missing'])} missing"
            ticklabels.append(text)
        ax.set_xticks(range(len(groups)), labels=ticklabels)
        ax.tick_params(axis="x", length=0)
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: round_half_up(v)))
        ax.set_ylabel("Patients (%)", fontfamily=FONT_FAMILY)
        ax.set_xlabel(xlabel if xlabel is not None else by, fontfamily=FONT_FAMILY)
        ax.legend(
            handles[::-1],
            [str(h.get_label()) for h in handles[::-1]],
            title=legend_title or category,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            borderaxespad=0.0,
            fontsize=sizes["small"],
            title_fontsize=sizes["small"],
            handlelength=1.0,
            handleheight=1.0,
            alignment="left",
        )
        _test_title(ax, test, sizes)
        if title:
            fig.suptitle(title, x=0.02, ha="left", fontsize=sizes["title"], fontweight="bold")
    return fig


__all__ = [
    "SUMMARY_COLUMNS",
    "category_counts",
    "group_summary",
    "plot_group_values",
    "plot_stacked_bars",
]
