"""Who sees a ticket: its holder and the organizer's staff; nobody else learns it exists."""
import uuid

from taquilla_devtools.testing import buyer, eventually, staff


async def test_the_holder_and_the_organizers_staff_see_the_tickets_and_nobody_else(h, orders):
    tenant, holder_id = uuid.uuid4(), uuid.uuid4()
    command = orders.command(tenant, units=2, holder_id=holder_id)
    await h.publish(orders.envelope(command, tenant))
    holder = buyer(holder_id, "ana@example.test")

    async def two():
        found = await orders.tickets(holder, command.order_id)
        return found if len(found) == 2 else None
    mine = await eventually(two)
    ticket_id = mine[0]["id"]

    response = await h.client.get(f"/api/v1/tickets/{ticket_id}", headers=holder)
    assert response.status_code == 200 and response.json() == mine[0]
    assert [t["id"] for t in await orders.tickets(holder)] == [t["id"] for t in mine]  # the wallet
    organizer = staff(tenant, ("event_operator",))
    assert [t["id"] for t in await orders.tickets(organizer, command.order_id)] == [t["id"] for t in mine]
    assert (await h.client.get(f"/api/v1/tickets/{ticket_id}", headers=organizer)).status_code == 200
    assert {t["id"] for t in await orders.tickets(organizer)} == {t["id"] for t in mine}

    another_buyer = buyer(email="ana@example.test")  # same e-mail, another account: not the holder
    another_organizer = staff(uuid.uuid4())
    for stranger in (another_buyer, another_organizer):
        assert await orders.tickets(stranger, command.order_id) == []
        assert await orders.tickets(stranger) == []
        response = await h.client.get(f"/api/v1/tickets/{ticket_id}", headers=stranger)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/not-found")


async def test_anonymous_callers_are_refused_and_bad_ids_are_problems(h):
    response = await h.client.get("/api/v1/tickets", params={"order_id": str(uuid.uuid4())})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert (await h.client.get(f"/api/v1/tickets/{uuid.uuid4()}")).status_code == 401
    response = await h.client.get("/api/v1/tickets/not-a-uuid", headers=buyer())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ticket_id"
    response = await h.client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=buyer())
    assert response.status_code == 404
