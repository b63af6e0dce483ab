"""CONSORT-style flow diagram of included and excluded patients, with reasons.

:func:`plot_flow` draws a vertical chain of boxes ("Screened (n = 180)" → "Infused
(n = 150)" → ...) with, beside each arrow, a box listing the patients excluded at that
step and why. The arithmetic is checked: each step's n must equal the previous n minus
the exclusions listed, so the diagram cannot silently lose patients.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from cartcohort.render.figures._style import (
    FONT_FAMILY,
    Width,
    figure,
    font_sizes,
    style_context,
    width_inches,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One step: (label, n, [(reason, n excluded), ...]); exclusions lead to the NEXT step.
FlowStep = tuple[str, int, Sequence[tuple[str, int]]]


def check_flow(steps: Sequence[FlowStep]) -> None:
    """Raise ``ValueError`` unless each step's n = previous n - its listed exclusions.

    Parameters
    ----------
    steps
        ``(label, n, excluded)`` per step; ``excluded`` lists ``(reason, n)`` of the
        patients leaving between this step and the next (empty for the last step).
    """
    if not steps:
        msg = "`steps` is empty; give at least one (label, n, excluded) step."
        raise ValueError(msg)
    for (label, n, excluded), (next_label, next_n, _) in itertools.pairwise(steps):
        lost = sum(int(k) for _, k in excluded)
        if n - lost != next_n:
            msg = (
                f"Flow does not add up: {label!r} (n = {n}) minus {lost} excluded is "
                f"{n - lost}, but {next_label!r} has n = {next_n}. List every reason."
            )
            raise ValueError(msg)
    if steps[-1][2]:
        lost = sum(int(k) for _, k in steps[-1][2])
        msg = f"The last step {steps[-1][0]!r} lists {lost} exclusions but no step follows."
        raise ValueError(msg)
    for label, n, excluded in steps:
        if n < 0 or any(k < 0 for _, k in excluded):
            msg = f"Counts must be >= 0 (step {label!r})."
            raise ValueError(msg)


def _box(
    ax: Axes, x: float, y_top: float, w: float, lines: list[str], size: float, *, bold_first: bool
) -> float:
    """Draw a box of ``lines`` with its top at ``y_top`` (inches); return its height."""
    line_h = size * 1.35 / 72
    pad = 0.06
    h = len(lines) * line_h + 2 * pad
    ax.add_patch(
        FancyBboxPatch(
            (x, y_top - h),
            w,
            h,
            boxstyle="square,pad=0",
            facecolor="white",
            edgecolor="black",
            linewidth=0.7,
        )
    )
    for i, text in enumerate(lines):
        ax.text(
            x + 0.07,
            y_top - pad - (i + 0.5) * line_h,
            text,
            ha="left",
            va="center",
            fontsize=size,
            fontfamily=FONT_FAMILY,
            fontweight="bold" if (bold_first and i == 0) else "normal",
        )
    return h


def _wrap(text: str, width_in: float, size: float, indent: str = "") -> list[str]:
    """Wrap to the box width (DejaVu Sans: ~0.55 em per character); "(n = 8)" never splits."""
    chars = max(int((width_in - 0.16) / (size * 0.55 / 72)), 10)
    text = text.replace("(n = ", "(n\u00a0=\u00a0")
    return textwrap.wrap(text, chars, subsequent_indent=indent) or [""]


def plot_flow(
    steps: Sequence[FlowStep],
    *,
    width: Width = "single",
    title: str | None = None,
) -> Figure:
    """CONSORT-style flow: one box per step, exclusions with reasons beside the arrows.

    Parameters
    ----------
    steps
        ``[(label, n, excluded), ...]`` top to bottom, e.g.
        ``[("Enrolled", 180, [("Not infused: progression", 20), ("Withdrew", 10)]),
        ("Infused", 150, [("Not evaluable for response", 3)]), ("Evaluable", 147, [])]``.
    width
        ``"single"`` or ``"double"`` column.
    title
        Title at the top left.

    Returns
    -------
    matplotlib.figure.Figure
        One axes in inches (no ticks); one main box per step, one exclusion box per
        step with exclusions.

    Raises
    ------
    ValueError
        The counts do not add up (see :func:`check_flow`).
    """
    check_flow(steps)
    sizes = font_sizes(width)
    size = sizes["text"]
    fig_w = width_inches(width)
    main_w = fig_w * 0.44
    side_x = main_w + 0.3
    side_w = fig_w - side_x - 0.05
    gap_min = 0.28
    # lay out top to bottom in inches, then size the figure to fit
    main_lines = [_wrap(f"{label} (n = {n})", main_w, size) for label, n, _ in steps]
    side_lines: list[list[str]] = []
    for _, _, excluded in steps:
        if not excluded:
            side_lines.append([])
            continue
        total = sum(int(k) for _, k in excluded)
        lines = [f"Excluded (n = {total})"]
        for reason, k in excluded:
            lines.extend(_wrap(f"• {reason} (n = {k})", side_w, size, indent="   "))
        side_lines.append(lines)
    line_h = size * 1.35 / 72
    heights = [len(lines) * line_h + 0.12 for lines in main_lines]
    gaps = [max(gap_min, len(s) * line_h + 0.12 + 0.16) if s else gap_min for s in side_lines]
    total_h = sum(heights) + sum(gaps[:-1]) + 0.1 + (0.25 if title else 0.0)
    with style_context():
        fig = figure(width, total_h)
        fig.set_layout_engine("none")  # the axes is the whole figure, in inches
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, fig_w)
        ax.set_ylim(0, total_h)
        ax.set_axis_off()
        y = total_h - 0.05 - (0.25 if title else 0.0)
        if title:
            ax.text(
                0.02,
                total_h - 0.05,
                title,
                ha="left",
                va="top",
                fontsize=sizes["title"],
                fontweight="bold",
                fontfamily=FONT_FAMILY,
            )
        centre = main_w / 2 + 0.02
        for i, lines in enumerate(main_lines):
            h = _box(ax, 0.02, y, main_w, lines, size, bold_first=False)
            bottom = y - h
            if i + 1 < len(main_lines):
                next_top = bottom - gaps[i]
                ax.add_patch(
                    FancyArrowPatch(
                        (centre, bottom),
                        (centre, next_top),
                        arrowstyle="-|>",
                        mutation_scale=7,
                        linewidth=0.7,
                        color="black",
                    )
                )
                if side_lines[i]:
                    sh = len(side_lines[i]) * line_h + 0.12
                    mid = (bottom + next_top) / 2
                    _box(ax, side_x, mid + sh / 2, side_w, side_lines[i], size, bold_first=True)
                    ax.add_patch(
                        FancyArrowPatch(
                            (centre, mid),
                            (side_x, mid),
                            arrowstyle="-|>",
                            shrinkA=0,
                            mutation_scale=7,
                            linewidth=0.7,
                            color="black",
                        )
                    )
                y = next_top
    return fig


__all__ = ["FlowStep", "check_flow", "plot_flow"]
