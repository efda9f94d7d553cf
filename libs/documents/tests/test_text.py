"""Text on a ticket page laid out one cell a line: the same lines as fpdf's own multi_cell, at a tenth of the cost,
so names, titles and the signed code read on the page exactly as they did."""
from __future__ import annotations

import io
import string

from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from taquilla_documents import write_text
from taquilla_documents.pdf import text_lines

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

words = st.text(alphabet=string.ascii_letters + string.digits + "-_.áéñ", min_size=0, max_size=90)
texts = st.lists(words, min_size=1, max_size=40).map(" ".join) | st.text(
    alphabet=string.ascii_letters + " \n-", max_size=300)


def page(font: str = "helvetica") -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_page()
    if font != "helvetica":
        pdf.add_font(font, "", DEJAVU)
    return pdf


@settings(max_examples=300, deadline=None)
@given(text=texts, size=st.sampled_from([7, 11, 20]), x=st.sampled_from([10.0, 37.5]),
       font=st.sampled_from(["helvetica", "ticket"]))
def test_lines_break_where_fpdfs_multi_cell_breaks_them(text, size, x, font):
    pdf = page(font)
    pdf.set_font(font, size=size)
    pdf.set_x(x)
    expected = pdf.multi_cell(0, 5, text, dry_run=True, output="LINES")
    room = pdf.w - pdf.r_margin - pdf.x - 2 * pdf.c_margin

    assert text_lines(text, room, pdf.get_string_width) == expected


def test_a_signed_code_longer_than_a_line_is_broken_inside_and_reads_whole_on_the_page():
    code = "TQ1.k123456." + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_" * 9
    pdf = page()
    pdf.set_font("helvetica", size=7)
    pdf.set_xy(10, 200)
    write_text(pdf, 4, code)
    write_text(pdf, 4, "after")

    lines = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].extract_text().splitlines()
    assert len(lines) == 4  # the code on three lines, then the next text on its own line
    assert "".join(lines[:3]) == code
    assert lines[3] == "after"
    assert pdf.get_x() == pdf.l_margin
    assert pdf.get_y() == 200 + 4 * 4


def test_lines_after_the_first_start_where_the_first_did_and_the_next_text_at_the_left_margin():
    pdf = page()
    pdf.set_font("helvetica", size=12)
    pdf.set_xy(60, 50)
    starts = []
    original = pdf.cell

    def cell(*args, **kwargs):
        starts.append((pdf.get_x(), pdf.get_y()))
        return original(*args, **kwargs)

    pdf.cell = cell
    write_text(pdf, 6, "Presenta este código QR en la puerta de la sala principal del teatro. " * 3)
    write_text(pdf, 6, "Zona: Platea")

    assert len(starts) >= 3
    assert [x for x, _ in starts[:-1]] == [60] * (len(starts) - 1)
    assert starts[-1][0] == pdf.l_margin
    assert [y for _, y in starts] == [50 + 6 * i for i in range(len(starts))]
