"""An organizer reads its sales through the gateway: the dashboard, sales over every channel, and downloads."""
from __future__ import annotations

import csv
import io
import uuid

import openpyxl
from taquilla_devtools.testing import RUN_ID, eventually

from .conftest import new_organizer
from .test_purchase import completed, create_event, pay, place_order


async def test_the_dashboard_and_the_downloads_show_what_buyers_did_today(platform, buyer):
    api = platform.api
    organizer = await new_organizer(api, f"rep-{RUN_ID}")  # its own organizer: no other test's sales
    staff = organizer["headers"]
    event = await create_event(api, organizer, capacity=40, price_minor=2500)

    paid = (await place_order(api, buyer, event, quantity=3)).json()
    assert (await pay(api, buyer, paid["id"])).status_code == 201
    done = await completed(api, buyer, paid["id"])
    given_up = (await place_order(api, buyer, event, quantity=1)).json()
    assert (await api.post(f"/api/v1/orders/{given_up['id']}/cancel", headers=buyer["headers"])).status_code == 200

    async def dashboard_shows_the_sale():
        answer = await api.get("/api/v1/reports/dashboard", headers=staff)
        assert answer.status_code == 200, answer.text
        board = answer.json()
        sold = next((e for e in board["on_sale_events"] or [] if e["event_id"] == event["id"]), None)
        return board if board["today_sales"]["totals"] and sold and sold["sold"] == 3 else None

    board = await eventually(dashboard_shows_the_sale, timeout=30)
    assert board["unavailable"] == [] and board["time_zone"] == "America/Caracas"
    [usd] = board["today_sales"]["totals"]
    assert (usd["currency"], usd["tickets"], usd["collected_minor"]) == ("USD", 3, done["total_minor"])
    assert [(r["key"], r["tickets"]) for r in board["today_sales"]["rows"]] == [("online", 3)]
    event_seats = next(e for e in board["on_sale_events"] if e["event_id"] == event["id"])
    assert (event_seats["capacity"], event_seats["sold"], event_seats["available"]) == (40, 3, 37)
    assert board["top_events"]["items"][0]["event_id"] == event["id"]
    assert board["top_events"]["items"][0]["collected_minor"] == done["total_minor"]
    counts = board["conversion"]["counts"]
    assert (counts["placed"], counts["completed"], counts["cancelled"]) == (2, 1, 1)
    kinds = {(a["kind"], a["order_code"]) for a in board["recent_activity"]}
    assert {("paid", done["code"]), ("placed", given_up["code"]), ("cancelled", given_up["code"])} <= kinds

    by_channel = await api.get("/api/v1/reports/sales", params={"group_by": "channel", "format": "csv"},
                               headers=staff)
    assert by_channel.status_code == 200, by_channel.text
    assert by_channel.headers["content-disposition"].startswith("attachment; filename=")
    table = list(csv.DictReader(io.StringIO(by_channel.content.decode("utf-8-sig"))))
    online = next(r for r in table if r["Key"] == "online")
    assert (online["Tickets"], online["Collected"]) == ("3", f"{done['total_minor'] / 100:.2f}")

    lines = await api.get("/api/v1/orders/reports/sales/lines", params={"format": "xlsx"}, headers=staff)
    assert lines.status_code == 200, lines.text
    sheet = openpyxl.load_workbook(io.BytesIO(lines.content)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [(r["Order"], r["Tickets"]) for r in rows] == [(done["code"], 3)]

    payments = await api.get("/api/v1/payments/reports/summary", headers=staff)
    assert payments.status_code == 200, payments.text
    assert sum(t.get("collected_minor", 0) for t in payments.json()["totals"]) == done["total_minor"]

    assert (await api.get("/api/v1/reports/dashboard", headers=buyer["headers"])).status_code == 403
    stranger = await api.get("/api/v1/reports/sales", headers=(await new_organizer(
        api, f"rep2-{uuid.uuid4().hex[:6]}"))["headers"])
    assert stranger.status_code == 200, stranger.text  # another organizer sees none of it: zeros at most
    assert all(t["tickets"] == 0 and t["collected_minor"] == 0 for t in stranger.json()["totals"])
