"""The tickets as a PDF to print or show: one page per ticket, its QR code large enough for any scanner."""
from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

import segno
from fpdf import FPDF

from ..domain.messages import Attachment

log = logging.getLogger("taquilla.notifications.pdf")

_FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
               Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
               Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"))
_NEXT = {"new_x": "LMARGIN", "new_y": "NEXT"}  # each line starts again at the left margin
_LABELS = {"es": {"order": "Pedido", "zone": "Zona", "holder": "Titular", "ticket": "Entrada", "of": "de",
                  "show": "Presenta este código QR en la puerta."},
           "en": {"order": "Order", "zone": "Zone", "holder": "Holder", "ticket": "Ticket", "of": "of",
                  "show": "Show this QR code at the door."}}


def _font(pdf: FPDF) -> tuple[str, bool]:
    for path in _FONT_PATHS:
        if path.exists():
            pdf.add_font("ticket", "", str(path))
            return "ticket", True
    return "helvetica", False  # core font: Latin-1 only


def tickets_pdf(context: dict, language: str, when: str) -> bytes:
    labels = _LABELS.get(language, _LABELS["es"])
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    family, unicode_ok = _font(pdf)

    def clean(text: object) -> str:
        text = str(text or "")
        return text if unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    tickets = context["tickets"]
    for number, ticket in enumerate(tickets, start=1):
        pdf.add_page()
        pdf.set_font(family, size=20)
        pdf.multi_cell(0, 10, clean(context["event_title"]), **_NEXT)
        pdf.set_font(family, size=12)
        pdf.multi_cell(0, 7, clean(when), **_NEXT)
        if context.get("venue_name"):
            pdf.multi_cell(0, 7, clean(context["venue_name"]), **_NEXT)
        pdf.ln(4)
        for label, value in ((labels["ticket"], f"{ticket['label']} ({number} {labels['of']} {len(tickets)})"),
                             (labels["zone"], ticket["zone"]), (labels["holder"], context["buyer_name"]),
                             (labels["order"], context["order_code"])):
            pdf.multi_cell(0, 7, clean(f"{label}: {value}"), **_NEXT)
        image = io.BytesIO()
        segno.make(ticket["qr_payload"], error="m").save(image, kind="png", scale=8, border=4)
        image.seek(0)
        pdf.image(image, x=55, y=95, w=100, h=100)
        pdf.set_xy(10, 200)
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, 6, clean(labels["show"]), **_NEXT)
        pdf.set_font(family, size=7)
        pdf.multi_cell(0, 4, clean(ticket["qr_payload"]), **_NEXT)
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
