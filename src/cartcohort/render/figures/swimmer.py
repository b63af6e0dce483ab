"""Swimmer plot: one lane per patient from infusion to last follow-up, with key events.

:func:`swimmer_frame` collects, per patient, the days drawn (tested as data);
:func:`plot_swimmer` draws them: a bar per patient coloured by best response, sorted by
follow-up (longest at the top), with markers for re-infusions, response (CR/CRi),
MRD-negative marrow, HSCT, relapse (CD19-negative relapse drawn open) and death, and an
arrow for patients alive at last follow-up. Day 0 is the first CAR-T infusion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.derive.response import MRD_NEGATIVE_BELOW_PCT
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    OKABE_ITO,
    Width,
    figure,
    font_sizes,
    style_axes,
    style_context,
)
from cartcohort.render.figures.km import TimeUnit, _format_time_axis, time_ticks

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

#: Columns of :func:`swimmer_frame`.
SWIMMER_COLUMNS = (
    "patient_id",
    "end_day",
    "alive",
    "best_response",
    "response_day",
    "mrd_negative_day",
    "hsct_day",
    "relapse_day",
    "relapse_cd19_negative",
    "death_day",
    "reinfusion_days",
)
_RESPONDER = ("CR", "CRi")
_BAR = {"responder": "#A6D4F2", "non-responder": "#F5C98A", "other": "#D9D9D9"}
_MARK = {
    "reinfusion": ("^", "black", "black"),
    "response": ("o", "none", OKABE_ITO[2]),  # a ring: an MRD-negative ◆ can sit inside
    "mrd": ("D", OKABE_ITO[0], OKABE_ITO[0]),
    "hsct": ("s", OKABE_ITO[4], OKABE_ITO[4]),
    "relapse": ("X", OKABE_ITO[1], OKABE_ITO[1]),
    "relapse_cd19neg": ("X", "white", OKABE_ITO[1]),
    "death": ("|", "black", "black"),
    "alive": (">", "#555555", "#555555"),
}


def _opt(value: object) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _truthy(value: object) -> bool:
    return bool(value) if value is not None and not pd.isna(value) else False


def swimmer_frame(
    patients: pd.DataFrame,
    infusions: pd.DataFrame | None = None,
    marrow: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The days drawn on the swimmer plot, one row per patient.

    Parameters
    ----------
    patients
        Patient sheet with ``patient_id, last_followup_day, death, death_day,
        best_response, response_day, relapse, relapse_day, cd19_negative_relapse,
        hsct_after, hsct_day`` (``mrd_negative`` used when ``marrow`` is None).
    infusions
        ``patient_id, infusion, day``: infusions after the first are re-infusions.
    marrow
        ``patient_id, day, mrd_pct``: the first day after infusion with MRD below
        :data:`~cartcohort.derive.burden.MRD_NEGATIVE_BELOW_PCT` is the MRD-negative
        marker. Without it, ``mrd_negative`` is marked at ``response_day``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SWIMMER_COLUMNS`, sorted by ``end_day`` (longest first, then
        ``patient_id``). ``end_day`` is the death day or last follow-up; ``alive`` is
        False after a death; missing days are NaN; ``reinfusion_days`` is a tuple.
    """
    rows = []
    reinf: dict[object, tuple[float, ...]] = {}
    if infusions is not None:
        later = infusions.loc[infusions["infusion"] > 1]
        for pid, sub in later.groupby("patient_id", sort=False):
            reinf[pid] = tuple(float(d) for d in sub["day"])
    mrd_day: dict[object, float] = {}
    if marrow is not None:
        neg = marrow.loc[(marrow["day"] > 0) & (marrow["mrd_pct"] < MRD_NEGATIVE_BELOW_PCT)]
        mrd_day = {pid: float(d) for pid, d in neg.groupby("patient_id")["day"].min().items()}
    for r in patients.to_dict("records"):
        died = _truthy(r.get("death"))
        end = _opt(r.get("death_day")) if died else _opt(r.get("last_followup_day"))
        if math.isnan(end):
            end = _opt(r.get("last_followup_day"))
        response = None if pd.isna(r.get("best_response")) else str(r.get("best_response"))
        resp_day = _opt(r.get("response_day")) if response in _RESPONDER else math.nan
        if marrow is not None:
            mrd = mrd_day.get(r["patient_id"], math.nan)
        else:
            mrd = resp_day if _truthy(r.get("mrd_negative")) else math.nan
        rows.append(
            {
                "patient_id": r["patient_id"],
                "end_day": end,
                "alive": not died,
                "best_response": response,
                "response_day": resp_day,
                "mrd_negative_day": mrd,
                "hsct_day": _opt(r.get("hsct_day")) if _truthy(r.get("hsct_after")) else math.nan,
                "relapse_day": _opt(r.get("relapse_day"))
                if _truthy(r.get("relapse"))
                else math.nan,
                "relapse_cd19_negative": _truthy(r.get("cd19_negative_relapse")),
                "death_day": end if died else math.nan,
                "reinfusion_days": reinf.get(r["patient_id"], ()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(SWIMMER_COLUMNS))
    frame = frame.sort_values(["end_day", "patient_id"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def _bar_class(response: str | None) -> str:
    if response in _RESPONDER:
        return "responder"
    if response in ("PR", "NR"):
        return "non-responder"
    return "other"


def plot_swimmer(
    patients: pd.DataFrame,
    events: pd.DataFrame | None = None,
    infusions: pd.DataFrame | None = None,
    marrow: pd.DataFrame | None = None,
    *,
    max_patients: int = 60,
    time_unit: TimeUnit = "months",
    show_ids: bool = True,
    title: str | None = None,
    width: Width = "double",
    height: float | None = None,
) -> Figure:
    """Swimmer plot of a cohort: one lane per patient, sorted by follow-up.

    Parameters
    ----------
    patients
        Patient sheet (see :func:`swimmer_frame` for the columns).
    events
        Optional events table (``patient_id, day, event, detail``). When given, relapse,
        HSCT and death days are taken from it (first of each), overriding the sheet.
    infusions
        Infusions table; re-infusions are marked ▲.
    marrow
        Marrow table; the first MRD-negative marrow is marked ◆.
    max_patients
        Most lanes drawn. A larger cohort raises an error rather than silently showing a
        subset: select the patients to show (a centre, the responders ...) first.
    time_unit
        ``"months"`` (days in grey underneath) or ``"days"``.
    show_ids
        Write patient identifiers on the y axis.
    title
        Figure title.
    width, height
        Column width class (default double) and height in inches (default from the
        number of lanes).

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per patient (``len(ax.patches)`` lanes).

    Raises
    ------
    ValueError
        More patients than ``max_patients``.
    """
    n = len(patients)
    if n > max_patients:
        msg = (
            f"{n} patients is more than `max_patients` = {max_patients}; a swimmer plot with "
            "that many lanes is unreadable. Select the patients to show (e.g. one centre, or "
            "the responders) or raise `max_patients`."
        )
        raise ValueError(msg)
    sheet = patients
    if events is not None:
        sheet = _apply_events(patients, events)
    frame = swimmer_frame(sheet, infusions, marrow)
    sizes = font_sizes(width)
    lane_in = 0.115
    fig_h = height if height is not None else n * lane_in + 1.3
    scale = DAYS_PER_MONTH if time_unit == "months" else 1.0
    with style_context():
        fig = figure(width, fig_h)
        ax = fig.add_subplot()
        style_axes(ax, width)
        y = np.arange(len(frame))
        for i, r in frame.iterrows():
            ax.barh(
                int(i),
                r["end_day"] / scale,
                left=0,
                height=0.62,
                color=_BAR[_bar_class(r["best_response"])],
                linewidth=0,
                zorder=1,
            )

        def mark(key: str, xs: Sequence[float], ys: Sequence[float], size: float = 4.0) -> None:
            marker, face, edge = _MARK[key]
            keep = [k for k, x in enumerate(xs) if not math.isnan(x)]
            if keep:
                ax.plot(
                    [xs[k] / scale for k in keep],
                    [ys[k] for k in keep],
                    linestyle="none",
                    marker=marker,
                    markerfacecolor=face,
                    markeredgecolor=edge,
                    markersize=size,
                    markeredgewidth=1.6 if key == "death" else 1.1 if key == "response" else 0.9,
                    zorder=3,
                )

        ys = y.tolist()
        mark("response", frame["response_day"].tolist(), ys, 6.0)
        mark("mrd", frame["mrd_negative_day"].tolist(), ys, 3.0)
        mark("hsct", frame["hsct_day"].tolist(), ys)
        neg = frame["relapse_cd19_negative"].to_numpy(dtype=bool)
        rel = frame["relapse_day"].to_numpy(dtype=np.float64)
        mark("relapse", np.where(neg, np.nan, rel).tolist(), ys, 4.5)
        mark("relapse_cd19neg", np.where(neg, rel, np.nan).tolist(), ys, 4.5)
        mark("death", frame["death_day"].tolist(), ys, 6.0)
        alive_end = np.where(frame["alive"].to_numpy(dtype=bool), frame["end_day"], np.nan)
        mark("alive", [x + 0.012 * float(frame["end_day"].max()) for x in alive_end], ys, 3.5)
        rx, ry = [], []
        for i, days in enumerate(frame["reinfusion_days"]):
            rx.extend(days)
            ry.extend([i] * len(days))
        mark("reinfusion", rx, ry, 3.5)

        ax.set_ylim(len(frame) - 0.5, -0.5)
        if show_ids:
            ax.set_yticks(y, labels=frame["patient_id"].astype(str).tolist())
            ax.tick_params(axis="y", length=0, labelsize=max(sizes["small"] - 1.0, 5.5))
        else:
            ax.set_yticks([])
        ax.set_ylabel("Patients (longest follow-up at the top)", fontfamily=FONT_FAMILY)
        max_day = float(frame["end_day"].max())
        ticks = time_ticks(max_day, time_unit=time_unit, max_ticks=9 if width == "double" else 7)
        _format_time_axis(
            ax, ticks, time_unit=time_unit, width=width, xlabel=None, x_max=max_day / scale * 1.03
        )
        handles: list[Artist] = [
            Patch(color=_BAR["responder"], label="Best response CR/CRi"),
            Patch(color=_BAR["non-responder"], label="PR/NR"),
            Patch(color=_BAR["other"], label="Not evaluable"),
        ]
        labels = {
            "reinfusion": "Re-infusion",
            "response": "CR/CRi",
            "mrd": "MRD-negative",
            "hsct": "HSCT",
            "relapse": "Relapse (CD19+)",
            "relapse_cd19neg": "Relapse (CD19−)",
            "death": "Death",
            "alive": "Alive at last follow-up",
        }
        for key, text in labels.items():
            marker, face, edge = _MARK[key]
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=marker,
                    markerfacecolor=face,
                    markeredgecolor=edge,
                    markersize=5 if key != "death" else 7,
                    markeredgewidth=0.9 if key != "death" else 1.6,
                    label=text,
                )
            )
        fig.legend(
            handles=handles,
            loc="outside upper left",
            ncols=4 if width == "double" else 2,
            frameon=False,
            fontsize=sizes["small"],
            handlelength=1.2,
            columnspacing=1.0,
        )
        if title:
            # an axes title: a figure title would collide with the legend above the axes
            ax.set_title(title, loc="left", fontsize=sizes["title"], fontweight="bold")
    return fig


def _apply_events(patients: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Patient sheet with relapse/HSCT/death days from the events table (first of each)."""
    out = patients.copy()
    first = events.groupby(["patient_id", "event"], observed=True)["day"].min().unstack()
    for event, flag, day in (
        ("relapse", "relapse", "relapse_day"),
        ("hsct", "hsct_after", "hsct_day"),
        ("death", "death", "death_day"),
    ):
        if event in first.columns:
            days = out["patient_id"].map(first[event])
            has = days.notna()
            out[flag] = has
            out[day] = days
    return out


__all__ = ["SWIMMER_COLUMNS", "plot_swimmer", "swimmer_frame"]
