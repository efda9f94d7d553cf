"""Public search: text, dates, category, venue, city, price range and availability, a page at a time."""
import uuid

from taquilla_contracts import Envelope
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import eventually, service_harness, staff


async def organizer(h, tenant, city="Caracas"):
    msg = TenantRegistered(tenant_id=tenant, slug=f"org-{tenant.hex[:8]}", name="Org", legal_name="Org C.A.",
                           tax_id="J-3", city=city, country="VE", currency="USD", time_zone="America/Caracas")
    await h.publish(Envelope.wrap(msg, source="gateway", tenant_id=tenant))


async def listed(h, tenant, title, *, starts_at, city, category, price, venue="Poliedro", status="on_sale",
                 tags=(), sessions=()):
    body = {"title": title, "venue_name": venue, "city": city, "time_zone": "America/Caracas",
            "starts_at": starts_at, "currency": "USD", "category": category, "tags": list(tags),
            "sessions": list(sessions), "zones": [{"name": "General", "capacity": 10, "price_minor": price}]}
    created = await h.client.post("/api/v1/events", json=body, headers=staff(tenant))
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]

    async def moved():
        r = await h.client.post(f"/api/v1/events/{event_id}/status", json={"status": status}, headers=staff(tenant))
        return r.status_code == 200
    await eventually(moved)
    return event_id


async def titles(h, **params) -> list[str]:
    response = await h.client.get("/api/v1/events", params=params)
    assert response.status_code == 200, response.text
    return [e["title"] for e in response.json()["items"]]


async def test_search_filters_combine_and_pages_never_repeat_or_skip():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await organizer(h, tenant)
        await listed(h, tenant, "Salsa Night", starts_at="2030-03-01T20:00:00-04:00", city="Caracas",
                     category="music", price=2500, tags=("salsa", "baile"))
        await listed(h, tenant, "Hamlet", starts_at="2030-03-05T20:00:00-04:00", city="Valencia",
                     category="theatre", price=4000, venue="Teatro Municipal")
        await listed(h, tenant, "Rock Fest", starts_at="2030-04-10T18:00:00-04:00", city="Caracas",
                     category="festival", price=9000, sessions=["2030-03-02T18:00:00-04:00"])
        await listed(h, tenant, "Comedia Total", starts_at="2030-03-20T21:00:00-04:00", city="caracas",
                     category="comedy", price=1500, status="published")
        draft = await h.client.post("/api/v1/events", headers=staff(tenant), json={
            "title": "Salsa secreta", "venue_name": "X", "time_zone": "UTC", "starts_at": "2030-03-01T00:00:00Z",
            "currency": "USD", "zones": [{"name": "G", "capacity": 1, "price_minor": 1}]})
        assert draft.status_code == 201

        assert await titles(h) == ["Salsa Night", "Rock Fest", "Hamlet", "Comedia Total"]
        assert await titles(h, q="salsa") == ["Salsa Night"]  # never a draft
        assert await titles(h, q="baile") == ["Salsa Night"]  # a tag
        assert await titles(h, q="municipal") == ["Hamlet"]  # the venue
        assert await titles(h, category="theatre") == ["Hamlet"]
        assert await titles(h, city="CARACAS") == ["Salsa Night", "Rock Fest", "Comedia Total"]
        assert await titles(h, venue="poliedro", available="true") == ["Salsa Night", "Rock Fest"]
        assert await titles(h, available="false") == ["Comedia Total"]
        assert await titles(h, price_min=2000, price_max=5000) == ["Salsa Night", "Hamlet"]
        # a session in the range is enough; the rock festival is listed by its first date in it
        assert await titles(h, **{"from": "2030-03-03T00:00:00Z", "to": "2030-04-30T00:00:00Z"}) == [
            "Hamlet", "Comedia Total", "Rock Fest"]
        assert await titles(h, **{"from": "2030-03-02T12:00:00Z", "to": "2030-03-03T00:00:00Z"}) == ["Rock Fest"]

        seen, cursor = [], None
        while True:
            params = {"limit": 1, "city": "caracas", **({"cursor": cursor} if cursor else {})}
            page = (await h.client.get("/api/v1/events", params=params)).json()
            seen += [e["title"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == ["Salsa Night", "Rock Fest", "Comedia Total"]
        for params, field in [({"price_min": 10, "price_max": 5}, "price_max"), ({"category": "opera"}, "category"),
                              ({"from": "2030-03-03T00:00:00Z", "to": "2030-03-01T00:00:00Z"}, "to"),
                              ({"from": "2030-03-03T00:00:00"}, "from")]:
            bad = await h.client.get("/api/v1/events", params=params)
            assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["errors"][0]["field"] == field, bad.json()
