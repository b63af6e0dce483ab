"""Cumulative incidence curves (competing risks) with a number-at-risk table and Gray's test.

:func:`plot_cumulative_incidence` draws a
:class:`~cartcohort.analyse.competing.CumulativeIncidenceResult` in the same style as
:func:`~cartcohort.render.figures.km.plot_survival`.

The cumulative-incidence table holds rows at event times only, so it cannot give the
number at risk at an arbitrary time (subjects censored between a tick and the next
event are unknown). The at-risk table therefore comes from the all-cause Kaplan–Meier
fit of the same rows (for CIR: the LFS fit), passed as ``at_risk=``; its censored times
also give the censor marks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.render.figures._style import Width, palette, style_axes, style_context
from cartcohort.render.figures.km import (
    _MAX_TICKS,
    TestResultLike,
    TimeUnit,
    _finish,
    _group_display,
    _header_lines,
    _layout,
    landmark_label,
    test_label,
    time_ticks,
)
from cartcohort.render.format import format_p, format_percent

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from cartcohort.analyse.competing import CumulativeIncidenceResult
    from cartcohort.analyse.km import KaplanMeierResult


def gray_test_label(cif_result: CumulativeIncidenceResult, cause: int) -> str | None:
    """``"Gray's test p = 0.031"`` for ``cause``, or None with one group."""
    gray = cif_result.gray_test
    if gray is None:
        return None
    row = gray.loc[gray["cause"] == cause]
    if row.empty:
        return None
    return f"Gray's test {format_p(float(row['p_value'].iloc[0]))}"


def cif_step(cif_result: CumulativeIncidenceResult, *, group: object, cause: int) -> pd.DataFrame:
    """The CIF of one group and cause as drawn: ``time, estimate, lower, upper``.

    Starts at (0, 0) and ends flat at the group's last follow-up time (``max_time``);
    the estimate is the right-continuous step function of the result's table.
    """
    t = cif_result.table
    sub = t.loc[(t["group"] == group) & (t["cause"] == cause)]
    g_index = list(cif_result.groups).index(group)
    end = float(cif_result.max_time[g_index])
    est = sub["estimate"].to_numpy(dtype=np.float64)
    last = est[-1] if est.size else 0.0
    frame = pd.DataFrame(
        {
            "time": np.r_[0.0, sub["time"].to_numpy(dtype=np.float64), end],
            "estimate": np.r_[0.0, est, last],
            "lower": np.r_[0.0, sub["lower"].to_numpy(dtype=np.float64), np.nan],
            "upper": np.r_[0.0, sub["upper"].to_numpy(dtype=np.float64), np.nan],
        }
    )
    frame.loc[frame.index[-1], ["lower", "upper"]] = frame[["lower", "upper"]].iloc[-2].to_numpy()
    return frame


def _check_at_risk(cif_result: CumulativeIncidenceResult, at_risk: KaplanMeierResult) -> None:
    if [str(g) for g in at_risk.groups] != [str(g) for g in cif_result.groups] or (
        at_risk.n != cif_result.n
    ):
        msg = (
            "`at_risk` must be the all-cause Kaplan–Meier fit of the same rows and groups as "
            f"the cumulative incidence (groups {list(cif_result.groups)}, n = {cif_result.n}); "
            f"got groups {list(at_risk.groups)}, n = {at_risk.n}."
        )
        raise ValueError(msg)


def _landmarks(
    cif_result: CumulativeIncidenceResult,
    cause: int,
    landmarks: Sequence[float],
    endpoint: str | None,
) -> dict[object, list[str]]:
    at = cif_result.at(list(landmarks))
    at = at.loc[at["cause"] == cause]
    out: dict[object, list[str]] = {g: [] for g in cif_result.groups}
    for row in at.itertuples(index=False):
        if math.isnan(float(row.estimate)):
            continue
        name = landmark_label(float(row.time)) + (f" {endpoint}" if endpoint else "")
        se = math.sqrt(float(row.variance))
        out[row.group].append(
            f"{name} {format_percent(float(row.estimate))} ± {format_percent(se)}"
        )
    return out


def plot_cumulative_incidence(  # noqa: C901
    cif_result: CumulativeIncidenceResult,
    *,
    cause: int = 1,
    test: TestResultLike | Literal["gray"] | None = "gray",
    risk_table: bool = True,
    at_risk: KaplanMeierResult | None = None,
    competing: bool = False,
    time_unit: TimeUnit = "months",
    landmarks: Sequence[float] | None = None,
    confidence_band: bool = False,
    title: str | None = None,
    group_labels: Mapping[object, str] | None = None,
    endpoint: str | None = None,
    ylabel: str = "Cumulative incidence (%)",
    xlabel: str | None = None,
    max_time: float | None = None,
    tick_step: float | None = None,
    time_origin: str = "infusion",
    width: Width = "single",
    height: float | None = None,
) -> Figure:
    """Cumulative incidence of one cause by group, with Gray's test and a risk table.

    Parameters
    ----------
    cif_result
        Result of :func:`cartcohort.analyse.competing.cumulative_incidence` (days).
    cause
        The cause code to draw (e.g. 1 = relapse for ``CIR``).
    test
        ``"gray"`` (default): Gray's test for ``cause`` from the result; a test result
        with ``p_value`` and ``method.estimator``; or None for no test.
    risk_table
        Draw the number-at-risk table; needs ``at_risk``.
    at_risk
        The all-cause Kaplan–Meier fit of the same rows and groups (event = any cause;
        for CIR the LFS fit). It gives the number at risk (subjects with time >= t) and
        the censored times marked "+" on the curves.
    competing
        Also draw the other causes as thin dashed curves in the group's colour.
    time_unit, landmarks, confidence_band, title, group_labels, endpoint, ylabel, xlabel,
    max_time, tick_step, time_origin, width, height
        As :func:`~cartcohort.render.figures.km.plot_survival`; landmark texts read
        "2-y CIR 25 % ± 4 %" (estimate ± SE from ``cif_result.at``).

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: header, curves, then the risk table (if drawn).

    Raises
    ------
    ValueError
        ``risk_table=True`` without ``at_risk``, an ``at_risk`` fit of other rows, or a
        cause not in the result.
    """
    if cause not in cif_result.causes:
        msg = f"`cause` must be one of {list(cif_result.causes)}; got {cause!r}."
        raise ValueError(msg)
    if risk_table and at_risk is None:
        msg = (
            "The number-at-risk table needs the all-cause Kaplan–Meier fit of the same rows: "
            "pass `at_risk=kaplan_meier(data, time=..., event=<any event>, by=...)` (for CIR, "
            "the LFS fit), or `risk_table=False`."
        )
        raise ValueError(msg)
    if at_risk is not None:
        _check_at_risk(cif_result, at_risk)
    groups = list(cif_result.groups)
    labels = _group_display(groups, group_labels)
    colors = palette(len(groups)) if len(groups) > 1 else ["#000000"]
    last_time = max(cif_result.max_time) if max_time is None else float(max_time)
    ticks = time_ticks(last_time, time_unit=time_unit, max_ticks=_MAX_TICKS[width], step=tick_step)
    extra = _landmarks(cif_result, cause, landmarks, endpoint) if landmarks else {}
    legend_labels = []
    for group, label in zip(groups, labels, strict=True):
        n = (
            int(at_risk.median.loc[at_risk.median["group"] == group, "n"].iloc[0])
            if at_risk is not None
            else None
        )
        head = label if len(groups) > 1 else "All patients"
        head += f" (n = {n})" if n is not None else ""
        parts = extra.get(group, [])
        legend_labels.append(head + (": " + "; ".join(parts) if parts else ""))
    if isinstance(test, str):
        if test != "gray":
            msg = f"`test` must be 'gray', a test result, or None; got {test!r}."
            raise ValueError(msg)
        test_text = gray_test_label(cif_result, cause)
    else:
        test_text = test_label(test) if test is not None else None
    ncols, n_lines = _header_lines(legend_labels, width, has_test=test_text is not None)
    scale = DAYS_PER_MONTH if time_unit == "months" else 1.0

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
            curve = cif_step(cif_result, group=group, cause=cause)
            x = curve["time"].to_numpy() / scale
            y = curve["estimate"].to_numpy()
            (line,) = ax.step(x, y, where="post", color=color, linewidth=1.2, zorder=3)
            handles.append(line)
            if confidence_band:
                ax.fill_between(
                    x,
                    curve["lower"].to_numpy(),
                    curve["upper"].to_numpy(),
                    step="post",
                    color=color,
                    alpha=0.15,
                    linewidth=0,
                    zorder=2,
                )
            if at_risk is not None:
                km = at_risk.table.loc[at_risk.table["group"] == group]
                ct = km.loc[km["n_censor"] > 0, "time"].to_numpy(dtype=np.float64)
                idx = np.searchsorted(curve["time"].to_numpy()[:-1], ct, side="right") - 1
                ax.plot(
                    ct / scale,
                    y[np.maximum(idx, 0)],
                    linestyle="none",
                    marker="+",
                    markersize=4.0,
                    markeredgewidth=0.8,
                    color=color,
                    zorder=4,
                )
            if competing:
                for other in cif_result.causes:
                    if other == cause:
                        continue
                    oc = cif_step(cif_result, group=group, cause=other)
                    ax.step(
                        oc["time"].to_numpy() / scale,
                        oc["estimate"].to_numpy(),
                        where="post",
                        color=color,
                        linewidth=0.8,
                        linestyle="--",
                        zorder=2,
                    )
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
            at_risk=at_risk,
            groups=list(at_risk.groups) if at_risk is not None else [],
            labels=labels if len(groups) > 1 else ["All"],
            colors=colors,
        )
    return lay.fig


__all__ = ["cif_step", "gray_test_label", "plot_cumulative_incidence"]
