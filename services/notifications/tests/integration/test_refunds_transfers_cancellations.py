"""Refunds, transfers, check-ins and event status changes reach the buyers concerned and the subscribed partners."""
import uuid
from datetime import UTC, datetime

from notifications_service.adapters.tables import messages as message_table
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, EventStatusChanged, SessionOnSale
from taquilla_contracts.orders import OrderCompleted, OrderRefunded
from taquilla_contracts.tickets import TicketCheckedIn, TicketTransferred
from taquilla_devtools.testing import eventually, staff

from .test_account_emails import all_sent, publish_twice, text_of
from .test_buyer_messages import mail_to
from .test_order_confirmation import order_completed
from .test_webhooks import _at_least, deliveries, harness, order_placed, subscribe


def address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def event_published(tenant, event_id) -> Envelope:
    return Envelope.wrap(EventPublished(
        event_id=event_id, slug="rock", title="Rock & Sol 2026", venue_name="Poliedro de Caracas",
        time_zone="America/Caracas", currency="USD", organizer_name="Producciones Ávila",
        sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC))],
        zones=[]), source="catalog", tenant_id=tenant)


def refund(tenant, order: OrderCompleted, amount: int, ticket_ids, *, full: bool, reason="buyer_request") -> Envelope:
    return Envelope.wrap(OrderRefunded(
        order_id=order.order_id, code=order.code, refund_id=uuid.uuid4(), event_id=order.event_id,
        event_title=order.event_title, buyer=order.buyer, amount_minor=amount, currency=order.currency,
        ticket_ids=list(ticket_ids), full=full, reason=reason), source="orders", tenant_id=tenant,
        correlation_id=str(order.order_id))


def status_changed(tenant, event_id, from_status, to_status, reason=None) -> Envelope:
    return Envelope.wrap(EventStatusChanged(event_id=event_id, from_status=from_status, to_status=to_status,
                                            reason=reason, changed_at=datetime.now(UTC)),
                         source="catalog", tenant_id=tenant)


async def templates_to(h, recipient: str) -> list[str]:
    async with h.db() as uow:
        return sorted((await uow.session.execute(select(message_table.c.template).where(
            message_table.c.recipient == recipient))).scalars())


async def settled(h, tenant, receiver, count: int, **params):
    """The webhooks queued (exactly `count`), all delivered; returns them."""
    async def done():
        listed = await deliveries(h, tenant, **params)
        return listed if len(listed) == count and all(d["status"] == "succeeded" for d in listed) else None
    listed = await eventually(done)
    await eventually(lambda: _at_least(receiver.received, count))
    return listed


async def test_each_refund_is_one_email_to_the_buyer_and_one_webhook_to_partners_who_asked(smtp_sink,
                                                                                           webhook_receiver):
    refunds_hook, checkins_hook = await webhook_receiver(), await webhook_receiver()
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        await subscribe(h, tenant, refunds_hook, types=["order.refunded"])
        await subscribe(h, tenant, checkins_hook, types=["ticket.checked_in"])
        ana = address("ana")
        prefs = await h.client.put(f"/api/v1/notifications/preferences/{ana}", headers=staff(tenant),
                                   json={"language": "en", "email_marketing": False})
        assert prefs.status_code == 200, prefs.text
        completed = order_completed(tenant, email=ana, name="Ana Pérez")
        order = completed.parse(OrderCompleted)
        await h.publish(completed)
        await eventually(lambda: all_sent(h, ana, 1))

        first = refund(tenant, order, 41152, [order.tickets[0].ticket_id], full=False)
        rest = refund(tenant, order, 82304, [t.ticket_id for t in order.tickets[1:]], full=True,
                      reason="event_cancelled")
        await publish_twice(h, first)  # a redelivered refund is not a second email nor a second webhook
        await h.publish(rest)
        await eventually(lambda: all_sent(h, ana, 3))

        refunded = {m["Subject"]: text_of(m) for m in mail_to(sink, ana) if m["Subject"].startswith("We refunded")}
        assert sorted(refunded) == [f"We refunded USD 411.52 (order {order.code})",
                                    f"We refunded USD 823.04 (order {order.code})"]
        assert "The refunded tickets (1) are no longer valid" in refunded[f"We refunded USD 411.52 (order {order.code})"]
        later = refunded[f"We refunded USD 823.04 (order {order.code})"]
        assert "The refunded tickets (2) are no longer valid" in later and "The event was cancelled" in later
        assert len(mail_to(sink, ana)) == 3

        listed = await settled(h, tenant, refunds_hook, 2, event_type="order.refunded")
        assert {d["webhook_id"] for d in listed} == {f"msg_{first.id}", f"msg_{rest.id}"}
        assert refunds_hook.invalid == 0 and len(refunds_hook.received) == 2
        bodies = {webhook_id: payload for webhook_id, payload in refunds_hook.received}
        assert bodies[f"msg_{first.id}"]["type"] == "order.refunded"
        assert bodies[f"msg_{first.id}"]["data"] == first.data and bodies[f"msg_{rest.id}"]["data"] == rest.data
        assert checkins_hook.received == [] and len(await deliveries(h, tenant)) == 2  # filters respected


async def test_a_transfer_emails_both_holders_and_partners_hear_of_transfers_and_check_ins(smtp_sink,
                                                                                          webhook_receiver):
    hook = await webhook_receiver()
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant, event_id = uuid.uuid4(), uuid.uuid4()
        await subscribe(h, tenant, hook, types=["ticket.transferred", "ticket.checked_in"])
        await h.publish(event_published(tenant, event_id))
        ana, luis, marta = address("ana"), address("luis"), address("marta")
        completed = order_completed(tenant, event_id=event_id, email=ana, name="Ana Pérez")
        order = completed.parse(OrderCompleted)
        await h.publish(completed)
        await eventually(lambda: all_sent(h, ana, 1))
        ticket = order.tickets[1]

        to_luis = Envelope.wrap(TicketTransferred(
            ticket_id=ticket.ticket_id, order_id=order.order_id, event_title=order.event_title, from_email=ana,
            to_email=luis, to_name="Luis Gómez", qr_payload="TQ1.luis.sig", transferred_at=datetime.now(UTC)),
            source="tickets", tenant_id=tenant, correlation_id=str(order.order_id))
        await publish_twice(h, to_luis)
        await eventually(lambda: all_sent(h, luis, 1))
        await eventually(lambda: all_sent(h, ana, 2))
        (received,) = mail_to(sink, luis)
        assert received["Subject"] == "Ana Pérez te transfirió una entrada para Rock & Sol 2026"
        body = text_of(received)
        assert "la entrada GA-2" in body and "TQ1.luis.sig" in body
        assert "sábado, 14 de marzo de 2026, 20:30 (America/Caracas), en Poliedro de Caracas" in body
        given = next(m for m in mail_to(sink, ana) if m["Subject"].startswith("Transferiste"))
        assert given["Subject"] == "Transferiste tu entrada GA-2 a Luis Gómez"
        assert "ya no es válido" in text_of(given)

        to_marta = Envelope.wrap(TicketTransferred(
            ticket_id=ticket.ticket_id, order_id=order.order_id, event_title=order.event_title, from_email=luis,
            to_email=marta, to_name="Marta Ruiz", qr_payload="TQ1.marta.sig", transferred_at=datetime.now(UTC)),
            source="tickets", tenant_id=tenant, correlation_id=str(order.order_id))
        await h.publish(to_marta)
        await eventually(lambda: all_sent(h, marta, 1))
        await eventually(lambda: all_sent(h, luis, 2))
        (passed_on,) = mail_to(sink, marta)
        assert passed_on["Subject"] == "Luis Gómez te transfirió una entrada para Rock & Sol 2026"
        assert "TQ1.marta.sig" in text_of(passed_on) and "TQ1.luis.sig" not in text_of(passed_on)
        assert len(mail_to(sink, ana)) == 2 and len(mail_to(sink, luis)) == 2

        checked_in = Envelope.wrap(TicketCheckedIn(
            ticket_id=ticket.ticket_id, order_id=order.order_id, event_id=event_id, list_id=uuid.uuid4(),
            door="Puerta Norte", direction="entry", mode="offline", scanned_at=datetime.now(UTC)),
            source="tickets", tenant_id=tenant)
        await publish_twice(h, checked_in)
        await h.publish(order_placed(tenant))  # not subscribed: no webhook
        await settled(h, tenant, hook, 3)
        assert hook.invalid == 0 and len(hook.received) == 3
        by_id = dict(hook.received)
        assert by_id[f"msg_{to_luis.id}"] == {"type": "ticket.transferred", "timestamp": to_luis.occurred_at.isoformat(),
                                              "data": to_luis.data}
        assert by_id[f"msg_{to_marta.id}"]["data"]["to_email"] == marta
        assert by_id[f"msg_{checked_in.id}"]["type"] == "ticket.checked_in"
        assert by_id[f"msg_{checked_in.id}"]["data"] == checked_in.data


async def test_a_cancelled_event_emails_the_buyers_it_knows_and_every_status_change_is_a_webhook(smtp_sink,
                                                                                                webhook_receiver):
    hook = await webhook_receiver()
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant, event_id, other_event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await subscribe(h, tenant, hook, types=["event.changed"])
        await h.publish(event_published(tenant, event_id))
        ana, bob, carla, eve = address("ana"), address("bob"), address("carla"), address("eve")
        bought = {who: order_completed(tenant, event_id=event_id, email=who, name=who.split("-")[0].title())
                  for who in (ana, bob, carla)}
        for envelope in bought.values():
            await h.publish(envelope)
        await h.publish(order_completed(tenant, event_id=other_event, email=eve, name="Eve"))
        placed = order_placed(tenant)  # never paid: nothing to cancel for this buyer
        placed.data["event_id"] = str(event_id)
        await h.publish(placed)
        for who in (ana, bob, carla, eve):
            await eventually(lambda who=who: all_sent(h, who, 1))
        carla_order = bought[carla].parse(OrderCompleted)
        await h.publish(refund(tenant, carla_order, carla_order.total_minor, [], full=True))
        await eventually(lambda: all_sent(h, carla, 2))

        sold_out = status_changed(tenant, event_id, "on_sale", "sold_out", "every zone sold")
        await h.publish(sold_out)
        cancelled = status_changed(tenant, event_id, "sold_out", "cancelled", "venue unavailable")
        await publish_twice(h, cancelled)
        await eventually(lambda: all_sent(h, ana, 2))
        await eventually(lambda: all_sent(h, bob, 2))

        for who in (ana, bob):
            order = bought[who].parse(OrderCompleted)
            (notice,) = [m for m in mail_to(sink, who) if "cancelado" in m["Subject"]]
            assert "Rock & Sol 2026" in notice["Subject"]
            assert order.code in text_of(notice) and "1.234,56 USD" in text_of(notice)
            assert len(mail_to(sink, who)) == 2
        # the cancellation emails are queued together: by now those there are, are all there are
        assert await templates_to(h, carla) == ["order_confirmation", "refund_issued"]  # refunded already
        assert await templates_to(h, eve) == ["order_confirmation"]  # another event
        assert await templates_to(h, "ana@example.com") == []  # the placed, unpaid order

        listed = await settled(h, tenant, hook, 2)
        assert {d["webhook_id"] for d in listed} == {f"msg_{sold_out.id}", f"msg_{cancelled.id}"}
        by_id = dict(hook.received)
        assert by_id[f"msg_{cancelled.id}"]["type"] == "event.changed"
        assert by_id[f"msg_{cancelled.id}"]["data"] == cancelled.data and by_id[f"msg_{sold_out.id}"]["data"] == sold_out.data
        assert hook.invalid == 0 and len(hook.received) == 2
