"""Sales reports over orders seeded straight into the orders database (plain inserts of rows shaped as the saga
writes them: going through catalog, inventory and the saga for every state would take minutes). Every expected
figure is worked out here from the seeded values, to the cent."""
from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
from orders_service.adapters.tables import orders, purchase_sagas, refunds, saga_transitions
from taquilla_devtools.testing import buyer, service_harness, staff

TZ = "America/Caracas"
CARACAS = ZoneInfo(TZ)
TENANT, OTHER_TENANT = uuid.uuid4(), uuid.uuid4()
E1, E2, E3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
S1, S2, S3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PLATEA, GENERAL, PISTA = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
PREVENTA, REGULAR = {"id": str(uuid.uuid4()), "name": "Preventa"}, {"id": str(uuid.uuid4()), "name": "Regular"}
CASHIER_ANA, CASHIER_LUIS = uuid.uuid4(), uuid.uuid4()
EVENTS = {E1: ("Concierto USD", S1, "USD"), E2: ("Festival VES", S2, "VES"), E3: ("Otro evento", S3, "USD")}
WINDOW = {"from": "2026-03-01", "to": "2026-03-31"}
START, END = datetime(2026, 3, 1, 4, tzinfo=UTC), datetime(2026, 4, 1, 4, tzinfo=UTC)  # Caracas midnights


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Quote:
    zone_id: str
    zone_name: str
    quantity: int
    unit_base: int
    stage: dict | None = None
    stage_adj: int = 0  # per unit
    row_adj: int = 0  # per unit
    row: str | None = None
    seats: tuple[str, ...] = ()
    group_discount: int = 0  # line totals, positive
    promo_discount: int = 0
    fees: int = 0
    taxes: int = 0

    @property
    def gross(self) -> int:
        return (self.unit_base + self.stage_adj + self.row_adj) * self.quantity

    @property
    def total(self) -> int:
        return self.gross - self.group_discount - self.promo_discount + self.fees + self.taxes

    def as_json(self) -> dict:
        q = self.quantity
        return {"zone_id": self.zone_id, "zone_name": self.zone_name, "row": self.row, "seats": list(self.seats),
                "stage": self.stage, "quantity": q, "unit_base_minor": self.unit_base,
                "unit_stage_adjustment_minor": self.stage_adj, "unit_row_adjustment_minor": self.row_adj,
                "unit_group_discount_minor": -(self.group_discount // q), "base_minor": self.unit_base * q,
                "stage_adjustment_minor": self.stage_adj * q, "row_adjustment_minor": self.row_adj * q,
                "group_discount_minor": -self.group_discount, "promo_discount_minor": -self.promo_discount,
                "subtotal_minor": self.gross - self.group_discount - self.promo_discount, "fees_minor": self.fees,
                "taxes_minor": self.taxes, "total_minor": self.total}


@dataclass
class Refund:
    completed_at: datetime
    credit: list[tuple[int, int]] = field(default_factory=list)  # (order line, tickets); empty: the whole payment
    state: str = "completed"


@dataclass
class Seeded:
    code: str
    event: uuid.UUID
    created_at: datetime
    quotes: list[Quote]
    state: str
    paid_at: datetime | None = None
    method: str | None = None
    channel: str = "online"
    placed_by: uuid.UUID | None = None
    promo: str | None = None
    cancel_reason: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    tenant: uuid.UUID = TENANT
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def currency(self) -> str:
        return EVENTS[self.event][2]

    @property
    def total(self) -> int:
        return sum(q.total for q in self.quotes)

    def order_lines(self) -> list[dict]:
        """As place_order prices them: a quote line's total spread over its units, odd minor units first."""
        out = []
        for g, q in enumerate(self.quotes):
            each, odd = divmod(q.total, q.quantity)
            for price, count in ((each + 1, odd), (each, q.quantity - odd)):
                if count:
                    out.append({"zone_id": q.zone_id, "zone_name": q.zone_name, "quote_line": g, "quantity": count,
                                "unit_price_minor": price, "stage": q.stage, "seat_labels": [], "unit_ids": []})
        return out

    def refund_amount(self, refund: Refund) -> int:
        if not refund.credit:
            return self.total
        lines = self.order_lines()
        return sum(lines[i]["unit_price_minor"] * n for i, n in refund.credit)


ORDERS = [
    # local day 2026-03-01 (03:30Z is 23:30 the day before in Caracas), promo on the Platea line only
    Seeded("TQ-ONE", E1, at("2026-03-02T03:20:00"), [
        Quote(PLATEA, "Platea", 2, 5000, PREVENTA, stage_adj=-1000, row_adj=400, row="A", seats=("A1", "A2"),
              promo_discount=880, fees=300, taxes=1233),
        Quote(GENERAL, "General", 1, 2500, REGULAR, fees=150, taxes=424)],
        "completed", at("2026-03-02T03:30:00"), "card", promo="AMIGOS",
        refunds=[Refund(at("2026-03-05T12:00:00"), [(0, 1)]),
                 Refund(at("2026-03-06T12:00:00"), [(1, 1)], state="crediting")]),  # not completed: not counted
    # local day 2026-03-02; 3 tickets for 7501 (one at 2501, two at 2500), refunded in two steps
    Seeded("TQ-TWO", E1, at("2026-03-02T04:20:00"), [
        Quote(GENERAL, "General", 3, 2600, REGULAR, group_discount=300, taxes=1)],
        "completed", at("2026-03-02T04:30:00"), "cash", channel="cashier", placed_by=CASHIER_ANA,
        refunds=[Refund(at("2026-03-03T15:00:00"), [(1, 1)]), Refund(at("2026-03-04T15:00:00"), [(0, 1), (1, 1)])]),
    # another currency, paid and then refunded whole by the saga (the units could not be kept)
    Seeded("TQ-VES", E2, at("2026-03-10T14:50:00"), [Quote(PISTA, "Pista", 4, 100000, fees=4000, taxes=16640)],
           "refunded", at("2026-03-10T15:00:00"), "pago_movil", refunds=[Refund(at("2026-03-11T10:00:00"))]),
    Seeded("TQ-EXP", E1, at("2026-03-03T12:00:00"), [Quote(GENERAL, "General", 2, 2500)], "cancelled",
           cancel_reason="hold_expired"),
    Seeded("TQ-CAN", E1, at("2026-03-04T12:00:00"), [Quote(GENERAL, "General", 1, 2500)], "cancelled",
           cancel_reason="buyer_cancelled"),
    Seeded("TQ-WAIT", E1, at("2026-03-06T12:00:00"), [Quote(GENERAL, "General", 1, 2500)], "awaiting_payment"),
    # sold before the window, one ticket refunded inside it
    Seeded("TQ-FEB", E1, at("2026-02-27T11:55:00"), [Quote(GENERAL, "General", 2, 2500, REGULAR, fees=200, taxes=832)],
           "completed", at("2026-02-27T12:00:00"), "card", channel="cashier", placed_by=CASHIER_LUIS,
           refunds=[Refund(at("2026-03-08T13:00:00"), [(0, 1)])]),
    Seeded("TQ-E3", E3, at("2026-03-15T18:00:00"), [Quote(GENERAL, "General", 1, 3000, fees=100, taxes=496)],
           "completed", at("2026-03-15T18:05:00"), "card"),
    # after the window (Caracas 2026-04-01 00:30)
    Seeded("TQ-APR", E1, at("2026-04-01T04:25:00"), [Quote(GENERAL, "General", 1, 2500)], "completed",
           at("2026-04-01T04:30:00"), "card"),
    # another organizer, inside the window: never in this tenant's reports
    Seeded("TQ-ALIEN", E1, at("2026-03-05T12:00:00"), [Quote(GENERAL, "General", 5, 9999)], "completed",
           at("2026-03-05T12:05:00"), "card", tenant=OTHER_TENANT),
]


async def seed(h) -> None:
    async with h.db() as uow:
        for o in ORDERS:
            title, session, currency = EVENTS[o.event]
            await uow.session.execute(orders.insert().values(
                id=o.id, tenant_id=o.tenant, code=o.code, event_id=o.event, event_title=title, session_id=session,
                session_starts_at=at("2026-04-10T23:00:00"), buyer_user_id=uuid.uuid4(),
                buyer={"email": "ana@example.com", "name": "Ana Pérez"}, lines=o.order_lines(), total_minor=o.total,
                currency=currency, hold_id=o.id, hold_expires_at=o.created_at + timedelta(minutes=10),
                promo_code=o.promo,
                pricing={"lines": [q.as_json() for q in o.quotes], "totals": {"total_minor": o.total}},
                payment={"payment_id": str(uuid.uuid4()), "method": o.method, "provider": "test",
                         "captured_at": o.paid_at.isoformat(), "amount_minor": o.total} if o.paid_at else None,
                cancel_reason=o.cancel_reason, created_at=o.created_at, channel=o.channel, placed_by=o.placed_by,
                placed_by_email=f"{o.placed_by.hex[:6]}@organizer.test" if o.placed_by else None, paid_at=o.paid_at,
                refunded_minor=sum(o.refund_amount(r) for r in o.refunds if r.state == "completed")))
            await uow.session.execute(purchase_sagas.insert().values(order_id=o.id, tenant_id=o.tenant, state=o.state))
            for from_state, to_state, moment in transitions(o):
                await uow.session.execute(saga_transitions.insert().values(
                    tenant_id=o.tenant, order_id=o.id, from_state=from_state, to_state=to_state, cause="seed",
                    occurred_at=moment))
            for r in o.refunds:
                credit = [{"original_line": i, "quantity": n} for i, n in r.credit]
                await uow.session.execute(refunds.insert().values(
                    id=uuid.uuid4(), tenant_id=o.tenant, order_id=o.id, state=r.state,
                    reason="buyer_request" if credit else "units_unavailable",
                    requested_by_kind="buyer" if credit else "system", amount_minor=o.refund_amount(r),
                    currency=currency, ticket_ids=[], unit_ids=[], credit_lines=credit,
                    created_at=r.completed_at - timedelta(minutes=5), updated_at=r.completed_at))
        await uow.commit()


def transitions(o: Seeded) -> list[tuple]:
    out = [(None, "awaiting_payment", o.created_at)]
    if o.cancel_reason:
        out.append(("awaiting_payment", "cancelled", o.created_at + timedelta(minutes=10)))
    if o.paid_at:
        out.append(("awaiting_payment", "confirming_hold", o.paid_at))
        final = "refund_required" if o.state == "refunded" else "completed"
        out.append(("confirming_hold", final, o.paid_at + timedelta(minutes=1)))
    return out


# --- the expected figures, from the seeded values ------------------------------------------------------------

def half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def mine(o: Seeded, events=None) -> bool:
    return o.tenant == TENANT and (events is None or o.event in events)


def key_of(group_by: str, o: Seeded, g: int, moment: datetime):
    q = o.quotes[g]
    return {"period": moment.astimezone(CARACAS).date().isoformat(), "event": str(o.event), "zone": q.zone_id,
            "stage": q.stage["id"] if q.stage else None, "promo_code": o.promo if q.promo_discount else None,
            "payment_method": o.method, "channel": o.channel,
            "operator": str(o.placed_by) if o.placed_by else None}[group_by]


FIGURES = ("tickets", "gross_minor", "discounts_minor", "fees_minor", "taxes_minor", "collected_minor",
           "refunds_minor", "refunded_tickets", "refunded_taxes_minor")


def expected_sales(group_by: str, events=None) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for o in (o for o in ORDERS if mine(o, events)):
        if o.paid_at and START <= o.paid_at < END:
            for g, q in enumerate(o.quotes):
                row = rows[(key_of(group_by, o, g, o.paid_at), o.currency)]
                row["tickets"] += q.quantity
                row["gross_minor"] += q.gross
                row["discounts_minor"] += q.group_discount + q.promo_discount
                row["fees_minor"] += q.fees
                row["taxes_minor"] += q.taxes
                row["collected_minor"] += q.total
        back = [0] * len(o.quotes)
        lines = o.order_lines()
        for r in sorted((r for r in o.refunds if r.state == "completed"), key=lambda r: r.completed_at):
            per_quote: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            if r.credit:
                for i, n in r.credit:
                    per_quote[lines[i]["quote_line"]][0] += n
                    per_quote[lines[i]["quote_line"]][1] += n * lines[i]["unit_price_minor"]
            else:
                for g, q in enumerate(o.quotes):
                    per_quote[g] = [q.quantity - back[g], q.total]
            for g, (tickets, amount) in per_quote.items():
                q = o.quotes[g]
                taxes = half_up(q.taxes * (back[g] + tickets), q.quantity) - half_up(q.taxes * back[g], q.quantity)
                back[g] += tickets
                if START <= r.completed_at < END:
                    row = rows[(key_of(group_by, o, g, r.completed_at), o.currency)]
                    row["refunds_minor"] += amount
                    row["refunded_tickets"] += tickets
                    row["refunded_taxes_minor"] += taxes
    for row in rows.values():
        row["net_minor"] = row["collected_minor"] - row["refunds_minor"] - row["taxes_minor"] + \
            row["refunded_taxes_minor"]
        row["average_ticket_price_minor"] = half_up(row["gross_minor"] - row["discounts_minor"], row["tickets"]) \
            if row["tickets"] else None
    return dict(rows)


def figures_of(body: dict, with_zeros: bool = False) -> dict[tuple, dict]:
    return {(r["key"], r["currency"]): {k: r[k] for k in (*FIGURES, "net_minor", "average_ticket_price_minor")}
            for r in body["rows"] if with_zeros or r["tickets"] or r["refunds_minor"]}


def expected_totals(rows: dict[tuple, dict]) -> dict[str, dict]:
    totals: dict[str, dict] = {}
    for (_, currency), row in rows.items():
        total = totals.setdefault(currency, dict.fromkeys((*FIGURES, "net_minor"), 0))
        for k in (*FIGURES, "net_minor"):
            total[k] += row[k]
    return totals


def admin() -> dict:
    return staff(TENANT, ("tenant_admin",), time_zone=TZ)


async def test_sales_by_every_dimension_match_the_seeded_orders_to_the_cent():
    async with service_harness("orders", name="rep", worker=False) as h:
        await seed(h)
        for group_by in ("period", "event", "zone", "stage", "promo_code", "payment_method", "channel", "operator"):
            response = await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                          params={**WINDOW, "group_by": group_by})
            assert response.status_code == 200, response.text
            body = response.json()
            expected = expected_sales(group_by)
            assert figures_of(body) == expected, group_by
            totals = {t["currency"]: {k: t[k] for k in (*FIGURES, "net_minor")} for t in body["totals"]}
            assert totals == expected_totals(expected), group_by

        by_day = (await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                     params={**WINDOW, "group_by": "period"})).json()
        assert by_day["window"]["time_zone"] == TZ
        days = {r["key"] for r in by_day["rows"] if r["currency"] == "USD"}
        assert len(days) == 31 and "2026-03-01" in days  # empty days show, with zeros
        usd = {r["key"]: r for r in by_day["rows"] if r["currency"] == "USD"}
        assert usd["2026-03-01"]["tickets"] == 3 and usd["2026-03-02"]["tickets"] == 3  # 03:30Z and 04:30Z
        assert usd["2026-03-20"]["collected_minor"] == 0 and usd["2026-03-20"]["average_ticket_price_minor"] is None

        weekly = (await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                     params={**WINDOW, "granularity": "week"})).json()
        week_of_mar_1 = next(r for r in weekly["rows"] if r["key"] == "2026-02-23" and r["currency"] == "USD")
        assert week_of_mar_1["tickets"] == 3  # Sunday 1 March belongs to the week from Monday 23 February

        # in UTC the 03:30Z order is on 2 March
        utc = (await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                  params={"from": "2026-03-02", "to": "2026-03-02", "tz": "UTC"})).json()
        assert [(r["key"], r["tickets"]) for r in utc["rows"] if r["currency"] == "USD"] == [("2026-03-02", 6)]


async def test_exports_hold_the_same_figures_and_the_pdf_shows_the_totals():
    async with service_harness("orders", name="rex", worker=False) as h:
        await seed(h)
        params = {**WINDOW, "group_by": "zone"}
        body = (await h.client.get("/api/v1/orders/reports/sales", headers=admin(), params=params)).json()
        expected_rows = [(r["key"], r["currency"], r["tickets"], r["collected_minor"], r["refunds_minor"],
                          r["net_minor"]) for r in body["rows"]]
        expected_rows += [("", t["currency"], t["tickets"], t["collected_minor"], t["refunds_minor"], t["net_minor"])
                          for t in body["totals"]]

        def minor(value, currency) -> int:
            return int(Decimal(str(value)) * 100) if currency in ("USD", "VES") else int(value)

        response = await h.client.get("/api/v1/orders/reports/sales", headers=admin(), params={**params, "format": "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "sales-by-zone_2026-03-01_2026-03-31.csv" in response.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [(r["Key"], r["Currency"], int(r["Tickets"]), minor(r["Collected"], r["Currency"]),
                 minor(r["Refunds"], r["Currency"]), minor(r["Net"], r["Currency"])) for r in table] == expected_rows

        response = await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                      params={**params, "format": "xlsx"})
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, *cells = list(sheet.iter_rows(values_only=True))
        got = [dict(zip(header, row, strict=True)) for row in cells]
        assert [(r["Key"] or "", r["Currency"], r["Tickets"], minor(r["Collected"], r["Currency"]),
                 minor(r["Refunds"], r["Currency"]), minor(r["Net"], r["Currency"])) for r in got] == expected_rows

        response = await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                      params={**WINDOW, "group_by": "event", "format": "pdf"})
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
        assert "Sales summary" in text and TZ in text and "Concierto USD" in text
        for total in (await h.client.get("/api/v1/orders/reports/sales", headers=admin(),
                                         params={**WINDOW, "group_by": "event"})).json()["totals"]:
            for key in ("collected_minor", "refunds_minor", "net_minor"):
                assert f"{Decimal(total[key]).scaleb(-2):,}" in text, (key, total)


def expected_lines(events=None) -> list[tuple]:
    out = []
    for o in sorted((o for o in ORDERS if mine(o, events) and o.paid_at and START <= o.paid_at < END),
                    key=lambda o: (o.paid_at, o.id)):
        lines = o.order_lines()
        for g, q in enumerate(o.quotes):
            refunded = [0, 0]
            for r in o.refunds:
                if r.state != "completed":
                    continue
                pairs = r.credit or [(i, ln["quantity"]) for i, ln in enumerate(lines)]
                for i, n in pairs:
                    if lines[i]["quote_line"] == g:
                        refunded[0] += n
                        refunded[1] += n * lines[i]["unit_price_minor"]
            out.append((o.code, o.paid_at.astimezone(CARACAS).isoformat(), q.zone_name, q.quantity, q.gross,
                        q.group_discount + q.promo_discount, q.fees, q.taxes, q.total, o.method, o.channel,
                        refunded[0], refunded[1]))
    return out


async def test_sold_lines_page_with_a_cursor_and_download_whole():
    async with service_harness("orders", name="rel", worker=False) as h:
        await seed(h)
        items, cursor, pages = [], None, 0
        while True:
            params = {**WINDOW, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = await h.client.get("/api/v1/orders/reports/sales/lines", headers=admin(), params=params)
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) == 1
            items += page.json()["items"]
            pages += 1
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        got = [(i["order_code"], i["paid_at"], i["zone"], i["quantity"], i["gross_minor"], i["discounts_minor"],
                i["fees_minor"], i["taxes_minor"], i["total_minor"], i["payment_method"], i["channel"],
                i["refunded_tickets"], i["refunded_minor"]) for i in items]
        assert got == expected_lines() and pages == 5  # one line a page: the first order's two lines span pages

        response = await h.client.get("/api/v1/orders/reports/sales/lines", headers=admin(),
                                      params={**WINDOW, "format": "csv"})
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [(r["Order"], r["Paid at"][:16], int(r["Tickets"]), Decimal(r["Total"])) for r in table] == [
            (e[0], e[1][:16], e[3], Decimal(e[8]).scaleb(-2)) for e in expected_lines()]
        response = await h.client.get("/api/v1/orders/reports/sales/lines", headers=admin(),
                                      params={**WINDOW, "format": "xlsx"})
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, *cells = list(sheet.iter_rows(values_only=True))
        rows = [dict(zip(header, row, strict=True)) for row in cells]
        assert [(r["Order"], (r["Paid at"] + timedelta(seconds=30)).replace(second=0, microsecond=0),
                 r["Refunded tickets"]) for r in rows] == [
            (e[0], datetime.fromisoformat(e[1]).replace(tzinfo=None, second=0), e[11]) for e in expected_lines()]


async def test_conversion_and_recent_activity():
    async with service_harness("orders", name="rec", worker=False) as h:
        await seed(h)
        body = (await h.client.get("/api/v1/orders/reports/conversion", headers=admin(), params=WINDOW)).json()
        placed = [o for o in ORDERS if mine(o) and START <= o.created_at < END]
        full = {o.code for o in placed if o.state == "refunded" or (
            o.state == "completed" and sum(o.refund_amount(r) for r in o.refunds if r.state == "completed") >= o.total)}
        assert body["counts"] == {
            "placed": len(placed), "paid": sum(1 for o in placed if o.paid_at),
            "completed": sum(1 for o in placed if o.state == "completed"),
            "awaiting_payment": sum(1 for o in placed if o.state == "awaiting_payment"),
            "expired": sum(1 for o in placed if o.cancel_reason == "hold_expired"),
            "cancelled": sum(1 for o in placed if o.state == "cancelled" and o.cancel_reason != "hold_expired"),
            "refunded": len(full),
            "partially_refunded": sum(1 for o in placed if o.state == "completed" and o.code not in full and any(
                r.state == "completed" for r in o.refunds))}
        assert body["rates"]["paid_rate"] == round(body["counts"]["paid"] / len(placed), 4)

        activity = (await h.client.get("/api/v1/orders/reports/activity", headers=admin(),
                                       params={"limit": 6})).json()["items"]
        happened = []
        for o in (o for o in ORDERS if mine(o)):
            happened.append((o.created_at, "placed", o.code, o.total))
            if o.cancel_reason:
                happened.append((o.created_at + timedelta(minutes=10),
                                 "expired" if o.cancel_reason == "hold_expired" else "cancelled", o.code, o.total))
            if o.paid_at:
                happened.append((o.paid_at, "paid", o.code, o.total))
            happened += [(r.completed_at, "refunded", o.code, o.refund_amount(r))
                         for r in o.refunds if r.state == "completed"]
        newest = sorted(happened, key=lambda e: e[0], reverse=True)[:6]
        assert [(datetime.fromisoformat(a["at"]), a["kind"], a["order_code"], a["amount_minor"]) for a in activity] \
            == newest

        as_csv = await h.client.get("/api/v1/orders/reports/conversion", headers=admin(),
                                    params={**WINDOW, "format": "csv"})
        table = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        assert {r["Outcome"]: int(r["Orders"]) for r in table} == body["counts"]
        as_xlsx = await h.client.get("/api/v1/orders/reports/activity", headers=admin(),
                                     params={"limit": 6, "format": "xlsx"})
        sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
        local = ZoneInfo(TZ)  # the organizer's wall-clock time, as a spreadsheet shows it
        assert [((r[0].value + timedelta(milliseconds=500)).replace(microsecond=0), r[1].value, r[2].value)
                for r in sheet.iter_rows(min_row=2)] == [
            (at.astimezone(local).replace(tzinfo=None, microsecond=0), kind, code) for at, kind, code, _ in newest]


async def test_only_the_organizer_s_admins_and_operators_see_sales_and_operators_only_their_events():
    async with service_harness("orders", name="rea", worker=False) as h:
        await seed(h)
        operator = staff(TENANT, ("event_operator",), time_zone=TZ, event_ids=frozenset({str(E1)}))
        body = (await h.client.get("/api/v1/orders/reports/sales", headers=operator,
                                   params={**WINDOW, "group_by": "event"})).json()
        assert figures_of(body) == expected_sales("event", events={E1}) and {r["key"] for r in body["rows"]} == {
            str(E1)}
        lines = (await h.client.get("/api/v1/orders/reports/sales/lines", headers=operator, params=WINDOW)).json()
        assert {i["event_id"] for i in lines["items"]} == {str(E1)}
        assert (await h.client.get("/api/v1/orders/reports/sales", headers=operator,
                                   params={"event_id": str(E3)})).status_code == 403

        for caller in (buyer(), staff(TENANT, ("box_office_cashier",)), staff(TENANT, ("scanner_device",))):
            for path in ("sales", "sales/lines", "conversion", "activity"):
                response = await h.client.get(f"/api/v1/orders/reports/{path}", headers=caller)
                assert response.status_code == 403, (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"

        other = (await h.client.get("/api/v1/orders/reports/sales", headers=staff(OTHER_TENANT, time_zone=TZ),
                                    params={**WINDOW, "group_by": "event"})).json()
        assert [(r["tickets"], r["collected_minor"]) for r in other["rows"]] == [(5, 5 * 9999)]

        for params, name in (({"group_by": "colour"}, "group_by"), ({"from": "2026-13-01"}, "from"),
                             ({"tz": "Mars/Olympus"}, "tz"), ({"from": "2020-01-01", "to": "2026-01-01"}, "from")):
            response = await h.client.get("/api/v1/orders/reports/sales", headers=admin(), params=params)
            assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
            assert name in {e["field"] for e in response.json()["errors"]}, response.json()


def test_the_seeded_orders_cover_the_caracas_day_boundary():
    first, second = ORDERS[0].paid_at, ORDERS[1].paid_at
    assert first.astimezone(CARACAS).date() == date(2026, 3, 1) and second.astimezone(CARACAS).date() == date(2026, 3, 2)
