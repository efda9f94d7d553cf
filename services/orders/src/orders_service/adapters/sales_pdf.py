"""The sales summary as a PDF (fpdf2): title, window and time zone, one table row per group, the totals."""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from taquilla_platform.money import major_units

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# (title, key, width in mm) of the figures shown after the group's label
FIGURES = (("Tickets", "tickets", 14), ("Gross", "gross_minor", 24), ("Discounts", "discounts_minor", 22),
           ("Fees", "fees_minor", 20), ("Taxes", "taxes_minor", 20), ("Collected", "collected_minor", 24),
           ("Refunds", "refunds_minor", 22), ("Net", "net_minor", 24), ("Avg. price", "average_ticket_price_minor", 22))
LABEL_WIDTH = 60
CURRENCY_WIDTH = 12


class _Pdf(FPDF):
    def __init__(self):
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.unicode = UNICODE_FONT.exists() and UNICODE_BOLD.exists()
        if self.unicode:
            self.add_font("Report", "", str(UNICODE_FONT))
            self.add_font("Report", "B", str(UNICODE_BOLD))
        self.set_auto_page_break(True, margin=12)

    def use(self, size: float, bold: bool = False) -> None:
        self.set_font("Report" if self.unicode else "Helvetica", "B" if bold else "", size)

    def safe(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-10)
        self.use(7)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="R")


def amount(value: int | None, currency: str) -> str:
    return "" if value is None else f"{major_units(value, currency):,}"


def sales_summary_pdf(report: dict, organizer: str, group_title: str) -> bytes:
    pdf = _Pdf()
    window = report["window"]
    pdf.set_title(f"Sales summary {window['from']} – {window['to']}")
    pdf.set_creator("Taquilla")
    pdf.add_page()
    pdf.use(16, bold=True)
    pdf.cell(0, 9, pdf.safe("Sales summary"), new_x="LMARGIN", new_y="NEXT")
    pdf.use(10)
    pdf.cell(0, 6, pdf.safe(organizer), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, pdf.safe(f"From {window['from']} to {window['to']} ({window['time_zone']}), "
                            f"by {group_title}, {window['granularity']} periods"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def header() -> None:
        pdf.use(8, bold=True)
        pdf.cell(LABEL_WIDTH, 6, pdf.safe(group_title.capitalize()), border="B")
        pdf.cell(CURRENCY_WIDTH, 6, "Cur.", border="B")
        for title, _, width in FIGURES:
            pdf.cell(width, 6, title, border="B", align="R")
        pdf.ln()

    def row(label: str, figures: dict, bold: bool = False) -> None:
        if pdf.will_page_break(6):
            pdf.add_page()
            header()
        pdf.use(8, bold=bold)
        currency = figures["currency"]
        pdf.cell(LABEL_WIDTH, 6, pdf.safe(label[:40]))
        pdf.cell(CURRENCY_WIDTH, 6, currency)
        for _, key, width in FIGURES:
            value = figures[key]
            text = str(value) if key == "tickets" else amount(value, currency)
            pdf.cell(width, 6, text, align="R")
        pdf.ln()

    header()
    for r in report["rows"]:
        row(str(r["label"]), r)
    for total in report["totals"]:
        row("Total", total, bold=True)
    pdf.ln(3)
    pdf.use(7)
    pdf.multi_cell(0, 4, pdf.safe(
        "Collected = gross - discounts + fees + taxes. Net = collected - refunds - taxes still owed (taxes of "
        "refunded tickets are given back with the credit note). Sales count on the day their payment was captured, "
        "refunds on the day they completed."))
    return bytes(pdf.output())
