"""Forest plots of Cox (hazard ratio) and logistic (odds ratio) models.

:func:`forest_frame` lays a model's coefficient table out as forest rows (one per
covariate level, the reference level included) with N and events per level, counted on
the complete rows the model used; :func:`plot_forest` draws any tidy table with those
columns.

Compared with survminer's ``ggforest``: the estimate and p columns have their own
columns sized to their text, so nothing is clipped; there are no significance stars; the
reference level is a text row "reference" (no point at 1 that looks like an estimate);
events are shown per level; and N for a continuous covariate counts the rows used in the
model, not rows with missing values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from cartcohort.analyse._data import _is_factor, group_levels
from cartcohort.render.figures._style import (
    FAINT_GREY,
    FONT_FAMILY,
    GREY,
    OKABE_ITO,
    Width,
    figure,
    font_sizes,
    style_axes,
    style_context,
    width_inches,
)
from cartcohort.render.format import format_estimate_ci, format_p, round_significant

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Effect = Literal["hr", "or"]

#: Columns of :func:`forest_frame`.
FOREST_COLUMNS = (
    "variable",
    "level",
    "term",
    "reference",
    "n",
    "n_events",
    "estimate",
    "lower",
    "upper",
    "p_value",
)
_EFFECT_COLUMN = {"hr": "hr", "or": "odds_ratio"}
_EFFECT_NAME = {"hr": "Hazard ratio", "or": "Odds ratio"}
_EFFECT_SHORT = {"hr": "HR", "or": "OR"}


class ModelResultLike(Protocol):
    """A fitted model with a coefficient ``table`` and the number of rows used ``n``."""

    @property
    def table(self) -> pd.DataFrame: ...

    @property
    def n(self) -> int: ...


def _level_text(level: object) -> str:
    if isinstance(level, bool | np.bool_):
        return "Yes" if level else "No"
    return str(level)


def forest_frame(
    result: ModelResultLike,
    data: pd.DataFrame,
    *,
    covariates: Sequence[str],
    event: str,
    event_value: object = None,
    time: str | None = None,
    effect: Effect = "hr",
) -> pd.DataFrame:
    """Lay a model's coefficients out as forest rows, with N and events per level.

    Parameters
    ----------
    result
        A :class:`~cartcohort.analyse.cox.CoxResult` or
        :class:`~cartcohort.analyse.logistic.LogisticResult` (anything with ``table``
        and ``n``).
    data
        The data the model was fitted on.
    covariates
        The model's covariates, in the order to show.
    event
        Event column (Cox: 1/True = event; logistic: the outcome column).
    event_value
        For a logistic outcome that is not 0/1 or boolean, the value counted as the
        event (``LogisticResult.event``). Default: truthy values.
    time
        Cox time column (rows missing it are not in the model).
    effect
        ``"hr"`` (table column ``hr``) or ``"or"`` (``odds_ratio``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FOREST_COLUMNS`: one row per numeric covariate; for a factor, one
        row per level in the model's order (Categorical order, else sorted; ``False``
        before ``True``), the first flagged ``reference`` with NaN estimates.

    Raises
    ------
    ValueError
        The complete rows of ``data`` are not as many as ``result.n`` (the counts would
        not describe the model), or a term is missing from the table.

    Notes
    -----
    N and events are counts over the rows with no missing value in the model's columns
    (complete cases, as the estimators use), not over all rows. Term names follow the
    estimators' design matrix: ``variable[level]`` for factors, ``variable`` for numbers.
    """
    needed = [*covariates, event, *([time] if time else [])]
    complete = data.dropna(subset=needed)
    if len(complete) != result.n:
        msg = (
            f"{len(complete)} rows of `data` are complete in {needed}, but the model used "
            f"{result.n}; pass the data, covariates, event and time the model was fitted with."
        )
        raise ValueError(msg)
    ev = complete[event]
    is_event = (ev == event_value) if event_value is not None else ev.astype(bool)
    table = result.table.set_index("term")
    value_col = _EFFECT_COLUMN[effect]
    rows: list[dict[str, object]] = []

    def coef(term: str) -> dict[str, float]:
        if term not in table.index:
            msg = f"Term {term!r} is not in the model table (terms: {list(table.index)})."
            raise ValueError(msg)
        r = table.loc[term]
        return {
            "estimate": float(r[value_col]),
            "lower": float(r["lower"]),
            "upper": float(r["upper"]),
            "p_value": float(r["p_value"]),
        }

    nan = {"estimate": math.nan, "lower": math.nan, "upper": math.nan, "p_value": math.nan}
    for var in covariates:
        s = complete[var]
        if _is_factor(s):
            levels = [False, True] if s.dtype == bool else group_levels(s)
            levels = [lv for lv in levels if (s == lv).any()]
            for i, lv in enumerate(levels):
                mask = (s == lv).to_numpy()
                term = f"{var}[{lv}]"
                rows.append(
                    {
                        "variable": var,
                        "level": _level_text(lv),
                        "term": term,
                        "reference": i == 0,
                        "n": int(mask.sum()),
                        "n_events": int(is_event[mask].sum()),
                        **(nan if i == 0 else coef(term)),
                    }
                )
        else:
            rows.append(
                {
                    "variable": var,
                    "level": None,
                    "term": var,
                    "reference": False,
                    "n": len(complete),
                    "n_events": int(is_event.sum()),
                    **coef(var),
                }
            )
    return pd.DataFrame(rows, columns=list(FOREST_COLUMNS))


# ----------------------------------------------------------------------------------------------
# drawing
# ----------------------------------------------------------------------------------------------


def _normalise(table: pd.DataFrame, effect: Effect) -> pd.DataFrame:
    """Rows to draw: ``label, is_header, reference, n, n_events, estimate, lower, upper, p``."""
    t = table.copy()
    if "estimate" not in t.columns:
        col = _EFFECT_COLUMN[effect]
        if col not in t.columns:
            msg = f"`table` needs an {col!r} (or 'estimate') column for effect={effect!r}."
            raise ValueError(msg)
        t["estimate"] = t[col]
    missing = {"term", "lower", "upper", "p_value"} - set(t.columns)
    if missing:
        msg = f"`table` is missing column(s) {sorted(missing)}."
        raise ValueError(msg)
    t = t.loc[t["term"] != "(Intercept)"].reset_index(drop=True)
    for col, default in (("variable", None), ("level", None), ("reference", False)):
        if col not in t.columns:
            t[col] = default
    t["variable"] = t["variable"].where(t["variable"].notna(), t["term"])
    return t


def _rows(t: pd.DataFrame, labels: Mapping[str, str]) -> list[dict[str, object]]:
    """Display rows: a bold header per factor, then its levels indented."""
    out: list[dict[str, object]] = []
    block = -1
    seen: list[object] = []
    for _, r in t.iterrows():
        var = r["variable"]
        name = labels.get(str(var), str(var))
        has_level = r["level"] is not None and not (
            isinstance(r["level"], float) and math.isnan(r["level"])
        )
        if var not in seen:
            seen.append(var)
            block += 1
            if has_level:
                out.append({"label": name, "kind": "header", "block": block, "row": r})
        kind = "level" if has_level else "single"
        label = f"{r['level']}" if has_level else name
        out.append({"label": label, "kind": kind, "block": block, "row": r})
    return out


def _log_ticks(lo: float, hi: float, *, max_ticks: int = 9) -> list[float]:
    """Round ticks within ``[lo, hi]``: 1-2-5 steps, or finer/coarser to get 3..max."""
    candidates = []
    for mantissas in ((1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0), (1.0, 3.0), (1.0,)):
        ticks = [
            m * 10.0**k
            for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in mantissas
            if lo <= m * 10.0**k <= hi
        ]
        candidates.append(ticks)
        if 3 <= len(ticks) <= max_ticks:
            return ticks
    fitting = [c for c in candidates if 2 <= len(c) <= max_ticks]
    return fitting[0] if fitting else [1.0]


def _limits(t: pd.DataFrame, xlim: tuple[float, float] | None) -> tuple[float, float]:
    if xlim is not None:
        return xlim
    vals = t[["estimate", "lower", "upper"]].to_numpy(dtype=np.float64).ravel()
    vals = vals[np.isfinite(vals) & (vals > 0)]
    vals = np.r_[vals, 1.0]
    lo = max(float(vals.min()), 0.01)
    hi = min(float(vals.max()), 100.0)
    pad = (math.log(hi) - math.log(lo)) * 0.06 + 0.05
    return math.exp(math.log(lo) - pad), math.exp(math.log(hi) + pad)


def _text_col(
    ax: Axes,
    header: str,
    values: Sequence[str],
    align: str,
    sizes: dict[str, float],
    bold: Sequence[bool] | None = None,
) -> None:
    x = {"left": 0.0, "center": 0.5, "right": 1.0}[align]
    ax.text(
        x,
        -1.0,
        header,
        ha=align,
        va="center",
        fontsize=sizes["small"],
        fontweight="bold",
        fontfamily=FONT_FAMILY,
        transform=ax.get_yaxis_transform(),
    )
    for i, v in enumerate(values):
        ax.text(
            x,
            i,
            v,
            ha=align,
            va="center",
            fontsize=sizes["small"],
            fontfamily=FONT_FAMILY,
            fontweight="bold" if bold is not None and bold[i] else "normal",
            transform=ax.get_yaxis_transform(),
        )


def _col_width(values: Sequence[str], header: str, size: float) -> float:
    """Width in inches of a text column (DejaVu Sans averages ~0.6 em per character)."""
    chars = max([len(v) for v in values] + [len(header)])
    return chars * size * 0.6 / 72 + 0.08


def plot_forest(  # noqa: C901
    table: pd.DataFrame,
    *,
    effect: Effect = "hr",
    labels: Mapping[str, str] | None = None,
    confidence_level: float = 0.95,
    digits: int = 2,
    xlim: tuple[float, float] | None = None,
    show_counts: bool = True,
    title: str | None = None,
    width: Width = "double",
    height: float | None = None,
) -> Figure:
    """Forest plot: one row per term or level with N, events, estimate (CI) and p.

    Parameters
    ----------
    table
        Tidy coefficient table: ``term, lower, upper, p_value`` and ``hr`` (Cox),
        ``odds_ratio`` (logistic) or ``estimate``; optional ``variable, level,
        reference, n, n_events`` (as :func:`forest_frame` gives). An ``(Intercept)`` row
        is dropped.
    effect
        ``"hr"`` (hazard ratio) or ``"or"`` (odds ratio): column read and axis title.
    labels
        Display names for variables, e.g. ``{"age_years": "Age (per year)"}``.
    confidence_level
        Level of the intervals in the table, for the column title.
    digits
        Decimals of the estimate and limits (half-up, trailing zeros kept).
    xlim
        Axis limits (ratios); default from the intervals, always including 1. Intervals
        beyond the limits end in an arrow.
    show_counts
        Show the N and Events columns (when the table has them).
    title
        Title at the top left.
    width
        ``"double"`` (default; 17 cm) or ``"single"`` column.
    height
        Height in inches (default from the number of rows).

    Returns
    -------
    matplotlib.figure.Figure
        Axes: the label column, N, Events, the plot, the estimate column, the p column
        (N/Events only when present).

    Notes
    -----
    The axis is logarithmic with a line at 1. Reference levels are written
    "reference", without a point. p-values follow
    :func:`cartcohort.render.format.format_p`; there are no significance stars (the
    p-value says it).
    """
    t = _normalise(table, effect)
    disp = _rows(t, dict(labels or {}))
    n_rows = len(disp)
    sizes = font_sizes(width)
    level_pct = round_significant(confidence_level * 100, 2).removesuffix(".0")
    est_header = f"{_EFFECT_SHORT[effect]} ({level_pct} % CI)"
    # text of every column
    names, ns, evs, ests, ps, bold = [], [], [], [], [], []
    has_n = show_counts and "n" in t.columns
    has_ev = show_counts and "n_events" in t.columns
    for d in disp:
        r = d["row"]
        assert isinstance(r, pd.Series)
        header = d["kind"] == "header"
        names.append(("" if d["kind"] != "level" else "   ") + str(d["label"]))
        bold.append(d["kind"] != "level")
        if header:
            ns.append("")
            evs.append("")
            ests.append("")
            ps.append("")
            continue
        ns.append(str(int(r["n"])) if has_n and pd.notna(r["n"]) else "")
        evs.append(str(int(r["n_events"])) if has_ev and pd.notna(r["n_events"]) else "")
        if bool(r["reference"]):
            ests.append("reference")
            ps.append("")
        else:
            ests.append(
                format_estimate_ci(
                    float(r["estimate"]), float(r["lower"]), float(r["upper"]), digits
                )
            )
            ps.append(format_p(float(r["p_value"]), prefix="") if pd.notna(r["p_value"]) else "")
    cols: list[tuple[str, list[str], str, float]] = [
        ("Variable", names, "left", _col_width(names, "Variable", sizes["small"]) + 0.05)
    ]
    if has_n:
        cols.append(("N", ns, "right", _col_width(ns, "N", sizes["small"])))
    if has_ev:
        cols.append(("Events", evs, "right", _col_width(evs, "Events", sizes["small"])))
    right_cols = [
        (est_header, ests, "left", _col_width(ests, est_header, sizes["small"]) + 0.1),
        ("p", ps, "right", _col_width(ps, "p", sizes["small"])),
    ]
    text_w = sum(c[3] for c in cols) + sum(c[3] for c in right_cols)
    fig_w = width_inches(width)
    plot_w = max(fig_w - text_w - 0.25, 0.9)
    row_h = sizes["small"] * 1.9 / 72
    fig_h = height if height is not None else (n_rows + 1.5) * row_h + 0.55 + (0.2 if title else 0)

    with style_context():
        fig = figure(width, fig_h)
        engine = fig.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):
            engine.set(wspace=0.0, w_pad=3 / 72)
        ratios = [c[3] for c in cols] + [plot_w] + [c[3] for c in right_cols]
        gs = fig.add_gridspec(1, len(ratios), width_ratios=ratios)
        axes: list[Axes] = []
        for i in range(len(ratios)):
            axes.append(fig.add_subplot(gs[0, i], sharey=axes[0] if axes else None))
        plot_ax = axes[len(cols)]
        text_axes = axes[: len(cols)] + axes[len(cols) + 1 :]
        for ax, (col_title, values, align, _) in zip(text_axes, [*cols, *right_cols], strict=True):
            ax.set_axis_off()
            _text_col(
                ax, col_title, values, align, sizes, bold=bold if col_title == "Variable" else None
            )
        # shade every other variable block across the whole width (figure x, row y)
        # drawn by the first axes (drawn first), kept out of the layout computation
        band = blended_transform_factory(fig.transFigure, axes[0].transData)
        plot_ax.patch.set_visible(False)
        for i, d in enumerate(disp):
            if int(d["block"]) % 2 == 1:  # type: ignore[call-overload]
                rect = Rectangle(
                    (0.005, i - 0.5),
                    0.99,
                    1.0,
                    transform=band,
                    color=FAINT_GREY,
                    linewidth=0,
                    zorder=0,
                    clip_on=False,
                )
                rect.set_in_layout(False)
                axes[0].add_patch(rect)
        plot_ax.set_ylim(n_rows - 0.5, -1.6)
        lo, hi = _limits(t, xlim)
        style_axes(plot_ax, width)
        plot_ax.set_xscale("log")
        plot_ax.set_xlim(lo, hi)
        plot_ax.plot([1.0, 1.0], [-0.5, n_rows - 0.5], color=GREY, linewidth=0.7, zorder=1)
        for i, d in enumerate(disp):
            r = d["row"]
            assert isinstance(r, pd.Series)
            if d["kind"] == "header" or bool(r["reference"]):
                continue
            est, low, up = float(r["estimate"]), float(r["lower"]), float(r["upper"])
            if not (math.isfinite(est) and est > 0):
                continue
            a = max(low, lo) if math.isfinite(low) and low > 0 else lo
            b = min(up, hi) if math.isfinite(up) else hi
            plot_ax.plot([a, b], [i, i], color="black", linewidth=0.9, zorder=2)
            if not (math.isfinite(low) and low >= lo):
                plot_ax.plot(a, i, marker="<", color="black", markersize=3.5, zorder=2)
            if not (math.isfinite(up) and up <= hi):
                plot_ax.plot(b, i, marker=">", color="black", markersize=3.5, zorder=2)
            if lo <= est <= hi:
                plot_ax.plot(
                    est,
                    i,
                    marker="s",
                    color=OKABE_ITO[0],
                    markersize=4.0,
                    zorder=3,
                    markeredgewidth=0,
                )
        ticks = _log_ticks(lo, hi, max_ticks=max(int(plot_w / 0.28), 2))
        plot_ax.xaxis.set_major_locator(FixedLocator(ticks))
        plot_ax.xaxis.set_minor_locator(NullLocator())
        plot_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        plot_ax.spines["left"].set_visible(False)
        plot_ax.tick_params(axis="y", left=False, labelleft=False)
        plot_ax.set_xlabel(f"{_EFFECT_NAME[effect]} (log scale)", fontfamily=FONT_FAMILY)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=sizes["title"], fontweight="bold")
    return fig


__all__ = ["FOREST_COLUMNS", "forest_frame", "plot_forest"]
