"""The tickets' QR codes as a door scanner meets them: read back by an independent decoder (ZXing), still
read with part of the symbol damaged, and masked as the standard chooses."""
from __future__ import annotations

import base64
import io
import random

import pytest
import segno
from fpdf import FPDF
from pypdf import PdfReader
from segno import encoder
from taquilla_devtools.pdf_checks import scanned
from taquilla_documents import draw_qr, make
from taquilla_documents.qr import _penalty


def scan(rows: tuple[str, ...]) -> list[str]:
    return scanned([[module == "1" for module in row] for row in rows])


def ticket_code(rng: random.Random, claims_bytes: int) -> str:
    """The shape of a signed ticket code: prefix, key id, claims and signature in base64url."""
    def b64(n):
        return base64.urlsafe_b64encode(rng.randbytes(n)).decode().rstrip("=")
    return f"TQ1.k{rng.randrange(10**6)}.{b64(claims_bytes)}.{b64(64)}"


@pytest.mark.parametrize("claims_bytes", [0, 40, 170, 400, 1200])
def test_a_ticket_code_of_any_length_reads_back_exactly(claims_bytes):
    payload = ticket_code(random.Random(claims_bytes), claims_bytes)
    code = make(payload)
    assert scan(code.rows) == [payload]
    assert code.size == 17 + 4 * code.version


@pytest.mark.parametrize("payload", ["A", "https://taquilla.example/t/8f3a", "Entrada · fila 7 · Peñarol ✓"])
def test_short_and_non_ascii_texts_read_back(payload):
    assert scan(make(payload).rows) == [payload]


def test_the_largest_version_reads_back_and_too_much_data_is_refused():
    payload = "x" * 2331  # the most bytes version 40 holds at level M
    code = make(payload)
    assert (code.version, code.error) == (40, "M")
    assert scan(code.rows) == [payload]
    with pytest.raises(ValueError, match="do not fit"):
        make(payload + "x")
    with pytest.raises(ValueError, match="unknown error correction level"):
        make("x", error="Z")


def test_the_error_correction_reads_a_damaged_code_and_spare_room_buys_a_stronger_level():
    payload = ticket_code(random.Random(7), 170)
    code = make(payload)
    assert code.error == "M"
    rows = [list(row) for row in code.rows]
    size = code.size
    for i in range(size // 2 - 4, size // 2 + 4):  # a smudge over the middle: 64 modules inverted
        for j in range(size // 2 - 4, size // 2 + 4):
            rows[i][j] = "0" if rows[i][j] == "1" else "1"
    assert scan(tuple("".join(row) for row in rows)) == [payload]
    assert make("HELLO").error == "H"  # five bytes fit version 1 even at the strongest level


def test_the_mask_chosen_has_the_lowest_penalty_scored_as_segno_scores_it():
    """`segno` applies and scores every mask module by module; the fast scoring must agree with it on
    every candidate, so the mask chosen is the one the standard's rules choose."""
    scored, original = [], encoder.evaluate_mask

    def spy(matrix, width, height):
        score = original(matrix, width, height)
        symbol = int("".join(str(v) for row in matrix for v in row), 2)
        transposed = int("".join(str(matrix[i][j]) for j in range(width) for i in range(height)), 2)
        scored.append((score, symbol, transposed, width))
        return score

    encoder.evaluate_mask = spy
    try:
        rng = random.Random(3)
        for claims_bytes in (10, 90, 170, 300):
            segno.make(ticket_code(rng, claims_bytes), error="m", micro=False)
    finally:
        encoder.evaluate_mask = original
    assert len(scored) == 32
    for score, symbol, transposed, width in scored:
        assert _penalty(symbol, transposed, width) == score


def test_drawn_into_a_pdf_the_code_is_vector_squares_inside_its_box():
    pdf = FPDF(format="A4")
    pdf.add_page()
    code = draw_qr(pdf, ticket_code(random.Random(1), 170), x=55, y=95, size=100)
    content = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].get_contents().get_data().decode()
    squares = [[float(v) for v in line.split()[:4]] for line in content.splitlines() if line.endswith(" re f")]
    assert len(squares) == sum(1 for _ in code.dark_runs())  # one rectangle a run of dark modules
    mm = 72 / 25.4
    module = 100 / (code.size + 2 * 4)
    left, right = (55 + 4 * module) * mm, (155 - 4 * module) * mm  # the quiet zone stays white
    assert min(x for x, _, _, _ in squares) == pytest.approx(left, abs=0.01)
    assert max(x + w for x, _, w, _ in squares) == pytest.approx(right, abs=0.01)
    assert all(abs(h) == pytest.approx(module * mm, abs=0.01) for _, _, _, h in squares)
