"""Live check-in counts per event, list and door, as the operator's dashboard shows them."""
import uuid

from taquilla_devtools.testing import staff


async def test_counts_follow_entries_exits_and_refusals_per_list_and_door(h, doors):
    tenant, event, vip_zone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    general_tickets = await doors.issue(tenant, event_id=event, units=3)
    (vip,) = await doors.issue(tenant, event_id=event, zone_id=vip_zone)
    general = await doors.new_list(tenant, event, name="General", doors=["Norte", "Sur"], allow_reentry=True)
    vip_list = await doors.new_list(tenant, event, name="VIP", zone_ids=[str(vip_zone)])
    north = await doors.device(tenant, general["id"], "Norte")
    south = await doors.device(tenant, general["id"], "Sur")
    lounge = await doors.device(tenant, vip_list["id"], "Lounge")

    for ticket in general_tickets:
        assert (await doors.scan(north, ticket["qr_payload"]))["admitted"]
    assert (await doors.scan(south, general_tickets[0]["qr_payload"]))["result"] == "already_inside"
    assert (await doors.scan(south, general_tickets[1]["qr_payload"], "exit"))["result"] == "exited"
    assert (await doors.scan(lounge, vip["qr_payload"]))["admitted"]
    assert (await doors.scan(lounge, general_tickets[2]["qr_payload"]))["result"] == "wrong_list"

    response = await h.client.get(f"/api/v1/tickets/events/{event}/checkins", headers=staff(tenant))
    assert response.status_code == 200, response.text
    counts = response.json()
    assert (counts["valid_tickets"], counts["admitted"], counts["inside"]) == (4, 4, 3)
    by_name = {entry["name"]: entry for entry in counts["lists"]}
    assert (by_name["General"]["admitted"], by_name["General"]["inside"]) == (3, 2)
    assert by_name["General"]["doors"] == [{"door": "Norte", "entries": 3, "exits": 0, "refused": 0},
                                           {"door": "Sur", "entries": 0, "exits": 1, "refused": 1}]
    assert (by_name["VIP"]["admitted"], by_name["VIP"]["inside"]) == (1, 1)
    assert by_name["VIP"]["doors"] == [{"door": "Lounge", "entries": 1, "exits": 0, "refused": 1}]

    assert (await h.client.get(f"/api/v1/tickets/events/{event}/checkins",
                               headers=staff(uuid.uuid4()))).json()["admitted"] == 0
    assert (await h.client.get(f"/api/v1/tickets/events/{event}/checkins")).status_code == 401
