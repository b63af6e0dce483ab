"""Figure files: one figure drawn, written as ``figures/<name>.png`` (300 dpi) and
``.svg``, and encoded for embedding in ``report.html``.

Everything here runs in a worker process (see :mod:`cartcohort.render.report.workers`);
the bytes written do not depend on which process draws a figure.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from cartcohort.errors import CartcohortError
from cartcohort.render.report.views import FigureView

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: Screen width (px) of one inch of figure: figures are shown 1.5x their printed size.
PX_PER_INCH = 144


@dataclass(slots=True)
class _FigureJob:
    """A figure to draw, save and embed; ``view`` is filled in when it is rendered."""

    label: str
    draw: Callable[[], Figure]
    stem: Path
    view: FigureView
    problems: list[str]
    views: list[FigureView] | None = None


def _render(job: _FigureJob) -> tuple[str, int] | str:
    """Draw, save (PNG + SVG) and encode one figure: ``(data URI, width)`` or a problem."""
    return _draw_and_save(job.draw, job.view.name, job.stem)


def _draw_and_save(draw: Callable[[], Figure], name: str, stem: Path) -> tuple[str, int] | str:
    """Draw and save one figure: ``(data URI, width)``, or the problem as a sentence (any
    exception: one figure that cannot be drawn never stops the report)."""
    try:
        fig = draw()
        svg, rgb = _write_figure(fig, stem)
    except (CartcohortError, ValueError) as exc:
        return f"Figure {name!r} could not be drawn: {exc}"
    except Exception as exc:
        return (
            f"Figure {name!r} could not be drawn: internal error ({type(exc).__name__}: "
            f"{exc}). This is a bug in cartcohort, not a problem with the data; please "
            "report it."
        )
    mime, data = embedded_image(rgb, svg)
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return uri, round(fig.get_figwidth() * PX_PER_INCH)


def embedded_image(rgb: npt.NDArray[np.uint8], svg: bytes) -> tuple[str, bytes]:
    """The smallest faithful copy of a figure for ``report.html``: ``(MIME type, bytes)``.

    Parameters
    ----------
    rgb
        The figure at 300 dpi (height x width x 3; not modified).
    svg
        The figure's SVG.

    Returns
    -------
    tuple of str and bytes
        The smaller of the SVG and the 300-dpi image in 256 colours as lossless WebP
        (as a compressed PNG when Pillow was built without WebP).

    Notes
    -----
    The report shows a figure at 144 px per inch, so the 300-dpi image is sharp on a
    screen of twice the usual density. A figure has a few flat colours and their
    anti-aliased edges: 256 colours (octree, no dithering, the white background kept
    exactly white) keep it as it looks. The SVG
    sets its text as outlines, which makes it larger than the image for every figure of
    the demo; embedding it made the demo's HTML 7.4 MB. The PNG (zlib level 9) is about
    2.2 MB for the demo's hundred figures, too much for one file of under 3 MB with
    base64's third on top; lossless WebP of the same pixels is a quarter smaller, every
    current browser (and Chromium's PDF) shows it, and it costs about 50 ms a figure
    (quantising 11, encoding 36), less than the PNG at its smallest.
    """
    import io

    from PIL import Image, features

    image = Image.fromarray(np.ascontiguousarray(rgb))
    reduced = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    if (rgb[0, 0] == 255).all():
        # the background stays white: the octree averages it with the near-white shades
        # of anti-aliased edges, and an off-white box would show on the white page
        palette = list(reduced.getpalette() or [])
        index = int(reduced.getpixel((0, 0)))  # type: ignore[arg-type]
        palette[3 * index : 3 * index + 3] = [255, 255, 255]
        reduced.putpalette(palette)
    candidates = [("image/svg+xml", svg)]
    buffer = io.BytesIO()
    if features.check("webp"):
        # method 2: as small as the default (4) within 2 %, in 10 % less time
        reduced.convert("RGB").save(buffer, format="WEBP", lossless=True, quality=80, method=2)
        candidates.append(("image/webp", buffer.getvalue()))
    else:
        reduced.save(buffer, format="PNG", optimize=True)
        candidates.append(("image/png", buffer.getvalue()))
    return min(candidates, key=lambda c: len(c[1]))


def png_bytes(rgb: npt.NDArray[np.uint8], dpi: int) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (height x width x 3) with its resolution recorded.

    Written here rather than with Pillow, which the report uses for the embedded copy:
    Pillow tries every PNG row filter on every row and keeps the best, which on a
    figure (flat colours, mostly white) takes three times as long as no filter and
    compresses no better (a 300-dpi figure: 20 ms and 91 kB with Pillow, 7 ms and 81 kB
    with filter 0 and zlib level 3). The file is a plain PNG (IHDR, pHYs, one IDAT,
    IEND) that any reader opens; the tests read it back with Pillow.
    """
    import struct
    import zlib

    height, width, _ = rgb.shape
    raw = np.empty((height, width * 3 + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type 0 (None) on every row
    raw[:, 1:] = rgb.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    per_metre = round(dpi / 0.0254)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), 3)),
            chunk(b"IEND", b""),
        )
    )


def _write_figure(fig: Figure, stem: Path) -> tuple[bytes, npt.NDArray[np.uint8]]:
    """Write ``stem.png`` (300 dpi) and ``stem.svg`` in two drawing passes; return the SVG
    and the 300-dpi RGB image.

    Notes
    -----
    :func:`cartcohort.render.figures.save` draws a figure four times (a layout pass, a
    layout-free pass, PNG, SVG); for a hundred figures that is most of a report's time.
    Here the PNG is taken from the Agg canvas of the one pass that also lays the figure
    out, the layout is frozen, and the SVG is the second pass. The files carry the same
    deterministic settings as ``save``: the cartcohort rc (fixed SVG hash salt, text as
    paths), no PNG ``Software`` and no SVG ``Date``/``Creator`` metadata, and the layout
    frozen on a 1e-9 grid (:func:`~cartcohort.render.figures._style.freeze_layout`).
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from cartcohort.render.figures._style import PNG_DPI, freeze_layout, style_context

    stem.parent.mkdir(parents=True, exist_ok=True)
    with style_context():
        fig.set_facecolor("white")
        fig.set_dpi(PNG_DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # type: ignore[no-untyped-call]  # lays out, rasterises at 300 dpi
        freeze_layout(fig)
        rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
        rgb = np.ascontiguousarray(rgba[:, :, :3])  # a copy: the canvas is drawn again
        stem.with_name(f"{stem.name}.png").write_bytes(png_bytes(rgb, PNG_DPI))
        buffer = io.BytesIO()
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None},
            facecolor="white",
        )
    svg = buffer.getvalue()
    stem.with_name(f"{stem.name}.svg").write_bytes(svg)
    return svg, rgb
