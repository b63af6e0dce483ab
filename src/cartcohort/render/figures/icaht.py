"""ANC and platelet counts after infusion with the ICAHT thresholds drawn.

:func:`plot_icaht_counts` draws, from an :class:`~cartcohort.derive.toxicity.icaht.IcahtResult`,
one panel per count (ANC, platelets): each patient's measured values as a thin line, the
median per day (days with at least ``min_n`` values) in black, every threshold of the grading
table used as a dashed line, and the early/late boundary (day 30) as a dotted vertical line.
Values carried forward and censored days are not drawn. A log axis cannot show 0: values
below the panel's floor are drawn at the floor with an open down-triangle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from cartcohort.derive.toxicity.icaht import EARLY_END_DAY, IcahtResult
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    GREY,
    OKABE_ITO,
    Width,
    figure,
    font_sizes,
    log_y_axis,
    style_axes,
    style_context,
    width_inches,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Columns of :func:`icaht_counts_frame`.
COUNTS_COLUMNS = ("patient_id", "day", "analyte", "value")
_PANELS = (("anc", "ANC (× 10⁹/L)", 0.01), ("platelets", "Platelets (× 10⁹/L)", 1.0))


def icaht_counts_frame(
    result: IcahtResult, *, patient_ids: Sequence[object] | None = None
) -> pd.DataFrame:
    """The measured counts :func:`plot_icaht_counts` draws (no carried or censored days).

    Parameters
    ----------
    result
        From :func:`cartcohort.grade_icaht`.
    patient_ids
        Patients to keep (default all).

    Returns
    -------
    pandas.DataFrame
        Long: ``patient_id, day, analyte, value`` (10^9/L).
    """
    daily = result.daily
    if patient_ids is not None:
        daily = daily[daily["patient_id"].isin(list(patient_ids))]
    parts = []
    for analyte in ("anc", "platelets"):
        keep = daily[analyte].notna() & ~daily[f"{analyte}_carried"].astype(bool)
        part = daily.loc[keep, ["patient_id", "day", analyte]].rename(columns={analyte: "value"})
        parts.append(part.assign(analyte=analyte))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out.reindex(columns=list(COUNTS_COLUMNS)).reset_index(drop=True)


def _panel(
    ax: Axes,
    counts: pd.DataFrame,
    thresholds: list[tuple[str, float]],
    label: str,
    floor: float,
    min_n: int,
    width: Width,
) -> None:
    sizes = font_sizes(width)
    style_axes(ax, width, grid=False)
    single = counts["patient_id"].nunique() == 1
    for _, one in counts.groupby("patient_id", sort=False):
        y = np.maximum(one["value"].to_numpy(dtype=np.float64), floor)
        if single:  # one patient: their course is the figure
            ax.plot(one["day"], y, color="black", linewidth=1.2, marker="o", markersize=2.5)
        else:
            ax.plot(one["day"], y, color="#bbbbbb", linewidth=0.5, zorder=2)
    low = counts[counts["value"] < floor]
    if len(low):
        ax.plot(
            low["day"],
            np.full(len(low), floor),
            linestyle="none",
            marker="v",
            markerfacecolor="white",
            markeredgecolor=GREY,
            markersize=3,
            zorder=3,
        )
    med = counts.groupby("day")["value"].agg(["median", "size"])
    med = med[med["size"] >= min_n]
    if len(med) and not single:
        ax.plot(
            med.index,
            np.maximum(med["median"].to_numpy(dtype=np.float64), floor),
            color="black",
            linewidth=1.3,
            zorder=4,
        )
    colors = [OKABE_ITO[(i + 1) % len(OKABE_ITO)] for i in range(len(thresholds))]
    for (text, value), color in zip(thresholds, colors, strict=True):
        ax.axhline(value, color=color, linestyle="--", linewidth=0.9, zorder=3)
        ax.annotate(
            text,
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=sizes["small"],
            color=color,
            fontfamily=FONT_FAMILY,
        )
    ax.axvline(EARLY_END_DAY + 0.5, color=GREY, linestyle=":", linewidth=0.8, zorder=1)
    log_y_axis(ax)
    values = counts["value"].to_numpy(dtype=np.float64)
    positive = values[values > 0]
    lowest = min([*(positive.tolist() or [floor]), *(v for _, v in thresholds)])
    ax.set_ylim(bottom=max(floor, lowest) / 1.6)
    ax.set_ylabel(label, fontfamily=FONT_FAMILY)


def plot_icaht_counts(
    result: IcahtResult,
    *,
    patient_ids: Sequence[object] | None = None,
    min_n: int = 3,
    title: str | None = None,
    width: Width = "double",
    height: float | None = None,
) -> Figure:
    """ANC and platelets over time with the ICAHT thresholds and the day-30 boundary.

    Parameters
    ----------
    result
        From :func:`cartcohort.grade_icaht`; its tables give the thresholds drawn.
    patient_ids
        Patients to draw (default all).
    min_n
        Days with fewer measured values have no median point.
    title
        Figure title (axes title of the first panel).
    width, height
        Column width class and height in inches (default 0.45 x the width).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: ANC and platelets, sharing the day axis.

    Raises
    ------
    ValueError
        When there is no measured count to draw.
    """
    counts = icaht_counts_frame(result, patient_ids=patient_ids)
    if counts.empty:
        msg = "No measured ANC or platelet value to draw."
        raise ValueError(msg)
    tables = {t.analyte: t for t in result.tables}
    with style_context():
        fig = figure(width, height if height is not None else 0.45 * width_inches(width))
        axes = fig.subplots(1, 2, sharex=True)
        for ax, (analyte, label, floor) in zip(axes, _PANELS, strict=True):
            table = tables[analyte]
            seen: dict[float, str] = {}
            for c in table.criteria:
                op = "≤" if c.comparison == "<=" else "<"
                seen.setdefault(c.threshold, f"{op} {c.threshold:g}")
            thresholds = [(text, value) for value, text in sorted(seen.items())]
            sub = counts[counts["analyte"] == analyte]
            _panel(ax, sub, thresholds, label, floor, min_n, width)
            ax.set_xlabel("Days after infusion", fontfamily=FONT_FAMILY)
            status = " (UNVERIFIED table)" if table.status == "unverified" else ""
            ax.set_title(f"{table.name}{status}", loc="left", fontsize=font_sizes(width)["text"])
        several = counts["patient_id"].nunique() > 1
        items = [
            (Line2D([], [], color="#bbbbbb", linewidth=0.5), "one patient (measured values)"),
            (Line2D([], [], color="black", linewidth=1.3), f"median (days with ≥ {min_n} values)"),
        ]
        if not several:
            items = [
                (
                    Line2D([], [], color="black", linewidth=1.2, marker="o", markersize=2.5),
                    "measured values",
                )
            ]
        items.append(
            (Line2D([], [], color=GREY, linestyle="--", linewidth=0.9), "grading thresholds")
        )
        items.append(
            (Line2D([], [], color=GREY, linestyle=":", linewidth=0.8), "day 30: early | late")
        )
        fig.legend(
            handles=[h for h, _ in items],
            labels=[t for _, t in items],
            loc="outside lower center",
            ncols=len(items) if width == "double" else 2,
            frameon=False,
            fontsize=font_sizes(width)["small"],
        )
        if title:
            fig.suptitle(title, x=0.0, ha="left", fontsize=font_sizes(width)["title"])
    return fig


__all__ = ["COUNTS_COLUMNS", "icaht_counts_frame", "plot_icaht_counts"]
