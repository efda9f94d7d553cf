"""Prices as buyers and orders see them: sale stages and their allotments under concurrency, the quote line by
line, promo codes and their limits under concurrency, hidden zones and the price history."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from catalog_service.application.stages import end_stages_due
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import PriceStageChanged
from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.inventory import HoldExpired
from taquilla_devtools.testing import buyer, eventually, service, service_harness, staff


def problem_of(response, status, type_):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + type_), response.json()
    return response.json()


async def on_sale_event(h, tenant, **changes) -> dict:
    tenant_msg = TenantRegistered(tenant_id=tenant, slug=f"org-{tenant.hex[:8]}", name="Salsa Brava",
                                  legal_name="Salsa Brava C.A.", tax_id="J-2", city="Caracas", country="VE",
                                  currency="USD", time_zone="America/Caracas")
    await h.publish(Envelope.wrap(tenant_msg, source="gateway", tenant_id=tenant))
    body = {"title": "Noche de Salsa", "venue_name": "Poliedro", "time_zone": "America/Caracas",
            "starts_at": "2030-08-01T20:00:00-04:00", "currency": "USD", "max_tickets_per_order": 20,
            "fee_fixed_minor": 150, "fee_percent": "5", "tax_percent": "16",
            "group_discounts": [{"min_quantity": 4, "percent": "10"}],
            "zones": [{"name": "General", "capacity": 200, "price_minor": 10000},
                      {"name": "Platea", "kind": "numbered", "price_minor": 20000,
                       "layout": {"rows": 3, "seats_per_row": 10}, "row_adjustments": {"A": "20"}},
                      {"name": "Backstage", "capacity": 10, "price_minor": 50000, "hidden": True}], **changes}
    created = await h.client.post("/api/v1/events", json=body, headers=staff(tenant))
    assert created.status_code == 201, created.text
    event = created.json()

    async def published():
        r = await h.client.post(f"/api/v1/events/{event['id']}/publish", headers=staff(tenant))
        return r.json() if r.status_code == 200 else None
    return await eventually(published)


async def add_stage(h, tenant, event, **body) -> dict:
    response = await h.client.post(f"/api/v1/events/{event['id']}/stages", json=body, headers=staff(tenant))
    assert response.status_code == 201, response.text
    return response.json()


def zone(event, name) -> str:
    return next(z["id"] for z in event["zones"] if z["name"] == name)


# a small pool: 100 requests still race, 8 transactions at a time, and a shared PostgreSQL is spared
SMALL_POOL = {"CATALOG_DB__POOL_SIZE": "4", "CATALOG_DB__MAX_OVERFLOW": "4"}


async def test_100_concurrent_buyers_get_exactly_50_early_bird_prices_and_releases_reopen_the_stage():
    async with service_harness("catalog", env=SMALL_POOL) as h:
        tenant = uuid.uuid4()
        event = await on_sale_event(h, tenant)
        general = zone(event, "General")
        heard = await h.listen("catalog.price_stage.changed")
        early = await add_stage(h, tenant, event, name="Early bird", zone_id=general, priority=1, price_minor=8000,
                                quantity=50, ends_at=(datetime.now(UTC) + timedelta(days=7)).isoformat())
        assert (early["ends_by"], early["remaining"], early["status"]) == ("hybrid", 50, "open")
        await add_stage(h, tenant, event, name="General", zone_id=general, priority=2, price_minor=10000)
        session_id = event["sessions"][0]["id"]
        url = f"/api/v1/events/{event['id']}/stage-allocations"

        async def buy(hold_id):
            r = await h.client.post(url, json={"hold_id": str(hold_id), "session_id": session_id,
                                               "lines": [{"zone_id": general, "quantity": 1}]}, headers=service())
            assert r.status_code == 201, r.text
            return r.json()
        holds = [uuid.uuid4() for _ in range(100)]
        answers = await asyncio.gather(*(buy(hold) for hold in holds))
        prices = [a["allocations"][0]["unit_price_minor"] for a in answers]
        assert (prices.count(8000), prices.count(10000)) == (50, 50)
        early_holds = [hold for hold, price in zip(holds, prices, strict=True) if price == 8000]
        again = await buy(early_holds[0])
        assert again["allocations"] == answers[holds.index(early_holds[0])]["allocations"]  # same hold, same lock

        stages = (await h.client.get(f"/api/v1/events/{event['id']}/stages", headers=staff(tenant))).json()
        by_name = {s["name"]: s for s in stages["items"]}
        assert (by_name["Early bird"]["allocated"], by_name["Early bird"]["status"],
                by_name["Early bird"]["end_reason"]) == (50, "ended", "quantity")
        assert [(t["reason"], t["to_status"], t["allocated"]) for t in stages["transitions"]] == [
            ("quantity", "ended", 50)]
        ended = (await asyncio.wait_for(heard.get(), 15)).parse(PriceStageChanged)
        assert (ended.name, ended.reason, ended.to_status, ended.allocated) == ("Early bird", "quantity", "ended", 50)

        # a buyer holding early-bird seats still pays the early-bird price, now that the stage has ended
        locked = await h.client.post(f"/api/v1/events/{event['id']}/quote", json={
            "hold_id": str(early_holds[1]), "lines": [{"zone_id": general, "quantity": 1}]})
        assert locked.json()["lines"][0]["unit_stage_adjustment_minor"] == -2000
        fresh = await h.client.post(f"/api/v1/events/{event['id']}/quote",
                                    json={"lines": [{"zone_id": general, "quantity": 1}]})
        assert fresh.json()["lines"][0]["stage"]["name"] == "General"

        # a hold given up, and one expired in inventory, give their early-bird units back
        released = await h.client.delete(f"{url}/{early_holds[0]}", headers=service())
        assert released.json()["released"] == 1
        expired = HoldExpired(hold_id=early_holds[1], order_id=None, session_id=uuid.UUID(session_id),
                              expired_at=datetime.now(UTC))
        await h.publish(Envelope.wrap(expired, source="inventory", tenant_id=tenant))

        async def early_left():
            items = (await h.client.get(f"/api/v1/events/{event['id']}/stages", headers=staff(tenant))).json()
            early_now = next(s for s in items["items"] if s["name"] == "Early bird")
            return early_now if early_now["allocated"] == 48 else None
        reopened = await eventually(early_left)
        assert (reopened["status"], reopened["remaining"]) == ("open", 2)
        later = await asyncio.gather(*(buy(uuid.uuid4()) for _ in range(3)))
        assert sorted(a["allocations"][0]["unit_price_minor"] for a in later) == [8000, 8000, 10000]


async def test_stages_end_by_date_are_validated_and_audited():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        event = await on_sale_event(h, tenant)
        general, platea = zone(event, "General"), zone(event, "Platea")
        now = datetime.now(UTC)
        presale = await add_stage(h, tenant, event, name="Preventa", priority=1, percent_of_base="90",
                                  ends_at=(now + timedelta(hours=1)).isoformat())
        assert presale["ends_by"] == "date" and presale["zone_id"] is None
        url = f"/api/v1/events/{event['id']}/stages"
        overlapping = await h.client.post(url, headers=staff(tenant), json={
            "name": "Otra", "priority": 2, "percent_of_base": "95", "starts_at": (now + timedelta(minutes=30)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat()})
        assert [e["field"] for e in problem_of(overlapping, 422, "validation-error")["errors"]] == ["ends_at"]
        too_many = await h.client.post(url, headers=staff(tenant), json={
            "name": "Platea early", "zone_id": platea, "priority": 1, "price_minor": 1, "quantity": 31})
        assert [e["field"] for e in problem_of(too_many, 422, "validation-error")["errors"]] == ["quantity"]
        wide_price = await h.client.post(url, headers=staff(tenant), json={"name": "X", "priority": 5,
                                                                           "price_minor": 100})
        assert [e["field"] for e in problem_of(wide_price, 422, "validation-error")["errors"]] == ["price_minor"]

        quote_url = f"/api/v1/events/{event['id']}/quote"
        before = (await h.client.post(quote_url, json={"lines": [{"zone_id": general, "quantity": 1}]})).json()
        assert before["lines"][0]["stage"]["name"] == "Preventa"
        assert before["lines"][0]["unit_stage_adjustment_minor"] == -1000
        page = (await h.client.get(f"/api/v1/events/{event['slug']}")).json()  # the prices in force, publicly
        assert [(z["name"], z["price_now_minor"], z["stage"]["name"]) for z in page["zones"]] == [
            ("General", 9000, "Preventa"), ("Platea", 18000, "Preventa")]
        async with h.db() as uow:  # the timer's pass once the end date is behind us
            assert await end_stages_due(uow.session, now + timedelta(hours=2)) == 1
            await uow.commit()
        after = (await h.client.post(quote_url, json={"lines": [{"zone_id": general, "quantity": 1}]})).json()
        assert after["lines"][0]["stage"] is None and after["lines"][0]["unit_stage_adjustment_minor"] == 0
        page = (await h.client.get(f"/api/v1/events/{event['slug']}")).json()
        assert [(z["price_now_minor"], z["stage"]) for z in page["zones"]] == [(10000, None), (20000, None)]
        stages = (await h.client.get(url, headers=staff(tenant))).json()
        assert [(t["reason"], t["to_status"]) for t in stages["transitions"]] == [("date", "ended")]


async def test_a_quote_shows_every_line_against_a_hand_computed_table_and_hidden_zones_need_their_code():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        event = await on_sale_event(h, tenant)
        platea, backstage = zone(event, "Platea"), zone(event, "Backstage")
        created = await h.client.post(f"/api/v1/events/{event['id']}/promo-codes", headers=staff(tenant), json={
            "code": "salsa10", "kind": "percent", "value": "10", "max_discount_minor": 3000,
            "unlocks_zone_ids": [backstage]})
        assert created.status_code == 201 and created.json()["code"] == "SALSA10"
        seat_map = (await h.client.get(f"/api/v1/events/{event['id']}/zones/{platea}/seat-map")).json()
        ids = {s["label"]: s["id"] for s in seat_map["seats"]}
        quote = await h.client.post(f"/api/v1/events/{event['id']}/quote", json={
            "promo_code": "Salsa10", "lines": [{"zone_id": platea, "seat_ids": [ids["B-1"], ids["A-2"], ids["A-1"],
                                                                                ids["B-2"]]}]})
        assert quote.status_code == 200, quote.text
        q = quote.json()
        # row A: 20000 +20% = 24000, group 10% -2400 -> 21600 x2; row B: 20000 -2000 -> 18000 x2
        # promo 10%: 4320 + 3600 = 7920, capped at 3000 (taken off the last line first: B 0, A 3000)
        # A: 43200 - 3000 = 40200, fees 300 + 2010, tax 16% of 42510 = 6801.6 -> 6802, total 49312
        # B: 36000, fees 300 + 1800, tax 16% of 38100 = 6096, total 44196
        table = [(li["row"], li["seats"], li["row_adjustment_minor"], li["group_discount_minor"],
                  li["promo_discount_minor"], li["subtotal_minor"], li["fees_minor"], li["taxes_minor"],
                  li["total_minor"]) for li in q["lines"]]
        assert table == [("A", ["A-1", "A-2"], 8000, -4800, -3000, 40200, 2310, 6802, 49312),
                         ("B", ["B-1", "B-2"], 0, -4000, 0, 36000, 2100, 6096, 44196)]
        assert (q["totals"]["total_minor"], q["totals"]["promo_discount_minor"], q["promo"]["applied"]) == (
            93508, -3000, True)

        public = (await h.client.get(f"/api/v1/events/{event['id']}")).json()
        assert "Backstage" not in [z["name"] for z in public["zones"]]
        locked = await h.client.post(f"/api/v1/events/{event['id']}/quote",
                                     json={"lines": [{"zone_id": backstage, "quantity": 1}]})
        assert problem_of(locked, 422, "zone-locked")["errors"][0]["field"] == "lines.0.zone_id"
        unlocked = await h.client.post(f"/api/v1/events/{event['id']}/quote", json={
            "promo_code": "SALSA10", "lines": [{"zone_id": backstage, "quantity": 1}]})
        assert unlocked.status_code == 200 and unlocked.json()["lines"][0]["unit_base_minor"] == 50000
        for body, type_, field in [
            ({"promo_code": "NOPE", "lines": [{"zone_id": platea, "quantity": 1}]}, "promo-code-unknown", "promo_code"),
            ({"lines": [{"zone_id": platea, "seat_ids": [str(uuid.uuid4())]}]}, "unknown-seat", "lines.0.seat_ids.0"),
            ({"lines": [{"zone_id": str(uuid.uuid4()), "quantity": 1}]}, "unknown-zone", "lines.0.zone_id"),
            ({"lines": [{"zone_id": platea, "quantity": 21}]}, "validation-error", "lines.0.quantity"),
            ({"lines": [{"zone_id": platea}]}, "validation-error", "lines.0.quantity"),
        ]:
            bad = await h.client.post(f"/api/v1/events/{event['id']}/quote", json=body)
            assert problem_of(bad, 422, type_)["errors"][0]["field"] == field, body


async def test_promo_code_limits_hold_under_concurrent_redemptions():
    async with service_harness("catalog", env=SMALL_POOL) as h:
        tenant = uuid.uuid4()
        event = await on_sale_event(h, tenant)
        codes = f"/api/v1/events/{event['id']}/promo-codes"
        for body in ({"code": "FIVE", "kind": "fixed", "value": "500", "max_uses": 5},
                     {"code": "TWOEACH", "kind": "percent", "value": "15", "max_uses_per_buyer": 2, "min_quantity": 2}):
            assert (await h.client.post(codes, json=body, headers=staff(tenant))).status_code == 201
        bad = await h.client.post(codes, json={"code": "BAD", "kind": "percent", "value": "150"}, headers=staff(tenant))
        assert problem_of(bad, 422, "validation-error")["errors"][0]["field"] == "value"
        taken = await h.client.post(codes, json={"code": "five", "kind": "percent", "value": "5"},
                                    headers=staff(tenant))
        problem_of(taken, 409, "promo-code-taken")

        async def redeem(code, reference, email, quantity=2):
            return await h.client.post(f"{codes}/{code}/redemptions", headers=service(), json={
                "reference": reference, "buyer_email": email, "quantity": quantity})
        total = await asyncio.gather(*(redeem("five", f"order-{i}", f"b{i}@example.test") for i in range(20)))
        statuses = [r.status_code for r in total]
        assert (statuses.count(201), statuses.count(409)) == (5, 15), statuses
        assert {r.json()["type"].rsplit("/", 1)[1] for r in total if r.status_code == 409} == {"promo-code-used-up"}

        mine = await asyncio.gather(*(redeem("TWOEACH", f"mine-{i}", "Ana@Example.test") for i in range(6)))
        statuses = [r.status_code for r in mine]
        assert (statuses.count(201), statuses.count(409)) == (2, 4), statuses
        first = next(r.json() for r in mine if r.status_code == 201)
        repeat = await redeem("TWOEACH", first["reference"], "ana@example.test")
        assert repeat.status_code == 200 and repeat.json()["id"] == first["id"]
        problem_of(await redeem("TWOEACH", "other", "luis@example.test", quantity=1), 422,
                   "promo-code-minimum-quantity")

        listed = {c["code"]: c for c in (await h.client.get(codes, headers=staff(tenant))).json()["items"]}
        assert (listed["FIVE"]["uses"], listed["TWOEACH"]["uses"]) == (5, 2)
        winner = next(r.json() for r in total if r.status_code == 201)
        stolen = await h.client.delete(f"{codes}/FIVE/redemptions/{winner['reference']}", headers=buyer())
        assert problem_of(stolen, 403, "forbidden")  # a buyer cannot give a use back (nor take one)
        assert (await h.client.post(f"{codes}/FIVE/redemptions", headers=buyer(), json={
            "reference": "mine", "buyer_email": "b@example.test", "quantity": 1})).status_code == 403
        cancelled = await h.client.delete(f"{codes}/FIVE/redemptions/{winner['reference']}", headers=service())
        assert cancelled.status_code == 200
        assert (await redeem("FIVE", "late-order", "late@example.test")).status_code == 201
        problem_of(await redeem("FIVE", "later-order", "later@example.test"), 409, "promo-code-used-up")


async def test_every_price_change_is_kept_in_the_history():
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        event = await on_sale_event(h, tenant)
        general, platea = zone(event, "General"), zone(event, "Platea")
        url = f"/api/v1/events/{event['id']}/zones"
        changed = await h.client.patch(f"{url}/{general}", json={"price_minor": 12000}, headers=staff(tenant))
        assert changed.status_code == 200 and changed.json()["price_minor"] == 12000
        rows = await h.client.patch(f"{url}/{platea}", json={"row_adjustments": {"A": "25", "Z": "5"}},
                                    headers=staff(tenant))
        assert problem_of(rows, 422, "validation-error")["errors"][0]["field"] == "row_adjustments.Z"
        early = await add_stage(h, tenant, event, name="Early", zone_id=general, priority=1, price_minor=9000,
                                quantity=10)
        stage_url = f"/api/v1/events/{event['id']}/stages/{early['id']}"
        cheaper = await h.client.patch(stage_url, json={"price_minor": 8500}, headers=staff(tenant))
        assert cheaper.status_code == 200 and cheaper.json()["price_minor"] == 8500
        sold = await h.client.post(f"/api/v1/events/{event['id']}/stage-allocations", headers=service(), json={
            "hold_id": str(uuid.uuid4()), "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": general, "quantity": 10}]})
        assert [(a["quantity"], a["unit_price_minor"]) for a in sold.json()["allocations"]] == [(10, 8500)]
        below = await h.client.patch(stage_url, json={"quantity": 5}, headers=staff(tenant))
        assert problem_of(below, 422, "validation-error")["errors"][0]["field"] == "quantity"
        more = await h.client.patch(stage_url, json={"quantity": 12}, headers=staff(tenant))
        assert (more.json()["status"], more.json()["remaining"]) == ("open", 2)  # the organizer reopened it
        problem_of(await h.client.patch(f"/api/v1/events/{event['id']}/stages/{uuid.uuid4()}", json={"name": "x"},
                                        headers=staff(tenant)), 404, "not-found")
        history = (await h.client.get(f"/api/v1/events/{event['id']}/price-history", headers=staff(tenant))).json()
        kinds = [(i["kind"], i["zone_id"]) for i in history["items"]]
        assert sorted(kinds[:3]) == sorted(("zone_base", z["id"]) for z in event["zones"])
        assert kinds[3:] == [("zone_changed", general), ("stage_created", general), ("stage_changed", general),
                             ("stage_changed", general)]
        assert (history["items"][5]["old"], history["items"][5]["new"]) == ({"price_minor": 9000},
                                                                            {"price_minor": 8500})
        stages = (await h.client.get(f"/api/v1/events/{event['id']}/stages", headers=staff(tenant))).json()
        assert [(t["from_status"], t["to_status"], t["reason"]) for t in stages["transitions"]] == [
            ("open", "ended", "quantity"), ("ended", "open", "organizer")]
        assert (history["items"][3]["old"], history["items"][3]["new"]) == ({"price_minor": 10000},
                                                                            {"price_minor": 12000})
        quote = await h.client.post(f"/api/v1/events/{event['id']}/quote",
                                    json={"lines": [{"zone_id": general, "quantity": 1}]})
        assert quote.json()["lines"][0]["unit_base_minor"] == 12000
        assert (await h.client.get(f"/api/v1/events/{event['id']}/price-history")).status_code == 401
