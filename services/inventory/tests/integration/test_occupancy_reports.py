"""Occupancy report and seat heat map: every figure checked against what the units table holds."""
from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import text
from taquilla.inventory.v1 import inventory_pb2
from taquilla_devtools.testing import buyer, staff

from .conftest import DEADLINE, inventory_service

CARACAS = ZoneInfo("America/Caracas")
ROWS = [
    "......",  # A
    "......",  # B
    "..b...",  # C: C3 left out of the sale by the seat map
]
OCCUPANCY = "/api/v1/availability/reports/occupancy"
SVG = "{http://www.w3.org/2000/svg}"
FOUR = Decimal("0.0001")
COUNTS = ("capacity", "sold", "held", "blocked", "available", "sold_in_window", "sold_last_24h")


@pytest.fixture
async def hall():
    """GA 25, VIP 5 and an 18-seat Platea (17 on sale); no worker: everything happens in the request."""
    async with inventory_service(worker=False, seat_rows=ROWS) as service:
        yield service


def admin(hall) -> dict[str, str]:
    return staff(hall.tenant_id, time_zone="America/Caracas")


async def confirmed(hall, hold, closed_at: datetime | None = None):
    await hall.confirm(hold.hold_id)
    if closed_at is not None:  # a sale on a chosen day: the hold's confirmation time is when its units sold
        async with hall.h.db(hall.tenant_id) as uow:
            await uow.session.execute(text("UPDATE holds SET closed_at = :at WHERE id = :id"),
                                      {"at": closed_at, "id": uuid.UUID(hold.hold_id)})
            await uow.commit()
    return hold


async def void(hall, hold, *unit_ids: str):
    await hall.stub.Void(inventory_pb2.VoidRequest(hold_id=hold.hold_id, tenant_id=str(hall.tenant_id),
                                                   owner_id=str(hall.owner_id), unit_ids=list(unit_ids),
                                                   reason="refund"), timeout=DEADLINE)


async def release(hall, hold):
    await hall.stub.Release(inventory_pb2.ReleaseRequest(hold_id=hold.hold_id, tenant_id=str(hall.tenant_id),
                                                         owner_id=str(hall.owner_id), reason="abandoned"),
                            timeout=DEADLINE)


async def block(hall, **body):
    response = await hall.h.client.post(f"/api/v1/availability/{hall.session_id}/blocks", headers=admin(hall),
                                        json={"label": "Patrocinador", **body})
    assert response.status_code == 201, response.text


async def sell_around_caracas_midnight(hall) -> None:
    """GA: sales on both sides of the local midnights of 2026-03-01, a refund, a live hold, a released one
    and a block; Platea: seats sold, held, blocked, and one sold then refunded."""
    first = await confirmed(hall, await hall.hold(4), datetime(2026, 3, 2, 3, 30, tzinfo=UTC))  # local 03-01 23:30
    await void(hall, first, first.units[0].unit_id)  # refunded: that unit is on sale again
    await confirmed(hall, await hall.hold(3), datetime(2026, 3, 2, 4, 30, tzinfo=UTC))  # local 03-02 00:30
    await confirmed(hall, await hall.hold(2), datetime(2026, 3, 1, 3, 59, 59, tzinfo=UTC))  # local 02-28 23:59:59
    await confirmed(hall, await hall.hold(2))  # now: in the last 24 hours
    await hall.hold(2)  # still held
    await release(hall, await hall.hold(2))
    await block(hall, zone_id=str(hall.ga), quantity=5)

    await confirmed(hall, await hall.hold_seats("PLA-A1", "PLA-A2"), datetime(2026, 3, 1, 4, tzinfo=UTC))  # 00:00
    await confirmed(hall, await hall.hold_seats("PLA-B3"))
    await void(hall, await confirmed(hall, await hall.hold_seats("PLA-B1")))
    await hall.hold_seats("PLA-C1")
    await block(hall, units=["PLA-A5", "PLA-A6"])


async def raw_units(hall) -> list:
    """The units table as it is, each with the confirmation time of the hold that has it."""
    async with hall.h.db(hall.tenant_id) as uow:
        return (await uow.session.execute(text(
            "SELECT u.id, u.session_id, u.zone_id, u.status, u.blocked_in_map, u.label, h.closed_at "
            "FROM sellable_units u LEFT JOIN holds h ON h.tenant_id = u.tenant_id AND h.id = u.hold_id"))).all()


def expected_figures(units: list, capacity: int, first_day: date, last_day: date, as_of: datetime) -> dict:
    sold = [u for u in units if u.status == "sold"]
    in_window = sum(1 for u in sold if first_day <= u.closed_at.astimezone(CARACAS).date() <= last_day)
    recent = sum(1 for u in sold if as_of - timedelta(hours=24) < u.closed_at <= as_of)
    available = sum(1 for u in units if u.status == "available")
    past = min(datetime.combine(last_day + timedelta(days=1), time(), CARACAS), as_of) - \
        datetime.combine(first_day, time(), CARACAS)
    elapsed_us = Decimal(past // timedelta(microseconds=1))

    def four(value: Decimal) -> str:
        return str(value.quantize(FOUR))

    return {
        "capacity": capacity, "sold": len(sold), "held": sum(1 for u in units if u.status == "held"),
        "blocked": sum(1 for u in units if u.status == "blocked" and not u.blocked_in_map), "available": available,
        "fill_rate": four(Decimal(len(sold)) / capacity) if capacity else None,
        "sold_in_window": in_window,
        "window_tickets_per_hour": four(in_window * Decimal(3_600_000_000) / elapsed_us),
        "window_tickets_per_day": four(in_window * Decimal(86_400_000_000) / elapsed_us),
        "sold_last_24h": recent,
        "last_24h_tickets_per_hour": four(Decimal(recent) / 24), "last_24h_tickets_per_day": four(Decimal(recent)),
        "projected_sell_out_at": (as_of + timedelta(seconds=-(-available * 86_400 // recent))).isoformat()
        if recent and available else None,
    }


async def expected_rows(hall, first_day: date, last_day: date, as_of: datetime) -> list[dict]:
    units = await raw_units(hall)
    zones = [(z.zone_id, z.capacity if z.kind == "general" else sum(r.count(".") for r in ROWS))
             for z in hall.event.zones]
    rows = []
    for zone_id, capacity in zones:
        mine = [u for u in units if u.zone_id == zone_id]
        rows.append({"level": "zone", "session_id": str(hall.session_id), "zone_id": str(zone_id),
                     **expected_figures(mine, capacity, first_day, last_day, as_of)})
    whole = expected_figures(units, sum(c for _, c in zones), first_day, last_day, as_of)
    rows.append({"level": "session", "session_id": str(hall.session_id), "zone_id": None, **whole})
    rows.append({"level": "event", "session_id": None, "zone_id": None, **whole})
    return rows


def shown(rows: list[dict]) -> list[dict]:
    keys = ("level", "session_id", "zone_id", *COUNTS, "fill_rate", "window_tickets_per_hour",
            "window_tickets_per_day", "last_24h_tickets_per_hour", "last_24h_tickets_per_day", "projected_sell_out_at")
    return [{k: row[k] for k in keys} for row in rows]


async def test_occupancy_matches_the_units_table_around_a_caracas_midnight(hall):
    await sell_around_caracas_midnight(hall)
    response = await hall.h.client.get(OCCUPANCY, params={"from": "2026-03-01", "to": "2026-03-01"},
                                       headers=admin(hall))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["window"]["time_zone"], report["window"]["starts_at"]) == (
        "America/Caracas", "2026-03-01T04:00:00+00:00")
    as_of = datetime.fromisoformat(report["as_of"])
    expected = await expected_rows(hall, date(2026, 3, 1), date(2026, 3, 1), as_of)
    assert shown(report["rows"]) == expected
    assert all(r["event_id"] == str(hall.event.event_id) and r["event_title"] == "Concierto" for r in report["rows"])
    assert report["totals"] == {k: v for k, v in expected[-1].items() if k not in ("level", "session_id", "zone_id")}

    # the same story told by hand: GA sold 3 (+1 refunded) + 3 + 2 + 2, held 2, blocked 5
    ga, vip, platea, session, _ = report["rows"]
    assert [ga[k] for k in COUNTS] == [25, 10, 2, 5, 8, 3, 2]
    assert (ga["fill_rate"], ga["window_tickets_per_hour"], ga["window_tickets_per_day"]) == ("0.4000", "0.1250",
                                                                                             "3.0000")
    assert datetime.fromisoformat(ga["projected_sell_out_at"]) == as_of + timedelta(days=4)  # 8 left at 2 a day
    assert [vip[k] for k in COUNTS] == [5, 0, 0, 0, 5, 0, 0] and vip["projected_sell_out_at"] is None
    assert [platea[k] for k in COUNTS] == [17, 3, 1, 2, 11, 2, 1]  # B1 sold then refunded: available again
    assert [session[k] for k in COUNTS] == [47, 13, 3, 7, 24, 5, 3]

    narrowed = (await hall.h.client.get(OCCUPANCY, headers=admin(hall), params={
        "session_id": str(hall.session_id), "zone_id": str(hall.platea), "from": "2026-03-01", "to": "2026-03-01"}
    )).json()
    assert [r["level"] for r in narrowed["rows"]] == ["zone", "session", "event"]
    again = await expected_rows(hall, date(2026, 3, 1), date(2026, 3, 1), datetime.fromisoformat(narrowed["as_of"]))
    assert shown(narrowed["rows"])[0] == again[2]
    assert narrowed["rows"][1]["sold"] == 3


async def test_the_window_defaults_to_the_organizers_last_30_days_in_their_time_zone(hall):
    await sell_around_caracas_midnight(hall)
    report = (await hall.h.client.get(OCCUPANCY, headers=admin(hall))).json()
    window = report["window"]
    first_day, last_day = date.fromisoformat(window["from"]), date.fromisoformat(window["to"])
    assert (window["time_zone"], (last_day - first_day).days) == ("America/Caracas", 29)
    expected = await expected_rows(hall, first_day, last_day, datetime.fromisoformat(report["as_of"]))
    assert shown(report["rows"]) == expected


async def test_exports_hold_the_same_rows(hall):
    await sell_around_caracas_midnight(hall)
    params = {"from": "2026-03-01", "to": "2026-03-01"}
    rows = (await hall.h.client.get(OCCUPANCY, params=params, headers=admin(hall))).json()["rows"]

    as_csv = await hall.h.client.get(OCCUPANCY, params={**params, "format": "csv"}, headers=admin(hall))
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "occupancy_2026-03-01_2026-03-01.csv" in as_csv.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    as_of = datetime.fromisoformat(as_csv.headers["x-report-as-of"])
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert (line["Level"], line["Session id"], line["Zone id"]) == (row["level"], row["session_id"] or "",
                                                                        row["zone_id"] or "")
        assert [int(line[t]) for t in ("Capacity", "Sold", "Held", "Blocked", "Available")] == [
            row[k] for k in ("capacity", "sold", "held", "blocked", "available")]
        assert (line["Fill rate"], line["Tickets per hour (window)"]) == (row["fill_rate"],
                                                                          row["window_tickets_per_hour"])
        assert line["Session starts"] == (hall.event.sessions[0].starts_at.astimezone(CARACAS).replace(
            tzinfo=None).isoformat() if row["session_starts_at"] else "")
        available, recent = row["available"], row["sold_last_24h"]
        sell_out = as_of + timedelta(seconds=-(-available * 86_400 // recent)) if available and recent else None
        assert line["Projected sell-out"] == (sell_out.astimezone(CARACAS).replace(tzinfo=None).isoformat()
                                              if sell_out else "")

    as_xlsx = await hall.h.client.get(OCCUPANCY, params={**params, "format": "xlsx"}, headers=admin(hall))
    assert as_xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(cells) == len(rows)
    for values, row in zip(cells, rows, strict=True):
        line = dict(zip(header, values, strict=True))
        assert (line["Level"], line["Zone id"]) == (row["level"], row["zone_id"])
        assert [line[t] for t in ("Capacity", "Sold", "Held", "Blocked", "Available", "Sold in window")] == [
            row[k] for k in ("capacity", "sold", "held", "blocked", "available", "sold_in_window")]
        assert Decimal(str(line["Fill rate"])) == Decimal(row["fill_rate"])


async def test_the_heat_map_shows_each_seat_as_the_units_table_has_it(hall):
    await sell_around_caracas_midnight(hall)
    url = f"/api/v1/availability/reports/sessions/{hall.session_id}/zones/{hall.platea}/heatmap"
    response = await hall.h.client.get(url, headers=admin(hall))
    assert response.status_code == 200, response.text
    heat_map = response.json()
    table = {str(u.id): u for u in await raw_units(hall) if u.zone_id == hall.platea}
    seats = {s["id"]: s for s in heat_map["seats"]}
    assert set(seats) == set(table) and len(seats) == 18
    for unit_id, unit in table.items():
        seat = seats[unit_id]
        assert (seat["label"], seat["status"]) == (unit.label, unit.status)
        assert seat["sold_at"] == (unit.closed_at.isoformat() if unit.status == "sold" else None)
        placed = hall.seat(unit.label)
        assert (seat["row"], seat["number"], seat["x"], seat["y"]) == (placed.row, placed.number, placed.x, placed.y)
    assert heat_map["counts"] == {status: sum(1 for u in table.values() if u.status == status)
                                  for status in ("available", "held", "sold", "blocked")}
    assert heat_map["bounds"] == {"min_x": 0.0, "min_y": 0.0, "max_x": 5.0, "max_y": 2.0}
    legend = {(item["status"], item["label"]): item["color"] for item in heat_map["legend"]}
    by_label = {s["label"]: s for s in heat_map["seats"]}
    for label, status in (("PLA-C1", "held"), ("PLA-A5", "blocked"), ("PLA-C3", "blocked"), ("PLA-B1", "available")):
        assert by_label[label]["color"] == legend[(status, status.capitalize())]
    # A1 and A2 sold first (darkest), B3 last (lightest)
    assert by_label["PLA-A1"]["color"] == by_label["PLA-A2"]["color"] == legend[("sold", "Sold first")]
    assert by_label["PLA-B3"]["color"] == legend[("sold", "Sold last")]
    assert luminance(legend[("sold", "Sold first")]) < luminance(legend[("sold", "Sold last")])

    svg = await hall.h.client.get(url, params={"format": "svg"}, headers=admin(hall))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)
    assert (int(root.get("width")), int(root.get("height"))) == (heat_map["image"]["width"],
                                                                 heat_map["image"]["height"])
    circles = root.findall(f".//{SVG}circle")
    assert sorted(c.get("data-unit-id") for c in circles) == sorted(seats)
    for circle in circles:
        seat = seats[circle.get("data-unit-id")]
        assert circle.get("fill") == seat["color"]
        assert (float(circle.get("cx")), float(circle.get("cy"))) == (seat["cx"], seat["cy"])
        assert seat["label"] in circle.find(f"{SVG}title").text
    swatches = root.findall(f".//{SVG}g[@class='legend']/{SVG}rect")
    legend_swatches = {(r.get("data-status"), r.get("fill")) for r in swatches}
    assert legend_swatches == {(status, color) for (status, _), color in legend.items()}

    png = await hall.h.client.get(url, params={"format": "png"}, headers=admin(hall))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content)).convert("RGB")
    drawing = heat_map["image"]
    assert image.size == (drawing["width"], drawing["height"])
    for label in ("PLA-A1", "PLA-B3", "PLA-C1", "PLA-B1"):
        seat = hall.seat(label)
        centre = (round(drawing["offset_x"] + seat.x * drawing["scale"]),
                  round(drawing["offset_y"] + seat.y * drawing["scale"]))
        assert image.getpixel(centre) == rgb(by_label[label]["color"]), label
    assert image.getpixel((0, 0)) == (255, 255, 255)

    listed = await hall.h.client.get(url, params={"format": "csv"}, headers=admin(hall))
    assert listed.status_code == 200 and "attachment" in listed.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(listed.content.decode("utf-8-sig"))))
    assert {(r["Seat"], r["Status"]) for r in rows} == {(u.label, u.status) for u in table.values()}


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def luminance(color: str) -> float:
    r, g, b = rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_reports_are_for_the_organizers_staff_only(hall):
    await sell_around_caracas_midnight(hall)
    heat_map = f"/api/v1/availability/reports/sessions/{hall.session_id}/zones/{hall.platea}/heatmap"
    assert (await hall.h.client.get(OCCUPANCY, headers=buyer())).status_code == 403
    assert (await hall.h.client.get(heat_map, headers=buyer())).status_code == 403
    assert (await hall.h.client.get(OCCUPANCY)).status_code == 401

    stranger = staff(uuid.uuid4())
    assert (await hall.h.client.get(OCCUPANCY, headers=stranger)).json()["rows"] == []
    assert (await hall.h.client.get(heat_map, headers=stranger)).status_code == 404
    assert (await hall.h.client.get(OCCUPANCY, headers=stranger,
                                    params={"event_id": str(hall.event.event_id)})).status_code == 404

    elsewhere = staff(hall.tenant_id, ("event_operator",), event_ids=frozenset({str(uuid.uuid4())}))
    assert (await hall.h.client.get(OCCUPANCY, headers=elsewhere)).json()["rows"] == []
    assert (await hall.h.client.get(OCCUPANCY, headers=elsewhere,
                                    params={"event_id": str(hall.event.event_id)})).status_code == 403
    assert (await hall.h.client.get(heat_map, headers=elsewhere)).status_code == 403
    own = staff(hall.tenant_id, ("event_operator",), event_ids=frozenset({str(hall.event.event_id)}))
    rows = (await hall.h.client.get(OCCUPANCY, headers=own)).json()["rows"]
    assert [r["level"] for r in rows] == ["zone", "zone", "zone", "session", "event"] and rows[-1]["sold"] == 13
    assert (await hall.h.client.get(heat_map, headers=own)).status_code == 200


async def test_bad_requests_are_problems_naming_the_field(hall):
    base = f"/api/v1/availability/reports/sessions/{hall.session_id}/zones"
    general = await hall.h.client.get(f"{base}/{hall.ga}/heatmap", headers=admin(hall))
    assert general.status_code == 409 and general.headers["content-type"] == "application/problem+json"
    assert general.json()["type"].endswith("/zone-not-numbered")
    assert (await hall.h.client.get(f"{base}/{uuid.uuid4()}/heatmap", headers=admin(hall))).status_code == 404
    unknown_session = f"/api/v1/availability/reports/sessions/{uuid.uuid4()}/zones/{hall.platea}/heatmap"
    assert (await hall.h.client.get(unknown_session, headers=admin(hall))).status_code == 404

    for url, params, field in ((f"{base}/{hall.platea}/heatmap", {"format": "gif"}, "format"),
                               (OCCUPANCY, {"format": "pdf"}, "format"),
                               (OCCUPANCY, {"tz": "Mars/Olympus"}, "tz"),
                               (OCCUPANCY, {"from": "2026-13-01"}, "from"),
                               (OCCUPANCY, {"from": "2020-01-01", "to": "2026-01-01"}, "from")):
        refused = await hall.h.client.get(url, params=params, headers=admin(hall))
        assert refused.status_code == 422, (params, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == [field], refused.json()
