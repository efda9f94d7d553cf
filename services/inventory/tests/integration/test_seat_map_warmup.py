"""The gRPC process reads the seat maps on sale before it answers, so the first best-available holds of an
on-sale do not wait while the process builds its copy of a zone; and preparing its statements on each new
connection writes nothing."""
import uuid

from inventory_service.adapters.hold_connections import HoldConnections
from inventory_service.application.hold_units import is_warm
from inventory_service.jobs.seat_map_warmup import warm_seat_maps
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2

from .conftest import inventory_service

ROWS = ["..........", ".........."]


async def test_the_seat_maps_on_sale_are_read_before_the_first_buyer_asks():
    async with inventory_service(seat_rows=ROWS) as inv:
        session_id = inv.event.sessions[0].session_id
        assert is_warm(inv.tenant_id, session_id, inv.platea)
        assert not is_warm(inv.tenant_id, session_id, inv.event.zones[0].zone_id)  # general admission
        async with inv.h.db() as uow:  # the statements were prepared on every connection, and left no trace
            assert (await uow.session.execute(text("SELECT count(*) FROM holds"))).scalar_one() == 0

        holds = await HoldConnections.open(inv.h.container.settings.db.url, 2)
        try:
            assert await warm_seat_maps(holds) == 0  # nothing new on sale: nothing read again
        finally:
            await holds.close()

        held = await inv.stub.Hold(inventory_pb2.HoldRequest(
            tenant_id=str(inv.tenant_id), hold_id=str(uuid.uuid4()), owner_id=str(inv.owner_id),
            session_id=str(session_id), ttl_seconds=300,
            best_available=inventory_pb2.BestAvailable(zone_id=str(inv.platea), quantity=2)), timeout=10)
        assert [u.label for u in held.units] == ["PLA-A5", "PLA-A6"]  # front row, centre
