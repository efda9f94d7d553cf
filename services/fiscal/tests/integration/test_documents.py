"""Invoices carry the organizer's legal data, the event and its seats, and the taxes configured for them;
corrections are credit notes; PDF and CSV renderings for people."""
import csv
import io
import uuid
from datetime import date, timedelta

from fiscal_test_helpers import (
    CASHIER,
    event_published,
    issue,
    issue_and_wait,
    order_placed,
    tenant_registered,
)
from pypdf import PdfReader
from sqlalchemy import text
from taquilla_contracts.common import Buyer
from taquilla_devtools.testing import eventually, service_harness, staff


async def _post_tax(h, tenant, body, roles=("tenant_admin",)):
    return await h.client.post("/api/v1/fiscal/taxes", json=body, headers=staff(tenant, roles))


async def test_taxes_at_organizer_and_event_level_with_history_shape_the_invoice():
    async with service_harness("fiscal", name="docs") as h:
        tenant, event_id, session_id, zone_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await h.publish(tenant_registered(tenant))
        await h.publish(event_published(tenant, event_id, session_id, zone_id))

        iva = await _post_tax(h, tenant, {"code": "IVA", "name": "IVA", "rate": "0.16",
                                          "valid_from": "2020-01-01T00:00:00Z"})
        assert iva.status_code == 201, iva.text
        igtf = await _post_tax(h, tenant, {"code": "IGTF", "name": "IGTF", "rate": "0.03", "inclusion": "added",
                                           "payment_methods": ["usd_cash"], "valid_from": "2020-01-01T00:00:00Z"})
        assert igtf.status_code == 201, igtf.text
        overlap = await _post_tax(h, tenant, {"code": "IVA", "name": "IVA", "rate": "0.12",
                                              "valid_from": "2021-01-01T00:00:00Z", "valid_to": "2021-06-01T00:00:00Z"})
        assert overlap.status_code == 409 and overlap.json()["errors"][0]["field"] == "valid_from"
        future = await _post_tax(h, tenant, {"code": "IVA", "name": "IVA", "rate": "0.08",
                                             "valid_from": "2099-01-01T00:00:00-04:00"})
        assert future.status_code == 201, future.text
        exempt = await _post_tax(h, tenant, {"code": "IVA", "name": "IVA (exento)", "rate": "0",
                                             "event_id": str(event_id), "valid_from": "2020-01-01T00:00:00Z"})
        assert exempt.status_code == 201, exempt.text
        bad = await _post_tax(h, tenant, {"code": "IVA", "name": "IVA", "rate": "1.5"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["field"] == "rate"
        cashier = await _post_tax(h, tenant, {"code": "X", "name": "X", "rate": "0.1"}, roles=CASHIER)
        assert cashier.status_code == 403

        history = (await h.client.get("/api/v1/fiscal/taxes/history", headers=staff(tenant))).json()["items"]
        iva_history = [r for r in history if r["code"] == "IVA" and r["event_id"] is None]
        assert [(r["rate"], r["valid_to"]) for r in iva_history] == [("0.1600", "2099-01-01T04:00:00+00:00"),
                                                                    ("0.0800", None)]
        later = (await h.client.get("/api/v1/fiscal/taxes", params={"at": "2099-06-01T00:00:00Z"},
                                    headers=staff(tenant))).json()["items"]
        assert [(t["code"], t["rate"]) for t in later] == [("IVA", "0.0800")]

        # an order of the exempt event paid in cash dollars: no IVA, 3 % IGTF on top
        exempt_order = uuid.uuid4()
        await h.publish(order_placed(tenant, exempt_order, event_id, session_id, zone_id))
        await eventually(lambda: _known_order(h, exempt_order))  # placed long before it is paid, in real life
        await issue_and_wait(h, tenant, issue(tenant, exempt_order, method="usd_cash"), 1)
        # another order paid by card, outside any event rule: 16 % IVA included
        company = Buyer(email="compras@avila.example", name="Inversiones Ávila C.A.", national_id="G-20009997-6",
                        address="Av. Urdaneta, Edificio Central, Caracas 1010")
        (first, second) = await issue_and_wait(
            h, tenant, issue(tenant, lines=((1, 1000),), method="card", buyer=company), 2)

        assert first["order_id"] == str(exempt_order)
        assert [(t["code"], t["amount_minor"]) for t in first["taxes"]] == [("IGTF", 300)]
        assert (first["subtotal_minor"], first["tax_minor"], first["total_minor"]) == (10000, 300, 10300)
        line = first["lines"][0]
        assert (line["event_title"], line["zone_name"], line["seats"]) == ("Concierto de Gala", "Platea", ["F-1", "F-2"])
        assert first["organizer"]["legal_name"] == "Producciones Caracas C.A."
        assert first["organizer"]["tax_id"] == "J-12345678-9"
        assert first["buyer"]["national_id"] == "V-12345678"
        assert [(t["code"], t["amount_minor"]) for t in second["taxes"]] == [("IVA", 138)]
        assert (second["subtotal_minor"], second["total_minor"]) == (862, 1000)

        pdf = await h.client.get(f"/api/v1/fiscal/documents/{first['id']}/pdf", headers=staff(tenant))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        for expected in ("A-00000001", "Producciones Caracas C.A.", "J-12345678-9", "Ana Pérez", "IGTF", "103.00 USD"):
            assert expected in text, expected
        assert (second["buyer"]["national_id"], second["buyer"]["address"]) == ("G-20009997-6", company.address)
        pdf = await h.client.get(f"/api/v1/fiscal/documents/{second['id']}/pdf", headers=staff(tenant))
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "G-20009997-6" in text and "Av. Urdaneta, Edificio Central, Caracas 1010" in " ".join(text.split())


async def test_credit_notes_reference_the_original_and_never_credit_more_than_was_invoiced():
    async with service_harness("fiscal", name="credit") as h:
        tenant = uuid.uuid4()
        (invoice,) = await issue_and_wait(h, tenant, issue(tenant, lines=((2, 5000), (1, 1999))), 1)
        url = f"/api/v1/fiscal/documents/{invoice['id']}/credit-notes"
        headers = staff(tenant, CASHIER) | {"Idempotency-Key": "refund-1"}

        no_key = await h.client.post(url, json={"reason": "Buyer returned one seat"}, headers=staff(tenant))
        assert no_key.status_code == 400 and no_key.json()["errors"][0]["field"] == "Idempotency-Key"
        too_many = await h.client.post(url, json={"reason": "Too many", "lines": [{"line": 0, "quantity": 3}]},
                                       headers=staff(tenant) | {"Idempotency-Key": "too-many"})
        assert too_many.status_code == 409 and too_many.json()["errors"][0]["field"] == "lines.0.quantity"

        body = {"reason": "Buyer returned one seat", "lines": [{"line": 0, "quantity": 1}]}
        partial = await h.client.post(url, json=body, headers=headers)
        assert partial.status_code == 201, partial.text
        again = await h.client.post(url, json=body, headers=headers)
        assert again.json() == partial.json() and again.headers["idempotency-replayed"] == "true"
        note = partial.json()
        assert note["formatted_number"] == "NC-00000001" and note["document_type"] == "credit_note"
        assert note["references"] == {"id": invoice["id"], "formatted_number": "A-00000001"}
        assert (note["total_minor"], note["tax_minor"]) == (5000, 690)

        rest = await h.client.post(url, json={"reason": "Event cancelled"}, headers=staff(tenant) | {
            "Idempotency-Key": "refund-2"})
        assert rest.status_code == 201, rest.text
        assert rest.json()["formatted_number"] == "NC-00000002"
        assert note["total_minor"] + rest.json()["total_minor"] == invoice["total_minor"]
        assert note["tax_minor"] + rest.json()["tax_minor"] == invoice["tax_minor"]
        done = await h.client.post(url, json={"reason": "Again"}, headers=staff(tenant) | {"Idempotency-Key": "r3"})
        assert done.status_code == 409 and done.json()["type"].endswith("/already-credited")
        of_note = await h.client.post(f"/api/v1/fiscal/documents/{note['id']}/credit-notes", json={"reason": "Nope"},
                                      headers=staff(tenant) | {"Idempotency-Key": "r4"})
        assert of_note.status_code == 409

        original = (await h.client.get(f"/api/v1/fiscal/documents/{invoice['id']}", headers=staff(tenant))).json()
        assert [c["formatted_number"] for c in original["credit_notes"]] == ["NC-00000001", "NC-00000002"]
        assert original["total_minor"] == invoice["total_minor"]  # the invoice itself never changes

        today = date.fromisoformat(original["issued_at"][:10])
        period = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
        export = await h.client.get("/api/v1/fiscal/exports/documents.csv", params=period, headers=staff(tenant))
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert [r["number"] for r in rows[:-1]] == ["A-00000001", "NC-00000001", "NC-00000002"]
        assert rows[1]["references"] == "A-00000001"
        assert rows[-1]["issued_at_local"] == "TOTAL"
        assert rows[-1]["total"] == "0.00" and rows[-1]["IVA 16%"] == "0.00"  # fully credited: nets to zero
        assert rows[0]["IVA 16%"] == f"{invoice['tax_minor'] / 100:.2f}"
        empty = await h.client.get("/api/v1/fiscal/exports/documents.csv",
                                   params={"from": "1999-01-01", "to": "1999-01-31"}, headers=staff(tenant))
        assert list(csv.DictReader(io.StringIO(empty.text)))[-1]["number"] == "0 documents"
        backwards = await h.client.get("/api/v1/fiscal/exports/documents.csv",
                                       params={"from": str(today), "to": "2000-01-01"}, headers=staff(tenant))
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"


async def test_a_series_format_is_set_before_its_first_number_and_fixed_after():
    async with service_harness("fiscal", name="series") as h:
        tenant = uuid.uuid4()
        created = await h.client.post("/api/v1/fiscal/series", json={"document_type": "invoice", "prefix": "F-",
                                                                      "padding": 6}, headers=staff(tenant))
        assert created.status_code == 201, created.text
        (doc,) = await issue_and_wait(h, tenant, issue(tenant), 1)
        assert doc["formatted_number"] == "F-000001"
        late = await h.client.post("/api/v1/fiscal/series", json={"document_type": "invoice", "prefix": "G-"},
                                   headers=staff(tenant))
        assert late.status_code == 409 and late.json()["errors"][0]["field"] == "prefix"
        invalid = await h.client.post("/api/v1/fiscal/series", json={"document_type": "receipt", "prefix": "R-"},
                                      headers=staff(tenant))
        assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "document_type"
        listed = (await h.client.get("/api/v1/fiscal/series", headers=staff(tenant))).json()["items"]
        assert [(s["prefix"], s["numbers_used"]) for s in listed] == [("F-", 1)]




async def _known_order(h, order_id):
    async with h.db() as uow:
        return (await uow.session.execute(text("SELECT 1 FROM fiscal_orders o JOIN fiscal_events e USING (event_id) "
                                               "WHERE o.order_id = :o"), {"o": order_id})).first()


async def test_a_period_longer_than_a_year_is_refused_with_the_field_at_fault():
    async with service_harness("fiscal", name="export") as h:
        response = await h.client.get("/api/v1/fiscal/exports/documents.csv",
                                      params={"from": "2020-01-01", "to": "2022-01-01"}, headers=staff(uuid.uuid4()))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "to"
        missing = await h.client.get("/api/v1/fiscal/exports/documents.csv", params={"from": "2020-01-01"},
                                     headers=staff(uuid.uuid4()))
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "to"
