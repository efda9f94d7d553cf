"""PDF renderings of fiscal documents and X/Z reports (fpdf2)."""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100:,}.{minor % 100:02d} {currency}"


class _Pdf(FPDF):
    def __init__(self):
        super().__init__(format="A4")
        self.set_auto_page_break(True, margin=15)
        self.unicode = False
        for folder in _FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.exists() and bold.exists():
                self.add_font("Body", "", str(regular))
                self.add_font("Body", "B", str(bold))
                self.unicode = True
                break
        self.add_page()

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font("Body" if self.unicode else "Helvetica", "B" if bold else "", size)

    def text_line(self, value: str, size: float = 10, bold: bool = False, align: str = "L") -> None:
        self.font(size, bold)
        if not self.unicode:  # core fonts are Latin-1 only
            value = value.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
        self.multi_cell(0, size * 0.55, value, align=align, new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: list[tuple[str, float, str]], bold: bool = False) -> None:
        self.font(9, bold)
        for value, width, align in cells:
            if not self.unicode:
                value = value.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
            self.cell(width, 6, value, border="B", align=align)
        self.ln(6)


TITLES = {"invoice": "FACTURA / INVOICE", "credit_note": "NOTA DE CRÉDITO / CREDIT NOTE"}


def document_pdf(doc: dict) -> bytes:
    pdf = _Pdf()
    org = doc.get("organizer") or {}
    pdf.text_line(org.get("legal_name") or org.get("name") or "Organizer", 14, True)
    for value in (f"RIF / Tax id: {org.get('tax_id', '')}", org.get("registry_number") and
                  f"Registry: {org['registry_number']}", ", ".join(filter(None, (org.get("address"), org.get("city"),
                                                                                 org.get("country"))))):
        if value:
            pdf.text_line(value, 9)
    pdf.ln(4)
    pdf.text_line(f"{TITLES.get(doc['document_type'], doc['document_type'])} {doc['formatted_number']}", 13, True)
    pdf.text_line(f"Issued: {doc['issued_at']}   Point of sale: {doc['point_of_sale']}   Order: {doc['order_code']}", 9)
    if doc.get("references"):
        pdf.text_line(f"Corrects invoice {doc['references']['formatted_number']} — reason: {doc.get('reason') or ''}",
                      9, True)
    buyer = doc["buyer"]
    pdf.text_line(f"Buyer: {buyer.get('name', '')}  {buyer.get('national_id') or ''}  {buyer.get('email', '')}", 9)
    if buyer.get("address"):
        pdf.text_line(f"Address: {buyer['address']}", 9)
    event = doc.get("event") or {}
    if event.get("event_title"):
        pdf.text_line(f"Event: {event['event_title']} — {event.get('venue_name') or ''} — "
                      f"{event.get('session_starts_at') or ''}", 9)
    pdf.ln(3)
    currency = doc["currency"]
    pdf.row([("Description", 80, "L"), ("Qty", 15, "R"), ("Unit price", 30, "R"), ("Base", 30, "R"),
             ("Total", 35, "R")], bold=True)
    for line in doc["lines"]:
        description = line["description"] + (f" ({', '.join(line['seats'])})" if line.get("seats") else "")
        pdf.row([(description[:48], 80, "L"), (str(line["quantity"]), 15, "R"),
                 (money(line["unit_price_minor"], currency), 30, "R"), (money(line["base_minor"], currency), 30, "R"),
                 (money(line["total_minor"], currency), 35, "R")])
    pdf.ln(2)
    pdf.row([("Taxable base", 155, "R"), (money(doc["subtotal_minor"], currency), 35, "R")])
    for tax in doc["taxes"]:
        pct = f"{float(tax['rate']) * 100:g}%"
        pdf.row([(f"{tax['name']} {pct} ({tax['inclusion']}) on {money(tax['base_minor'], currency)}", 155, "R"),
                 (money(tax["amount_minor"], currency), 35, "R")])
    pdf.row([("TOTAL", 155, "R"), (money(doc["total_minor"], currency), 35, "R")], bold=True)
    pdf.ln(2)
    pdf.text_line(f"Payment method: {doc['payment_method']}", 9)
    return bytes(pdf.output())


def report_pdf(report: dict) -> bytes:
    pdf = _Pdf()
    day = report["day"]
    title = "REPORTE Z / Z REPORT (day closure)" if report["report"] == "Z" else "REPORTE X / X REPORT (no closure)"
    pdf.text_line(title, 14, True)
    pdf.text_line(f"Point of sale: {day['point_of_sale']}   Cashier: {day['cashier']}   Z number: {day['z_number']}", 9)
    pdf.text_line(f"Business date: {day['business_date']} ({day['time_zone']})   Opened: {day['opened_at']}   "
                  f"Closed: {day.get('closed_at') or '-'}", 9)
    currency = (report.get("currencies") or [""])[0] or ""
    for label, section in (("Invoices", report["invoices"]), ("Credit notes", report["credit_notes"])):
        pdf.ln(3)
        pdf.text_line(f"{label}: {section['count']}  (first {section['first_number'] or '-'}, "
                      f"last {section['last_number'] or '-'})", 11, True)
        for tax in section["by_tax"]:
            pdf.row([(f"{tax['name']} {float(tax['rate']) * 100:g}% base {money(tax['base_minor'], currency)}", 155,
                      "L"), (money(tax["amount_minor"], currency), 35, "R")])
        for method in section["by_payment_method"]:
            pdf.row([(f"{method['payment_method']} ({method['count']})", 155, "L"),
                     (money(method["total_minor"], currency), 35, "R")])
        pdf.row([("Total", 155, "R"), (money(section["total_minor"], currency), 35, "R")], bold=True)
    pdf.ln(3)
    pdf.row([("NET TOTAL", 155, "R"), (money(report["net"]["total_minor"], currency), 35, "R")], bold=True)
    return bytes(pdf.output())
