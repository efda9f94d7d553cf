"""Refunds reach fiscal as `fiscal.issue_credit_note`: one credit note per refund on the order's invoice,
retried while the invoice is not there yet, parked when it can never be issued."""
import asyncio
import uuid
from decimal import Decimal

from fiscal_service.domain.documents import TaxRate, tax_line_with
from fiscal_test_helpers import documents, issue, issue_and_wait, wait_for_documents
from prometheus_client import REGISTRY
from taquilla_contracts import Envelope
from taquilla_contracts.orders import CreditLine, IssueCreditNote
from taquilla_devtools.testing import eventually, service_harness, staff
from taquilla_messaging.consumer import ERROR_HEADER


def credit(tenant_id, order_id, refund_id=None, lines=(), reason="buyer_request") -> Envelope:
    """`lines`: (invoice line, quantity), (invoice line, quantity, credited unit price) or
    (invoice line, quantity, unit price given back, "adjustment")."""
    command = IssueCreditNote(refund_id=refund_id or uuid.uuid4(), order_id=order_id, reason=reason,
                              lines=[CreditLine(original_line=line[0], quantity=line[1],
                                                unit_price_minor=line[2] if len(line) > 2 else None,
                                                adjustment=len(line) > 3 and line[3] == "adjustment")
                                     for line in lines])
    return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=str(order_id))


def consumed(outcome: str) -> float:
    return REGISTRY.get_sample_value("taquilla_messages_consumed_total", {
        "service": "fiscal", "type": "fiscal.issue_credit_note", "outcome": outcome}) or 0.0


async def next_issued(listener, document_type: str) -> Envelope:
    while True:
        event = await asyncio.wait_for(listener.get(), 30)
        if event.data["document_type"] == document_type:
            return event


async def test_a_refund_gets_one_credit_note_on_the_invoice_however_often_it_is_delivered():
    async with service_harness("fiscal", name="refund") as h:
        tenant, order_id = uuid.uuid4(), uuid.uuid4()
        issued = await h.listen("fiscal.document.issued")
        (invoice,) = await issue_and_wait(h, tenant, issue(tenant, order_id, lines=((2, 5000), (1, 1999))), 1)
        await next_issued(issued, "invoice")

        refund_id = uuid.uuid4()
        command = credit(tenant, order_id, refund_id, lines=[(0, 1)])
        await h.publish(command)
        await h.publish(command)  # the broker redelivers
        await h.publish(credit(tenant, order_id, refund_id, lines=[(0, 1)]))  # orders asks again

        (note,) = await wait_for_documents(h, tenant, 1, document_type="credit_note")
        assert (note["formatted_number"], note["refund_id"]) == ("NC-00000001", str(refund_id))
        assert note["references_document_id"] == invoice["id"] and note["order_id"] == str(order_id)
        assert [(line["original_line"], line["quantity"], line["total_minor"]) for line in note["lines"]] == [
            (0, 1, 5000)]
        assert (note["total_minor"], note["tax_minor"]) == (5000, 690)  # one 50.00 seat, 16 % IVA included
        assert note["reason"] == "buyer_request"

        event = await next_issued(issued, "credit_note")
        assert event.data["document_id"] == note["id"] and event.data["refund_id"] == str(refund_id)
        assert event.data["references_document_id"] == invoice["id"]
        assert (event.data["formatted_number"], event.data["total_minor"]) == ("NC-00000001", 5000)
        assert event.correlation_id == str(order_id) and event.causation_id == command.id

        await asyncio.sleep(1.5)
        assert issued.empty(), "a repeated refund published a second credit note"
        assert len(await documents(h, tenant, document_type="credit_note")) == 1

        rest = uuid.uuid4()  # a second refund with no lines: whatever is left of the invoice
        await h.publish(credit(tenant, order_id, rest, reason="event_cancelled"))
        first, second = await wait_for_documents(h, tenant, 2, document_type="credit_note")
        assert (second["formatted_number"], second["refund_id"]) == ("NC-00000002", str(rest))
        assert [(line["original_line"], line["quantity"]) for line in second["lines"]] == [(0, 1), (1, 1)]
        assert first["total_minor"] + second["total_minor"] == invoice["total_minor"]
        assert first["tax_minor"] + second["tax_minor"] == invoice["tax_minor"]
        shown = (await h.client.get(f"/api/v1/fiscal/documents/{invoice['id']}", headers=staff(tenant))).json()
        assert [c["formatted_number"] for c in shown["credit_notes"]] == ["NC-00000001", "NC-00000002"]


async def test_a_resale_refund_credits_the_price_minus_the_fee_and_the_seat_is_credited_once():
    async with service_harness("fiscal", name="resale") as h:
        tenant, order_id = uuid.uuid4(), uuid.uuid4()
        await issue_and_wait(h, tenant, issue(tenant, order_id, lines=((2, 5000),)), 1)
        await h.publish(credit(tenant, order_id, lines=[(0, 1, 4500)], reason="resold"))
        (note,) = await wait_for_documents(h, tenant, 1, document_type="credit_note")
        assert [(line["original_line"], line["quantity"], line["total_minor"]) for line in note["lines"]] == [
            (0, 1, 4500)]
        assert (note["total_minor"], note["reason"]) == (4500, "resold")

        too_much = credit(tenant, order_id, lines=[(0, 1, 5001)])
        await h.publish(too_much)  # never more than the invoice charged: parked, nothing issued
        await h.publish(credit(tenant, order_id, reason="event_cancelled"))  # the rest: the other seat only
        first, rest = await wait_for_documents(h, tenant, 2, document_type="credit_note")
        assert [(line["original_line"], line["quantity"], line["total_minor"]) for line in rest["lines"]] == [
            (0, 1, 5000)]


async def test_a_price_adjustment_credits_money_but_leaves_every_unit_creditable_and_never_more_than_charged():
    async with service_harness("fiscal", name="adjust") as h:
        tenant, order_id = uuid.uuid4(), uuid.uuid4()
        (invoice,) = await issue_and_wait(h, tenant, issue(tenant, order_id, lines=((3, 1000), (1, 2000))), 1)
        await h.publish(credit(tenant, order_id, lines=[(0, 3, 500, "adjustment")], reason="operator"))
        (goodwill,) = await wait_for_documents(h, tenant, 1, document_type="credit_note")
        (line,) = goodwill["lines"]
        assert (line["original_line"], line["quantity"], line["unit_price_minor"], line["adjustment"]) == (0, 3, 500, True)
        expected = tax_line_with("x", 3, 500, [TaxRate("IVA", "IVA", Decimal("0.16"))])  # as on any line
        assert (goodwill["total_minor"], goodwill["tax_minor"]) == (1500, expected.tax_minor) == (1500, 207)
        assert line["description"].startswith("Ajuste de precio: ")

        refused = {
            "credit-price-invalid": credit(tenant, order_id, lines=[(0, 1, 1001, "adjustment")]),  # above the price
            "credit-exceeds-invoice units": credit(tenant, order_id, lines=[(1, 2, 100, "adjustment")]),  # 1 unit
            "credit-exceeds-invoice money": credit(tenant, order_id, lines=[(0, 3)]),  # 3000 > the 1500 left
        }
        for envelope in refused.values():
            await h.publish(envelope)
        parked = await _parked(h, len(refused))
        for expected_type, envelope in refused.items():
            assert expected_type.split()[0] in parked[str(envelope.id)], parked[str(envelope.id)]
        assert "1500 of 3000 left" in parked[str(refused["credit-exceeds-invoice money"].id)]

        # the three units are still there to give back, at what is left of the line's money
        await h.publish(credit(tenant, order_id, lines=[(0, 1, 500)], reason="buyer_request"))
        await wait_for_documents(h, tenant, 2, document_type="credit_note")
        await h.publish(credit(tenant, order_id, reason="event_cancelled"))  # the rest: 2 units at 500, line 1
        notes = await wait_for_documents(h, tenant, 3, document_type="credit_note")
        rest = notes[-1]
        assert [(x["original_line"], x["quantity"], x["unit_price_minor"]) for x in rest["lines"]] == [
            (0, 2, 500), (1, 1, 2000)]
        assert sum(n["total_minor"] for n in notes) == invoice["total_minor"] == 5000
        assert [n["formatted_number"] for n in notes] == ["NC-00000001", "NC-00000002", "NC-00000003"]
        done = credit(tenant, order_id)
        await h.publish(done)
        assert "already-credited" in (await _parked(h, 1))[str(done.id)]


async def test_a_refund_that_arrives_before_the_invoice_is_credited_once_the_invoice_exists():
    async with service_harness("fiscal", name="early") as h:
        tenant, order_id, refund_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        retried = consumed("retried")
        await h.publish(credit(tenant, order_id, refund_id))

        await eventually(lambda: _above(consumed("retried"), retried))  # tried, no invoice: sent to retry
        assert await documents(h, tenant) == []
        (invoice,) = await issue_and_wait(h, tenant, issue(tenant, order_id, lines=((3, 2000),)), 1)

        (note,) = await wait_for_documents(h, tenant, 1, document_type="credit_note")
        assert (note["formatted_number"], note["refund_id"]) == ("NC-00000001", str(refund_id))
        assert note["references_document_id"] == invoice["id"]
        assert note["total_minor"] == invoice["total_minor"] == 6000


async def test_a_refund_that_can_never_be_credited_is_parked_with_its_reason_and_leaves_no_gap():
    async with service_harness("fiscal", name="overcredit") as h:
        tenant, order_id = uuid.uuid4(), uuid.uuid4()
        await issue_and_wait(h, tenant, issue(tenant, order_id, lines=((2, 5000),)), 1)
        await h.publish(credit(tenant, order_id, lines=[(0, 1)]))
        await wait_for_documents(h, tenant, 1, document_type="credit_note")

        retried = consumed("retried")
        refused = {
            "credit-exceeds-invoice": credit(tenant, order_id, lines=[(0, 2)]),  # 1 of 2 is left
            "unknown-line": credit(tenant, order_id, lines=[(5, 1)]),
            "credit-exceeds-invoice twice": credit(tenant, order_id, lines=[(0, 1), (0, 1)]),
        }
        for envelope in refused.values():
            await h.publish(envelope)
        parked = await _parked(h, len(refused))
        for expected, envelope in refused.items():
            assert expected.split()[0] in parked[str(envelope.id)], parked[str(envelope.id)]
            assert str(envelope.parse(IssueCreditNote).refund_id) in parked[str(envelope.id)]

        await h.publish(credit(tenant, order_id))  # the rest: the invoice is now fully credited
        await wait_for_documents(h, tenant, 2, document_type="credit_note")
        done = credit(tenant, order_id)
        await h.publish(done)
        assert "already-credited" in (await _parked(h, 1))[str(done.id)]
        assert consumed("retried") == retried, "a request that can never succeed was retried"

        notes = await documents(h, tenant, document_type="credit_note")
        assert [n["formatted_number"] for n in notes] == ["NC-00000001", "NC-00000002"]
        series = (await h.client.get("/api/v1/fiscal/series", headers=staff(tenant))).json()["items"]
        assert {s["document_type"]: s["numbers_used"] for s in series} == {"invoice": 1, "credit_note": 2}


async def _above(value: float, before: float):
    return value > before


async def _parked(h, n: int) -> dict[str, str]:
    """The next n messages of fiscal's dead-letter queue: message id -> the reason it was parked."""
    dead = await h.channel.get_queue(h.topology.dead_queue("fiscal"), ensure=False)
    found: dict[str, str] = {}

    async def collect():
        message = await dead.get(no_ack=True, fail=False)
        if message is not None:
            found[message.message_id] = message.headers[ERROR_HEADER]
        return len(found) >= n
    await eventually(collect, timeout=30)
    return found
