"""What a ticket page draws: its QR code as vector squares (sharp at any size, and cheaper than a PNG encoded
and decoded again), and its text one cell a line."""
from __future__ import annotations

from collections.abc import Callable

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


def write_text(pdf: FPDF, height: float, text: str) -> None:
    """`text` in the current font from the current x to the right margin, then the next line at the left
    margin: what `multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")` does, one `cell` a line.
    Lines break between words where the text does not fit, and inside a word longer than a whole line
    (a ticket's signed code). fpdf's multi_cell measures and breaks the text character by character, which
    made it the costliest part of a ticket page (2.7 ms for the code's 360 characters, 0.2 ms for a short
    line; a cell is a tenth of that)."""
    room = pdf.w - pdf.r_margin - pdf.x - 2 * pdf.c_margin
    lines = text_lines(text, room, pdf.get_string_width)
    for i, line in enumerate(lines):
        pdf.cell(0, height, line, new_x="LMARGIN" if i == len(lines) - 1 else "LEFT", new_y="NEXT")


def text_lines(text: str, room: float, width: Callable[[str], float]) -> list[str]:
    """`text` broken into lines no wider than `room` by `width` (a line's width): greedily between words,
    inside a word only when the word alone is wider than a line; a line break in the text is kept (one at the
    very end ends the last line, as in multi_cell)."""
    lines: list[str] = []
    paragraphs = text.split("\n")
    if len(paragraphs) > 1 and not paragraphs[-1]:
        paragraphs.pop()
    for paragraph in paragraphs:
        line = None
        for word in paragraph.split(" "):
            longer = word if line is None else f"{line} {word}"
            if width(longer) <= room:
                line = longer
                continue
            if line is not None:
                lines.append(line)
            line = word
            while len(line) > 1 and width(line) > room:
                fits = _longest_fitting(line, room, width)
                lines.append(line[:fits])
                line = line[fits:]
        lines.append(line)
    return lines


def _longest_fitting(word: str, room: float, width: Callable[[str], float]) -> int:
    """How many of `word`'s first characters fit in `room` (at least one: a line never stays empty)."""
    low, high = 1, len(word) - 1  # word[:low] is kept even if it does not fit; word itself does not
    while low < high:
        middle = (low + high + 1) // 2
        if width(word[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low
