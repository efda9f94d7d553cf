"""What inventory reads and writes agrees with the golden samples in libs/contracts."""
import asyncio
import json
import uuid
from pathlib import Path

import taquilla_contracts
from inventory_service.adapters.tables import bus, units
from inventory_service.application.confirm_hold import confirm_hold, confirm_hold_on_command
from inventory_service.application.expire_holds import expire_due_holds
from inventory_service.application.hold_units import hold_units_for_buyer
from inventory_service.application.queries import session_availability
from inventory_service.application.record_published_event import record_published_event
from inventory_service.application.record_seat_map import record_published_seat_map
from inventory_service.application.release_hold import release_hold
from inventory_service.application.waitlist import join_waitlist, offer_released_units
from inventory_service.domain.holds import HoldRequest
from inventory_service.entrypoints.messaging.subscriptions import subscriptions
from sqlalchemy import select
from taquilla_contracts import Envelope, message_class
from taquilla_contracts.catalog import EventPublished, SeatMapPublished, SessionOnSale, ZoneOnSale
from taquilla_contracts.inventory import ConfirmHold, WaitlistOffered
from taquilla_devtools.testing import service_harness

SAMPLES = Path(taquilla_contracts.__file__).resolve().parents[2] / "samples"
CONSUMED = ("catalog.event.published.v1", "catalog.seat_map.published.v1", "inventory.confirm_hold.v1",
            "inventory.release_hold.v1", "inventory.void_units.v1")
PRODUCED = ("inventory.hold.confirmed.v1", "inventory.hold.confirm_rejected.v1", "inventory.hold.expired.v1",
            "inventory.units.released.v1")


def sample(name: str) -> Envelope:
    return Envelope.model_validate(json.loads((SAMPLES / f"{name}.json").read_text()))


def test_every_consumed_sample_has_a_handler_that_can_read_it():
    subs = subscriptions(None)
    for name in CONSUMED:
        golden = sample(name)
        handled = subs.by_type[(golden.type, golden.version)]
        assert handled.model.model_validate(golden.data).model_dump(mode="json") == golden.data


async def test_what_inventory_publishes_has_the_sample_shape():
    golden_event = sample("catalog.event.published.v1")
    event = golden_event.parse(EventPublished)
    tenant_id, session_id, zone_id = golden_event.tenant_id, event.sessions[0].session_id, event.zones[0].zone_id
    owner_id = uuid.uuid4()
    async with service_harness("inventory", name="contract", worker=False) as h:
        async with h.db(tenant_id) as uow:  # the consumer's own handler, on the golden sample
            await record_published_event(uow, golden_event, event)
            await uow.commit()

        def request(ttl: int) -> HoldRequest:
            return HoldRequest(uuid.uuid4(), session_id, zone_id, 2, owner_id, None, ttl)

        async with h.db(tenant_id) as uow:
            sold, freed, lapsing = request(300), request(300), request(1)
            for hold in (sold, freed, lapsing):
                await hold_units_for_buyer(uow.session, tenant_id, hold, max_ttl_seconds=3600)
            await confirm_hold(uow.session, tenant_id, sold.hold_id, owner_id)
            await release_hold(uow.session, tenant_id, freed.hold_id, owner_id, "payment failed")
            command = Envelope.wrap(ConfirmHold(hold_id=uuid.uuid4(), order_id=owner_id), source="orders",
                                    tenant_id=tenant_id)
            await confirm_hold_on_command(uow, command, command.parse(ConfirmHold))
            availability = await session_availability(uow.session, session_id)
            await uow.commit()
        assert [(z.capacity, z.available) for z in availability.zones] == [(500, 496), (500, 500)]
        await asyncio.sleep(1.1)
        assert await expire_due_holds(h.container.db, batch_size=10) == 1

        async with h.db() as uow:
            produced = [Envelope.model_validate(row) for row in (await uow.session.execute(
                select(bus.outbox.c.envelope).order_by(bus.outbox.c.id))).scalars()]
    by_type = {}
    for envelope in produced:
        by_type.setdefault(f"{envelope.type}.v{envelope.version}", []).append(envelope)
    assert sorted(by_type) == sorted(PRODUCED)
    for name, envelopes in by_type.items():
        golden = sample(name)
        for envelope in envelopes:
            assert (envelope.type, envelope.version, envelope.kind, envelope.source) == (
                golden.type, golden.version, golden.kind, golden.source)
            assert set(envelope.data) == set(golden.data)
            model = message_class(envelope.type, envelope.version)
            assert envelope.parse(model).model_dump(mode="json") == envelope.data
            assert envelope.tenant_id == tenant_id and envelope.correlation_id == str(owner_id)
    assert len(by_type["inventory.units.released.v1"]) == 2  # one on release, one on expiry


async def test_the_golden_seat_map_becomes_seats_and_a_waitlist_offer_has_the_sample_shape():
    golden_map = sample("catalog.seat_map.published.v1")
    seat_map = golden_map.parse(SeatMapPublished)
    golden_event = sample("catalog.event.published.v1")
    event = golden_event.parse(EventPublished)
    numbered = ZoneOnSale(zone_id=seat_map.zone_id, name=seat_map.zone_name, kind="numbered",
                          capacity=len(seat_map.seats), price_minor=5000, currency="USD")
    event = event.model_copy(update={
        "event_id": seat_map.event_id, "zones": [numbered],
        "sessions": [SessionOnSale(session_id=s, starts_at=event.sessions[0].starts_at) for s in seat_map.session_ids]})
    tenant_id = golden_map.tenant_id
    async with service_harness("inventory", name="contract", worker=False) as h:
        async with h.db(tenant_id) as uow:
            await record_published_event(uow, golden_event, event)
            await record_published_seat_map(uow, golden_map, seat_map)
            entry = await join_waitlist(uow.session, tenant_id, uuid.uuid4(), seat_map.session_ids[0],
                                        seat_map.zone_id, uuid.uuid4(), 1, "ana.perez@example.com")
            await uow.commit()
        async with h.db(tenant_id) as uow:
            seats = (await uow.session.execute(select(units.c.label, units.c.status, units.c.row_label)
                                               .where(units.c.session_id == seat_map.session_ids[0])
                                               .order_by(units.c.position))).all()
        assert [tuple(s) for s in seats] == [("PLA-2", "available", "A"), ("M1-1", "blocked", "M1")]
        assert await offer_released_units(h.container.db, offer_ttl_seconds=60, max_ttl_seconds=3600) == 1
        async with h.db() as uow:
            produced = [Envelope.model_validate(row) for row in (await uow.session.execute(
                select(bus.outbox.c.envelope).where(bus.outbox.c.routing_key == "inventory.waitlist.offered")))
                .scalars()]
    golden = sample("inventory.waitlist.offered.v1")
    assert len(produced) == 1
    offered = produced[0]
    assert (offered.type, offered.version, offered.kind, offered.source) == (
        golden.type, golden.version, golden.kind, golden.source)
    assert set(offered.data) == set(golden.data)
    assert offered.parse(WaitlistOffered).model_dump(mode="json") == offered.data
    assert offered.data["entry_id"] == str(entry.entry_id) and offered.data["units"][0]["label"] == "PLA-2"
