"""The buyer gets one confirmation email with their tickets, through a real SMTP server, whatever happens."""
import asyncio
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

from notifications_service.adapters.tables import events
from notifications_service.adapters.tables import messages as message_table
from pypdf import PdfReader
from sqlalchemy import select, update
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import OrderCompleted, TicketSummary
from taquilla_devtools.pdf_checks import qr_modules_drawn, scanned
from taquilla_devtools.testing import buyer, eventually, service_harness, staff

FAST = {  # small delays, so retries happen within the test
    "NOTIFICATIONS_DELIVERY__POLL_SECONDS": "0.1",
    "NOTIFICATIONS_DELIVERY__BACKOFF_BASE_SECONDS": "0.3",
    "NOTIFICATIONS_DELIVERY__BACKOFF_MAX_SECONDS": "1",
    "NOTIFICATIONS_DELIVERY__LEASE_SECONDS": "4",
    "NOTIFICATIONS_SMTP__TIMEOUT": "2",
    "NOTIFICATIONS_DB__POOL_SIZE": "4",  # the database is shared with every other test run on the machine
    "NOTIFICATIONS_DB__MAX_OVERFLOW": "4",
}


def harness(sink, **env):
    return service_harness("notifications", env={**FAST, "NOTIFICATIONS_SMTP__PORT": str(sink.port), **env})


def order_completed(tenant_id: uuid.UUID, *, event_id: uuid.UUID | None = None, name: str = "Ana Pérez",
                    email: str = "ana@example.com", order_id: uuid.UUID | None = None) -> Envelope:
    order = OrderCompleted(
        order_id=order_id or uuid.uuid4(), code=f"TQ-{uuid.uuid4().hex[:6].upper()}", event_id=event_id or uuid.uuid4(),
        event_title="Rock & Sol 2026", session_starts_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC),
        buyer=Buyer(email=email, name=name), total_minor=123456, currency="USD", fiscal_number="A-00000042",
        tickets=[TicketSummary(ticket_id=uuid.uuid4(), label=f"GA-{i}", zone_name="Pista",
                               qr_payload=f"TQ1.{uuid.uuid4().hex}.sig{i}") for i in (1, 2, 3)],
    )
    return Envelope.wrap(order, source="orders", tenant_id=tenant_id, correlation_id=str(order.order_id))


async def messages(h, tenant_id, **params):
    response = await h.client.get("/api/v1/notifications/messages", params=params, headers=staff(tenant_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def message_in(h, tenant_id, predicate):
    async def check():
        items = await messages(h, tenant_id)
        return items if items and predicate(items[0]) else None
    return (await eventually(check))[0]


async def test_the_buyer_gets_one_email_with_their_tickets_however_often_the_order_completes(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        sent_events = await h.listen("notifications.message.sent")
        event_id = uuid.uuid4()
        await h.publish(Envelope.wrap(EventPublished(
            event_id=event_id, slug="rock-y-sol", title="Rock & Sol 2026", venue_name="Poliedro de Caracas",
            time_zone="America/Caracas", currency="USD", organizer_name="Producciones Ávila",
            sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC))],
            zones=[]), source="catalog", tenant_id=tenant))
        await eventually(lambda: _event_known(h, event_id))

        envelope = order_completed(tenant, event_id=event_id, name="<script>alert(1)</script>")
        order = envelope.parse(OrderCompleted)
        republished = Envelope.wrap(order, source="orders", tenant_id=tenant)  # same order, another message id
        for e in (envelope, envelope, republished):
            await h.publish(e)

        await eventually(lambda: _at_least(sink.accepted, 1))
        sent = await asyncio.wait_for(sent_events.get(), 10)
        await asyncio.sleep(1.0)
        assert len(sink.accepted) == 1, "the buyer got more than one confirmation"
        assert sent_events.empty(), "notifications.message.sent was published more than once"

        mail = sink.accepted[0]
        assert sink.envelopes[0] == ("tickets@taquilla.local", ["ana@example.com"])
        assert mail["To"].addresses[0].addr_spec == "ana@example.com"
        assert order.code in mail["Subject"]
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        for body in (text, html):
            assert order.code in body and "A-00000042" in body and "1.234,56 USD" in body
            assert "sábado, 14 de marzo de 2026, 20:30 (America/Caracas)" in body  # the event's own clock
            for ticket in order.tickets:
                assert ticket.qr_payload in body and ticket.label in body
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        pdf, attachment = list(mail.iter_attachments())
        assert (pdf.get_filename(), pdf.get_content_type()) == ("tickets.pdf", "application/pdf")
        pages = PdfReader(io.BytesIO(pdf.get_content())).pages
        assert len(pages) == len(order.tickets)  # one printable page per ticket
        for page, ticket in zip(pages, order.tickets, strict=True):
            page_text = "".join(page.extract_text().split())
            assert order.code in page_text and ticket.label in page_text
            assert ticket.qr_payload in page_text and "RockSol2026" in page_text.replace("&", "")
            assert scanned(qr_modules_drawn(page)) == [ticket.qr_payload]  # what a door scanner reads
        assert attachment.get_filename() == "tickets.json"
        assert json.loads(attachment.get_content()) == [
            {"ticket_id": str(t.ticket_id), "label": t.label, "zone": t.zone_name, "qr_payload": t.qr_payload}
            for t in order.tickets]

        (listed,) = await messages(h, tenant, order_id=str(order.order_id))
        assert (listed["status"], listed["attempts"], listed["channel"], listed["template"]) == (
            "sent", 1, "email", "order_confirmation")
        assert listed["recipient"] == "ana@example.com" and listed["sent_at"] and "body_html" not in listed
        assert sent.tenant_id == tenant and sent.correlation_id == str(order.order_id)
        assert sent.causation_id in (envelope.id, republished.id)  # whichever copy was handled first
        assert sent.data == {"message_id": listed["id"], "order_id": str(order.order_id), "channel": "email",
                             "template": "order_confirmation", "recipient": "ana@example.com"}
        detail = await h.client.get(f"/api/v1/notifications/messages/{listed['id']}", headers=staff(tenant))
        assert detail.status_code == 200
        assert detail.json()["body_html"].splitlines() == html.splitlines()  # what was queued is what went out
        assert [a["filename"] for a in detail.json()["attachments"]] == ["tickets.pdf", "tickets.json"]


async def test_messages_are_for_the_organizer_staff_only(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        await h.publish(order_completed(tenant))
        mine = await message_in(h, tenant, lambda m: m["status"] == "sent")
        assert await messages(h, other) == []
        assert await messages(h, other, order_id=mine["order_id"]) == []
        theirs = await h.client.get(f"/api/v1/notifications/messages/{mine['id']}", headers=staff(other))
        assert theirs.status_code == 404
        anonymous = await h.client.get("/api/v1/notifications/messages")
        assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
        as_buyer = await h.client.get("/api/v1/notifications/messages", headers=buyer())
        assert as_buyer.status_code == 403
        # row-level security, not just a WHERE clause: the other tenant's transaction sees no row
        async with h.db(other) as uow:
            assert (await uow.session.execute(select(message_table.c.id))).all() == []


async def test_smtp_down_at_first_the_email_is_retried_and_delivered_later(smtp_sink):
    sink = smtp_sink()  # not listening yet: connections are refused
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        envelope = order_completed(tenant)
        await h.publish(envelope)
        waiting = await message_in(h, tenant, lambda m: m["attempts"] >= 2 and m["status"] in ("queued", "sending"))
        assert waiting["last_error"] and waiting["sent_at"] is None
        await asyncio.sleep(2.0)  # the organizer's SMTP server comes back a few seconds later
        await sink.start()
        delivered = await message_in(h, tenant, lambda m: m["status"] == "sent")
        assert delivered["attempts"] > 2 and delivered["last_error"] is None
        assert len(sink.accepted) == 1
        assert envelope.parse(OrderCompleted).code in sink.accepted[0]["Subject"]


async def test_a_permanent_refusal_fails_the_message_without_retrying(smtp_sink):
    sink = smtp_sink(reply="550 5.1.1 mailbox does not exist")
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        sent_events = await h.listen("notifications.message.sent")
        await h.publish(order_completed(tenant, email="nobody@example.com"))
        failed = await message_in(h, tenant, lambda m: m["status"] == "failed")
        assert failed["attempts"] == 1 and "550" in failed["last_error"]
        await asyncio.sleep(1.5)  # several backoff periods: nothing more happens
        (still,) = await messages(h, tenant)
        assert (still["status"], still["attempts"]) == ("failed", 1)
        assert sink.refused == 1 and sink.accepted == []
        assert sent_events.empty()


async def test_an_invalid_address_is_failed_at_once_and_never_sent(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        await h.publish(order_completed(tenant, email="ana@example.com>\r\nBcc: x@example.com"))
        failed = await message_in(h, tenant, lambda m: m["status"] == "failed")
        assert failed["attempts"] == 0 and "not valid" in failed["last_error"]
        await asyncio.sleep(0.5)
        assert sink.accepted == []


async def test_a_send_cut_short_by_a_dead_worker_is_retried_once_its_lease_expires(smtp_sink):
    sink = smtp_sink()
    async with harness(sink) as h:  # SMTP down: the message stays queued while we stage the crash
        tenant = uuid.uuid4()
        await h.publish(order_completed(tenant))
        queued = await message_in(h, tenant, lambda m: m["attempts"] >= 1)
        table = message_table
        async with h.db() as uow:  # as a worker that claimed it and died: sending, lease still running
            await uow.session.execute(update(table).where(table.c.id == uuid.UUID(queued["id"])).values(
                status="sending", attempts=5, next_attempt_at=datetime.now(UTC) + timedelta(seconds=2)))
            await uow.commit()
        await sink.start()
        await asyncio.sleep(1.0)
        assert sink.accepted == [], "a message under another worker's lease was sent again"
        delivered = await message_in(h, tenant, lambda m: m["status"] == "sent")
        assert delivered["attempts"] == 6
        assert len(sink.accepted) == 1


async def _event_known(h, event_id):
    async with h.db() as uow:
        return (await uow.session.execute(select(events.c.time_zone).where(events.c.event_id == event_id))).first()


async def _at_least(items, n):
    return len(items) >= n
