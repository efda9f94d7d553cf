"""Venues with reusable layouts, events with several dates (also from a rule), and cloning an event."""
import asyncio
import uuid

from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import eventually, service_harness, staff

VENUE = {"name": "Teatro Teresa Carreño", "address": "Av. Paseo Colón, Caracas", "city": "Caracas",
         "country": "ve", "time_zone": "America/Caracas", "capacity": 2400,
         "accessibility": {"wheelchair_spaces": 12, "step_free_entrance": True, "notes": "Ascensor en el ala norte"}}
LAYOUT = {"name": "Sala Ríos Reyna", "zones": [
    {"name": "Platea", "kind": "numbered", "price_minor": 4000,
     "layout": {"rows": 20, "seats_per_row": 30, "numbering": "odd_even", "accessible": ["A-1"]},
     "row_adjustments": {"A": "15"}},
    {"name": "Balcón", "capacity": 400, "price_minor": 2000}]}


def problem_of(response, status, type_):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + type_), response.json()
    return response.json()


async def organizer(h, tenant):
    msg = TenantRegistered(tenant_id=tenant, slug=f"org-{tenant.hex[:8]}", name="Org", legal_name="Org C.A.",
                           tax_id="J-4", registry_number="PULEP-XYZ", city="Caracas", country="VE", currency="USD",
                           time_zone="America/Caracas")
    await h.publish(Envelope.wrap(msg, source="gateway", tenant_id=tenant))


async def test_venues_keep_layouts_that_events_start_from():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        created = await h.client.post("/api/v1/venues", json=VENUE, headers=staff(tenant))
        assert created.status_code == 201, created.text
        venue = created.json()
        assert (venue["country"], venue["accessibility"]["wheelchair_spaces"]) == ("VE", 12)
        problem_of(await h.client.post("/api/v1/venues", json=VENUE, headers=staff(tenant)), 409, "venue-name-taken")
        bad = await h.client.post("/api/v1/venues", json={**VENUE, "name": "Otro", "time_zone": "Caracas"},
                                  headers=staff(tenant))
        assert problem_of(bad, 422, "validation-error")["errors"][0]["field"] == "time_zone"

        url = f"/api/v1/venues/{venue['id']}/layouts"
        layout = await h.client.post(url, json=LAYOUT, headers=staff(tenant))
        assert layout.status_code == 201, layout.text
        too_big = await h.client.post(url, headers=staff(tenant), json={
            "name": "Todo", "zones": [{"name": "Pista", "capacity": 5000, "price_minor": 1}]})
        assert problem_of(too_big, 422, "validation-error")["errors"][0]["field"] == "zones"
        broken = await h.client.post(url, headers=staff(tenant), json={
            "name": "Rota", "zones": [{"name": "P", "kind": "numbered", "price_minor": 1,
                                       "layout": {"rows": 2, "seats_per_row": 2, "blocked": ["C-1"]}}]})
        assert problem_of(broken, 422, "validation-error")["errors"][0]["field"] == "zones.0.layout.blocked.0"
        public = (await h.client.get(f"/api/v1/venues/{venue['id']}")).json()
        assert [lay["name"] for lay in public["layouts"]] == ["Sala Ríos Reyna"]
        other = await h.client.get("/api/v1/venues", headers=staff(uuid.uuid4()))
        assert other.json()["items"] == []

        event = await h.client.post("/api/v1/events", headers=staff(tenant), json={
            "title": "Cascanueces", "venue_id": venue["id"], "venue_layout": "Sala Ríos Reyna",
            "time_zone": "America/Caracas", "starts_at": "2030-12-20T19:00:00-04:00", "currency": "USD"})
        assert event.status_code == 201, event.text
        event = event.json()
        assert (event["venue_name"], event["city"], event["venue"]["capacity"]) == (
            "Teatro Teresa Carreño", "Caracas", 2400)
        assert [(z["name"], z["kind"], z["capacity"]) for z in event["zones"]] == [
            ("Platea", "numbered", 600), ("Balcón", "general", 400)]
        seat_map = (await h.client.get(event["zones"][0]["seat_map"], headers=staff(tenant))).json()
        assert next(s for s in seat_map["seats"] if s["label"] == "A-1")["accessible"]
        missing = await h.client.post("/api/v1/events", headers=staff(tenant), json={
            "title": "X", "venue_id": venue["id"], "venue_layout": "Nope", "time_zone": "UTC",
            "starts_at": "2030-12-20T19:00:00Z", "currency": "USD"})
        assert problem_of(missing, 422, "validation-error")["errors"][0]["field"] == "venue_layout"


async def test_sessions_from_a_rule_are_added_and_announced_and_a_clone_starts_as_a_draft():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await organizer(h, tenant)
        heard = await h.listen("catalog.event.published")
        created = await h.client.post("/api/v1/events", headers=staff(tenant), json={
            "title": "Stand-up los viernes", "venue_name": "Café Teatro", "time_zone": "America/Caracas",
            "starts_at": "2030-01-04T21:00:00-04:00", "currency": "USD", "category": "comedy", "tags": ["humor"],
            "images": [{"url": "https://cdn.example.com/standup.jpg", "alt": "Escenario", "role": "cover"}],
            "recurrence": {"starts_on": "2030-01-11", "at": "21:00", "weekdays": ["friday"], "count": 7},
            "zones": [{"name": "General", "capacity": 80, "price_minor": 1500}]})
        assert created.status_code == 201, created.text
        event = created.json()
        assert [s["starts_at_local"][:10] for s in event["sessions"]] == [
            "2030-01-04", "2030-01-11", "2030-01-18", "2030-01-25", "2030-02-01", "2030-02-08", "2030-02-15",
            "2030-02-22"]
        assert event["images"][0]["url"] == "https://cdn.example.com/standup.jpg"

        async def on_sale():
            r = await h.client.post(f"/api/v1/events/{event['id']}/publish", headers=staff(tenant))
            return r.status_code == 200
        await eventually(on_sale)
        first = (await asyncio.wait_for(heard.get(), 15)).parse(EventPublished)
        assert len(first.sessions) == 8

        url = f"/api/v1/events/{event['id']}/sessions"
        more = await h.client.post(url, headers=staff(tenant), json={
            "recurrence": {"starts_on": "2030-03-01", "at": "21:00", "weekdays": ["friday"], "until": "2030-03-15"}})
        assert more.status_code == 201, more.text
        assert len(more.json()["sessions"]) == 11
        again = (await asyncio.wait_for(heard.get(), 15)).parse(EventPublished)  # inventory creates the new units
        assert sorted(str(s.session_id) for s in again.sessions) == sorted(s["id"] for s in more.json()["sessions"])
        clash = await h.client.post(url, headers=staff(tenant), json={"starts_at": ["2030-01-04T21:00:00-04:00"]})
        assert problem_of(clash, 422, "validation-error")["errors"][0]["field"] == "starts_at.0"
        past = await h.client.post(url, headers=staff(tenant), json={"starts_at": ["2020-01-04T21:00:00-04:00"]})
        assert problem_of(past, 422, "validation-error")["errors"][0]["field"] == "starts_at.0"

        clone = await h.client.post(f"/api/v1/events/{event['id']}/clone", headers=staff(tenant),
                                    json={"starts_at": "2031-01-03T21:00:00-04:00"})
        assert clone.status_code == 201, clone.text
        copy = clone.json()
        assert (copy["status"], copy["slug"], copy["cloned_from"]) == ("draft", "stand-up-los-viernes-2", event["id"])
        assert [s["starts_at_local"] for s in copy["sessions"]] == ["2031-01-03T21:00:00-04:00"]
        assert [(z["name"], z["capacity"], z["price_minor"]) for z in copy["zones"]] == [("General", 80, 1500)]
        assert (copy["category"], copy["tags"], copy["images"]) == ("comedy", ["humor"], event["images"])
        assert copy["zones"][0]["id"] != event["zones"][0]["id"]
        assert copy["organizer"]["registry_number"] == "PULEP-XYZ"


async def test_details_are_edited_after_creation_and_an_event_on_sale_tells_the_platform():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await organizer(h, tenant)
        heard = await h.listen("catalog.event.published")
        event = (await h.client.post("/api/v1/events", headers=staff(tenant), json={
            "title": "Jazz", "venue_name": "Café", "time_zone": "UTC", "starts_at": "2030-01-04T21:00:00Z",
            "currency": "USD", "zones": [{"name": "General", "capacity": 80, "price_minor": 1500}]})).json()

        async def on_sale():
            r = await h.client.post(f"/api/v1/events/{event['id']}/publish", headers=staff(tenant))
            return r.status_code == 200
        await eventually(on_sale)
        await asyncio.wait_for(heard.get(), 15)
        url = f"/api/v1/events/{event['id']}"
        edited = await h.client.patch(url, headers=staff(tenant), json={
            "title": "Jazz en la Terraza", "description": "Trío en vivo", "category": "music", "tags": ["Jazz"],
            "fee_percent": "7.5", "max_tickets_per_order": 4})
        assert edited.status_code == 200, edited.text
        seen = edited.json()
        assert (seen["title"], seen["category"], seen["tags"], seen["fees"]["percent"], seen["slug"]) == (
            "Jazz en la Terraza", "music", ["jazz"], "7.5", "jazz")
        again = (await asyncio.wait_for(heard.get(), 15)).parse(EventPublished)
        assert (again.title, again.max_tickets_per_order) == ("Jazz en la Terraza", 4)
        history = (await h.client.get(f"{url}/price-history", headers=staff(tenant))).json()["items"]
        assert [(i["kind"], i["old"], i["new"]) for i in history if i["kind"] == "fees_changed"] == [
            ("fees_changed", {"fee_percent": "0"}, {"fee_percent": "7.5"})]
        bad = await h.client.patch(url, headers=staff(tenant), json={"category": "opera", "slug": "x"})
        assert [e["field"] for e in problem_of(bad, 422, "validation-error")["errors"]] == ["slug"]
        bad = await h.client.patch(url, headers=staff(tenant), json={"category": "opera"})
        assert [e["field"] for e in problem_of(bad, 422, "validation-error")["errors"]] == ["category"]
        await h.client.post(f"{url}/status", json={"status": "cancelled"}, headers=staff(tenant))
        late = await h.client.patch(url, headers=staff(tenant), json={"title": "Otra"})
        assert [e["field"] for e in problem_of(late, 422, "validation-error")["errors"]] == ["status"]
