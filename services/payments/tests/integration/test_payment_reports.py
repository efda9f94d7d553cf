"""Payments reports on a seeded organizer, checked against figures computed here from the raw rows.

Payments are made through the service's own paths (test provider, manual declarations, staff confirm and
reject, refund commands), then moved back in time to fixed instants around Caracas midnights (UTC-4).
"""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from payments_support import (
    NO_AUTOMATIC_WEBHOOKS,
    PAYMENTS,
    PROBLEM,
    pay,
    payable_orders,
    payments,
    place,
    refund_command,
    refunds,
    stored,
)
from sqlalchemy import insert, select, update
from taquilla_devtools.testing import buyer, eventually, service_harness, staff

REPORTS = f"{PAYMENTS}/reports"
CARACAS = ZoneInfo("America/Caracas")
WINDOW = {"from": "2026-03-01", "to": "2026-03-02"}
MANUAL = ("cash", "bank_transfer", "pagomovil")
CASHIER, OPERATOR = ("box_office_cashier",), ("event_operator",)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Seeded:
    h: object
    tenant: uuid.UUID
    other_tenant: uuid.UUID
    admin_id: uuid.UUID
    first_event: uuid.UUID
    second_event: uuid.UUID
    ids: dict[str, str] = field(default_factory=dict)

    def admin(self, **kwargs) -> dict:
        return staff(self.tenant, time_zone="America/Caracas", user_id=self.admin_id, **kwargs)


async def _backdate(h, payment_id: str, **values) -> None:
    async with h.db() as uow:
        await uow.session.execute(update(payments).where(payments.c.id == uuid.UUID(payment_id)).values(**values))
        await uow.commit()


async def _due(h, order_id: uuid.UUID, due: datetime) -> None:
    async with h.db() as uow:
        await uow.session.execute(update(payable_orders).where(payable_orders.c.order_id == order_id)
                                  .values(hold_expires_at=due))
        await uow.commit()


async def _refund(h, tenant: uuid.UUID, payment: dict, amount_minor: int, completed_at: datetime) -> None:
    command = refund_command(tenant, payment, amount_minor=amount_minor)
    refund_id = command.data["refund_id"]
    await h.publish(command)

    async def completed():
        rows = await stored(h, refunds, id=uuid.UUID(str(refund_id)))
        return rows and rows[0].status == "completed"

    await eventually(completed)
    async with h.db() as uow:
        await uow.session.execute(update(refunds).where(refunds.c.id == uuid.UUID(str(refund_id)))
                                  .values(requested_at=completed_at, completed_at=completed_at))
        await uow.commit()


async def _seed(h) -> Seeded:
    s = Seeded(h, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    buyer_id = uuid.uuid4()
    now = datetime.now(UTC)

    async def order(amount: int, event: uuid.UUID | None = None, currency: str = "USD", tenant=None):
        return await place(h, tenant or s.tenant, buyer_id, quantity=1, unit_price_minor=amount, currency=currency,
                           event_id=event or s.first_event)

    async def card(name: str, amount: int, captured: str, **kwargs) -> dict:
        response = await pay(h, buyer(buyer_id), await order(amount, **kwargs))
        assert response.status_code == 201, response.text
        await _backdate(h, response.json()["id"], created_at=at(captured), captured_at=at(captured))
        s.ids[name] = response.json()["id"]
        return response.json()

    c1 = await card("c1", 10000, "2026-03-02T03:30:00")  # 2026-03-01 23:30 in Caracas
    c2 = await card("c2", 2550, "2026-03-02T04:00:00", event=s.second_event)  # local midnight: 03-02
    await card("c3", 777, "2026-03-01T03:59:59")  # 02-28 23:59:59 local: before the window
    await card("c4", 1234, "2026-03-03T03:59:59")  # 03-02 23:59:59 local: last second of the window
    await card("c5", 999, "2026-03-03T04:00:00")  # 03-03 local: after it
    await card("c6", 500000, "2026-03-01T12:00:00", event=s.second_event, currency="VES")
    await card("elsewhere", 8888, "2026-03-01T15:00:00", tenant=s.other_tenant)
    # a card payment through a redirect provider (provider and method differ), as its webhook leaves it
    stripe_order = await order(4321)
    async with h.db() as uow:
        await uow.session.execute(insert(payments).values(
            id=uuid.uuid4(), tenant_id=s.tenant, order_id=stripe_order, buyer_user_id=buyer_id, status="captured",
            amount_minor=4321, currency="USD", provider="stripe", method="card", provider_reference="pi_report_1",
            created_at=at("2026-03-01T14:59:00"), captured_at=at("2026-03-01T15:00:00")))
        await uow.commit()

    for _name, failed_at in (("d1", "2026-03-01T20:00:00"), ("d2", "2026-03-03T05:00:00")):
        declined = await pay(h, buyer(buyer_id), await order(1111), outcome="decline")
        assert declined.status_code == 402, declined.text
        await _backdate(h, declined.json()["payment_id"], created_at=at(failed_at), failed_at=at(failed_at))

    async def manual(name: str, amount: int, provider: str, declared: str, due: datetime, *, headers=None,
                     event=None, **declaration) -> dict:
        order_id = await order(amount, event=event)
        response = await pay(h, headers or buyer(buyer_id), order_id, provider=provider, **declaration)
        assert response.status_code == 202, response.text
        await _backdate(h, response.json()["id"], created_at=at(declared))
        await _due(h, order_id, due)
        s.ids[name] = response.json()["id"]
        return response.json()

    def pagomovil(reference: str) -> dict:
        return {"pagomovil": {"reference": reference, "bank_code": "0134", "phone": "0414-1234567"}}

    m1 = await manual("m1", 3000, "pagomovil", "2026-03-01T14:00:00", at("2026-03-01T18:00:00"),
                      **pagomovil("55501"))
    m2 = await manual("m2", 4500, "bank_transfer", "2026-03-01T10:00:00", at("2026-03-01T11:00:00"),
                      bank_transfer={"reference": "TRX-7781", "bank": "Mercantil"})
    m3 = await manual("m3", 2000, "bank_transfer", "2026-03-02T13:00:00", at("2026-03-02T20:00:00"),
                      event=s.second_event, bank_transfer={"reference": "TRX-0001"})
    await manual("m4", 1500, "cash", "2026-03-02T12:00:00", now + timedelta(days=3), event=s.second_event,
                 headers=staff(s.tenant, roles=CASHIER), cash={"notes": "receipt 118"})
    await manual("m5", 6000, "pagomovil", "2026-03-01T09:00:00", at("2026-03-01T10:00:00"), **pagomovil("55502"))
    await manual("m6", 700, "pagomovil", "2026-02-27T09:00:00", at("2026-02-28T09:00:00"), **pagomovil("55503"))
    await manual("m7", 900, "cash", "2026-03-02T09:00:00", now + timedelta(days=5))
    m8 = await manual("m8", 4000, "pagomovil", "2026-03-01T08:00:00", at("2026-03-01T09:00:00"), **pagomovil("55504"))

    for payment, decision, reviewed in ((m1, "confirm", "2026-03-01T16:00:00"),
                                        (m2, "confirm", "2026-03-02T02:00:00"),  # after its deadline
                                        (m3, "reject", "2026-03-02T15:00:00"),
                                        (m8, "confirm", "2026-03-01T08:30:00")):
        body = {"note": "statement line"} if decision == "confirm" else {"reason": "no such credit"}
        answer = await h.client.post(f"{PAYMENTS}/{payment['id']}/{decision}", json=body, headers=s.admin())
        assert answer.status_code == 200, answer.text
        moment = {"captured_at": at(reviewed)} if decision == "confirm" else {"failed_at": at(reviewed)}
        await _backdate(h, payment["id"], reviewed_at=at(reviewed), **moment)
    # a confirmation that took less than the order asked: only a direct correction could write this today
    await _backdate(h, m8["id"], amount_minor=3900)

    await _refund(h, s.tenant, c1, 2500, at("2026-03-02T10:00:00"))
    await _refund(h, s.tenant, c2, 1000, at("2026-03-02T03:00:00"))  # local 03-01, before its capture's day
    await _refund(h, s.tenant, m1, 3000, at("2026-03-03T05:00:00"))  # local 03-03: after the window
    return s


@pytest.fixture(scope="module")
async def seeded():
    async with service_harness("payments", name="reports", env=NO_AUTOMATIC_WEBHOOKS) as h:
        yield await _seed(h)


async def _raw(s: Seeded):
    """The organizer's rows as stored: what every expected figure below is computed from."""
    async with s.h.db() as uow:
        found = (await uow.session.execute(
            select(payments, payable_orders.c.hold_expires_at, payable_orders.c.total_minor,
                   payable_orders.c.event_id)
            .join(payable_orders, payable_orders.c.order_id == payments.c.order_id)
            .where(payments.c.tenant_id == s.tenant))).all()
        refund_rows = (await uow.session.execute(select(refunds).where(refunds.c.tenant_id == s.tenant))).all()
    return found, refund_rows


def _inside(moment: datetime | None) -> bool:
    start = datetime(2026, 3, 1, tzinfo=CARACAS)
    return moment is not None and start <= moment < start + timedelta(days=2)


def _expected_summary(found, refund_rows, group_by: str, now: datetime, events=None) -> dict:
    def key(p, moment):
        return moment.astimezone(CARACAS).date().isoformat() if group_by == "period" else getattr(p, group_by)

    rows: dict[tuple, dict] = {}

    def row(k, currency):
        return rows.setdefault((k, currency), {
            group_by: k, "currency": currency, "collected_count": 0, "collected_minor": 0, "pending_count": 0,
            "pending_minor": 0, "overdue_count": 0, "overdue_minor": 0, "failed_count": 0, "refund_count": 0,
            "refunded_minor": 0, "net_collected_minor": 0, "earliest_due_at": None})

    by_id = {p.id: p for p in found}
    mine = [p for p in found if events is None or p.event_id in events]
    mine_ids = {p.id for p in mine}
    for p in mine:
        if p.status == "captured" and _inside(p.captured_at):
            r = row(key(p, p.captured_at), p.currency)
            r["collected_count"] += 1
            r["collected_minor"] += p.amount_minor
            r["net_collected_minor"] += p.amount_minor
        if p.status == "failed" and _inside(p.failed_at):
            row(key(p, p.failed_at), p.currency)["failed_count"] += 1
        if p.status == "pending" and _inside(p.created_at):
            r = row(key(p, p.created_at), p.currency)
            r["pending_count"] += 1
            r["pending_minor"] += p.amount_minor
            if r["earliest_due_at"] is None or p.hold_expires_at < datetime.fromisoformat(r["earliest_due_at"]):
                r["earliest_due_at"] = p.hold_expires_at.isoformat()
            if p.hold_expires_at < now:
                r["overdue_count"] += 1
                r["overdue_minor"] += p.amount_minor
    for refund in refund_rows:
        p = by_id[refund.payment_id]
        if refund.status == "completed" and _inside(refund.completed_at) and p.id in mine_ids:
            r = row(key(p, refund.completed_at), refund.currency)
            r["refund_count"] += 1
            r["refunded_minor"] += refund.amount_minor
            r["net_collected_minor"] -= refund.amount_minor
    if group_by == "period":
        for currency in {c for _, c in rows}:
            for day in ("2026-03-01", "2026-03-02"):
                row(day, currency)
    return rows


def _money(cell) -> int:
    """A major-unit amount as written in an export, back in minor units (both currencies here have two)."""
    return int(Decimal(str(cell)) * 100)


FIGURES = ["collected_count", "collected_minor", "refund_count", "refunded_minor", "net_collected_minor",
           "pending_count", "pending_minor", "overdue_count", "overdue_minor", "failed_count"]


async def test_summary_by_method_provider_and_caracas_day_matches_the_raw_rows_to_the_cent(seeded):
    s = seeded
    found, refund_rows = await _raw(s)
    now = datetime.now(UTC)
    for group_by in ("method", "provider", "period"):
        response = await s.h.client.get(f"{REPORTS}/summary", params={**WINDOW, "group_by": group_by},
                                        headers=s.admin())
        assert response.status_code == 200, response.text
        report = response.json()
        expected = _expected_summary(found, refund_rows, group_by, now)
        assert {(r[group_by], r["currency"]): r for r in report["rows"]} == expected, group_by
        for total in report["totals"]:
            same_currency = [r for r in expected.values() if r["currency"] == total["currency"]]
            assert {f: total[f] for f in FIGURES} == {f: sum(r[f] for r in same_currency) for f in FIGURES}
        assert report["window"]["starts_at"] == "2026-03-01T04:00:00+00:00"
        assert report["window"]["ends_before"] == "2026-03-03T04:00:00+00:00"

    by_day = {(r["period"], r["currency"]): r for r in (await s.h.client.get(
        f"{REPORTS}/summary", params={**WINDOW, "group_by": "period"}, headers=s.admin())).json()["rows"]}
    # 03:30Z on March 2nd is still March 1st in Caracas; 04:00Z is March 2nd; refunds count on their own day
    assert by_day["2026-03-01", "USD"]["collected_minor"] == 10000 + 4321 + 4500 + 3900 + 3000
    assert by_day["2026-03-02", "USD"]["collected_minor"] == 2550 + 1234
    assert by_day["2026-03-01", "USD"]["refunded_minor"] == 1000
    assert by_day["2026-03-02", "VES"]["collected_minor"] == 0  # an empty day shows, with zeros
    totals = {t["currency"]: t for t in (await s.h.client.get(f"{REPORTS}/summary", params=WINDOW,
                                                              headers=s.admin())).json()["totals"]}
    assert totals["USD"]["net_collected_minor"] == 10000 + 4321 + 4500 + 3900 + 3000 + 2550 + 1234 - 1000 - 2500
    assert (totals["USD"]["overdue_count"], totals["USD"]["overdue_minor"]) == (1, 6000)
    assert (totals["USD"]["pending_count"], totals["USD"]["pending_minor"]) == (3, 6000 + 1500 + 900)


async def test_summary_of_one_event_and_of_an_operator_limited_to_it(seeded):
    s = seeded
    found, refund_rows = await _raw(s)
    now = datetime.now(UTC)
    expected = _expected_summary(found, refund_rows, "method", now, events={s.second_event})
    asked = await s.h.client.get(f"{REPORTS}/summary", params={**WINDOW, "event_id": str(s.second_event)},
                                 headers=s.admin())
    operator = staff(s.tenant, roles=OPERATOR, time_zone="America/Caracas",
                     event_ids=frozenset({str(s.second_event)}))
    limited = await s.h.client.get(f"{REPORTS}/summary", params=WINDOW, headers=operator)

    assert {(r["method"], r["currency"]): r for r in asked.json()["rows"]} == expected
    assert limited.json()["rows"] == asked.json()["rows"]
    assert {r["currency"] for r in limited.json()["rows"]} == {"USD", "VES"}
    other = await s.h.client.get(f"{REPORTS}/summary", params={**WINDOW, "event_id": str(s.first_event)},
                                 headers=operator)
    assert other.status_code == 403 and other.json()["errors"][0]["field"] == "event_id"
    stranger = await s.h.client.get(f"{REPORTS}/summary", params=WINDOW, headers=staff(s.other_tenant))
    assert [(r["method"], r["collected_minor"]) for r in stranger.json()["rows"]] == [("test", 8888)]


async def test_summary_exports_hold_the_same_figures_as_the_json(seeded):
    s = seeded
    params = {**WINDOW, "group_by": "period"}
    rows = (await s.h.client.get(f"{REPORTS}/summary", params=params, headers=s.admin())).json()["rows"]
    as_csv = await s.h.client.get(f"{REPORTS}/summary", params={**params, "format": "csv"}, headers=s.admin())
    as_xlsx = await s.h.client.get(f"{REPORTS}/summary", params={**params, "format": "xlsx"}, headers=s.admin())

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "payments-summary-by-period_2026-03-01_2026-03-02.csv" in as_csv.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    header, *cells = list(sheet.values)
    xlsx = [dict(zip(header, line, strict=True)) for line in cells]
    assert len(lines) == len(xlsx) == len(rows) == 4
    for row, line, cell in zip(rows, lines, xlsx, strict=True):
        assert line["Period"] == row["period"] and cell["Period"].date() == date.fromisoformat(row["period"])
        assert line["Currency"] == cell["Currency"] == row["currency"]
        for title, key in (("Collected", "collected_minor"), ("Refunded", "refunded_minor"),
                           ("Net collected", "net_collected_minor"), ("Pending", "pending_minor"),
                           ("Overdue", "overdue_minor")):
            assert _money(line[title]) == _money(cell[title]) == row[key], (title, row)
        for title, key in (("Collected payments", "collected_count"), ("Failed or declined", "failed_count")):
            assert int(line[title]) == cell[title] == row[key]


async def test_the_pending_list_puts_the_soonest_due_first_and_flags_the_overdue(seeded):
    s = seeded
    found, _ = await _raw(s)
    now = datetime.now(UTC)
    pending = sorted((p for p in found if p.status == "pending"), key=lambda p: (p.hold_expires_at, p.created_at))
    response = await s.h.client.get(f"{REPORTS}/pending", headers=staff(s.tenant, roles=CASHIER))

    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(i["payment_id"], i["order_id"], i["method"], i["amount_minor"], i["currency"], i["due_at"],
             i["overdue"]) for i in listed["items"]] == [
        (str(p.id), str(p.order_id), p.method, p.amount_minor, p.currency, p.hold_expires_at.isoformat(),
         p.hold_expires_at < now) for p in pending]
    assert [i["overdue"] for i in listed["items"]] == [True, True, False, False]  # m6, m5 overdue; m4, m7 not
    assert listed["totals"] == [{"currency": "USD", "pending_count": 4, "pending_minor": 700 + 6000 + 1500 + 900,
                                 "overdue_count": 2, "overdue_minor": 700 + 6000}]
    as_csv = await s.h.client.get(f"{REPORTS}/pending", params={"format": "csv"}, headers=s.admin())
    lines = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(line["Payment id"], _money(line["Amount"]), line["Overdue"]) for line in lines] == [
        (str(p.id), p.amount_minor, "yes" if p.hold_expires_at < now else "no") for p in pending]
    # times are the organizer's wall-clock time
    assert lines[0]["Due"] == pending[0].hold_expires_at.astimezone(CARACAS).replace(tzinfo=None).isoformat()
    second_only = await s.h.client.get(f"{REPORTS}/pending", headers=staff(
        s.tenant, roles=CASHIER, event_ids=frozenset({str(s.second_event)})))
    assert [i["payment_id"] for i in second_only.json()["items"]] == [s.ids["m4"]]


def _expected_reconciliation(found, refund_rows, method: str | None = None) -> tuple[list[dict], dict]:
    manual = sorted((p for p in found if p.method in ((method,) if method else MANUAL) and _inside(p.created_at)),
                    key=lambda p: (p.created_at, p.id))
    refunded = {p.id: sum(r.amount_minor for r in refund_rows if r.payment_id == p.id and r.status == "completed")
                for p in manual}
    items, totals = [], {}
    for p in manual:
        confirmed = p.status == "captured"
        mismatches = []
        if confirmed and p.amount_minor != p.total_minor:
            mismatches.append("amount_differs")
        if confirmed and p.reviewed_at > p.hold_expires_at:
            mismatches.append("confirmed_after_deadline")
        items.append({"payment_id": str(p.id), "status": p.status, "reference": p.manual_reference,
                      "expected_minor": p.total_minor, "confirmed_minor": p.amount_minor if confirmed else None,
                      "difference_minor": p.amount_minor - p.total_minor if confirmed else None,
                      "reviewed_by": str(p.reviewed_by) if p.reviewed_by else None,
                      "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None,
                      "refunded_minor": refunded[p.id], "mismatches": mismatches})
        t = totals.setdefault((p.method, p.currency), dict.fromkeys((
            "declared_count", "expected_minor", "confirmed_count", "confirmed_minor", "difference_minor",
            "rejected_count", "rejected_minor", "pending_count", "pending_minor", "mismatch_count",
            "refunded_minor"), 0))
        t["declared_count"] += 1
        t["expected_minor"] += p.total_minor
        t["refunded_minor"] += refunded[p.id]
        t["mismatch_count"] += bool(mismatches)
        if confirmed:
            t["confirmed_count"] += 1
            t["confirmed_minor"] += p.amount_minor
            t["difference_minor"] += p.amount_minor - p.total_minor
        elif p.status == "failed":
            t["rejected_count"] += 1
            t["rejected_minor"] += p.total_minor
        else:
            t["pending_count"] += 1
            t["pending_minor"] += p.total_minor
    return items, totals


KEYS = ("payment_id", "status", "reference", "expected_minor", "confirmed_minor", "difference_minor",
        "reviewed_by", "reviewed_at", "refunded_minor", "mismatches")


async def test_reconciliation_of_manual_payments_totals_and_mismatches(seeded):
    s = seeded
    found, refund_rows = await _raw(s)
    response = await s.h.client.get(f"{REPORTS}/reconciliation", params=WINDOW, headers=s.admin())

    assert response.status_code == 200, response.text
    report = response.json()
    items, totals = _expected_reconciliation(found, refund_rows)
    assert [{k: i[k] for k in KEYS} for i in report["items"]] == items
    assert {(t["method"], t["currency"]): {k: v for k, v in t.items() if k not in ("method", "currency")}
            for t in report["totals"]} == totals
    assert {m["payment_id"]: m["mismatches"] for m in report["mismatches"]} == {
        s.ids["m2"]: ["confirmed_after_deadline"], s.ids["m8"]: ["amount_differs"]}
    confirmed_by_admin = [i for i in report["items"] if i["status"] != "pending"]
    assert {i["reviewed_by"] for i in confirmed_by_admin} == {str(s.admin_id)}
    assert {i["payment_id"] for i in report["items"]} == {s.ids[n] for n in ("m1", "m2", "m3", "m4", "m5", "m7",
                                                                             "m8")}
    m1 = next(i for i in report["items"] if i["payment_id"] == s.ids["m1"])
    assert (m1["reference"], m1["bank"], m1["phone"], m1["refunded_minor"]) == ("55501", "Banesco", "04141234567",
                                                                                3000)

    pagomovil = (await s.h.client.get(f"{REPORTS}/reconciliation", params={**WINDOW, "method": "pagomovil"},
                                      headers=s.admin())).json()
    only_items, only_totals = _expected_reconciliation(found, refund_rows, "pagomovil")
    assert [{k: i[k] for k in KEYS} for i in pagomovil["items"]] == only_items and len(only_items) == 3
    assert [(t["method"], t["confirmed_minor"]) for t in pagomovil["totals"]] == [
        ("pagomovil", only_totals["pagomovil", "USD"]["confirmed_minor"])]

    as_xlsx = await s.h.client.get(f"{REPORTS}/reconciliation", params={**WINDOW, "format": "xlsx"},
                                   headers=s.admin())
    assert as_xlsx.status_code == 200, as_xlsx.text
    header, *cells = list(openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active.values)
    xlsx = [dict(zip(header, line, strict=True)) for line in cells]
    assert [(c["Payment id"], _money(c["Expected"]), None if c["Confirmed"] is None else _money(c["Confirmed"]),
             None if c["Difference"] is None else _money(c["Difference"]), c["Mismatch"] or "") for c in xlsx] == [
        (i["payment_id"], i["expected_minor"], i["confirmed_minor"], i["difference_minor"], ", ".join(i["mismatches"]))
        for i in items]
    as_csv = await s.h.client.get(f"{REPORTS}/reconciliation", params={**WINDOW, "format": "csv"},
                                  headers=s.admin())
    lines = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(line["Payment id"], _money(line["Expected"]), line["Status"]) for line in lines] == [
        (i["payment_id"], i["expected_minor"], i["status"]) for i in items]


async def test_reports_are_for_the_organizers_staff_and_refuse_bad_input_naming_the_field(seeded):
    s = seeded
    for path in ("summary", "pending", "reconciliation"):
        for headers in (buyer(), staff(s.tenant, roles=("scanner_device",))):
            refused = await s.h.client.get(f"{REPORTS}/{path}", headers=headers)
            assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM, (path, refused.text)
    for path in ("summary", "reconciliation"):  # a cashier works from the pending list only
        assert (await s.h.client.get(f"{REPORTS}/{path}", headers=staff(s.tenant, roles=CASHIER))).status_code == 403
    cases = [("summary", {"group_by": "event"}, "group_by"), ("summary", {"tz": "Mars/Olympus"}, "tz"),
             ("summary", {"from": "2026-02-30"}, "from"), ("summary", {"from": "2026-03-05", "to": "2026-03-01"}, "from"),
             ("summary", {"from": "2020-01-01", "to": "2026-03-01"}, "from"),
             ("summary", {"format": "pdf"}, "format"), ("reconciliation", {"method": "card"}, "method"),
             ("pending", {"tz": "Nowhere/Else", "format": "csv"}, "tz")]
    for path, params, name in cases:
        bad = await s.h.client.get(f"{REPORTS}/{path}", params=params, headers=s.admin())
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM, (params, bad.text)
        assert [e["field"] for e in bad.json()["errors"]] == [name], params
