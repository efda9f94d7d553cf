"""Numbered zones with generated seats, the seat map a storefront draws, what inventory hears about them,
and the event lifecycle with every change announced."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from catalog_service.adapters.tables import event_transitions, seats
from catalog_service.application.publish_event import complete_past_events
from sqlalchemy import func, select
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventStatusChanged, SeatMapPublished
from taquilla_contracts.gateway import TenantRegistered
from taquilla_devtools.testing import eventually, service_harness, staff

PLATEA = {"name": "Platea", "kind": "numbered", "price_minor": 5000,
          "layout": {"rows": 30, "seats_per_row": 40, "numbering": "odd_even", "prefix": "PL",
                     "aisles_after_seat": [10, 30], "aisle_width": 2, "accessible": ["A-39"],
                     "companion": ["A-37"], "blocked": ["AD-1", "AD-2"]},
          "row_adjustments": {"A": "20", "B": "10"}}
MESAS = {"name": "Mesas", "kind": "numbered", "price_minor": 8000,
         "layout": {"tables": [{"label": "M1", "seats": 4, "sold_as": "whole", "x": 5, "y": 40},
                               {"label": "M2", "seats": 6, "sold_as": "seat", "x": 10, "y": 40}]}}


def body(**changes) -> dict:
    return {"title": "Gala de Ópera", "venue_name": "Teatro Municipal", "time_zone": "America/Caracas",
            "starts_at": "2030-06-01T20:00:00-04:00", "currency": "USD",
            "zones": [{"name": "General", "capacity": 100, "price_minor": 2000}, PLATEA, MESAS], **changes}


async def ready_organizer(h, tenant):
    tenant_msg = TenantRegistered(tenant_id=tenant, slug=f"org-{tenant.hex[:8]}", name="Ópera Viva",
                                  legal_name="Ópera Viva C.A.", tax_id="J-1", city="Caracas", country="VE",
                                  currency="USD", time_zone="America/Caracas")
    await h.publish(Envelope.wrap(tenant_msg, source="gateway", tenant_id=tenant))

    async def known():
        r = await h.client.post("/api/v1/events/nothing/publish", headers=staff(tenant))
        return r.status_code == 404
    await eventually(known)


def problem_of(response, status, type_):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + type_), response.json()
    return response.json()


async def test_numbered_zones_generate_their_seats_and_publish_a_seat_map_for_inventory():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await ready_organizer(h, tenant)
        heard = await h.listen("catalog.seat_map.published", "catalog.event.published")
        created = await h.client.post("/api/v1/events", json=body(sessions=["2030-06-02T18:00:00-04:00"]),
                                      headers=staff(tenant))
        assert created.status_code == 201, created.text
        event = created.json()
        general, platea, mesas = event["zones"]
        assert (platea["kind"], platea["capacity"], mesas["capacity"]) == ("numbered", 1198, 10)
        assert platea["row_adjustments"] == {"A": "20", "B": "10"}
        assert len(event["sessions"]) == 2

        drawn = (await h.client.get(platea["seat_map"], headers=staff(tenant))).json()
        by_label = {s["label"]: s for s in drawn["seats"]}
        assert len(drawn["seats"]) == 1200
        assert [s["label"] for s in drawn["seats"][:2]] == ["PLA-40", "PLA-38"]
        assert (by_label["PLA-1"]["x"], by_label["PLA-2"]["x"], by_label["PLA-21"]["x"]) == (22, 21, 34)
        assert by_label["PLA-39"]["accessible"] and by_label["PLA-37"]["companion"]
        assert by_label["PLAD-2"]["blocked"] and not by_label["PLAC-2"]["blocked"]
        assert by_label["PLA-5"]["row_adjustment_percent"] == "20" and by_label["PLC-5"]["row_adjustment_percent"] is None
        assert drawn["bounds"] == {"min_x": 0, "min_y": 0, "max_x": 43, "max_y": 29}
        tables = (await h.client.get(mesas["seat_map"], headers=staff(tenant))).json()["tables"]
        assert [(t["label"], t["sold_as"], len(t["seat_ids"])) for t in tables] == [("M1", "whole", 4),
                                                                                    ("M2", "seat", 6)]
        problem_of(await h.client.get(f"/api/v1/events/{event['id']}/zones/{general['id']}/seat-map",
                                      headers=staff(tenant)), 404, "not-found")
        # a draft's seat map is the organizer's alone
        problem_of(await h.client.get(platea["seat_map"]), 404, "not-found")

        published = await h.client.post(f"/api/v1/events/{event['id']}/publish", headers=staff(tenant))
        assert published.status_code == 200, published.text
        assert (await h.client.get(platea["seat_map"])).json() == drawn  # public once on sale

        maps, announced = {}, None
        while len(maps) < 2 or announced is None:
            envelope = await asyncio.wait_for(heard.get(), 15)
            if envelope.type == "catalog.seat_map.published":
                message = envelope.parse(SeatMapPublished)
                maps[message.zone_name] = message
            else:
                announced = envelope
        assert [z["kind"] for z in announced.data["zones"]] == ["general", "numbered", "numbered"]
        seat_map = maps["Platea"]
        assert sorted(map(str, seat_map.session_ids)) == sorted(s["id"] for s in event["sessions"])
        assert str(seat_map.zone_id) == platea["id"] and len(seat_map.seats) == 1200
        sent = {s.label: s for s in seat_map.seats}
        assert str(sent["PLA-1"].seat_id) == by_label["PLA-1"]["id"]
        assert (sent["PLA-1"].x, sent["PLA-1"].y, sent["PLAD-1"].blocked) == (22, 0, True)
        assert {s.table_sold_as for s in maps["Mesas"].seats} == {"whole", "seat"}
        async with h.db() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(seats))).scalar_one() == 1210

        # a table sold whole is quoted whole; a table sold by the seat, seat by seat
        table_seats = {t["label"]: t["seat_ids"] for t in tables}
        quote_url = f"/api/v1/events/{event['id']}/quote"
        part = await h.client.post(quote_url, json={"lines": [{"zone_id": mesas["id"],
                                                              "seat_ids": table_seats["M1"][:2]}]})
        assert problem_of(part, 422, "validation-error")["errors"][0]["field"] == "lines.0.seat_ids"
        whole = await h.client.post(quote_url, json={"lines": [{"zone_id": mesas["id"], "seat_ids": table_seats["M1"]}]})
        assert whole.json()["totals"]["base_minor"] == 4 * 8000
        single = await h.client.post(quote_url, json={"lines": [{"zone_id": mesas["id"],
                                                                "seat_ids": table_seats["M2"][:1]}]})
        assert single.json()["totals"]["base_minor"] == 8000
        blocked = await h.client.post(quote_url, json={"lines": [{"zone_id": platea["id"],
                                                                 "seat_ids": [by_label["PLAD-1"]["id"]]}]})
        problem_of(blocked, 422, "unknown-seat")

        # the organizer blocks two more seats for a camera: capacity drops and inventory hears the new map
        block_url = f"/api/v1/events/{event['id']}/zones/{platea['id']}/blocked-seats"
        unknown = await h.client.post(block_url, json={"labels": ["PLA-1", "PLZZ-1"]}, headers=staff(tenant))
        assert problem_of(unknown, 422, "validation-error")["errors"][0]["field"] == "labels.1"
        camera = await h.client.post(block_url, json={"labels": ["PLA-1", "PLA-2"]}, headers=staff(tenant))
        assert camera.status_code == 200 and camera.json()["capacity"] == 1196
        while True:
            envelope = await asyncio.wait_for(heard.get(), 15)
            if envelope.type == "catalog.seat_map.published" and envelope.data["zone_name"] == "Platea":
                break
        now_blocked = {s["label"] for s in envelope.data["seats"] if s["blocked"]}
        assert now_blocked == {"PLA-1", "PLA-2", "PLAD-1", "PLAD-2"}
        freed = await h.client.post(block_url, json={"labels": ["PLAD-1"], "blocked": False}, headers=staff(tenant))
        assert freed.json()["capacity"] == 1197


async def test_the_lifecycle_moves_step_by_step_and_every_change_is_announced_and_audited():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await ready_organizer(h, tenant)
        heard = await h.listen("catalog.event.status_changed", "catalog.event.published")
        event = (await h.client.post("/api/v1/events", json=body(zones=[{"name": "General", "capacity": 10,
                                                                          "price_minor": 100}]),
                                     headers=staff(tenant))).json()
        url = f"/api/v1/events/{event['id']}/status"
        problem_of(await h.client.post(url, json={"status": "sold_out"}, headers=staff(tenant)), 409,
                   "invalid-status-change")
        problem_of(await h.client.post(url, json={"status": "postponed"}, headers=staff(tenant)), 422,
                   "validation-error")
        announced = await h.client.post(url, json={"status": "published"}, headers=staff(tenant))
        assert announced.json()["status"] == "published"
        listed = (await h.client.get("/api/v1/events")).json()["items"]
        assert [e["status"] for e in listed] == ["published"]  # visible, not on sale yet
        for status in ("on_sale", "sold_out", "on_sale", "cancelled"):
            moved = await h.client.post(url, json={"status": status, "reason": f"to {status}"}, headers=staff(tenant))
            assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
        problem_of(await h.client.post(url, json={"status": "on_sale"}, headers=staff(tenant)), 409,
                   "invalid-status-change")
        assert (await h.client.get("/api/v1/events")).json()["items"] == []

        changes, sales_opened = [], 0
        while len(changes) < 5:
            envelope = await asyncio.wait_for(heard.get(), 15)
            if envelope.type == "catalog.event.published":
                sales_opened += 1
            else:
                changes.append(envelope.parse(EventStatusChanged))
        assert [(c.from_status, c.to_status) for c in changes] == [
            ("draft", "published"), ("published", "on_sale"), ("on_sale", "sold_out"), ("sold_out", "on_sale"),
            ("on_sale", "cancelled")]
        assert changes[-1].reason == "to cancelled"
        assert sales_opened == 1  # inventory hears of the sale once, not at every re-opening
        async with h.db() as uow:
            audit = (await uow.session.execute(select(event_transitions.c.to_status)
                                               .order_by(event_transitions.c.occurred_at))).scalars().all()
        assert audit == ["published", "on_sale", "sold_out", "on_sale", "cancelled"]


async def test_an_event_whose_last_session_is_over_is_completed_by_the_timer():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await ready_organizer(h, tenant)
        heard = await h.listen("catalog.event.status_changed")
        event = (await h.client.post("/api/v1/events", headers=staff(tenant), json=body(
            zones=[{"name": "General", "capacity": 10, "price_minor": 100}],
            sessions=["2030-06-08T20:00:00-04:00"]))).json()
        assert (await h.client.post(f"/api/v1/events/{event['id']}/publish", headers=staff(tenant))).status_code == 200
        last = datetime(2030, 6, 9, 0, 0, tzinfo=UTC)  # the second session, in UTC
        async with h.db() as uow:
            assert await complete_past_events(uow.session, last + timedelta(hours=5), timedelta(hours=6)) == 0
            assert await complete_past_events(uow.session, last + timedelta(hours=6), timedelta(hours=6)) == 1
            await uow.commit()
        seen = (await h.client.get(f"/api/v1/events/{event['id']}", headers=staff(tenant))).json()
        assert seen["status"] == "completed"
        changes = [(await asyncio.wait_for(heard.get(), 15)).parse(EventStatusChanged) for _ in range(2)]
        assert [(c.to_status, c.reason) for c in changes] == [("on_sale", None),
                                                              ("completed", "the last session is over")]
