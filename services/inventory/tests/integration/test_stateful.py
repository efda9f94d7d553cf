"""Hold / extend / release / confirm / expire / void / block / unblock / sell-from-block in any order,
against the real inventory on PostgreSQL, checked against a model of every unit after every step.

Hypothesis drives the application functions the gRPC and HTTP entrances call, each in its own
transaction as they are. Every example gets a fresh organizer and event in one database (created once),
so examples never see each other's units. After every step: each unit is where the model says (on sale,
held or sold by a given hold, in a given block, or left out by the seat map); no unit is in two live
holds; a confirmed hold's units are sold to it; and per zone available + held + sold + blocked = capacity,
as the availability query reports it. Expiry is forced by moving expires_at into the past and calling the
sweeper's function, never by waiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from inventory_service.adapters.tables import holds
from inventory_service.application.blocks import BlockHoldRequest, BlockRequest, create_block, hold_from_block
from inventory_service.application.blocks import release_block as release_block_units
from inventory_service.application.confirm_hold import confirm_hold
from inventory_service.application.expire_holds import expire_due_holds
from inventory_service.application.extend_hold import extend_hold
from inventory_service.application.hold_units import hold_units_for_buyer
from inventory_service.application.queries import session_availability
from inventory_service.application.record_published_event import record_event
from inventory_service.application.record_seat_map import record_seat_map
from inventory_service.application.release_hold import release_hold
from inventory_service.application.void_hold import void_hold
from inventory_service.domain import holds as domain
from inventory_service.domain.holds import HoldRequest
from sqlalchemy import func, text
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_devtools.testing import service_harness

from .conftest import seat_map_of

LONG = 3600  # holds end only when the machine says so, however slow the run
MAX_TTL = 3600
ROWS = ["....", "..b."]  # 8 seats, one left out of the sale by the seat map: a capacity of 7
GA, VIP = 6, 3


def new_event() -> EventPublished:
    return EventPublished(
        event_id=uuid.uuid4(), slug="obra", title="Obra", venue_name="Teatro Teresa Carreño",
        time_zone="America/Caracas", currency="USD", organizer_name="Producciones Test",
        sessions=[SessionOnSale(session_id=uuid.uuid4(), starts_at=datetime.now(UTC) + timedelta(days=30))],
        zones=[ZoneOnSale(zone_id=uuid.uuid4(), name="GA", kind="general", capacity=GA, price_minor=2500,
                          currency="USD"),
               ZoneOnSale(zone_id=uuid.uuid4(), name="VIP", kind="general", capacity=VIP, price_minor=9000,
                          currency="USD"),
               ZoneOnSale(zone_id=uuid.uuid4(), name="Platea", kind="numbered",
                          capacity=sum(r.count(".") for r in ROWS), price_minor=5000, currency="USD")],
        max_tickets_per_order=10)


class World:
    """One event loop and one inventory database for every example of the run."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()
        self.h = self.run(self.stack.enter_async_context(service_harness("inventory", name="stateful",
                                                                        worker=False)))

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.close()


@pytest.fixture
def world():
    made = World()
    try:
        yield made
    finally:
        made.close()


class InventoryMachine(RuleBasedStateMachine):
    world: World  # set by the test
    seen: Counter = Counter()  # what the whole run went through, so a run that tested nothing fails

    @initialize()
    def an_event_on_sale(self):
        self.tenant_id = uuid.uuid4()
        self.event = new_event()
        self.session_id = self.event.sessions[0].session_id
        self.ga, self.vip, self.platea = (z.zone_id for z in self.event.zones)
        self.seat_map = seat_map_of(self.event, self.event.zones[2], ROWS)
        self.run_in_tenant(lambda s: record_event(s, self.tenant_id, self.event, published_at=datetime.now(UTC)))
        self.run_in_tenant(lambda s: record_seat_map(s, self.tenant_id, self.seat_map))
        rows = self.query("SELECT id, zone_id, label, seat_id, status FROM sellable_units ORDER BY zone_id, position")
        self.units = {r.id: r for r in rows}
        # unit -> (state, whose): available/None, held/hold, sold/hold, blocked/block, map/None
        self.model = {r.id: ("map", None) if r.status == "blocked" else ("available", None) for r in rows}
        self.capacity = {self.ga: GA, self.vip: VIP, self.platea: sum(r.count(".") for r in ROWS)}
        self.holds: dict[uuid.UUID, str] = {}  # hold -> held / confirmed / released / expired / voided
        self.owners: dict[uuid.UUID, uuid.UUID] = {}
        self.hold_units: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.voided: set[uuid.UUID] = set()  # units of confirmed holds given back
        self.blocks: set[uuid.UUID] = set()
        self.ids = 0

    def new_id(self) -> uuid.UUID:
        """Ids in the order they are made: the same steps draw the same way on a replay (hold and block ids are
        unique per organizer, and every example has its own)."""
        self.ids += 1
        return uuid.UUID(int=self.ids)

    def seats(self) -> list:
        return sorted((u for u in self.units.values() if u.seat_id is not None), key=lambda u: u.label)

    # --- plumbing -------------------------------------------------------------------------------------

    def run_in_tenant(self, work):
        async def go():
            async with self.world.h.db(self.tenant_id) as uow:
                result = await work(uow.session)
                await uow.commit()
                return result
        return self.world.run(go())

    def attempt(self, work):
        """The result, or the refusal; anything but a domain refusal fails the run."""
        try:
            return self.run_in_tenant(work)
        except domain.InventoryError as refused:
            return refused

    def query(self, sql: str, **params):
        async def go():
            async with self.world.h.db(self.tenant_id) as uow:
                return (await uow.session.execute(text(sql), params)).all()
        return self.world.run(go())

    def in_zone(self, zone_id, state: str) -> list[uuid.UUID]:
        return [u for u, (s, _) in self.model.items() if s == state and self.units[u].zone_id == zone_id]

    def with_status(self, *statuses: str) -> list[uuid.UUID]:
        return sorted(h for h, s in self.holds.items() if s in statuses)

    def took(self, hold: domain.Hold, owner: uuid.UUID, *, from_block: uuid.UUID | None = None) -> None:
        taken = {u.unit_id for u in hold.units}
        assert len(taken) == hold.quantity
        for unit in taken:
            expected = ("blocked", from_block) if from_block else ("available", None)
            assert self.model[unit] == expected, f"{self.units[unit].label} was {self.model[unit]}, not on offer"
            self.model[unit] = ("held", hold.hold_id)
        self.holds[hold.hold_id], self.owners[hold.hold_id] = "held", owner
        self.hold_units[hold.hold_id] = taken

    def back_on_sale(self, units) -> None:
        for unit in units:
            self.model[unit] = ("available", None)

    # --- holds ----------------------------------------------------------------------------------------

    @rule(zone=st.sampled_from(["ga", "vip"]), quantity=st.integers(1, 4))
    def hold_general(self, zone, quantity):
        zone_id = getattr(self, zone)
        owner = uuid.uuid4()
        request = HoldRequest(hold_id=self.new_id(), session_id=self.session_id, zone_id=zone_id, quantity=quantity,
                              owner_id=owner, buyer_id=None, ttl_seconds=LONG)
        result = self.attempt(lambda s: hold_units_for_buyer(s, self.tenant_id, request, max_ttl_seconds=MAX_TTL))
        if len(self.in_zone(zone_id, "available")) >= quantity:
            assert isinstance(result, domain.Hold), f"refused with units on sale: {result!r}"
            self.took(result, owner)
        else:
            assert isinstance(result, domain.SoldOut), f"held more than was on sale: {result!r}"

    @rule(data=st.data())
    def hold_seats(self, data):
        chosen = data.draw(st.lists(st.sampled_from(self.seats()), min_size=1, max_size=3, unique_by=lambda u: u.id))
        owner = uuid.uuid4()
        request = HoldRequest(hold_id=self.new_id(), session_id=self.session_id, zone_id=None,
                              quantity=len(chosen), owner_id=owner, buyer_id=None, ttl_seconds=LONG,
                              seat_ids=tuple(u.seat_id for u in chosen))
        result = self.attempt(lambda s: hold_units_for_buyer(s, self.tenant_id, request, max_ttl_seconds=MAX_TTL))
        if all(self.model[u.id][0] == "available" for u in chosen):
            assert isinstance(result, domain.Hold), f"refused seats on sale: {result!r}"
            self.took(result, owner)
        else:
            assert isinstance(result, domain.SeatTaken), f"held a seat not on sale: {result!r}"

    @rule(quantity=st.integers(1, 3))
    def hold_best_available(self, quantity):
        owner = uuid.uuid4()
        request = HoldRequest(hold_id=self.new_id(), session_id=self.session_id, zone_id=self.platea,
                              quantity=quantity, owner_id=owner, buyer_id=None, ttl_seconds=LONG,
                              best_available=True)
        result = self.attempt(lambda s: hold_units_for_buyer(s, self.tenant_id, request, max_ttl_seconds=MAX_TTL))
        if isinstance(result, domain.Hold):
            self.took(result, owner)
        else:  # whether N adjacent seats exist is the seating rules' business (unit tests); never more than free
            assert isinstance(result, domain.SoldOut), repr(result)

    @precondition(lambda self: self.with_status("held"))
    @rule(data=st.data())
    def extend(self, data):
        hold_id = data.draw(st.sampled_from(self.with_status("held")))
        result = self.attempt(lambda s: extend_hold(s, self.tenant_id, hold_id, self.owners[hold_id], LONG,
                                                    max_ttl_seconds=MAX_TTL))
        assert isinstance(result, domain.Hold) and result.status is domain.HoldStatus.HELD, repr(result)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        before = self.holds[hold_id]
        result = self.attempt(lambda s: release_hold(s, self.tenant_id, hold_id, self.owners[hold_id], "gave up"))
        if before == "confirmed":
            assert isinstance(result, domain.ConfirmedHold), repr(result)
        elif before == "held":
            assert isinstance(result, domain.Hold) and result.status is domain.HoldStatus.RELEASED, repr(result)
            self.holds[hold_id] = "released"
            self.back_on_sale(self.hold_units[hold_id])
        else:  # released, expired or voided: a harmless repeat that changes nothing
            assert isinstance(result, domain.Hold), repr(result)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def confirm(self, data):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        before = self.holds[hold_id]
        result = self.attempt(lambda s: confirm_hold(s, self.tenant_id, hold_id, self.owners[hold_id]))
        if before == "released":
            assert isinstance(result, domain.ReleasedHold), repr(result)
        elif before == "expired":
            assert isinstance(result, domain.ExpiredHold), repr(result)
        else:
            assert isinstance(result, domain.Hold), repr(result)
            if before == "held":
                self.holds[hold_id] = "confirmed"
                for unit in self.hold_units[hold_id]:
                    self.model[unit] = ("sold", hold_id)

    @precondition(lambda self: self.with_status("held"))
    @rule(data=st.data())
    def expire(self, data):
        hold_id = data.draw(st.sampled_from(self.with_status("held")))
        self.run_in_tenant(lambda s: s.execute(holds.update().where(holds.c.id == hold_id)
                                               .values(expires_at=func.now() - text("interval '1 second'"))))
        late = self.attempt(lambda s: confirm_hold(s, self.tenant_id, hold_id, self.owners[hold_id]))
        assert isinstance(late, domain.ExpiredHold), f"a hold past its expiry was confirmed: {late!r}"
        assert self.world.run(expire_due_holds(self.world.h.container.db, batch_size=50)) == 1
        self.holds[hold_id] = "expired"
        self.back_on_sale(self.hold_units[hold_id])

    @precondition(lambda self: self.with_status("confirmed"))
    @rule(data=st.data())
    def void(self, data):
        hold_id = data.draw(st.sampled_from(self.with_status("confirmed")))
        still_sold = sorted(self.hold_units[hold_id] - self.voided, key=lambda u: self.units[u].label)
        some = data.draw(st.lists(st.sampled_from(still_sold), max_size=len(still_sold), unique=True))
        result = self.attempt(lambda s: void_hold(s, self.tenant_id, hold_id, self.owners[hold_id], some or None))
        assert isinstance(result, domain.Hold), repr(result)
        freed = set(some) if some else set(still_sold)
        self.voided |= freed
        self.back_on_sale(freed)
        if self.hold_units[hold_id] <= self.voided:
            self.holds[hold_id] = "voided"
        assert result.status.value == self.holds[hold_id]

    # --- staff blocks ---------------------------------------------------------------------------------

    @rule(zone=st.sampled_from(["ga", "vip"]), quantity=st.integers(1, 3))
    def block_general(self, zone, quantity):
        zone_id = getattr(self, zone)
        request = BlockRequest(block_id=self.new_id(), session_id=self.session_id, label="Patrocinador Polar",
                               zone_id=zone_id, quantity=quantity)
        result = self.attempt(lambda s: create_block(s, self.tenant_id, request))
        if len(self.in_zone(zone_id, "available")) >= quantity:
            assert isinstance(result, tuple), f"refused with units on sale: {result!r}"
            self.kept(result[0])
        else:
            assert isinstance(result, domain.SoldOut), f"blocked more than was on sale: {result!r}"

    @rule(data=st.data())
    def block_seats(self, data):
        chosen = data.draw(st.lists(st.sampled_from(self.seats()), min_size=1, max_size=3, unique_by=lambda u: u.id))
        request = BlockRequest(block_id=self.new_id(), session_id=self.session_id, label="Producción",
                               units=tuple(u.label for u in chosen))
        result = self.attempt(lambda s: create_block(s, self.tenant_id, request))
        if all(self.model[u.id][0] == "available" for u in chosen):
            assert isinstance(result, tuple), f"refused seats on sale: {result!r}"
            assert {u.unit_id for u in result[0].units} == {u.id for u in chosen}
            self.kept(result[0])
        else:
            assert isinstance(result, domain.SeatTaken), f"blocked a seat not on sale: {result!r}"

    def kept(self, block) -> None:
        for unit in block.units:
            assert self.model[unit.unit_id] == ("available", None), f"blocked {unit.label}, not on sale"
            self.model[unit.unit_id] = ("blocked", block.block_id)
        self.blocks.add(block.block_id)
        InventoryMachine.seen["blocked"] += 1

    def in_block(self, block_id) -> list[uuid.UUID]:
        return [u for u, state in self.model.items() if state == ("blocked", block_id)]

    def open_blocks(self) -> list[uuid.UUID]:
        return sorted(b for b in self.blocks if self.in_block(b))

    @precondition(lambda self: self.blocks)
    @rule(data=st.data(), part=st.integers(0, 3))
    def unblock(self, data, part):
        block_id = data.draw(st.sampled_from(sorted(self.blocks)))
        kept = sorted(self.in_block(block_id), key=lambda u: self.units[u].label)
        result = self.attempt(lambda s: release_block_units(s, self.tenant_id, block_id, quantity=part,
                                                            offer_ttl_seconds=60, max_ttl_seconds=MAX_TTL))
        if part > len(kept):
            assert isinstance(result, domain.SoldOut), repr(result)
            return
        assert not isinstance(result, domain.InventoryError), repr(result)
        freed = set(kept) - {u.unit_id for u in result.units}
        assert len(freed) == (part or len(kept)), "released another number of units than asked"
        self.back_on_sale(freed)
        assert result.is_open == bool(self.in_block(block_id))
        InventoryMachine.seen["unblocked"] += bool(freed)

    @precondition(lambda self: self.open_blocks())
    @rule(data=st.data(), quantity=st.integers(1, 3))
    def sell_from_block(self, data, quantity):
        block_id = data.draw(st.sampled_from(self.open_blocks()))
        owner = uuid.uuid4()
        request = BlockHoldRequest(hold_id=self.new_id(), owner_id=owner, ttl_seconds=LONG, quantity=quantity)
        result = self.attempt(lambda s: hold_from_block(s, self.tenant_id, block_id, request,
                                                        max_ttl_seconds=MAX_TTL))
        if len(self.in_block(block_id)) >= quantity:
            assert isinstance(result, domain.Hold), repr(result)
            self.took(result, owner, from_block=block_id)
            InventoryMachine.seen["sold from a block"] += 1
        else:
            assert isinstance(result, domain.SoldOut), repr(result)

    def teardown(self):
        if hasattr(self, "holds"):
            InventoryMachine.seen.update(set(self.holds.values()))

    # --- what must always hold ------------------------------------------------------------------------

    @invariant()
    def every_unit_is_where_the_model_says(self):
        rows = self.query("SELECT id, status, hold_id, block_id FROM sellable_units")
        expected = {"available": "available", "held": "held", "sold": "sold", "blocked": "blocked", "map": "blocked"}
        for r in rows:
            state, whose = self.model[r.id]
            label = self.units[r.id].label
            assert r.status == expected[state], f"{label} is {r.status}, the model says {state}"
            assert (r.hold_id if state in ("held", "sold") else None) == (whose if state in ("held", "sold")
                                                                          else None), f"{label}: another hold"
            assert r.block_id == (whose if state == "blocked" else None), f"{label}: another block"
        statuses = {r.id: r.status for r in self.query("SELECT id, status FROM holds")}
        assert statuses == self.holds, "a hold's status is not what its history says"

    @invariant()
    def no_unit_is_in_two_live_holds_and_confirmed_holds_own_their_units(self):
        doubled = self.query(
            "SELECT hu.unit_id FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id"
            " WHERE h.status IN ('held', 'confirmed') AND hu.voided_at IS NULL"
            " GROUP BY hu.unit_id HAVING count(*) > 1")
        assert not doubled, "a unit is in two live holds"
        disagreeing = self.query(
            "SELECT u.label FROM hold_units hu JOIN holds h ON h.tenant_id = hu.tenant_id AND h.id = hu.hold_id"
            " JOIN sellable_units u ON u.id = hu.unit_id WHERE hu.voided_at IS NULL AND ("
            " (h.status = 'held' AND (u.status <> 'held' OR u.hold_id IS DISTINCT FROM h.id))"
            " OR (h.status = 'confirmed' AND (u.status <> 'sold' OR u.hold_id IS DISTINCT FROM h.id)))")
        assert not disagreeing, f"units not held or sold to their live hold: {disagreeing}"
        orphaned = self.query(
            "SELECT u.label FROM sellable_units u LEFT JOIN holds h ON h.tenant_id = u.tenant_id"
            " AND h.id = u.hold_id WHERE u.status IN ('held', 'sold')"
            " AND (h.id IS NULL OR h.status NOT IN ('held', 'confirmed'))")
        assert not orphaned, f"units held or sold by no live hold: {orphaned}"

    @invariant()
    def each_zone_adds_up_to_its_capacity(self):
        async def read(session):
            return await session_availability(session, self.session_id)
        found = self.run_in_tenant(read)
        for zone in found.zones:
            assert zone.available + zone.held + zone.sold + zone.blocked == zone.capacity, zone
            assert zone.capacity == self.capacity[zone.zone_id]
            model = Counter(state for u, (state, _) in self.model.items() if self.units[u].zone_id == zone.zone_id)
            assert (zone.available, zone.held, zone.sold, zone.blocked) == (
                model["available"], model["held"], model["sold"], model["blocked"]), (zone, model)


def test_any_sequence_of_operations_keeps_the_inventory_consistent(world):
    InventoryMachine.world = world
    run = settings(max_examples=25, stateful_step_count=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    InventoryMachine.seen.clear()
    run_state_machine_as_test(InventoryMachine, settings=run)
    went_through = {k for k, n in InventoryMachine.seen.items() if n}
    assert went_through >= {"held", "confirmed", "released", "expired", "voided", "blocked", "unblocked",
                            "sold from a block"}, InventoryMachine.seen
