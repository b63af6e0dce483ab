"""The one figure style of cartcohort: palette, sizes, the figure factory and ``save``.

Every figure is built on :class:`matplotlib.figure.Figure` directly (never pyplot), at
its final printed size, so the font sizes here are the sizes in the journal:

* ``"single"`` column: 8.5 cm wide; ``"double"``: 17 cm (Lancet, NEJM, Blood, JCO).
* Text 7 pt, tick labels and tables 6.5 pt at single width (8 / 7 pt at double width);
  journals ask for 6-8 pt at final size.
* Colours: the Okabe–Ito palette (Okabe & Ito 2008; Wong, *Nat Methods* 2011), safe
  for the common colour-vision deficiencies and distinct in greyscale when combined with
  the marker shapes used by the plots.

:func:`save` writes PNG (300 dpi) and SVG (optionally PDF) with fixed metadata and a
fixed SVG hash salt, so the files are byte-identical from run to run.
"""

from __future__ import annotations

import contextlib
import math
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.markers import TICKLEFT, MarkerStyle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

Width = Literal["single", "double"]
ImageFormat = Literal["png", "svg", "pdf"]

CM_PER_INCH = 2.54
#: Figure widths in centimetres.
WIDTH_CM: dict[str, float] = {"single": 8.5, "double": 17.0}

#: Okabe–Ito colours in the order curves and groups get them (black last: reserved for
#: "all patients" and reference lines).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
#: Neutral colours for axes, reference lines, secondary text.
GREY = "#555555"
LIGHT_GREY = "#D9D9D9"
FAINT_GREY = "#F2F2F2"

#: Font sizes (points) per width: main text, small text (ticks, tables), title.
FONT_SIZES: dict[str, dict[str, float]] = {
    "single": {"text": 7.0, "small": 6.5, "title": 8.0},
    "double": {"text": 8.0, "small": 7.0, "title": 9.0},
}
FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib: the same glyphs on every machine
LINE_WIDTH = 1.0
AXIS_LINE_WIDTH = 0.6

#: Fixed salt for SVG element ids (otherwise random per run).
SVG_HASH_SALT = "cartcohort"
PNG_DPI = 300

_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "axes.linewidth": AXIS_LINE_WIDTH,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "lines.linewidth": LINE_WIDTH,
    "xtick.major.width": AXIS_LINE_WIDTH,
    "ytick.major.width": AXIS_LINE_WIDTH,
    "xtick.minor.width": AXIS_LINE_WIDTH * 0.8,
    "ytick.minor.width": AXIS_LINE_WIDTH * 0.8,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.minor.size": 1.8,
    "ytick.minor.size": 1.8,
    "legend.frameon": False,
    # Titles at a fixed height (``pad`` points above the top spine). No cartcohort axes
    # has decorations above it, and the automatic placement (y = None) measures the
    # decorations of every axes in the figure on every draw: a tenth of a figure's time.
    "axes.titley": 1.0,
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": False,
}


def wrap_tick_label(label: str, *, slots: int, width: Width, reserved: float = 0.6) -> str:
    """``label`` wrapped to fit under one of ``slots`` equal slots of the x axis.

    ``reserved`` is the figure width (inches) not available to the slots (the y axis
    and its title, and a legend beside the axes). Characters per line are estimated
    from the tick font size (an average glyph is about 0.55 em wide); words are never
    broken, so a single long word can still be wider than its slot.
    """
    slot = max(width_inches(width) - reserved, 0.5) / max(slots, 1)
    chars = max(int(slot * 72 / (FONT_SIZES[width]["text"] * 0.55)), 6)
    return "\n".join(
        textwrap.fill(line, width=chars, break_long_words=False, break_on_hyphens=False)
        for line in label.split("\n")
    )


def log_label(v: float, _pos: int = 0) -> str:
    """Tick label of a log10 axis: 1, 10, 100, 1000, then 10⁴, 10⁵ ...; "" between decades."""
    if v <= 0:
        return ""
    exp = math.log10(v)
    if abs(exp - round(exp)) > 1e-9:
        return ""
    if -2 <= exp <= 3:
        return f"{v:g}"
    # Unicode superscripts, not mathtext: the same look in PNG and SVG, and no TeX parse
    # per label and resolution (a measurable share of drawing a log-axis figure).
    return "10" + str(round(exp)).translate(_SUPERSCRIPT)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class _LogMinorTicks(Line2D):
    """Minor tick marks of a log10 y axis (2-9 x each decade) drawn as one marker line.

    Matplotlib draws each minor tick as a ``Tick`` (two lines, two labels, a grid line),
    creates and updates them in every layout and drawing pass, and on a log axis asks a
    formatter for each label: on a one-axes dot plot that was two fifths of its drawing
    time. The marks look the same (``TICKLEFT`` markers of the rc's minor tick length
    and width in the axis colour); their positions are taken from the view limits when
    drawn, so they follow any later change of the limits. They are not labelled, as
    :func:`log_label` labels decades only, and they do not take part in the layout
    (they sit inside the major ticks' margin).
    """

    def __init__(self, ax: Axes) -> None:
        super().__init__(
            [],
            [],
            transform=ax.get_yaxis_transform(),
            linestyle="none",
            marker=MarkerStyle(TICKLEFT),
            markersize=mpl.rcParams["ytick.minor.size"],
            markeredgewidth=mpl.rcParams["ytick.minor.width"],
            color=mpl.rcParams["ytick.color"],
            clip_on=False,
            zorder=2.5,
        )
        self.set_in_layout(False)
        self._log_axes = ax

    def draw(self, renderer: Any) -> None:
        lo, hi = sorted(self._log_axes.get_ylim())
        if lo > 0 and math.isfinite(hi):
            decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            ys = [m * 10.0**e for e in decades for m in range(2, 10)]
            ys = [y for y in ys if lo <= y <= hi]
            self.set_data(np.zeros(len(ys)), ys)
            super().draw(renderer)


def log_y_axis(ax: Axes) -> None:
    """A log10 y axis labelled at the decades (:func:`log_label`) with unlabelled minor
    ticks at 2-9 x each decade (see :class:`_LogMinorTicks` for how they are drawn)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(log_label))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.add_artist(_LogMinorTicks(ax))


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Temporarily apply the cartcohort rc settings (restored on exit).

    Used while a figure is built and while it is saved, so the figure does not depend
    on the caller's ``matplotlib.rcParams`` and the caller's settings are untouched.

    Yields
    ------
    None
    """
    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        yield


def width_inches(width: Width) -> float:
    """Width of a ``"single"`` or ``"double"`` column figure in inches."""
    if width not in WIDTH_CM:
        msg = f"`width` must be 'single' (8.5 cm) or 'double' (17 cm); got {width!r}."
        raise ValueError(msg)
    return WIDTH_CM[width] / CM_PER_INCH


def font_sizes(width: Width) -> dict[str, float]:
    """Font sizes (points) for ``width``: keys ``text``, ``small``, ``title``."""
    width_inches(width)
    return dict(FONT_SIZES[width])


def figure(width: Width = "single", height: float | None = None) -> Figure:
    """A new figure at its printed size with constrained layout (no pyplot).

    Parameters
    ----------
    width
        ``"single"`` (8.5 cm) or ``"double"`` (17 cm) column.
    height
        Height in inches; default 3/4 of the width.

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas attached (so it can be drawn and saved without pyplot) and
        a white background.
    """
    w = width_inches(width)
    h = 0.75 * w if height is None else float(height)
    if not h > 0:
        msg = f"`height` must be a positive number of inches; got {height!r}."
        raise ValueError(msg)
    with style_context():
        fig = Figure(figsize=(w, h), layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(w_pad=2 / 72, h_pad=2 / 72, wspace=0.02, hspace=0.02)
    return fig


def style_axes(ax: Axes, width: Width, *, grid: bool = False) -> None:
    """Apply tick and spine settings explicitly (robust to the caller's rcParams).

    Parameters
    ----------
    ax
        The axes.
    width
        Figure width class, for the font sizes.
    grid
        Draw light horizontal grid lines.
    """
    sizes = font_sizes(width)
    ax.tick_params(
        which="both",
        labelsize=sizes["small"],
        width=AXIS_LINE_WIDTH,
        color=GREY,
        labelcolor="black",
        labelfontfamily=FONT_FAMILY,
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(AXIS_LINE_WIDTH)
        ax.spines[side].set_color(GREY)
    ax.xaxis.label.set_fontsize(sizes["text"])
    ax.yaxis.label.set_fontsize(sizes["text"])
    if grid:
        ax.grid(axis="y", color=FAINT_GREY, linewidth=0.6, zorder=0)
        ax.set_axisbelow(True)


def palette(n: int) -> list[str]:
    """``n`` Okabe–Ito colours (cycled beyond eight, which no figure should need)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


def sequential(n: int) -> list[str]:
    """``n`` colours from light to dark for ordered categories (grades), from viridis.

    viridis is perceptually uniform, readable with the common colour-vision deficiencies
    and monotone in lightness, so the order survives greyscale printing (van der Walt &
    Smith 2015).
    """
    cmap = mpl.colormaps["viridis"]
    if n == 1:
        return [mpl.colors.to_hex(cmap(0.5))]
    return [mpl.colors.to_hex(cmap(0.95 - 0.9 * i / (n - 1))) for i in range(n)]


def add_footnote(fig: Figure, text: str, *, width: Width = "single") -> None:
    """Write a footnote (e.g. "Synthetic demo data") in a strip reserved at the bottom.

    Parameters
    ----------
    fig
        A figure made by :func:`figure` (constrained layout).
    text
        The note; newlines allowed.
    width
        Figure width class, for the font size.
    """
    size = font_sizes(width)["small"]
    n_lines = text.count("\n") + 1
    h_in = fig.get_figheight()
    strip_in = (n_lines * size * 1.3 + 4) / 72
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        strip = strip_in / h_in
        engine.set(rect=(0.0, strip, 1.0, 1.0 - strip))
    else:  # fixed layout (flow diagram): grow the figure, keep every axes' size in inches
        new_h = h_in + strip_in
        for ax in fig.axes:
            x0, y0, w, h = ax.get_position().bounds
            ax.set_position((x0, (y0 * h_in + strip_in) / new_h, w, h * h_in / new_h))
        fig.set_figheight(new_h)
    fig.text(
        0.01,
        0.01,
        text,
        ha="left",
        va="bottom",
        fontsize=size,
        color=GREY,
        fontfamily=FONT_FAMILY,
    )


def save(
    fig: Figure,
    path_stem: str | Path,
    *,
    formats: Sequence[ImageFormat] = ("png", "svg"),
    dpi: int = PNG_DPI,
) -> list[Path]:
    """Write ``fig`` as PNG and SVG (and PDF on request) with deterministic content.

    Parameters
    ----------
    fig
        The figure.
    path_stem
        Path without suffix; ``"out/km"`` writes ``out/km.png`` and ``out/km.svg``.
        Parent folders are created.
    formats
        Any of ``"png"``, ``"svg"``, ``"pdf"``.
    dpi
        Resolution of the PNG (300 by default, the usual journal minimum for line art
        with text is 300-600).

    Returns
    -------
    list[pathlib.Path]
        The files written, in the order of ``formats``.

    Notes
    -----
    Metadata that changes between runs is removed (``Date``/``CreationDate``,
    ``Creator`` naming the matplotlib version; PNG ``Software``) and SVG element ids use
    the fixed salt :data:`SVG_HASH_SALT`, so the same plotting call gives byte-identical
    files run after run. The layout is computed once and all formats are written from
    it.
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, dict[str, str | None]] = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
    }
    written: list[Path] = []
    engine = fig.get_layout_engine()
    with style_context():
        # lay out once, then write every format from the same positions (a layout pass per
        # savefig would move axes by float noise and change SVG clip-path ids)
        fig.draw_without_rendering()
        freeze_layout(fig)
        try:
            written = _write(fig, stem, formats, metadata, dpi)
        finally:
            fig.set_layout_engine(engine)
    return written


def freeze_layout(fig: Figure) -> None:
    """Keep the positions of the last layout pass for every later drawing of ``fig``.

    Turns the layout engine off and snaps each axes position to a 1e-9 grid: the
    constrained-layout solver returns positions that differ in the last bits from run
    to run (219.99990435289726 vs ...732 pt), which would change the SVG clip-path ids
    (hashes of the clip rectangle) and so the files. Call it after a drawing pass.
    """
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")
    for ax in fig.axes:
        if ax.get_axes_locator() is None:
            x0, y0, w, h = ax.get_position(original=False).bounds
            ax.set_position((round(x0, 9), round(y0, 9), round(w, 9), round(h, 9)))


def _write(
    fig: Figure,
    stem: Path,
    formats: Sequence[ImageFormat],
    metadata: dict[str, dict[str, str | None]],
    dpi: int,
) -> list[Path]:
    written: list[Path] = []
    for fmt in formats:
        if fmt not in metadata:
            msg = f"`formats` may contain 'png', 'svg', 'pdf'; got {fmt!r}."
            raise ValueError(msg)
        path = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(
            path,
            format=fmt,
            dpi=dpi if fmt == "png" else "figure",
            metadata=metadata[fmt],
            facecolor="white",
        )
        written.append(path)
    return written


__all__ = [
    "OKABE_ITO",
    "WIDTH_CM",
    "add_footnote",
    "figure",
    "font_sizes",
    "palette",
    "save",
    "sequential",
    "style_axes",
    "style_context",
    "width_inches",
]
