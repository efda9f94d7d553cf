"""Issuing a paid order's tickets: one signed ticket per unit, once, whatever the broker does."""
import asyncio
import uuid

from sqlalchemy import func, select
from taquilla_devtools.testing import buyer, eventually
from tickets_service.adapters.tables import signing_keys, tickets
from tickets_service.domain.qr import InvalidTicket, verify_qr


async def ticket_rows(h, order_id: uuid.UUID) -> list:
    async with h.db() as uow:
        return (await uow.session.execute(
            select(tickets).where(tickets.c.order_id == order_id).order_by(tickets.c.position))).all()


async def issued(h, order_id: uuid.UUID, n: int):
    async def check():
        rows = await ticket_rows(h, order_id)
        return rows if len(rows) >= n else None
    return await eventually(check)


async def test_each_unit_gets_a_ticket_whose_qr_verifies_with_the_published_key(h, orders):
    tenant, holder_id = uuid.uuid4(), uuid.uuid4()
    listener = await h.listen("tickets.tickets.issued")
    command = orders.command(tenant, units=2, holder_id=holder_id)
    sent = orders.envelope(command, tenant)
    await h.publish(sent)

    message = await asyncio.wait_for(listener.get(), 15)
    assert message.tenant_id == tenant and message.causation_id == sent.id
    assert message.correlation_id == str(command.order_id)
    event = message.data
    assert event["order_id"] == str(command.order_id) and len(event["tickets"]) == 2
    assert [t["unit_id"] for t in event["tickets"]] == [str(u.unit_id) for u in command.units]

    keys = await orders.public_keys(tenant)
    assert list(keys) == [event["signing_key_id"]] and len(keys[event["signing_key_id"]]) == 32
    for ticket in event["tickets"]:
        claims = verify_qr(ticket["qr_payload"], keys, tenant_id=tenant)
        assert claims.ticket_id == uuid.UUID(ticket["ticket_id"])
        assert (claims.event_id, claims.session_id, claims.tenant_id) == (command.event_id, command.session_id,
                                                                          tenant)
    assert len({t["ticket_id"] for t in event["tickets"]}) == 2

    mine = await orders.tickets(buyer(holder_id), command.order_id)
    assert [t["id"] for t in mine] == [t["ticket_id"] for t in event["tickets"]]
    first = mine[0]
    assert first["status"] == "valid" and first["label"] == "GA-1" and first["zone_name"] == "General"
    assert (first["price_minor"], first["currency"], first["fiscal_number"]) == (2500, "USD", "A-00000042")
    assert first["holder"] == {"name": "Ana Pérez", "email": "ana@example.test", "user_id": str(holder_id)}
    assert (first["order_code"], first["event_title"]) == ("TQ-7K2M9", "Guaco en concierto")
    assert first["qr_payload"] == event["tickets"][0]["qr_payload"]


async def test_a_redelivered_command_issues_nothing_more_and_publishes_once(h, orders):
    tenant = uuid.uuid4()
    listener = await h.listen("tickets.tickets.issued")
    command = orders.command(tenant, units=2)
    sent = orders.envelope(command, tenant)
    await h.publish(sent)
    await h.publish(sent)
    await asyncio.wait_for(listener.get(), 15)
    first_ids = [row.id for row in await issued(h, command.order_id, 2)]

    # The saga re-sends the same step under a new message id (e.g. after its own restart).
    await h.publish(orders.envelope(command, tenant))
    await asyncio.sleep(1.5)
    assert [row.id for row in await ticket_rows(h, command.order_id)] == first_ids
    assert listener.empty(), "a repeated command published a second TicketsIssued"


async def test_the_same_order_delivered_concurrently_still_gets_one_set(h, orders):
    tenant = uuid.uuid4()
    listener = await h.listen("tickets.tickets.issued")
    command = orders.command(tenant, units=3)
    await asyncio.gather(*(h.publish(orders.envelope(command, tenant)) for _ in range(4)))
    await asyncio.wait_for(listener.get(), 20)
    await issued(h, command.order_id, 3)
    await asyncio.sleep(2.5)  # past the first retry delay, had any loser of the race been sent to retry
    assert len(await ticket_rows(h, command.order_id)) == 3
    assert listener.empty()


async def test_two_first_orders_of_an_organizer_at_once_share_one_signing_key(h, orders):
    tenant = uuid.uuid4()
    commands = [orders.command(tenant, units=1) for _ in range(6)]
    await asyncio.gather(*(h.publish(orders.envelope(c, tenant)) for c in commands))
    rows = [(await issued(h, c.order_id, 1))[0] for c in commands]
    assert len({row.signing_key_id for row in rows}) == 1
    async with h.db() as uow:
        count = (await uow.session.execute(
            select(func.count()).select_from(signing_keys).where(signing_keys.c.tenant_id == tenant))).scalar_one()
    assert count == 1
    keys = await orders.public_keys(tenant)
    assert all(verify_qr(row.qr_payload, keys).ticket_id == row.id for row in rows)


async def test_each_organizer_signs_with_its_own_key(h, orders):
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    our_order, their_order = orders.command(ours, units=1), orders.command(theirs, units=1)
    await h.publish(orders.envelope(our_order, ours))
    await h.publish(orders.envelope(their_order, theirs))
    (our_ticket,) = await issued(h, our_order.order_id, 1)
    (their_ticket,) = await issued(h, their_order.order_id, 1)
    our_keys, their_keys = await orders.public_keys(ours), await orders.public_keys(theirs)
    assert set(our_keys).isdisjoint(their_keys) and set(our_keys.values()).isdisjoint(their_keys.values())
    assert verify_qr(their_ticket.qr_payload, their_keys).tenant_id == theirs
    try:
        verify_qr(their_ticket.qr_payload, our_keys)
    except InvalidTicket:
        pass
    else:
        raise AssertionError("another organizer's ticket verified with our keys")
    # Their key presented under our key id does not make their ticket ours either.
    relabelled = {kid: next(iter(their_keys.values())) for kid in our_keys}
    assert verify_qr(our_ticket.qr_payload, our_keys, tenant_id=ours).ticket_id == our_ticket.id
    try:
        verify_qr(our_ticket.qr_payload, relabelled)
    except InvalidTicket:
        pass
    else:
        raise AssertionError("a ticket verified with another organizer's key")


async def test_a_unit_that_already_has_a_valid_ticket_is_parked_not_sold_twice(h, orders):
    tenant = uuid.uuid4()
    first = orders.command(tenant, units=2)
    await h.publish(orders.envelope(first, tenant))
    await issued(h, first.order_id, 2)
    double_sale = orders.command(tenant, unit_ids=[first.units[0].unit_id, uuid.uuid4()])
    sent = orders.envelope(double_sale, tenant)
    await h.publish(sent)

    dead = await h.channel.get_queue(h.topology.dead_queue("tickets"), ensure=False)

    async def parked():
        message = await dead.get(no_ack=True, fail=False)
        return message
    message = await eventually(parked)
    assert message.message_id == str(sent.id)
    assert "already has a valid ticket" in message.headers["x-taquilla-error"]
    assert await ticket_rows(h, double_sale.order_id) == []


async def test_tickets_are_invisible_outside_their_organizer_scope(h, orders):
    tenant, other = uuid.uuid4(), uuid.uuid4()
    command = orders.command(tenant, units=2)
    await h.publish(orders.envelope(command, tenant))
    await issued(h, command.order_id, 2)

    async def visible(uow) -> tuple[int, int]:
        session = uow.session
        return ((await session.execute(select(func.count()).select_from(tickets))).scalar_one(),
                (await session.execute(select(func.count()).select_from(signing_keys))).scalar_one())

    async with h.db(tenant) as uow:
        assert await visible(uow) == (2, 1)
    async with h.db(other) as uow:
        assert await visible(uow) == (0, 0)
    async with h.container.db.unit_of_work() as uow:  # no scope set at all: row-level security shows nothing
        assert await visible(uow) == (0, 0)
