"""A ticket as a printable PDF (QR drawn as vector squares, so it stays sharp at any size)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fpdf import FPDF
from taquilla_documents import draw_qr, write_text

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
QR_SIZE_MM = 62


def local_time(moment: datetime, time_zone: str | None) -> str:
    try:
        zone = ZoneInfo(time_zone) if time_zone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    shown = moment.astimezone(zone) if zone else moment
    return shown.strftime("%d/%m/%Y %H:%M ") + (shown.tzname() or "UTC")


def money(minor: int, currency: str) -> str:
    return f"{minor // 100:,}.{minor % 100:02d} {currency}"


class _Pdf(FPDF):
    def __init__(self):
        super().__init__(unit="mm", format="A4")
        self.unicode = UNICODE_FONT.exists() and UNICODE_BOLD.exists()
        if self.unicode:
            self.add_font("Ticket", "", str(UNICODE_FONT))
            self.add_font("Ticket", "B", str(UNICODE_BOLD))

    def use(self, size: float, bold: bool = False) -> None:
        self.set_font("Ticket" if self.unicode else "Helvetica", "B" if bold else "", size)

    def text_line(self, text: str, size: float = 11, bold: bool = False, height: float = 6) -> None:
        self.use(size, bold)
        if not self.unicode:  # the core fonts know Latin-1 only
            text = text.encode("latin-1", "replace").decode("latin-1")
        write_text(self, height, text)


def ticket_pdf(ticket, organizer) -> bytes:
    """`ticket`: a ticket row; `organizer`: its legal identity (None until the gateway's event arrived)."""
    pdf = _Pdf()
    pdf.set_title(f"{ticket.event_title} - {ticket.label}")
    pdf.set_author(organizer.legal_name if organizer else "Taquilla")
    pdf.set_creator("Taquilla")
    pdf.add_page()
    pdf.text_line(organizer.name if organizer else "", 10)
    pdf.text_line(ticket.event_title, 20, bold=True, height=10)
    pdf.text_line(local_time(ticket.session_starts_at, organizer.time_zone if organizer else None), 13)
    pdf.ln(3)
    pdf.text_line(f"Zone: {ticket.zone_name}", 13, bold=True)
    pdf.text_line(f"Seat / place: {ticket.label}", 13, bold=True)
    pdf.text_line(f"Holder: {ticket.holder_name}", 12)
    pdf.ln(2)
    pdf.text_line(f"Order {ticket.order_code} · Fiscal number {ticket.fiscal_number}", 10)
    pdf.text_line(f"Price paid: {money(ticket.price_minor, ticket.currency)}", 10)
    top = pdf.get_y() + 4
    draw_qr(pdf, ticket.qr_payload, (pdf.w - QR_SIZE_MM) / 2, top, QR_SIZE_MM)
    pdf.set_y(top + QR_SIZE_MM + 2)
    pdf.text_line(f"Ticket {ticket.id}", 8)
    if ticket.status != "valid":
        pdf.set_text_color(200, 0, 0)
        pdf.text_line(f"VOID ({ticket.void_reason or 'voided'}): this ticket does not admit", 16, bold=True)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.text_line("Show this code at the door. Each code admits once; a transferred ticket's old code "
                  "no longer works.", 8, height=4)
    pdf.ln(4)
    if organizer is not None:
        pdf.text_line(f"Organizer: {organizer.legal_name} · Tax id {organizer.tax_id}", 9, height=5)
        if organizer.registry_number:
            pdf.text_line(f"Registry number: {organizer.registry_number}", 9, height=5)
        place = ", ".join(p for p in (organizer.address, organizer.city, organizer.country) if p)
        pdf.text_line(place, 9, height=5)
    return bytes(pdf.output())


def wallet_pass(ticket, organizer, *, kid: str) -> dict:
    """Pass data shaped like Apple Wallet's pass.json (eventTicket), which Google Wallet importers read too.

    Unsigned: a wallet integration adds its pass type id, team id and certificate signature."""
    starts = ticket.session_starts_at
    organizer_name = organizer.name if organizer else "Taquilla"
    return {
        "formatVersion": 1,
        "serialNumber": str(ticket.id),
        "organizationName": organizer_name,
        "description": f"{ticket.event_title} — {ticket.label}",
        "relevantDate": starts.isoformat(),
        "voided": ticket.status != "valid",
        "barcodes": [{"format": "PKBarcodeFormatQR", "message": ticket.qr_payload,
                      "messageEncoding": "iso-8859-1", "altText": ticket.label}],
        "eventTicket": {
            "primaryFields": [{"key": "event", "label": "EVENT", "value": ticket.event_title}],
            "secondaryFields": [{"key": "zone", "label": "ZONE", "value": ticket.zone_name},
                                {"key": "seat", "label": "SEAT", "value": ticket.label}],
            "auxiliaryFields": [{"key": "date", "label": "DATE", "value": starts.isoformat(),
                                 "dateStyle": "PKDateStyleMedium", "timeStyle": "PKDateStyleShort"},
                                {"key": "holder", "label": "HOLDER", "value": ticket.holder_name}],
            "backFields": [
                {"key": "order", "label": "Order", "value": ticket.order_code},
                {"key": "fiscal", "label": "Fiscal number", "value": ticket.fiscal_number},
                {"key": "price", "label": "Price paid", "value": money(ticket.price_minor, ticket.currency)},
                {"key": "organizer", "label": "Organizer",
                 "value": (f"{organizer.legal_name} · {organizer.tax_id}" if organizer else organizer_name)},
            ],
        },
        "taquilla": {"ticket_id": str(ticket.id), "tenant_id": str(ticket.tenant_id),
                     "event_id": str(ticket.event_id), "session_id": str(ticket.session_id),
                     "status": ticket.status, "signing_key_id": kid},
    }
