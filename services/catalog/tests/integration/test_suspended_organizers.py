"""A suspended (or pending-deletion) organizer's events leave the storefront: listings, event pages
and the purchase steps refuse them, while its own staff still see them and nothing is deleted;
reactivated by the gateway, they are on sale again."""
import uuid

from catalog_service.adapters.tables import events
from sqlalchemy import func, select
from taquilla_devtools.testing import buyer, eventually, service, service_harness, staff

from .test_events import assert_problem, create, organizer_row, publish, register_organizer, registration


def ids(listing) -> set[str]:
    assert listing.status_code == 200, listing.text
    return {e["id"] for e in listing.json()["items"]}


async def stored_events(h, tenant_id) -> int:
    async with h.db() as uow:
        return (await uow.session.execute(select(func.count()).select_from(events)
                                          .where(events.c.tenant_id == tenant_id))).scalar_one()


async def change_status(h, tenant_id, status: str) -> None:
    """What the gateway sends again when an organizer is suspended, deleted or reactivated."""
    await h.publish(registration(tenant_id, status=status))
    await eventually(lambda: organizer_row(h, tenant_id, status=status))


async def test_a_suspended_organizer_leaves_the_storefront_and_comes_back_when_reactivated():
    async with service_harness("catalog") as h:
        suspended, other = uuid.uuid4(), uuid.uuid4()
        for tenant in (suspended, other):
            await register_organizer(h, tenant)
        hidden = await publish(h, suspended, (await create(h, suspended, slug="guaco-en-caracas"))["id"])
        shown = await publish(h, other, (await create(h, other, title="Caribe Fest"))["id"])
        general = next(z["id"] for z in hidden["zones"] if z["name"] == "General")
        code = await h.client.post(f"/api/v1/events/{hidden['id']}/promo-codes", headers=staff(suspended),
                                   json={"code": "GUACO10", "kind": "percent", "value": "10"})
        assert code.status_code == 201, code.text
        quote_body = {"lines": [{"zone_id": general, "quantity": 2}]}
        allocation = {"hold_id": str(uuid.uuid4()), "session_id": hidden["sessions"][0]["id"],
                      "lines": [{"zone_id": general, "quantity": 2}]}
        assert ids(await h.client.get("/api/v1/events")) == {hidden["id"], shown["id"]}

        for status in ("suspended", "pending_deletion"):
            await change_status(h, suspended, status)
            # the storefront, anonymous or signed in, and other organizers' staff: gone
            assert ids(await h.client.get("/api/v1/events")) == {shown["id"]}
            assert ids(await h.client.get("/api/v1/events", headers=buyer())) == {shown["id"]}
            assert ids(await h.client.get("/api/v1/events", params={"q": "Salsa"})) == set()
            assert ids(await h.client.get("/api/v1/events", headers=staff(other))) == {shown["id"]}
            for reference in (hidden["id"], hidden["slug"]):
                assert_problem(await h.client.get(f"/api/v1/events/{reference}"), 404, "not-found")
                assert_problem(await h.client.get(f"/api/v1/events/{reference}", headers=buyer()), 404, "not-found")
                assert_problem(await h.client.get(f"/api/v1/events/{reference}", headers=staff(other)),
                               404, "not-found")
            assert_problem(await h.client.get(f"/api/v1/events/{hidden['id']}/zones/{general}/seat-map"),
                           404, "not-found")
            # and nothing of it can be bought
            assert_problem(await h.client.post(f"/api/v1/events/{hidden['id']}/quote", json=quote_body),
                           404, "not-found")
            refused = assert_problem(await h.client.post(f"/api/v1/events/{hidden['id']}/stage-allocations",
                                                         json=allocation, headers=service()),
                                     409, "organizer-not-active")
            assert status in refused["detail"]
            assert_problem(await h.client.post(f"/api/v1/events/{hidden['id']}/promo-codes/GUACO10/redemptions",
                                               json={"reference": "TQ-1", "buyer_email": "ana@example.test"},
                                               headers=service()), 409, "organizer-not-active")
            # the organizer's staff still see their event, in the listing and on its page; it is kept
            own = await h.client.get(f"/api/v1/events/{hidden['slug']}", headers=staff(suspended))
            assert own.status_code == 200 and own.json()["id"] == hidden["id"], own.text
            assert hidden["id"] in ids(await h.client.get("/api/v1/events", headers=staff(suspended)))
            assert await stored_events(h, suspended) == 1
            # the other organizer sells as before
            assert (await h.client.post(f"/api/v1/events/{shown['id']}/quote", json={
                "lines": [{"zone_id": shown["zones"][0]["id"], "quantity": 1}]})).status_code == 200

        await change_status(h, suspended, "active")
        assert ids(await h.client.get("/api/v1/events")) == {hidden["id"], shown["id"]}
        page = await h.client.get(f"/api/v1/events/{hidden['slug']}", headers=buyer())
        assert page.status_code == 200 and page.json()["id"] == hidden["id"], page.text
        quote = await h.client.post(f"/api/v1/events/{hidden['id']}/quote", json=quote_body)
        assert quote.status_code == 200 and len(quote.json()["lines"]) == 1, quote.text
        allocated = await h.client.post(f"/api/v1/events/{hidden['id']}/stage-allocations", json=allocation,
                                        headers=service())
        assert allocated.status_code == 201, allocated.text
        redeemed = await h.client.post(f"/api/v1/events/{hidden['id']}/promo-codes/GUACO10/redemptions",
                                       json={"reference": "TQ-1", "buyer_email": "ana@example.test"},
                                       headers=service())
        assert redeemed.status_code == 201, redeemed.text


async def test_purchases_under_way_can_still_be_undone_after_a_suspension():
    """Releasing a hold's stage prices or a code's use is a compensation: it works while suspended."""
    async with service_harness("catalog") as h:
        tenant = uuid.uuid4()
        await register_organizer(h, tenant)
        event = await publish(h, tenant, (await create(h, tenant))["id"])
        general = next(z["id"] for z in event["zones"] if z["name"] == "General")
        assert (await h.client.post(f"/api/v1/events/{event['id']}/promo-codes", headers=staff(tenant),
                                    json={"code": "SALSA5", "kind": "percent", "value": "5"})).status_code == 201
        hold = uuid.uuid4()
        allocated = await h.client.post(f"/api/v1/events/{event['id']}/stage-allocations", headers=service(), json={
            "hold_id": str(hold), "session_id": event["sessions"][0]["id"],
            "lines": [{"zone_id": general, "quantity": 1}]})
        assert allocated.status_code == 201, allocated.text
        redeemed = await h.client.post(f"/api/v1/events/{event['id']}/promo-codes/SALSA5/redemptions",
                                       json={"reference": "TQ-9", "buyer_email": "ana@example.test"}, headers=service())
        assert redeemed.status_code == 201, redeemed.text

        await change_status(h, tenant, "suspended")
        released = await h.client.delete(f"/api/v1/events/{event['id']}/stage-allocations/{hold}", headers=service())
        assert released.status_code == 200, released.text
        cancelled = await h.client.delete(f"/api/v1/events/{event['id']}/promo-codes/SALSA5/redemptions/TQ-9",
                                          headers=service())
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
