"""``report.pdf``, printed from ``report.html`` by headless Chromium."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cartcohort.errors import CartcohortError

if TYPE_CHECKING:
    pass


#: Where Chromium is expected for the optional PDF.
CHROMIUM = Path("/usr/bin/chromium")


def chromium_available() -> bool:
    """Whether headless Chromium (for the PDF) is installed at :data:`CHROMIUM`."""
    return CHROMIUM.is_file()


def write_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium.

    Parameters
    ----------
    html_path
        The report.
    pdf_path
        The PDF to write.
    timeout
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    cartcohort.errors.CartcohortError
        Chromium is not installed, or it did not write the PDF.
    """
    if not chromium_available():
        msg = (
            f"A PDF needs Chromium at {CHROMIUM} (Debian/Ubuntu: apt-get install chromium); "
            "the HTML report was written."
        )
        raise CartcohortError(msg)

    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path.resolve()}", html_path.resolve().as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"Chromium could not print the PDF ({exc}); the HTML report was written."
            raise CartcohortError(msg) from exc
    if not pdf_path.is_file():
        msg = "Chromium did not write the PDF; the HTML report was written."
        raise CartcohortError(msg)
    return pdf_path
