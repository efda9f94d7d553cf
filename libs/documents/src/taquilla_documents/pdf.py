"""A QR code drawn into a PDF as vector squares: sharp at any size, and cheaper than a PNG encoded and
decoded again."""
from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import RenderStyle

from . import qr

QUIET_ZONE = 4  # modules of light margin on every side, as the standard asks of scanners' surroundings


def draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> qr.QrCode:
    """The QR code of `payload`, with its quiet zone, in a `size` square at (x, y): one black rectangle for
    every horizontal run of dark modules."""
    code = qr.make(payload)
    module = size / (code.size + 2 * QUIET_ZONE)
    left, top = x + QUIET_ZONE * module, y + QUIET_ZONE * module
    pdf.set_fill_color(0, 0, 0)
    fill = RenderStyle.F  # the enum itself: fpdf looks a string style up again on every rectangle
    for row, column, length in code.dark_runs():
        pdf.rect(left + column * module, top + row * module, length * module, module, style=fill)
    return code
