"""The check-in report: people through each door per bucket of local time, and no-shows, against the raw scans."""
import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.tickets import VoidTickets
from taquilla_devtools.testing import buyer, eventually, staff
from tickets_service.adapters.tables import scans, tickets

CARACAS = ZoneInfo("America/Caracas")
REPORT = "/api/v1/tickets/reports/checkins"
FIGURES = ("admitted", "reentries", "exits", "refused", "duplicates")


def offline(qr: str, at: datetime, *, direction: str = "entry", admitted: bool = True) -> dict:
    return {"id": str(uuid.uuid4()), "qr": qr, "direction": direction, "scanned_at": at.isoformat(),
            "admitted": admitted}


async def upload(h, device, batch: list[dict]) -> dict:
    response = await h.client.post("/api/v1/tickets/scanner/uploads", headers=device, json={"scans": batch})
    assert response.status_code == 200, response.text
    return response.json()


async def raw_rows(h, tenant, event):
    async with h.db(tenant) as uow:
        scan_rows = (await uow.session.execute(select(scans).where(scans.c.event_id == event))).all()
        ticket_rows = (await uow.session.execute(select(tickets).where(tickets.c.event_id == event))).all()
    return scan_rows, ticket_rows


def expected_buckets(scan_rows, ticket_rows, window: dict, minutes: int, session_id: str | None = None):
    """Per (bucket start, door): the figures, computed here from the scans table alone."""
    session_of = {t.id: str(t.session_id) for t in ticket_rows}
    admissions = sorted((s for s in scan_rows if s.passed and s.result == "admitted"),
                        key=lambda s: (s.scanned_at, s.id))
    seen, reentry = set(), set()
    for s in admissions:
        if (s.ticket_id, s.list_id) in seen:
            reentry.add(s.id)
        seen.add((s.ticket_id, s.list_id))
    starts, ends = datetime.fromisoformat(window["starts_at"]), datetime.fromisoformat(window["ends_before"])
    counts: dict[tuple[str, str], Counter] = {}
    people: dict[str, set] = {}
    for s in scan_rows:
        if not starts <= s.scanned_at < ends or (session_id and session_of.get(s.ticket_id) != session_id):
            continue
        local = s.scanned_at.astimezone(CARACAS)
        bucket = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
        into = counts.setdefault((bucket.isoformat(), s.door), Counter())
        if s.passed and s.result == "admitted":
            into["admitted"] += 1
            into["reentries"] += s.id in reentry
            people.setdefault(s.door, set()).add(s.ticket_id)
        elif s.passed and s.result == "exited":
            into["exits"] += 1
        elif s.passed:
            into["duplicates"] += 1
        else:
            into["refused"] += 1
    return {key: {f: c[f] for f in FIGURES} for key, c in counts.items()}, people


def assert_rows_match(report: dict, expected: dict, minutes: int) -> None:
    got = {(r["starts_at"], r["door"]): {f: r[f] for f in FIGURES} for r in report["rows"]}
    assert {k: v for k, v in got.items() if any(v.values())} == expected
    assert len(got) == len(report["rows"])
    # every bucket from the first to the last scan shows, for every door, empty ones with zeros
    starts = sorted({datetime.fromisoformat(s) for s, _ in expected})
    span = int((starts[-1] - starts[0]) / timedelta(minutes=minutes)) + 1
    assert len(report["rows"]) == span * len(report["doors"])
    assert sorted({d for _, d in expected}) == report["doors"]


async def test_admissions_per_door_and_bucket_and_no_shows_match_the_raw_scans(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    main_show = await doors.issue(tenant, event_id=event, units=6, starts_in=-timedelta(hours=3))
    matinee = await doors.issue(tenant, event_id=event, units=2, starts_in=-timedelta(hours=2))
    (tomorrow,) = await doors.issue(tenant, event_id=event, starts_in=timedelta(days=1))
    a0, a1, a2, a3, a4, refunded = main_show
    b0, b1 = matinee
    await h.publish(Envelope.wrap(VoidTickets(ticket_ids=[uuid.UUID(refunded["id"])], reason="refunded"),
                                  source="orders", tenant_id=tenant))

    async def voided():
        view = (await h.client.get(f"/api/v1/tickets/{refunded['id']}", headers=staff(tenant))).json()
        return view["status"] == "void"
    await eventually(voided)

    general = await doors.new_list(tenant, event, name="General", doors=["Norte", "Sur"], allow_reentry=True)
    north = await doors.device(tenant, general["id"], "Norte")
    south = await doors.device(tenant, general["id"], "Sur")
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=100)
    await upload(h, north, [offline(a0["qr_payload"], base + timedelta(minutes=1)),
                            offline(a1["qr_payload"], base + timedelta(minutes=3)),
                            offline(a2["qr_payload"], base + timedelta(minutes=17)),
                            offline(b0["qr_payload"], base + timedelta(minutes=20))])
    south_report = await upload(h, south, [
        offline(a1["qr_payload"], base + timedelta(minutes=5)),  # the same ticket let in at a second door
        offline("TQ1.forged.x.y", base + timedelta(minutes=6), admitted=False),
        offline(a0["qr_payload"], base + timedelta(minutes=40), direction="exit"),
        offline(a0["qr_payload"], base + timedelta(minutes=50)),  # re-entry
    ])
    assert [r["result"] for r in south_report["results"]] == ["duplicate", "invalid_signature", "exited", "admitted"]
    assert (await doors.scan(north, a2["qr_payload"]))["result"] == "already_inside"
    assert (await doors.scan(south, a3["qr_payload"]))["result"] == "admitted"

    caracas_admin = staff(tenant, time_zone="America/Caracas")
    today = datetime.now(CARACAS).date()
    params = {"event_id": str(event), "from": (base.astimezone(CARACAS).date()).isoformat(),
              "to": today.isoformat(), "bucket_minutes": "15"}
    response = await h.client.get(REPORT, params=params, headers=caracas_admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["window"]["time_zone"] == "America/Caracas" and report["bucket_minutes"] == 15

    scan_rows, ticket_rows = await raw_rows(h, tenant, event)
    expected, people = expected_buckets(scan_rows, ticket_rows, report["window"], 15)
    assert_rows_match(report, expected, 15)
    per_door = {d["door"]: d for d in report["per_door"]}
    for door in ("Norte", "Sur"):
        raw = Counter()
        for (_, d), figures in expected.items():
            if d == door:
                raw.update(figures)
        assert {f: per_door[door][f] for f in FIGURES} == {f: raw[f] for f in FIGURES}
        assert per_door[door]["people"] == len(people[door])
    # what the scenario made, so the raw computation above is not comparing empty with empty
    assert {d: tuple(per_door[d][f] for f in (*FIGURES, "people")) for d in per_door} == {
        "Norte": (4, 0, 0, 1, 0, 4), "Sur": (2, 1, 1, 1, 1, 2)}
    assert report["totals"] == {"admitted": 6, "reentries": 1, "exits": 1, "refused": 2, "duplicates": 1,
                                "people": 5}
    by_period = Counter()
    for row in report["per_period"]:
        by_period[row["period"]] += row["admitted"]
    assert sum(by_period.values()) == 6

    # no-shows: valid tickets of started sessions that no door admitted, from the tickets and scans tables
    came = {s.ticket_id for s in scan_rows if s.passed and s.result == "admitted"}
    now = datetime.now(UTC)
    sessions = {}
    for t in ticket_rows:
        entry = sessions.setdefault(str(t.session_id), {"valid": 0, "admitted": 0, "started": t.session_starts_at <= now})
        if t.status == "valid":
            entry["valid"] += 1
            entry["admitted"] += t.id in came
    got = {s["session_id"]: s for s in report["no_shows"]}
    assert set(got) == set(sessions)
    for session_id, raw in sessions.items():
        assert (got[session_id]["valid_tickets"], got[session_id]["admitted"]) == (raw["valid"], raw["admitted"])
        assert got[session_id]["no_shows"] == (raw["valid"] - raw["admitted"] if raw["started"] else None)
    assert got[a0["session_id"]]["no_shows"] == 1 and got[b0["session_id"]]["no_shows"] == 1
    assert got[tomorrow["session_id"]]["no_shows"] is None

    listed = await h.client.get("/api/v1/tickets/reports/no-shows", params={"event_id": str(event)},
                                headers=caracas_admin)
    assert listed.status_code == 200, listed.text
    expected_missing = sorted(str(t.id) for t in ticket_rows
                              if t.status == "valid" and t.session_starts_at <= now and t.id not in came)
    assert sorted(i["ticket_id"] for i in listed.json()["items"]) == expected_missing == sorted([a4["id"], b1["id"]])
    a4_row = next(i for i in listed.json()["items"] if i["ticket_id"] == a4["id"])
    assert (a4_row["holder_name"], a4_row["zone_name"], a4_row["seat"]) == (a4["holder"]["name"], a4["zone_name"],
                                                                           a4["label"])
    no_show_csv = await h.client.get("/api/v1/tickets/reports/no-shows", headers=caracas_admin,
                                     params={"event_id": str(event), "session_id": b0["session_id"], "format": "csv"})
    assert no_show_csv.status_code == 200 and no_show_csv.headers["content-type"].startswith("text/csv")
    csv_rows = list(csv.DictReader(io.StringIO(no_show_csv.content.decode("utf-8-sig"))))
    assert [(r["Ticket id"], r["Seat"], r["Holder"]) for r in csv_rows] == [(b1["id"], b1["label"],
                                                                             b1["holder"]["name"])]

    # one session only: the forged code matched no ticket, so it belongs to no session
    one = (await h.client.get(REPORT, params={**params, "session_id": a0["session_id"]},
                              headers=caracas_admin)).json()
    expected_one, _ = expected_buckets(scan_rows, ticket_rows, one["window"], 15, a0["session_id"])
    assert_rows_match(one, expected_one, 15)
    assert one["totals"]["refused"] == 1 and one["totals"]["admitted"] == 5
    assert [s["session_id"] for s in one["no_shows"]] == [a0["session_id"]]

    # without from/to: the session's local day and the next (a night session runs past midnight); hourly buckets
    default = (await h.client.get(REPORT, params={"event_id": str(event), "session_id": b0["session_id"],
                                                  "bucket_minutes": "60"}, headers=caracas_admin)).json()
    session_day = datetime.fromisoformat(b0["session_starts_at"]).astimezone(CARACAS).date()
    assert (default["window"]["from"], default["window"]["to"]) == (session_day.isoformat(),
                                                                  (session_day + timedelta(days=1)).isoformat())
    expected_default, _ = expected_buckets(scan_rows, ticket_rows, default["window"], 60, b0["session_id"])
    if expected_default:
        assert_rows_match(default, expected_default, 60)
    else:
        assert default["rows"] == []

    # the downloads hold the same rows
    as_csv = await h.client.get(REPORT, params={**params, "format": "csv"}, headers=caracas_admin)
    assert as_csv.status_code == 200 and "attachment" in as_csv.headers["content-disposition"]
    csv_lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    wanted = [[datetime.fromisoformat(r["starts_at"]).replace(tzinfo=None).isoformat(), r["door"],
               *(str(r[f]) for f in FIGURES)] for r in report["rows"]]
    assert csv_lines[1:] == wanted
    as_xlsx = await h.client.get(REPORT, params={**params, "format": "xlsx"}, headers=caracas_admin)
    assert as_xlsx.status_code == 200, as_xlsx.text
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    xlsx_rows = [[(v + timedelta(seconds=30)).replace(second=0, microsecond=0).isoformat()
                  if isinstance(v, datetime) else v for v in row]
                 for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert xlsx_rows == [[w[0], w[1], *(int(x) for x in w[2:])] for w in wanted]


async def test_only_door_staff_of_the_event_see_the_report_and_bad_input_is_a_problem(h, doors):
    tenant, event = uuid.uuid4(), uuid.uuid4()
    (ticket,) = await doors.issue(tenant, event_id=event, starts_in=-timedelta(hours=1))
    checkin = await doors.new_list(tenant, event)
    device = await doors.device(tenant, checkin["id"])
    assert (await doors.scan(device, ticket["qr_payload"]))["admitted"]
    params = {"event_id": str(event)}

    device_as_bearer = {"Authorization": device["Authorization"].replace("Device", "Bearer")}
    for headers in (buyer(), device_as_bearer, staff(tenant, ("box_office_cashier",)),
                    staff(tenant, ("event_operator",), event_ids=frozenset({str(uuid.uuid4())}))):
        for path in (REPORT, "/api/v1/tickets/reports/no-shows"):
            refused = await h.client.get(path, params=params, headers=headers)
            assert refused.status_code == 403, (path, refused.text)
    assert (await h.client.get(REPORT, params=params)).status_code == 401

    operator = staff(tenant, ("event_operator",), event_ids=frozenset({str(event)}), time_zone="America/Caracas")
    mine = await h.client.get(REPORT, params=params, headers=operator)
    assert mine.status_code == 200 and mine.json()["totals"]["admitted"] == 1
    stranger = await h.client.get(REPORT, params=params, headers=staff(uuid.uuid4()))
    assert stranger.status_code == 200
    assert stranger.json()["rows"] == [] and stranger.json()["totals"]["admitted"] == 0
    assert stranger.json()["no_shows"] == []

    for bad, field in (({"bucket_minutes": "7"}, "bucket_minutes"), ({"tz": "Mars/Olympus"}, "tz"),
                       ({"from": "2026-13-01"}, "from"), ({"from": "2026-01-01", "to": "2026-03-01"}, "from"),
                       ({"format": "pdf"}, "format")):
        answer = await h.client.get(REPORT, params={**params, **bad}, headers=operator)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in answer.json()["errors"][0]["field"]
