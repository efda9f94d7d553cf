"""Cash, bank transfer and PagoMovil: declared, pending until the organizer's staff confirm or reject them."""
from __future__ import annotations

import uuid

from payments_support import NO_AUTOMATIC_WEBHOOKS, PAYMENTS, PROBLEM, next_event, nothing_more, pay, place
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed
from taquilla_devtools.testing import buyer, service_harness, staff

SETTLED = ("payments.payment.captured", "payments.payment.failed")
ADMIN, CASHIER = ("tenant_admin",), ("box_office_cashier",)


def pagomovil(reference: str = "004512345678", bank_code: str = "0134", phone: str = "0414-123.45.67") -> dict:
    return {"pagomovil": {"reference": reference, "bank_code": bank_code, "phone": phone}}


async def test_a_pagomovil_declaration_waits_for_staff_and_confirming_captures_it_once():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen(*SETTLED)
        order_id = await place(h, tenant, buyer_id)

        declared = await pay(h, buyer(buyer_id), order_id, provider="pagomovil", **pagomovil(phone="+58 414 1234567"))

        assert declared.status_code == 202, declared.text
        body = declared.json()
        assert (body["status"], body["method"], body["provider_reference"]) == ("pending", "pagomovil", "004512345678")
        assert body["declaration"] == {"reference": "004512345678", "bank_code": "0134", "bank_name": "Banesco",
                                       "phone": "04141234567", "declared_by": str(buyer_id)}
        assert await nothing_more(settled, settle=0.5) == []
        confirm = f"{PAYMENTS}/{body['id']}/confirm"
        assert (await h.client.post(confirm, headers=buyer(buyer_id))).status_code == 403
        assert (await h.client.post(confirm, headers=staff(uuid.uuid4()))).status_code == 404  # another organizer
        assert (await h.client.post(confirm, headers=staff(tenant, roles=CASHIER))).status_code == 403

        confirmed = await h.client.post(confirm, json={"note": "Banesco statement line 14"}, headers=staff(tenant))
        again = await h.client.post(confirm, headers=staff(tenant))

        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "captured" and confirmed.json()["review"]["note"] == "Banesco statement line 14"
        assert (again.status_code, again.json()) == (200, confirmed.json())
        event = await next_event(settled)
        captured = PaymentCaptured.model_validate(event.data)
        assert (captured.method, captured.provider, captured.provider_reference) == (
            "pagomovil", "pagomovil", "004512345678")
        assert event.tenant_id == tenant
        assert await nothing_more(settled) == []
        rejected_late = await h.client.post(f"{PAYMENTS}/{body['id']}/reject", json={"reason": "not found"},
                                            headers=staff(tenant))
        assert rejected_late.status_code == 409 and rejected_late.headers["content-type"] == PROBLEM
        assert rejected_late.json()["type"].endswith("/payment-already-captured")


async def test_rejecting_fails_the_payment_announces_it_and_frees_the_order_and_the_reference():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        settled = await h.listen(*SETTLED)
        order_id = await place(h, tenant, buyer_id)
        declared = (await pay(h, buyer(buyer_id), order_id, provider="bank_transfer",
                              bank_transfer={"reference": "TRX-99812", "bank": "Mercantil"})).json()
        no_reason = await h.client.post(f"{PAYMENTS}/{declared['id']}/reject", json={}, headers=staff(tenant))
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"

        rejected = await h.client.post(f"{PAYMENTS}/{declared['id']}/reject",
                                       json={"reason": "no such credit on the statement"}, headers=staff(tenant))

        assert rejected.status_code == 200 and rejected.json()["status"] == "failed"
        event = await next_event(settled)
        assert event.type == "payments.payment.failed"
        assert "no such credit" in PaymentFailed.model_validate(event.data).reason
        redeclared = await pay(h, buyer(buyer_id), order_id, provider="bank_transfer",
                               bank_transfer={"reference": "TRX-99812", "bank": "Mercantil"})
        assert redeclared.status_code == 202, redeclared.text
        confirm = await h.client.post(f"{PAYMENTS}/{declared['id']}/confirm", headers=staff(tenant))
        assert confirm.status_code == 409 and confirm.json()["type"].endswith("/payment-already-failed")


async def test_a_pagomovil_reference_pays_one_order_of_an_organizer():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, other_tenant, buyer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        first, second = await place(h, tenant, buyer_id), await place(h, tenant, buyer_id)
        elsewhere = await place(h, other_tenant, buyer_id)
        assert (await pay(h, buyer(buyer_id), first, provider="pagomovil", **pagomovil())).status_code == 202

        duplicate = await pay(h, buyer(buyer_id), second, provider="pagomovil", **pagomovil(bank_code="0102"))

        assert duplicate.status_code == 409 and duplicate.headers["content-type"] == PROBLEM
        assert duplicate.json()["type"].endswith("/manual-reference-in-use")
        assert duplicate.json()["errors"][0]["field"] == "pagomovil.reference"
        other = await pay(h, buyer(buyer_id), elsewhere, provider="pagomovil", **pagomovil())
        assert other.status_code == 202, other.text  # another organizer's bank account


async def test_declarations_are_validated_naming_the_field_at_fault():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        order_id = await place(h, tenant, buyer_id)
        cases = [
            ({"provider": "pagomovil", **pagomovil(phone="0212-5551234")}, "pagomovil.phone"),  # a landline
            ({"provider": "pagomovil", **pagomovil(phone="12345")}, "pagomovil.phone"),
            ({"provider": "pagomovil", **pagomovil(bank_code="9999")}, "pagomovil.bank_code"),
            ({"provider": "pagomovil", **pagomovil(reference="AB12")}, "pagomovil.reference"),
            ({"provider": "pagomovil"}, "pagomovil"),
            ({"provider": "bank_transfer"}, "bank_transfer"),
            ({"provider": "cash", **pagomovil()}, "pagomovil"),
            ({"provider": "test", "cash": {}}, "cash"),
        ]
        for body, field in cases:
            response = await pay(h, buyer(buyer_id), order_id, **body)
            assert response.status_code == 422, (body, response.text)
            assert [e["field"] for e in response.json()["errors"]] == [field], body


async def test_reconciliation_lists_manual_payments_with_totals_for_the_organizers_staff_only():
    async with service_harness("payments", env=NO_AUTOMATIC_WEBHOOKS) as h:
        tenant, buyer_id = uuid.uuid4(), uuid.uuid4()
        orders = [await place(h, tenant, buyer_id) for _ in range(4)]
        declared = [
            (await pay(h, buyer(buyer_id), orders[0], provider="pagomovil", **pagomovil("1111"))).json(),
            (await pay(h, buyer(buyer_id), orders[1], provider="pagomovil", **pagomovil("2222"))).json(),
            (await pay(h, staff(tenant, roles=CASHIER), orders[2], provider="cash")).json(),
        ]
        assert (await pay(h, buyer(buyer_id), orders[3])).status_code == 201  # by card: not reconciled here
        await h.client.post(f"{PAYMENTS}/{declared[0]['id']}/confirm", headers=staff(tenant))
        await h.client.post(f"{PAYMENTS}/{declared[2]['id']}/confirm", headers=staff(tenant, roles=CASHIER))
        url = f"{PAYMENTS}/manual/reconciliation"

        everything = (await h.client.get(url, headers=staff(tenant))).json()
        pagomovil_captured = (await h.client.get(url, params={"method": "pagomovil", "status": "captured"},
                                                 headers=staff(tenant))).json()

        assert everything["count"] == 3 and len(everything["items"]) == 3
        assert everything["totals"] == [
            {"method": "cash", "status": "captured", "currency": "USD", "count": 1, "amount_minor": 5997},
            {"method": "pagomovil", "status": "captured", "currency": "USD", "count": 1, "amount_minor": 5997},
            {"method": "pagomovil", "status": "pending", "currency": "USD", "count": 1, "amount_minor": 5997},
        ]
        assert [p["declaration"]["reference"] for p in pagomovil_captured["items"]] == ["1111"]
        caracas = (await h.client.get(url, params={"from": "2000-01-01", "to": "2000-01-31",
                                                   "tz": "America/Caracas"}, headers=staff(tenant))).json()
        assert caracas["count"] == 0 and caracas["period"]["from"] == "2000-01-01T04:00:00+00:00"
        assert (await h.client.get(url, headers=staff(uuid.uuid4()))).json()["count"] == 0
        assert (await h.client.get(url, headers=buyer(buyer_id))).status_code == 403
        bad = await h.client.get(url, params={"tz": "Mars/Olympus"}, headers=staff(tenant))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tz"
