"""Waitlists: order of arrival, positions, offers of released units, and offers that lapse."""
import asyncio
import uuid

import grpc
import pytest
from taquilla.inventory.v1 import inventory_pb2
from taquilla_devtools.testing import eventually

from .conftest import inventory_service

OFFER_SECONDS = 2


@pytest.fixture
async def small_hall():
    async with inventory_service(ga_capacity=4, env={"INVENTORY_WAITLIST_OFFER_TTL_SECONDS": str(OFFER_SECONDS)}) \
            as service:
        yield service


async def join(inventory, quantity: int, *, entry_id=None, buyer_id=None) -> inventory_pb2.WaitlistEntry:
    return await inventory.stub.JoinWaitlist(inventory_pb2.JoinWaitlistRequest(
        entry_id=str(entry_id or uuid.uuid4()), tenant_id=str(inventory.tenant_id),
        session_id=str(inventory.session_id), zone_id=str(inventory.ga), buyer_id=str(buyer_id or uuid.uuid4()),
        quantity=quantity, contact_email="ana.perez@example.com"), timeout=10)


async def entry(inventory, joined: inventory_pb2.WaitlistEntry) -> inventory_pb2.WaitlistEntry:
    return await inventory.stub.GetWaitlistEntry(inventory_pb2.WaitlistEntryRequest(
        entry_id=joined.entry_id, tenant_id=str(inventory.tenant_id)), timeout=10)


async def test_released_units_go_to_the_waitlist_in_order_and_a_lapsed_offer_passes_on(small_hall):
    hall = small_hall
    offers = await hall.h.listen("inventory.waitlist.offered")
    owner = uuid.uuid4()
    everything = await hall.hold(4, owner_id=owner)

    ana_buyer = uuid.uuid4()
    ana = await join(hall, 2, buyer_id=ana_buyer)
    beto_buyer = uuid.uuid4()
    beto = await join(hall, 1, buyer_id=beto_buyer)
    carla = await join(hall, 3)
    assert [e.position for e in (ana, beto, carla)] == [1, 2, 3]
    again = await join(hall, 2, entry_id=uuid.UUID(ana.entry_id), buyer_id=ana_buyer)
    assert (again.entry_id, again.position) == (ana.entry_id, 1)
    try:
        await join(hall, 1, buyer_id=ana_buyer)
        raise AssertionError("a buyer joined the same waitlist twice")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), hall.reason(refused)) == (grpc.StatusCode.ALREADY_EXISTS, "already_waiting")

    left = await hall.stub.LeaveWaitlist(inventory_pb2.WaitlistEntryRequest(
        entry_id=beto.entry_id, tenant_id=str(hall.tenant_id), buyer_id=str(beto_buyer)), timeout=10)
    assert left.status == inventory_pb2.WAITLIST_STATUS_LEFT
    assert (await entry(hall, carla)).position == 2

    await hall.stub.Release(inventory_pb2.ReleaseRequest(
        hold_id=everything.hold_id, tenant_id=str(hall.tenant_id), owner_id=str(owner), reason="gave up"),
        timeout=10)
    offer = await asyncio.wait_for(offers.get(), 15)
    assert (offer.data["entry_id"], offer.data["quantity"], len(offer.data["units"])) == (ana.entry_id, 2, 2)
    assert offer.data["contact_email"] == "ana.perez@example.com"
    ana_now = await entry(hall, ana)
    assert ana_now.status == inventory_pb2.WAITLIST_STATUS_OFFERED and ana_now.offer_hold_id == offer.data["hold_id"]
    zone = await hall.zone()
    assert (zone.available, zone.held) == (2, 2), "the offer holds Ana's units"
    assert (await entry(hall, carla)).status == inventory_pb2.WAITLIST_STATUS_WAITING, \
        "Carla's group of 3 does not fit in the 2 left and nobody behind her was offered them"

    carla_offer = await asyncio.wait_for(offers.get(), 20)  # Ana lets her offer lapse
    assert (carla_offer.data["entry_id"], carla_offer.data["quantity"]) == (carla.entry_id, 3)
    assert (await entry(hall, ana)).status == inventory_pb2.WAITLIST_STATUS_LAPSED
    assert (await entry(hall, carla)).status == inventory_pb2.WAITLIST_STATUS_OFFERED


async def test_an_accepted_offer_is_confirmed_by_its_entry_and_unknown_entries_are_refused(small_hall):
    hall = small_hall
    offers = await hall.h.listen("inventory.waitlist.offered")
    owner = uuid.uuid4()
    everything = await hall.hold(4, owner_id=owner)
    waiting = await join(hall, 1)
    await hall.stub.Release(inventory_pb2.ReleaseRequest(
        hold_id=everything.hold_id, tenant_id=str(hall.tenant_id), owner_id=str(owner)), timeout=10)
    offer = await asyncio.wait_for(offers.get(), 15)
    await hall.confirm(offer.data["hold_id"], owner_id=uuid.UUID(waiting.entry_id))

    async def accepted():
        return (await entry(hall, waiting)).status == inventory_pb2.WAITLIST_STATUS_ACCEPTED or None
    await eventually(accepted)
    assert (await hall.zone()).sold == 1
    try:
        await hall.stub.GetWaitlistEntry(inventory_pb2.WaitlistEntryRequest(
            entry_id=str(uuid.uuid4()), tenant_id=str(hall.tenant_id)), timeout=10)
        raise AssertionError("an unknown entry was found")
    except grpc.aio.AioRpcError as refused:
        assert (refused.code(), hall.reason(refused)) == (grpc.StatusCode.NOT_FOUND, "unknown_waitlist_entry")
