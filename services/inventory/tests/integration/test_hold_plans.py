"""The gRPC process keeps one plan per hold statement from the moment its connections open, which in a
deployment is before any event is on sale. Once an event's units go in, those plans must be made again
for the table as it now is: a plan made for an empty table locked the chosen seats of a best-available
hold by reading every free unit of the organizer (24 ms a hold in the flash sale, growing with the venue)."""
import json
import uuid

from inventory_service.adapters.hold_connections import HoldConnections
from inventory_service.application.hold_units import HOLD_CHOICE, prepare_statements
from inventory_service.application.record_published_event import record_event
from inventory_service.application.record_seat_map import record_seat_map
from taquilla_contracts import Envelope
from taquilla_devtools.testing import service_harness

from .conftest import event_published, seat_map_of

ROWS = ["." * 50] * 40  # 2,000 seats


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "ARRAY[" + ",".join(f"'{v}'" for v in value) + "]::uuid[]"
    if isinstance(value, int | float):
        return str(value)
    return f"'{value}'"


def _scans(plan: dict) -> list[tuple[str, str, str]]:
    """(index, condition, filter) of every index scan in a JSON plan."""
    found = []
    if "Index Name" in plan:
        found.append((plan["Index Name"], plan.get("Index Cond", ""), plan.get("Filter", "")))
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


async def test_a_best_available_hold_locks_its_seats_by_id_once_the_units_are_in():
    async with service_harness("inventory", worker=False) as h:
        holds = await HoldConnections.open(h.container.settings.db.url, 1, prepare_statements)  # tables empty
        try:
            tenant_id, event = uuid.uuid4(), event_published(ga_capacity=3000, seat_rows=ROWS)
            seat_map = seat_map_of(event, event.zones[2], ROWS)
            envelope = Envelope.wrap(event, source="catalog", tenant_id=tenant_id)
            async with h.db(tenant_id) as uow:  # what the worker does with the catalog's two messages
                await record_event(uow.session, tenant_id, event, published_at=envelope.occurred_at)
                await record_seat_map(uow.session, tenant_id, seat_map)
                await uow.commit()
            some_seats = [str(uuid.uuid4()), str(uuid.uuid4())]
            params = {"tenant_id": tenant_id, "hold_id": uuid.uuid4(), "session_id": event.sessions[0].session_id,
                      "zone_id": event.zones[2].zone_id, "quantity": 2, "owner_id": uuid.uuid4(),
                      "buyer_id": uuid.uuid4(), "ttl": 300.0, "ids": some_seats}

            async with holds.transaction(tenant_id) as pg:  # the connection that prepared the statement
                name = await pg.fetchval("SELECT name FROM pg_prepared_statements WHERE statement = $1",
                                         HOLD_CHOICE.sql)
                arguments = ", ".join(_literal(params[n]) for n in HOLD_CHOICE.names)
                plan = json.loads(await pg.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({arguments})"))
        finally:
            await holds.close()

    scans = _scans(plan[0]["Plan"])
    units_scans = [scan for scan in scans if scan[0].startswith("sellable_units")]
    assert units_scans, scans
    for index, condition, _ in units_scans:  # every look at the units goes to the units it names, by id
        assert index == "sellable_units_pkey" or "hold_id" in condition, units_scans
    assert any(index == "sellable_units_pkey" and "id = ANY" in condition for index, condition, _ in units_scans)
