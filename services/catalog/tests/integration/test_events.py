"""The catalog as its users see it: organizers arrive from the gateway, staff create and publish events,
anyone browses what is on sale, and inventory/orders hear about it exactly once."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from catalog_service.adapters.tables import events, organizers
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import buyer, eventually, service_harness, staff

PROBLEM_JSON = "application/problem+json"


def event_body(**changes) -> dict:
    return {
        "title": "Salsa al Parque", "venue_name": "Teatro Teresa Carreño", "time_zone": "America/Caracas",
        "starts_at": "2030-05-01T20:00:00-04:00", "currency": "USD", "description": "Una noche de salsa",
        "zones": [{"name": "General", "kind": "general", "capacity": 500, "price_minor": 2500},
                  {"name": "VIP", "kind": "general", "capacity": 50, "price_minor": 9000}],
        **changes,
    }


def registration(tenant_id: uuid.UUID, *, occurred_at: datetime | None = None, **changes) -> Envelope:
    tenant = TenantRegistered(**{
        "tenant_id": tenant_id, "slug": f"org-{tenant_id.hex[:8]}", "name": "Producciones Caribe",
        "legal_name": "Producciones Caribe C.A.", "tax_id": "J-12345678-9", "registry_number": "PULEP-ABC123",
        "city": "Caracas", "country": "VE", "currency": "USD", "time_zone": "America/Caracas", **changes,
    })
    envelope = Envelope.wrap(tenant, source="gateway", tenant_id=tenant_id)
    return envelope.model_copy(update={"occurred_at": occurred_at}) if occurred_at else envelope


async def organizer_row(h, tenant_id, **expected):
    async with h.db() as uow:
        row = (await uow.session.execute(select(organizers).where(organizers.c.tenant_id == tenant_id))).first()
    if row is None or any(getattr(row, k) != v for k, v in expected.items()):
        return None
    return row


async def register_organizer(h, tenant_id, **changes):
    await h.publish(registration(tenant_id, **changes))
    return await eventually(lambda: organizer_row(h, tenant_id))


async def create(h, tenant_id, **changes) -> dict:
    response = await h.client.post("/api/v1/events", json=event_body(**changes), headers=staff(tenant_id))
    assert response.status_code == 201, response.text
    return response.json()


async def publish(h, tenant_id, event_id) -> dict:
    response = await h.client.post(f"/api/v1/events/{event_id}/publish", headers=staff(tenant_id))
    assert response.status_code == 200, response.text
    return response.json()


async def event_count(h) -> int:
    async with h.db() as uow:
        return (await uow.session.execute(select(func.count()).select_from(events))).scalar_one()


def assert_problem(response, status: int, type_: str):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == f"https://taquilla.dev/problems/{type_}", response.json()
    return response.json()


async def test_organizers_come_from_the_gateway_and_a_late_old_message_never_undoes_a_change():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        first = registration(tenant, occurred_at=datetime.now(UTC) - timedelta(minutes=5))
        await h.publish(first)
        await eventually(lambda: organizer_row(h, tenant, legal_name="Producciones Caribe C.A."))
        await h.publish(registration(tenant, legal_name="Caribe Eventos S.A.", registry_number=None))
        await h.publish(first)  # redelivered
        await h.publish(registration(tenant, occurred_at=datetime.now(UTC) - timedelta(minutes=1)))  # stale
        row = await eventually(lambda: organizer_row(h, tenant, legal_name="Caribe Eventos S.A."))
        await asyncio.sleep(1)
        row = await organizer_row(h, tenant)
        assert (row.legal_name, row.registry_number, row.tax_id) == ("Caribe Eventos S.A.", None, "J-12345678-9")
        assert (row.city, row.country, row.currency, row.time_zone) == ("Caracas", "VE", "USD", "America/Caracas")

        event = await create(h, tenant)
        assert event["organizer"] == {"id": str(tenant), "slug": f"org-{tenant.hex[:8]}",
                                      "name": "Producciones Caribe", "legal_name": "Caribe Eventos S.A.",
                                      "tax_id": "J-12345678-9", "registry_number": None, "country": "VE"}


async def test_staff_create_a_draft_with_its_session_and_zones():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await register_organizer(h, tenant)
        response = await h.client.post("/api/v1/events", json=event_body(), headers=staff(tenant))
        assert response.status_code == 201, response.text
        event = response.json()
        assert response.headers["location"] == f"/api/v1/events/{event['id']}"
        assert (event["status"], event["slug"], event["title"]) == ("draft", "salsa-al-parque", "Salsa al Parque")
        assert event["tenant_id"] == str(tenant)
        assert (event["currency"], event["time_zone"], event["city"]) == ("USD", "America/Caracas", "Caracas")
        assert (event["hold_ttl_seconds"], event["max_tickets_per_order"]) == (600, 10)
        (session,) = event["sessions"]
        assert uuid.UUID(session["id"])
        assert session["starts_at"] == "2030-05-02T00:00:00+00:00"
        assert session["starts_at_local"] == "2030-05-01T20:00:00-04:00"
        assert [(z["name"], z["kind"], z["capacity"], z["price_minor"], z["currency"]) for z in event["zones"]] == [
            ("General", "general", 500, 2500, "USD"), ("VIP", "general", 50, 9000, "USD")]
        assert len({z["id"] for z in event["zones"]}) == 2
        assert event["organizer"]["tax_id"] == "J-12345678-9"

        mine = await h.client.get(f"/api/v1/events/{event['id']}", headers=staff(tenant))
        assert mine.status_code == 200 and mine.json() == event
        by_slug = await h.client.get("/api/v1/events/salsa-al-parque", headers=staff(tenant))
        assert by_slug.status_code == 200 and by_slug.json()["id"] == event["id"]

        again = await create(h, tenant, hold_ttl_seconds=5, max_tickets_per_order=4)  # short holds: not production
        assert again["slug"] == "salsa-al-parque-2"
        assert (again["hold_ttl_seconds"], again["max_tickets_per_order"]) == (5, 4)
        taken = await h.client.post("/api/v1/events", json=event_body(slug="salsa-al-parque"), headers=staff(tenant))
        assert_problem(taken, 409, "slug-taken")

        anonymous = await h.client.post("/api/v1/events", json=event_body())
        assert_problem(anonymous, 401, "unauthorized")
        as_buyer = await h.client.post("/api/v1/events", json=event_body(), headers=buyer())
        assert_problem(as_buyer, 403, "forbidden")
        assert await event_count(h) == 2


async def test_invalid_events_are_422_problems_naming_the_field_and_create_nothing():
    general = {"name": "General", "kind": "general", "capacity": 10, "price_minor": 100}
    cases = [
        ({"starts_at": "2030-05-01T20:00:00"}, "validation-error", "starts_at"),
        ({"starts_at": "2020-05-01T20:00:00+00:00"}, "validation-error", "starts_at"),
        ({"currency": "XYZ"}, "validation-error", "currency"),
        ({"time_zone": "America/Atlantis"}, "validation-error", "time_zone"),
        ({"zones": [{**general, "capacity": 0}]}, "validation-error", "zones.0.capacity"),
        ({"zones": [{**general, "capacity": 100_001}]}, "validation-error", "zones.0.capacity"),
        ({"zones": [{**general, "price_minor": -1}]}, "validation-error", "zones.0.price_minor"),
        ({"zones": [general, {**general, "name": "Platea", "kind": "numbered"}]}, "validation-error",
         "zones.1.layout"),
        ({"zones": [{**general, "kind": "numbered", "layout": {"rows": 2, "seats_per_row": 3, "numbering": "odd"}}]},
         "validation-error", "zones.0.layout.numbering"),
        ({"category": "opera"}, "validation-error", "category"),
        ({"venue_id": "0192f5a0-0000-7000-8000-000000000001"}, "validation-error", "venue_id"),
        ({"zones": [{**general, "currency": "EUR"}]}, "validation-error", "zones.0.currency"),
        ({"zones": [general, general]}, "validation-error", "zones.1.name"),
        ({"zones": []}, "validation-error", "zones"),
        ({"hold_ttl_seconds": 3601}, "validation-error", "hold_ttl_seconds"),
        ({"max_tickets_per_order": 51}, "validation-error", "max_tickets_per_order"),
        ({"title": ""}, "validation-error", "title"),
    ]
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        for change, type_, field in cases:
            response = await h.client.post("/api/v1/events", json=event_body(**change), headers=staff(tenant))
            problem = assert_problem(response, 422, type_)
            assert [e["field"] for e in problem["errors"]] == [field], (change, problem)
        assert await event_count(h) == 0


async def test_publishing_puts_the_event_on_sale_and_announces_it_exactly_once():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await register_organizer(h, tenant)
        published = await h.listen("catalog.event.published")
        draft = await create(h, tenant, max_tickets_per_order=6, hold_ttl_seconds=300)
        on_sale = await publish(h, tenant, draft["id"])
        assert on_sale["status"] == "on_sale" and on_sale["published_at"]
        assert (on_sale["sessions"], on_sale["zones"]) == (draft["sessions"], draft["zones"])

        envelope = await asyncio.wait_for(published.get(), 15)
        assert (envelope.type, envelope.source, envelope.tenant_id) == ("catalog.event.published", "catalog", tenant)
        message = envelope.parse(EventPublished)
        assert str(message.event_id) == draft["id"]
        assert (message.slug, message.title, message.venue_name) == (
            "salsa-al-parque", "Salsa al Parque", "Teatro Teresa Carreño")
        assert (message.currency, message.time_zone, message.organizer_name) == (
            "USD", "America/Caracas", "Producciones Caribe")
        assert (message.max_tickets_per_order, message.hold_ttl_seconds) == (6, 300)
        assert [(str(s.session_id), s.starts_at) for s in message.sessions] == [
            (draft["sessions"][0]["id"], datetime(2030, 5, 2, tzinfo=UTC))]
        assert [(str(z.zone_id), z.name, z.kind, z.capacity, z.price_minor, z.currency) for z in message.zones] == [
            (z["id"], z["name"], z["kind"], z["capacity"], z["price_minor"], z["currency"]) for z in draft["zones"]]

        twice = await h.client.post(f"/api/v1/events/{draft['id']}/publish", headers=staff(tenant))
        assert_problem(twice, 409, "event-already-published")
        await asyncio.sleep(1.5)
        assert published.empty(), "the event was announced more than once"

        for reference in (draft["id"], "salsa-al-parque"):
            public = await h.client.get(f"/api/v1/events/{reference}")
            assert public.status_code == 200, public.text
            seen = public.json()
            assert (seen["id"], seen["status"], seen["zones"]) == (draft["id"], "on_sale", draft["zones"])
            assert (seen["organizer"]["legal_name"], seen["organizer"]["tax_id"],
                    seen["organizer"]["registry_number"]) == ("Producciones Caribe C.A.", "J-12345678-9",
                                                              "PULEP-ABC123")
        unknown = await h.client.get("/api/v1/events/no-such-event")
        assert_problem(unknown, 404, "not-found")
        assert_problem(await h.client.get(f"/api/v1/events/{uuid.uuid4()}"), 404, "not-found")


async def test_publishing_before_the_organizer_is_known_asks_to_retry_and_changes_nothing():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        published = await h.listen("catalog.event.published")
        draft = await create(h, tenant)
        assert draft["organizer"]["legal_name"] is None
        early = await h.client.post(f"/api/v1/events/{draft['id']}/publish", headers=staff(tenant))
        problem = assert_problem(early, 409, "organizer-not-ready")
        assert early.headers["retry-after"] == "1" and problem["detail"]
        still = await h.client.get(f"/api/v1/events/{draft['id']}", headers=staff(tenant))
        assert still.json()["status"] == "draft"
        assert_problem(await h.client.get(f"/api/v1/events/{draft['id']}"), 404, "not-found")

        await register_organizer(h, tenant)
        assert (await publish(h, tenant, draft["id"]))["status"] == "on_sale"
        envelope = await asyncio.wait_for(published.get(), 15)
        assert envelope.data["event_id"] == draft["id"]
        await asyncio.sleep(1)
        assert published.empty()


async def test_another_organizers_staff_can_neither_see_nor_publish_a_draft():
    async with service_harness("catalog") as h:
        owner, other = uuid.uuid4(), uuid.uuid4()
        await register_organizer(h, owner)
        await register_organizer(h, other)
        published = await h.listen("catalog.event.published")
        draft = await create(h, owner)
        for reference in (draft["id"], draft["slug"]):
            for headers in (staff(other), buyer(), {}):
                assert_problem(await h.client.get(f"/api/v1/events/{reference}", headers=headers), 404, "not-found")
            assert_problem(await h.client.post(f"/api/v1/events/{reference}/publish", headers=staff(other)),
                           404, "not-found")
        await asyncio.sleep(1)
        assert published.empty()
        async with h.db(other) as uow:  # row-level security, not only the queries' filters, hides the draft
            assert (await uow.session.execute(select(func.count()).select_from(events))).scalar_one() == 0
        async with h.db(owner) as uow:
            assert (await uow.session.execute(select(func.count()).select_from(events))).scalar_one() == 1
        listed = await h.client.get("/api/v1/events")
        assert listed.json()["items"] == []

        await publish(h, owner, draft["id"])
        seen = await h.client.get(f"/api/v1/events/{draft['slug']}", headers=staff(other))
        assert seen.status_code == 200 and seen.json()["status"] == "on_sale"
        assert seen.json()["organizer"]["id"] == str(owner)
        invalid = await h.client.get(f"/api/v1/events/{draft['slug']}", headers={"Authorization": "Bearer nope"})
        assert_problem(invalid, 401, "unauthorized")


async def test_a_repeated_create_with_the_same_idempotency_key_returns_the_first_answer():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        headers = {**staff(tenant), "Idempotency-Key": "create-salsa-1"}
        first = await h.client.post("/api/v1/events", json=event_body(), headers=headers)
        assert first.status_code == 201, first.text
        repeat = await h.client.post("/api/v1/events", json=event_body(), headers=headers)
        assert repeat.status_code == 201 and repeat.json() == first.json()
        assert repeat.headers["idempotency-replayed"] == "true"
        assert await event_count(h) == 1

        changed = await h.client.post("/api/v1/events", json=event_body(title="Otra cosa"), headers=headers)
        assert_problem(changed, 409, "idempotency-key-reused")
        other_key = await h.client.post("/api/v1/events", json=event_body(),
                                        headers={**staff(tenant), "Idempotency-Key": "create-salsa-2"})
        assert other_key.status_code == 201 and other_key.json()["id"] != first.json()["id"]

        rejected = await h.client.post("/api/v1/events", json=event_body(currency="XYZ"),
                                       headers={**staff(tenant), "Idempotency-Key": "create-salsa-3"})
        assert_problem(rejected, 422, "validation-error")
        fixed = await h.client.post("/api/v1/events", json=event_body(title="Salsa fixed"),
                                    headers={**staff(tenant), "Idempotency-Key": "create-salsa-3"})
        assert fixed.status_code == 201, "a rejected request must leave its key free"
        assert await event_count(h) == 3


async def test_the_public_list_pages_through_on_sale_events_of_every_organizer():
    async with service_harness("catalog") as h:
        caribe, andes = uuid.uuid4(), uuid.uuid4()
        await register_organizer(h, caribe)
        await register_organizer(h, andes, name="Andes Live", slug="andes-live", country="CO", currency="COP",
                                 time_zone="America/Bogota")
        start = datetime(2030, 1, 1, 20, tzinfo=UTC)
        by_start = {}
        # created in another order than they happen: the list follows the dates, not creation
        for day, tenant, title in [(2, caribe, "Gran Salsa Final"), (0, caribe, "Salsa Night"),
                                   (3, andes, "Jazz en la Plaza"), (1, andes, "Rock al Parque")]:
            event = await create(h, tenant, title=title, starts_at=(start + timedelta(days=day)).isoformat())
            await publish(h, tenant, event["id"])
            by_start[day] = event["id"]
        expected = [by_start[day] for day in sorted(by_start)]
        await create(h, caribe, title="Salsa secreta (draft)")

        seen, cursor = [], None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await h.client.get("/api/v1/events", params=params)).json()
            seen += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected  # soonest first, no draft, nothing twice

        salsa = (await h.client.get("/api/v1/events", params={"q": "SALSA"})).json()["items"]
        assert [e["title"] for e in salsa] == ["Salsa Night", "Gran Salsa Final"]
        assert all(e["organizer"]["name"] == "Producciones Caribe" for e in salsa)
        andes_only = (await h.client.get("/api/v1/events", params={"organizer": "andes-live"})).json()["items"]
        assert [e["title"] for e in andes_only] == ["Rock al Parque", "Jazz en la Plaza"]
        assert (await h.client.get("/api/v1/events", params={"q": "100%"})).json()["items"] == []
        assert_problem(await h.client.get("/api/v1/events", params={"cursor": "garbage"}), 400, "invalid-cursor")
        assert (await h.client.get("/api/v1/events", params={"limit": 0})).status_code == 422


async def test_a_slug_two_organizers_share_is_resolved_by_naming_the_organizer():
    async with service_harness("catalog") as h:
        caribe, andes = uuid.uuid4(), uuid.uuid4()
        await register_organizer(h, caribe, slug="caribe")
        await register_organizer(h, andes, slug="andes-live", name="Andes Live")
        ids = {}
        for tenant in (caribe, andes):
            event = await create(h, tenant, title="Feria de Verano")
            assert event["slug"] == "feria-de-verano"  # slugs are unique per organizer only
            ids[tenant] = (await publish(h, tenant, event["id"]))["id"]
        ambiguous = await h.client.get("/api/v1/events/feria-de-verano")
        assert assert_problem(ambiguous, 409, "ambiguous-event-slug")["organizers"] == ["andes-live", "caribe"]
        chosen = await h.client.get("/api/v1/events/feria-de-verano", params={"organizer": "andes-live"})
        assert chosen.status_code == 200 and chosen.json()["id"] == ids[andes]
        own = await h.client.get("/api/v1/events/feria-de-verano", headers=staff(caribe))
        assert own.status_code == 200 and own.json()["id"] == ids[caribe]


async def test_payment_plan_rules_are_checked_and_announced_with_the_event():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await register_organizer(h, tenant)
        published = await h.listen("catalog.event.published")
        draft = await create(h, tenant)
        rules = {"kinds": ["installments"], "max_installments": 4, "min_deposit_percent": 25,
                 "final_deadline": "2030-04-20T00:00:00Z", "on_missed_deadline": "keep_deposit"}
        path = f"/api/v1/events/{draft['id']}"

        late = await h.client.patch(path, headers=staff(tenant),
                                    json={"payment_plans": {**rules, "final_deadline": "2030-05-03T00:00:00Z"}})
        problem = assert_problem(late, 422, "validation-error")
        assert [e["field"] for e in problem["errors"]] == ["payment_plans.final_deadline"]
        unknown_kind = await h.client.patch(path, headers=staff(tenant),
                                            json={"payment_plans": {**rules, "kinds": ["layaway"]}})
        assert unknown_kind.status_code == 422 and unknown_kind.json()["errors"][0]["field"].startswith(
            "payment_plans.kinds")

        saved = await h.client.patch(path, headers=staff(tenant), json={"payment_plans": rules})
        assert saved.status_code == 200, saved.text
        assert saved.json()["payment_plans"] == {**rules, "installment_interval_days": None, "min_deposit_minor": 0,
                                                 "min_contribution_minor": 0, "keep_percent": 0}
        await publish(h, tenant, draft["id"])
        message = (await asyncio.wait_for(published.get(), 15)).parse(EventPublished)
        assert message.payment_plans is not None
        assert (message.payment_plans.kinds, message.payment_plans.min_deposit_percent,
                message.payment_plans.on_missed_deadline) == (["installments"], 25, "keep_deposit")
        assert message.payment_plans.final_deadline == datetime(2030, 4, 20, tzinfo=UTC)
