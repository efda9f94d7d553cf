"""The tickets PDF attached to the order confirmation: readable text in any script, and a QR code per page
that is exactly the code of that ticket's payload."""
import io

import pytest
from notifications_service.adapters.ticket_pdf import tickets_pdf
from pypdf import PdfReader
from taquilla_devtools.pdf_checks import qr_modules_drawn, scanned

CONTEXT = {"event_title": "Gran Concierto", "venue_name": "Estadio Monumental", "buyer_name": "José Pérez",
           "order_code": "TQ-7K2M9", "organizer_name": "Producciones Sol",
           "tickets": [{"label": f"Platea P-{n}", "zone": "Platea", "qr_payload": f"TQ1.{n}.{'a7' * 70}"}
                       for n in (1, 2)]}


def pages(context: dict) -> list:
    return PdfReader(io.BytesIO(tickets_pdf(context, "es", "sábado, 14 de marzo de 2026, 20:30"))).pages


@pytest.mark.parametrize("buyer_name", ["José Pérez", "Дмитрий Ωμέγα"])
def test_each_page_carries_its_ticket_and_the_qr_code_of_its_payload(buyer_name):
    context = CONTEXT | {"buyer_name": buyer_name}
    drawn = pages(context)
    assert len(drawn) == 2
    for page, ticket in zip(drawn, context["tickets"], strict=True):
        text = page.extract_text()
        assert buyer_name in text and ticket["label"] in text and "sábado" in text
        assert scanned(qr_modules_drawn(page)) == [ticket["qr_payload"]]  # what a door scanner reads
    assert qr_modules_drawn(drawn[0]) != qr_modules_drawn(drawn[1])


def test_a_latin_1_order_embeds_no_font_and_another_script_embeds_one():
    def fonts(context):
        return {str(font["/BaseFont"]) for font in pages(context)[0]["/Resources"]["/Font"].values()}

    assert fonts(CONTEXT) == {"/Helvetica"}
    assert any("DejaVu" in name for name in fonts(CONTEXT | {"buyer_name": "Дмитрий"}))
