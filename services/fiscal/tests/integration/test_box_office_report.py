"""Box-office terminal sales in the sales report, around a Caracas midnight, against the uploaded payloads."""
import csv
import io
import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import openpyxl
from fiscal_service.application.offline import request_block
from fiscal_test_helpers import CASHIER
from taquilla_devtools.testing import buyer, service_harness, staff

CARACAS = ZoneInfo("America/Caracas")
REPORT = "/api/v1/fiscal/reports/box-office-sales"
FIGURES = ("sales", "tickets", "gross_minor", "discounts_minor", "fees_minor", "taxes_minor", "collected_minor",
           "refunded_tickets", "refunds_minor", "refunded_taxes_minor", "net_minor", "conflicts", "conflicts_minor")


def sale(local_id: str, number: int, sold_at: datetime, lines: list[tuple[uuid.UUID, int, int]],
         currency: str = "USD") -> dict:
    return {"local_id": local_id, "number": number, "sold_at": sold_at.isoformat(),
            "buyer": {"name": "Luis Gómez", "national_id": "V-9876543"},
            "lines": [{"description": "Entrada — taquilla", "quantity": q, "unit_price_minor": p, "event_id": str(e)}
                      for e, q, p in lines],
            "total_minor": sum(q * p for _, q, p in lines), "currency": currency, "payment_method": "cash"}


def vat(amount: int) -> int:
    """16 % IVA included in the price, rounded up per line (the fiscal rule), computed here on its own."""
    return math.ceil(Fraction(amount) * Fraction(16, 116))


async def _terminal(h, tenant, code: str, issued_at: datetime) -> None:
    registered = await h.client.post("/api/v1/fiscal/terminals", json={"code": code, "name": f"Taquilla {code}"},
                                     headers=staff(tenant))
    assert registered.status_code == 201, registered.text
    # the block was handed out before the night's sales (the route would date it now)
    async with h.db(tenant) as uow:
        await request_block(uow.session, h.container.settings, tenant, uuid.UUID(registered.json()["id"]), "test",
                            now=issued_at)
        await uow.commit()


async def _sync(h, tenant, code: str, sales: list[dict]) -> dict:
    response = await h.client.post(f"/api/v1/fiscal/terminals/{code}/sync", json={"sales": sales},
                                   headers=staff(tenant, CASHIER))
    assert response.status_code == 200, response.text
    return response.json()


def expected_rows(accepted: list[tuple[str, dict]], conflicting: list[tuple[str, dict]], credits: list[dict],
                  key) -> dict:
    """Per (group, currency): the report's figures, from the uploaded payloads and the credit notes alone."""
    rows: dict[tuple[str, str], dict] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for code, payload in accepted:
        sold_at = datetime.fromisoformat(payload["sold_at"])
        for group in {key(code, sold_at, line) for line in payload["lines"]}:
            rows[(group, payload["currency"])]["sales"] += 1
        for line in payload["lines"]:
            row = rows[(key(code, sold_at, line), payload["currency"])]
            price = line["quantity"] * line["unit_price_minor"]
            row["tickets"] += line["quantity"]
            row["gross_minor"] += price
            row["collected_minor"] += price
            row["taxes_minor"] += vat(price)
    for credit in credits:
        for line in credit["payload"]["lines"]:
            row = rows[(key(credit["terminal"], credit["issued_at"], line), credit["payload"]["currency"])]
            price = line["quantity"] * line["unit_price_minor"]
            row["refunded_tickets"] += line["quantity"]
            row["refunds_minor"] += price
            row["refunded_taxes_minor"] += vat(price)
    for code, payload in conflicting:
        sold_at = datetime.fromisoformat(payload["sold_at"])
        for group in {key(code, sold_at, line) for line in payload["lines"]}:
            rows[(group, payload["currency"])]["conflicts"] += 1
            rows[(group, payload["currency"])]["conflicts_minor"] += payload["total_minor"]
    for row in rows.values():
        row["net_minor"] = (row["collected_minor"] - row["refunds_minor"]
                            - (row["taxes_minor"] - row["refunded_taxes_minor"]))
    return dict(rows)


def nonzero(report: dict, group_by: str) -> dict:
    return {(r[group_by], r["currency"]): {f: r[f] for f in FIGURES} for r in report["rows"]
            if any(r[f] for f in FIGURES)}


async def test_terminal_sales_around_a_caracas_midnight_match_the_uploaded_payloads():
    async with service_harness("fiscal", name="boxreport", env={"FISCAL_OFFLINE_BLOCK_HOURS": "48"}) as h:
        tenant, concert, play = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        today = datetime.now(CARACAS).date()
        midnight = datetime.combine(today, time(), CARACAS).astimezone(UTC)  # 04:00Z
        for code in ("T01", "T02"):
            await _terminal(h, tenant, code, midnight - timedelta(hours=3))
        t01 = [sale("s1", 1, midnight - timedelta(hours=2), [(concert, 2, 2500)]),
               sale("s2", 2, midnight - timedelta(minutes=30), [(concert, 1, 4000), (play, 3, 1500)]),  # 03:30Z
               sale("s3", 3, midnight, [(play, 1, 2500)]),
               sale("s4", 4, midnight + timedelta(hours=1), [(concert, 2, 3000)])]
        t02 = [sale("t1", 1, midnight - timedelta(minutes=10), [(play, 4, 1000)]),
               sale("t2", 2, midnight + timedelta(minutes=20), [(concert, 1, 2500)]),
               sale("t3", 1, midnight + timedelta(minutes=30), [(concert, 1, 9900)]),  # number 1 again
               sale("t4", 3, midnight + timedelta(minutes=40), [(concert, 1, 100000)], currency="VES")]
        synced = {"T01": await _sync(h, tenant, "T01", t01), "T02": await _sync(h, tenant, "T02", t02)}
        assert [r["conflict"] for r in synced["T02"]["results"]] == [None, None, "duplicate_number", None]
        accepted, conflicting = [], []
        for code, payloads in (("T01", t01), ("T02", t02)):
            for payload, result in zip(payloads, synced[code]["results"], strict=True):
                (accepted if result["status"] == "accepted" else conflicting).append((code, payload))

        s4_document = synced["T01"]["results"][3]["document_id"]
        note = await h.client.post(f"/api/v1/fiscal/documents/{s4_document}/credit-notes",
                                   json={"reason": "Función reprogramada"},
                                   headers=staff(tenant) | {"Idempotency-Key": "refund-s4"})
        assert note.status_code == 201, note.text
        credits = [{"terminal": "T01", "payload": t01[3], "issued_at": datetime.fromisoformat(note.json()["issued_at"])}]

        admin = staff(tenant, time_zone="America/Caracas")
        window = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
        keys = {
            "period": lambda code, at, line: at.astimezone(CARACAS).date().isoformat(),
            "terminal": lambda code, at, line: code,
            "event": lambda code, at, line: line["event_id"],
        }
        reports = {}
        for group_by, key in keys.items():
            response = await h.client.get(REPORT, params={**window, "group_by": group_by}, headers=admin)
            assert response.status_code == 200, response.text
            reports[group_by] = report = response.json()
            assert report["window"]["time_zone"] == "America/Caracas"
            assert nonzero(report, group_by) == expected_rows(accepted, conflicting, credits, key)
            for total in report["totals"]:
                mine = [r for r in report["rows"] if r["currency"] == total["currency"]]
                assert total == {"currency": total["currency"], **{f: sum(r[f] for r in mine) for f in FIGURES}}

        # the Caracas day boundary: 03:30Z is still yesterday, 04:00Z is today
        by_day = {(r["period"], r["currency"]): r for r in reports["period"]["rows"]}
        yesterday = by_day[((today - timedelta(days=1)).isoformat(), "USD")]
        assert (yesterday["sales"], yesterday["tickets"], yesterday["gross_minor"]) == (3, 10, 17500)
        on_the_day = by_day[(today.isoformat(), "USD")]
        assert (on_the_day["sales"], on_the_day["tickets"], on_the_day["refunds_minor"]) == (3, 4, 6000)
        assert on_the_day["conflicts"] == 1 and on_the_day["conflicts_minor"] == 9900
        assert by_day[(today.isoformat(), "VES")]["collected_minor"] == 100000
        assert by_day[((today - timedelta(days=1)).isoformat(), "VES")]["sales"] == 0  # every period shows
        assert all(r["fees_minor"] == 0 and r["discounts_minor"] == 0 for r in reports["period"]["rows"])

        # downloads hold the same rows, money in major units
        as_csv = await h.client.get(REPORT, params={**window, "group_by": "terminal", "format": "csv"}, headers=admin)
        assert as_csv.status_code == 200 and "attachment" in as_csv.headers["content-disposition"]
        lines = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        assert [(r["Terminal"], r["Currency"], Decimal(r["Net"]), int(r["Tickets"])) for r in lines] == [
            (r["terminal"], r["currency"], Decimal(r["net_minor"]) / 100, r["tickets"])
            for r in reports["terminal"]["rows"]]
        as_xlsx = await h.client.get(REPORT, params={**window, "group_by": "event", "format": "xlsx"}, headers=admin)
        sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
        header = [c.value for c in sheet[1]]
        got = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert [(r["Event id"], r["Currency"], Decimal(str(r["Collected"])), r["Conflicting uploads"]) for r in got] == [
            (r["event"], r["currency"], Decimal(r["collected_minor"]) / 100, r["conflicts"])
            for r in reports["event"]["rows"]]

        # an operator of one event sees that event's lines only
        operator = staff(tenant, ("event_operator",), event_ids=frozenset({str(play)}), time_zone="America/Caracas")
        only_play = (await h.client.get(REPORT, params={**window, "group_by": "event"}, headers=operator)).json()
        assert {r["event"] for r in only_play["rows"]} == {str(play)}
        assert nonzero(only_play, "event") == {k: v for k, v in nonzero(reports["event"], "event").items()
                                               if k[0] == str(play)}

        for headers in (buyer(), staff(tenant, CASHIER)):
            assert (await h.client.get(REPORT, params=window, headers=headers)).status_code == 403
        assert (await h.client.get(REPORT, params=window, headers=staff(uuid.uuid4()))).json()["totals"] == []
        for bad, field in (({"group_by": "zone"}, "group_by"), ({"tz": "Mars/Olympus"}, "tz"),
                           ({"from": "2026-02-30"}, "from")):
            answer = await h.client.get(REPORT, params={**window, **bad}, headers=admin)
            assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
            assert field in answer.json()["errors"][0]["field"]
