"""The ticket a holder prints or adds to a wallet: QR, event, seat, holder and the organizer's legal data."""
import io
import uuid

from pypdf import PdfReader
from taquilla_contracts import Envelope
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import buyer, eventually, staff


async def organizer_known(h, tenant: uuid.UUID, **changes) -> TenantRegistered:
    event = TenantRegistered(tenant_id=tenant, slug="eventos-caracas", name="Eventos Caracas",
                             legal_name="Eventos Caracas C.A.", tax_id="J-41234567-8", registry_number="PULEP-7781",
                             address="Av. Francisco de Miranda 12", city="Caracas", country="VE", currency="USD",
                             time_zone="America/Caracas").model_copy(update=changes)
    await h.publish(Envelope.wrap(event, source="gateway", tenant_id=tenant))
    return event


async def test_the_pdf_shows_qr_event_seat_holder_and_organizer_legal_data(h, doors):
    tenant, holder_id = uuid.uuid4(), uuid.uuid4()
    await organizer_known(h, tenant)
    (ticket,) = await doors.issue(tenant, event_id=uuid.uuid4(), holder_id=holder_id)
    holder = buyer(holder_id)

    async def with_legal_data():
        response = await h.client.get(f"/api/v1/tickets/{ticket['id']}/pdf", headers=holder)
        assert response.status_code == 200, response.text
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        return (response, text) if "J-41234567-8" in text else None
    response, text = await eventually(with_legal_data)
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    for shown in ("Guaco en concierto", "General", ticket["label"], "Ana Pérez", "TQ-7K2M9", "A-00000042",
                  "Eventos Caracas C.A.", "PULEP-7781", "Caracas", ticket["id"], "25.00 USD"):
        assert shown in text, f"{shown!r} missing from the PDF"
    assert len(response.content) > 2000  # the QR is drawn into it

    # A change of the organizer's legal data reaches the next PDF.
    await organizer_known(h, tenant, legal_name="Eventos Caracas 2027 C.A.")

    async def renamed():
        again = await h.client.get(f"/api/v1/tickets/{ticket['id']}/pdf", headers=holder)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(again.content)).pages)
        return "Eventos Caracas 2027 C.A." in text
    assert await eventually(renamed)
    stranger = await h.client.get(f"/api/v1/tickets/{ticket['id']}/pdf", headers=buyer())
    assert stranger.status_code == 404 and stranger.headers["content-type"] == "application/problem+json"


async def test_the_wallet_pass_carries_the_signed_code(h, doors):
    tenant = uuid.uuid4()
    await organizer_known(h, tenant)
    (ticket,) = await doors.issue(tenant, event_id=uuid.uuid4())

    async def named():
        response = await h.client.get(f"/api/v1/tickets/{ticket['id']}/wallet-pass", headers=staff(tenant))
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["organizationName"] == "Eventos Caracas" else None
    wallet = await eventually(named)
    assert wallet["serialNumber"] == ticket["id"] and wallet["voided"] is False
    assert wallet["barcodes"] == [{"format": "PKBarcodeFormatQR", "message": ticket["qr_payload"],
                                   "messageEncoding": "iso-8859-1", "altText": ticket["label"]}]
    fields = {f["key"]: f["value"] for group in wallet["eventTicket"].values() for f in group}
    assert (fields["event"], fields["zone"], fields["seat"], fields["holder"]) == (
        "Guaco en concierto", "General", ticket["label"], "Ana Pérez")
    assert fields["organizer"] == "Eventos Caracas C.A. · J-41234567-8"
