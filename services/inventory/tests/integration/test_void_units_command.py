"""Refunds reach inventory as `inventory.void_units`: sold units go back on sale, the waitlist first."""
import asyncio
import uuid

from inventory_service.application.void_hold import void_units_on_command
from prometheus_client import REGISTRY
from taquilla.inventory.v1 import inventory_pb2
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import VoidUnits
from taquilla_devtools.testing import eventually
from taquilla_messaging.consumer import ERROR_HEADER

from .conftest import inventory_service


def void_units(inventory, hold, *unit_ids: str, order_id: uuid.UUID | None = None) -> Envelope:
    order_id = order_id or inventory.owner_id
    command = VoidUnits(order_id=order_id, hold_id=uuid.UUID(hold.hold_id),
                        unit_ids=[uuid.UUID(u) for u in unit_ids], reason="refunded")
    return Envelope.wrap(command, source="orders", tenant_id=inventory.tenant_id, correlation_id=str(order_id))


def consumed(outcome: str) -> float:
    return REGISTRY.get_sample_value("taquilla_messages_consumed_total", {
        "service": "inventory", "type": "inventory.void_units", "outcome": outcome}) or 0.0


async def sold_hold(inventory, quantity: int, **options) -> inventory_pb2.HoldDetails:
    hold = await inventory.hold(quantity, **options)
    await inventory.confirm(hold.hold_id, owner_id=options.get("owner_id"))
    return hold


async def join(inventory, quantity: int) -> inventory_pb2.WaitlistEntry:
    return await inventory.stub.JoinWaitlist(inventory_pb2.JoinWaitlistRequest(
        entry_id=str(uuid.uuid4()), tenant_id=str(inventory.tenant_id), session_id=str(inventory.session_id),
        zone_id=str(inventory.ga), buyer_id=str(uuid.uuid4()), quantity=quantity,
        contact_email="carla@example.com"), timeout=10)


async def test_a_voided_unit_is_on_sale_again_and_a_second_delivery_changes_nothing(inventory):
    released = await inventory.h.listen("inventory.units.released")
    hold = await sold_hold(inventory, 3)
    assert ((await inventory.zone()).available, (await inventory.zone()).sold) == (22, 3)

    refund = void_units(inventory, hold, hold.units[0].unit_id)
    await inventory.h.publish(refund)
    event = await asyncio.wait_for(released.get(), 15)
    assert (event.data["zone_id"], event.data["quantity"], event.data["reason"]) == (str(inventory.ga), 1, "voided")
    assert event.correlation_id == str(inventory.owner_id) and event.causation_id == refund.id
    zone = await inventory.zone()
    assert (zone.available, zone.held, zone.sold) == (23, 0, 2)

    await inventory.h.publish(refund)  # the broker redelivers
    await inventory.h.publish(void_units(inventory, hold, hold.units[0].unit_id))  # orders asks again
    await asyncio.sleep(1.5)
    assert released.empty(), "a repeated void released the unit twice"
    zone = await inventory.zone()
    assert (zone.available, zone.held, zone.sold) == (23, 0, 2)

    resold = await inventory.hold(1)
    assert resold.units[0].unit_id == hold.units[0].unit_id, "the voided unit was not sold again"


async def test_a_void_that_overtakes_the_confirm_is_applied_once_the_hold_is_sold(inventory):
    hold = await inventory.hold(2)
    retried = consumed("retried")
    await inventory.h.publish(void_units(inventory, hold, hold.units[1].unit_id))

    async def tried_and_deferred():
        return consumed("retried") > retried
    await eventually(tried_and_deferred)
    assert ((await inventory.zone()).held, (await inventory.zone()).sold) == (2, 0)
    await inventory.confirm(hold.hold_id)

    async def voided():
        zone = await inventory.zone()
        return (zone.available, zone.held, zone.sold) == (24, 0, 1)
    await eventually(voided, timeout=30)


async def test_a_voided_seat_shows_available_on_the_seat_map():
    async with inventory_service(seat_rows=["....", "...."]) as hall:
        hold = await hall.hold_seats("PLA-A2", "PLA-A3")
        await hall.confirm(hold.hold_id)
        a2 = next(u.unit_id for u in hold.units if u.label == "PLA-A2")
        await hall.h.publish(void_units(hall, hold, a2))

        async def seats():
            answer = await hall.stub.GetAvailability(inventory_pb2.GetAvailabilityRequest(
                tenant_id=str(hall.tenant_id), session_id=str(hall.session_id), include_seats=True), timeout=10)
            found = {s.label: s.status for s in answer.seats}
            return found if found["PLA-A2"] == inventory_pb2.SEAT_STATUS_AVAILABLE else None
        found = await eventually(seats)
        assert found["PLA-A3"] == inventory_pb2.SEAT_STATUS_SOLD
        assert (await hall.seat_statuses())["PLA-A2"] == "available"
        again = await hall.hold_seats("PLA-A2")
        assert again.units[0].unit_id == a2


async def test_a_waitlisted_buyer_is_offered_the_voided_unit():
    async with inventory_service(ga_capacity=4) as hall:
        offers = await hall.h.listen("inventory.waitlist.offered")
        hold = await sold_hold(hall, 4)
        carla = await join(hall, 1)
        await hall.h.publish(void_units(hall, hold, hold.units[2].unit_id))

        offer = await asyncio.wait_for(offers.get(), 15)
        assert offer.data["entry_id"] == carla.entry_id
        assert [u["unit_id"] for u in offer.data["units"]] == [hold.units[2].unit_id]
        entry = await hall.stub.GetWaitlistEntry(inventory_pb2.WaitlistEntryRequest(
            entry_id=carla.entry_id, tenant_id=str(hall.tenant_id)), timeout=10)
        assert (entry.status, entry.offer_hold_id) == (inventory_pb2.WAITLIST_STATUS_OFFERED, offer.data["hold_id"])
        zone = await hall.zone()
        assert (zone.available, zone.held, zone.sold) == (0, 1, 3)


async def test_the_void_itself_offers_the_unit_to_the_waitlist_before_anyone_else_can_hold_it():
    async with inventory_service(ga_capacity=2, worker=False) as hall:  # no waitlist job running
        hold = await sold_hold(hall, 2)
        carla = await join(hall, 1)
        refund = void_units(hall, hold, hold.units[0].unit_id)
        async with hall.h.db(hall.tenant_id) as uow:
            await void_units_on_command(uow, refund, refund.parse(VoidUnits), offer_ttl_seconds=600,
                                        max_ttl_seconds=3600)
            await uow.commit()

        zone = await hall.zone()
        assert (zone.available, zone.held, zone.sold) == (0, 1, 1), "the voided unit was free for anyone"
        entry = await hall.stub.GetWaitlistEntry(inventory_pb2.WaitlistEntryRequest(
            entry_id=carla.entry_id, tenant_id=str(hall.tenant_id)), timeout=10)
        assert entry.status == inventory_pb2.WAITLIST_STATUS_OFFERED


async def test_units_of_another_hold_or_order_are_refused_and_parked(inventory):
    mine = await sold_hold(inventory, 2)
    other_order = uuid.uuid4()
    theirs = await sold_hold(inventory, 1, owner_id=other_order)
    refused = [
        ("has no unit", void_units(inventory, mine, theirs.units[0].unit_id)),  # a unit of another hold
        ("has no unit", void_units(inventory, mine, str(uuid.uuid4()))),  # a unit nobody knows
        ("belongs to another owner", void_units(inventory, theirs, theirs.units[0].unit_id)),
        ("no hold", void_units(inventory, inventory_pb2.HoldDetails(hold_id=str(uuid.uuid4())))),
    ]
    retried = consumed("retried")
    for _, envelope in refused:
        await inventory.h.publish(envelope)

    dead = await inventory.h.channel.get_queue(inventory.h.topology.dead_queue("inventory"), ensure=False)
    parked: dict[str, str] = {}

    async def collect():
        message = await dead.get(no_ack=True, fail=False)
        if message is not None:
            parked[message.message_id] = message.headers[ERROR_HEADER]
        return len(parked) >= len(refused)
    await eventually(collect, timeout=30)
    for expected, envelope in refused:
        assert expected in parked[str(envelope.id)], parked[str(envelope.id)]
    assert consumed("retried") == retried, "a void that can never succeed was retried"
    zone = await inventory.zone()
    assert (zone.available, zone.sold) == (22, 3), "a refused void changed what is on sale"
