"""The tickets as a PDF to print or show: one page per ticket, its QR code large enough for any scanner.

Made for every completed order, so it is made cheaply: text that Latin-1 can write (most names and events here)
is set in the PDF's built-in Helvetica, and the DejaVu font (parsed, then subset into the file: a few tens of
milliseconds) is embedded only when some text needs it; the QR code is encoded by Taquilla's own fast encoder
and drawn as vector squares, and the text is set one cell a line (taquilla_documents).
"""
from __future__ import annotations

import base64
import logging
from pathlib import Path

from fpdf import FPDF
from taquilla_documents import draw_qr, write_text

from ..domain.messages import Attachment

log = logging.getLogger("taquilla.notifications.pdf")

_FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
               Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
               Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"))
_LABELS = {"es": {"order": "Pedido", "zone": "Zona", "holder": "Titular", "ticket": "Entrada", "of": "de",
                  "show": "Presenta este código QR en la puerta."},
           "en": {"order": "Order", "zone": "Zone", "holder": "Holder", "ticket": "Ticket", "of": "of",
                  "show": "Show this QR code at the door."}}


def _latin1(texts: list[str]) -> bool:
    try:
        "".join(texts).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _font(pdf: FPDF, texts: list[str]) -> tuple[str, bool]:
    """The family to write `texts` in, and whether it writes any character (else Latin-1 only)."""
    if _latin1(texts):
        return "helvetica", True
    for path in _FONT_PATHS:
        if path.exists():
            pdf.add_font("ticket", "", str(path))
            return "ticket", True
    return "helvetica", False  # no Unicode font on this machine: what Latin-1 cannot write becomes "?"


def tickets_pdf(context: dict, language: str, when: str) -> bytes:
    labels = _LABELS.get(language, _LABELS["es"])
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    texts = [str(context.get(key) or "") for key in ("event_title", "venue_name", "buyer_name", "order_code",
                                                     "organizer_name")]
    texts += [when, *labels.values(), *(str(t.get(key) or "") for t in context["tickets"]
               for key in ("label", "zone", "qr_payload"))]
    family, unicode_ok = _font(pdf, texts)

    def clean(text: object) -> str:
        text = str(text or "")
        return text if unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    tickets = context["tickets"]
    for number, ticket in enumerate(tickets, start=1):
        pdf.add_page()
        pdf.set_font(family, size=20)
        write_text(pdf, 10, clean(context["event_title"]))
        pdf.set_font(family, size=12)
        write_text(pdf, 7, clean(when))
        if context.get("venue_name"):
            write_text(pdf, 7, clean(context["venue_name"]))
        pdf.ln(4)
        for label, value in ((labels["ticket"], f"{ticket['label']} ({number} {labels['of']} {len(tickets)})"),
                             (labels["zone"], ticket["zone"]), (labels["holder"], context["buyer_name"]),
                             (labels["order"], context["order_code"])):
            write_text(pdf, 7, clean(f"{label}: {value}"))
        draw_qr(pdf, ticket["qr_payload"], x=55, y=95, size=100)
        pdf.set_xy(10, 200)
        pdf.set_font(family, size=11)
        write_text(pdf, 6, clean(labels["show"]))
        pdf.set_font(family, size=7)
        write_text(pdf, 4, clean(ticket["qr_payload"]))
        if context.get("organizer_name"):
            pdf.set_xy(10, 280)
            pdf.set_font(family, size=9)
            pdf.cell(0, 5, clean(context["organizer_name"]))
    return bytes(pdf.output())


def tickets_pdf_attachment(context: dict, language: str, when: str) -> Attachment | None:
    """None if the PDF cannot be made: the email still carries every QR code, so it goes without it."""
    try:
        content = tickets_pdf(context, language, when)
    except Exception:
        log.exception("the tickets PDF of order %s could not be made; sending the email without it",
                      context.get("order_code"))
        return None
    return Attachment("tickets.pdf", "application/pdf", base64.b64encode(content).decode(), encoding="base64")
