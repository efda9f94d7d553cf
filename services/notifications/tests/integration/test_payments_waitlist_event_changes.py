"""Payments buyers waited for, waitlist offers and event changes reach the people concerned, once each."""
import uuid
from datetime import UTC, datetime, timedelta

from notifications_service.adapters.tables import messages as message_table
from notifications_service.adapters.tables import orders as order_table
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.inventory import SoldUnit, WaitlistOffered
from taquilla_contracts.orders import OrderCancelled, OrderCompleted, OrderPlaced
from taquilla_contracts.payments import PaymentCaptured
from taquilla_devtools.testing import eventually

from .test_account_emails import all_sent, consumed, publish_twice, rows_to, text_of
from .test_buyer_messages import mail_to
from .test_order_confirmation import order_completed
from .test_refunds_transfers_cancellations import address, refund
from .test_webhooks import harness

STOREFRONT = {"NOTIFICATIONS_STOREFRONT_URL": "https://shop.example.com/"}
MARCH_14 = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)  # 20:30 in Caracas
MARCH_21 = datetime(2026, 3, 22, 0, 30, tzinfo=UTC)
APRIL_1 = datetime(2026, 4, 2, 0, 0, tzinfo=UTC)


async def handled(h, envelope: Envelope) -> None:
    """Publish and return once the service has handled (and committed) it."""
    before = consumed(envelope.type, "handled")
    await h.publish(envelope)

    async def done():
        return consumed(envelope.type, "handled") > before
    await eventually(done)


def placed(tenant, email: str, *, event_id=None, session_id=None, ago: timedelta = timedelta(0)) -> Envelope:
    order = OrderPlaced(
        order_id=uuid.uuid4(), code=f"TQ-{uuid.uuid4().hex[:6].upper()}", event_id=event_id or uuid.uuid4(),
        session_id=session_id or uuid.uuid4(), buyer=Buyer(email=email, name="Ana Pérez"),
        lines=[OrderLine(zone_id=uuid.uuid4(), zone_name="Pista", quantity=2, unit_price_minor=61728)],
        total_minor=123456, currency="USD", hold_expires_at=datetime.now(UTC) + timedelta(minutes=30))
    envelope = Envelope.wrap(order, source="orders", tenant_id=tenant, correlation_id=str(order.order_id))
    return envelope.model_copy(update={"occurred_at": datetime.now(UTC) - ago})


def captured(tenant, order: Envelope, method: str, *, provider: str = "manual") -> Envelope:
    return Envelope.wrap(PaymentCaptured(
        payment_id=uuid.uuid4(), order_id=order.data["order_id"], amount_minor=123456, currency="USD", method=method,
        provider=provider, provider_reference=f"ref-{uuid.uuid4().hex[:8]}", captured_at=datetime.now(UTC)),
        source="payments", tenant_id=tenant, correlation_id=order.data["order_id"])


def published(tenant, event_id, sessions: dict, *, venue="Poliedro de Caracas", zones=None,
              at: datetime | None = None) -> Envelope:
    envelope = Envelope.wrap(EventPublished(
        event_id=event_id, slug="rock", title="Rock & Sol 2026", venue_name=venue, time_zone="America/Caracas",
        currency="USD", organizer_name="Producciones Ávila",
        sessions=[SessionOnSale(session_id=sid, starts_at=start) for sid, start in sessions.items()],
        zones=[ZoneOnSale(zone_id=zid, name=name, kind="general", capacity=100, price_minor=61728, currency="USD")
               for zid, name in (zones or {}).items()]), source="catalog", tenant_id=tenant)
    return envelope.model_copy(update={"occurred_at": at}) if at else envelope


def offered(tenant, session_id, zone_id, email: str | None, *, hold_id=None) -> Envelope:
    entry = uuid.uuid4()
    return Envelope.wrap(WaitlistOffered(
        entry_id=entry, session_id=session_id, zone_id=zone_id, buyer_id=uuid.uuid4(), contact_email=email,
        quantity=2, hold_id=hold_id or uuid.uuid4(), expires_at=datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
        units=[SoldUnit(unit_id=uuid.uuid4(), zone_id=zone_id, label=f"PLA-{i}") for i in (12, 13)]),
        source="inventory", tenant_id=tenant, correlation_id=str(entry))


async def test_a_payment_the_buyer_waited_for_is_acknowledged_once_and_an_instant_card_payment_is_not(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        ana, bob, carla, dani, eva = (address(n) for n in ("ana", "bob", "carla", "dani", "eva"))
        by_pagomovil = placed(tenant, ana)
        await handled(h, by_pagomovil)
        paid = captured(tenant, by_pagomovil, "pagomovil")
        await publish_twice(h, paid)  # a redelivered capture is not a second email
        rows = await eventually(lambda: all_sent(h, ana, 1))
        (mail,) = mail_to(sink, ana)
        code = by_pagomovil.data["code"]
        assert mail["Subject"] == f"Recibimos tu pago de 1.234,56 USD (pedido {code})"
        assert "Recibimos tu pago de 1.234,56 USD por Pago Móvil" in text_of(mail)
        assert "tus entradas llegan en un correo aparte" in text_of(mail)
        assert rows[0].template == "payment_received" and rows[0].reference == paid.data["payment_id"]

        by_card = placed(tenant, bob)  # captured seconds after placing: the confirmation says it all
        await handled(h, by_card)
        await handled(h, captured(tenant, by_card, "card", provider="stripe"))
        assert await rows_to(h, bob) == []

        card_settled_late = placed(tenant, carla, ago=timedelta(minutes=40))
        await handled(h, card_settled_late)
        await h.publish(captured(tenant, card_settled_late, "card", provider="stripe"))
        await eventually(lambda: all_sent(h, carla, 1))
        assert "Recibimos tu pago de 1.234,56 USD con tarjeta" in text_of(mail_to(sink, carla)[0])

        cancelled_first = placed(tenant, dani)  # the hold expired before the transfer was checked
        await handled(h, cancelled_first)
        await handled(h, Envelope.wrap(OrderCancelled(order_id=cancelled_first.data["order_id"],
                                                      code=cancelled_first.data["code"], reason="hold_expired"),
                                       source="orders", tenant_id=tenant))
        await eventually(lambda: all_sent(h, dani, 1))  # the cancellation
        await handled(h, captured(tenant, cancelled_first, "bank_transfer"))
        assert [r.template for r in await rows_to(h, dani)] == ["order_cancelled"]

        ahead = placed(tenant, eva)  # the capture arrives before the order: retried, then written
        retried_before = consumed("payments.payment.captured", "retried")
        await h.publish(captured(tenant, ahead, "cash"))

        async def retried():
            return consumed("payments.payment.captured", "retried") > retried_before
        await eventually(retried)
        assert await rows_to(h, eva) == []
        await h.publish(ahead)
        await eventually(lambda: all_sent(h, eva, 1))
        assert "Recibimos tu pago de 1.234,56 USD en efectivo" in text_of(mail_to(sink, eva)[0])
        assert len(mail_to(sink, ana)) == 1 and len(mail_to(sink, carla)) == 1 and len(mail_to(sink, eva)) == 1


def part(tenant, order: Envelope, method: str, amount_minor: int, *, ago: timedelta = timedelta(0)) -> Envelope:
    return Envelope.wrap(PaymentCaptured(
        payment_id=uuid.uuid4(), order_id=order.data["order_id"], amount_minor=amount_minor, currency="USD",
        method=method, provider="manual", provider_reference=f"ref-{uuid.uuid4().hex[:8]}",
        captured_at=datetime.now(UTC) - ago), source="payments", tenant_id=tenant, correlation_id=order.data["order_id"])


async def test_each_receipt_of_an_order_paid_in_parts_says_what_is_left_after_every_part_so_far(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        ana = address("ana-parts")
        order = placed(tenant, ana)  # 1.234,56 USD
        await handled(h, order)
        deposit = part(tenant, order, "pagomovil", 50000, ago=timedelta(minutes=2))
        await handled(h, deposit)
        await eventually(lambda: all_sent(h, ana, 1))
        assert "Queda por pagar 734,56 USD." in text_of(mail_to(sink, ana)[0])

        second = part(tenant, order, "bank_transfer", 30000, ago=timedelta(minutes=1))
        await publish_twice(h, second)
        # the same payment announced again in a message of its own: neither a second email nor counted twice
        await handled(h, Envelope.wrap(PaymentCaptured.model_validate(second.data), source="payments",
                                       tenant_id=tenant, correlation_id=order.data["order_id"]))
        await eventually(lambda: all_sent(h, ana, 2))
        assert "Queda por pagar 434,56 USD." in text_of(mail_to(sink, ana)[1])

        await handled(h, part(tenant, order, "cash", 43456))
        await eventually(lambda: all_sent(h, ana, 3))
        last = text_of(mail_to(sink, ana)[2])
        assert "Recibimos tu pago de 434,56 USD en efectivo" in last and "pagado por completo" in last
        assert "Queda por pagar" not in last


async def test_a_waitlist_offer_says_until_when_in_the_events_time_zone_and_is_sent_once(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink, **STOREFRONT) as h:
        tenant, event_id, session_id, zone_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await handled(h, published(tenant, event_id, {session_id: MARCH_14}, zones={zone_id: "Pista"}))
        ana, bob = address("ana"), address("bob")

        offer = offered(tenant, session_id, zone_id, ana)
        await publish_twice(h, offer)
        again = offered(tenant, session_id, zone_id, ana, hold_id=uuid.UUID(offer.data["hold_id"]))
        await handled(h, again)  # the same offer (its hold) announced again under another message id
        await eventually(lambda: all_sent(h, ana, 1))
        (mail,) = mail_to(sink, ana)
        body = text_of(mail)
        assert mail["Subject"] == "¡Hay entradas para Rock & Sol 2026! Reserva antes de que expire la oferta"
        assert ("Se liberaron 2 entrada(s) en Pista para Rock & Sol 2026 (sábado, 14 de marzo de 2026, 20:30 "
                "(America/Caracas))") in body
        assert "Te las guardamos hasta el martes, 10 de marzo de 2026, 12:00 (America/Caracas)" in body
        assert f"https://shop.example.com/waitlist/{offer.data['entry_id']}" in body

        elsewhere = offered(tenant, uuid.uuid4(), zone_id, bob)  # a session notifications never heard of
        await h.publish(elsewhere)
        await eventually(lambda: all_sent(h, bob, 1))
        assert "Te las guardamos hasta el martes, 10 de marzo de 2026, 16:00 (UTC)" in text_of(mail_to(sink, bob)[0])

        await handled(h, offered(tenant, session_id, zone_id, None))  # no address: logged, nothing queued
        await handled(h, offered(tenant, session_id, zone_id, "  "))
        async with h.db() as uow:
            assert sorted((await uow.session.execute(select(message_table.c.recipient).where(
                message_table.c.tenant_id == tenant))).scalars()) == sorted([ana, bob])
        assert len(mail_to(sink, ana)) == 1


async def test_buyers_hear_when_their_session_moves_or_the_venue_changes_and_not_otherwise(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant, event_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        ana, bob, carla = address("ana"), address("bob"), address("carla")
        ana_order = order_completed(tenant, event_id=event_id, email=ana, name="Ana")  # seen only completed
        await handled(h, ana_order)
        await eventually(lambda: all_sent(h, ana, 1))
        opening = published(tenant, event_id, {first: MARCH_14, second: MARCH_21})
        await handled(h, opening)  # the first publication: nothing changed for anyone

        bob_placed = placed(tenant, bob, event_id=event_id, session_id=second)
        await handled(h, bob_placed)
        bob_done = order_completed(tenant, event_id=event_id, email=bob, name="Bob",
                                   order_id=uuid.UUID(bob_placed.data["order_id"]))
        bob_done.data["session_starts_at"] = MARCH_21.isoformat()
        await handled(h, bob_done)
        carla_done = order_completed(tenant, event_id=event_id, email=carla, name="Carla")
        await handled(h, carla_done)
        carla_order = carla_done.parse(OrderCompleted)
        await handled(h, refund(tenant, carla_order, carla_order.total_minor, [], full=True))
        for who in (bob, carla):
            await eventually(lambda who=who: all_sent(h, who, 1 if who == bob else 2))

        more_dates = published(tenant, event_id, {first: MARCH_14, second: MARCH_21, uuid.uuid4(): APRIL_1})
        await handled(h, more_dates)  # a session added: no buyer's date changed
        moved = published(tenant, event_id, {first: APRIL_1, second: MARCH_21})
        await publish_twice(h, moved)
        await eventually(lambda: all_sent(h, ana, 2))
        (notice,) = [m for m in mail_to(sink, ana) if m["Subject"] == "Cambios en Rock & Sol 2026"]
        body = text_of(notice)
        assert ("- Fecha: sábado, 14 de marzo de 2026, 20:30 (America/Caracas) → miércoles, 1 de abril de 2026, "
                "20:00 (America/Caracas)") in body
        assert "Lugar:" not in body and ana_order.data["code"] in body
        async with h.db() as uow:  # the reminder follows the new date
            assert (await uow.session.execute(select(order_table.c.session_starts_at).where(
                order_table.c.order_id == uuid.UUID(ana_order.data["order_id"])))).scalar_one() == APRIL_1

        new_venue = published(tenant, event_id, {first: APRIL_1, second: MARCH_21}, venue="Estadio Monumental")
        await handled(h, new_venue)
        await eventually(lambda: all_sent(h, ana, 3))
        await eventually(lambda: all_sent(h, bob, 2))
        bob_notice = text_of(mail_to(sink, bob)[-1])
        assert "- Lugar: Poliedro de Caracas → Estadio Monumental" in bob_notice and "Fecha:" not in bob_notice
        assert "Ahora es el sábado, 21 de marzo de 2026, 20:30 (America/Caracas), en Estadio Monumental" in bob_notice

        late_copy = published(tenant, event_id, {first: MARCH_14, second: MARCH_21},
                              at=opening.occurred_at)  # delivered late: older than what is kept
        await handled(h, late_copy)
        await handled(h, published(tenant, event_id, {first: APRIL_1, second: MARCH_21}, venue="Estadio Monumental"))
        await eventually(lambda: all_sent(h, ana, 3))
        assert len(mail_to(sink, ana)) == 3 and len(mail_to(sink, bob)) == 2
        assert sorted(r.template for r in await rows_to(h, carla)) == ["order_confirmation", "refund_issued"]
        assert sorted(r.template for r in await rows_to(h, bob)) == ["event_changed", "order_confirmation"]
