"""Quote arithmetic and sale-stage rules against hand-computed figures (no I/O)."""
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from catalog_service.domain.pricing import (
    Fees,
    GroupTier,
    Promo,
    QuoteGroup,
    Stage,
    check_stages,
    percent_of,
    price_quote,
    stages_in_order,
)

PLATEA, VIP = uuid.uuid4(), uuid.uuid4()
EARLY = uuid.uuid4()
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_rounding_is_half_up_to_the_minor_unit():
    assert percent_of(5, Decimal(10)) == 1  # 0.5 -> 1
    assert percent_of(4, Decimal(10)) == 0  # 0.4 -> 0
    assert percent_of(8333, Decimal(15)) == 1250  # 1249.95
    assert percent_of(10001, Decimal("12.5")) == 1250  # 1250.125


def test_a_quote_against_a_hand_computed_table():
    groups = [
        QuoteGroup(PLATEA, "Platea", 4, 10000, EARLY, "Early bird", 8000, "A", Decimal(15)),
        QuoteGroup(PLATEA, "Platea", 2, 10000, None, None, None, "B", Decimal(10)),
    ]
    lines, totals = price_quote(
        groups, promo=Promo("SALSA", "fixed", Decimal(1000), min_quantity=6, max_discount_minor=5000),
        tiers=[GroupTier(4, Decimal(10)), GroupTier(6, Decimal(15))],
        fees=Fees(fixed_minor=150, percent=Decimal(5), tax_percent=Decimal(16)),
    )
    # columns: stage adj, row adj, group discount, promo, subtotal, fees, taxes, total (per line)
    #  A: 10000 -> 8000 (-2000) +15% 1200 = 9200, -15% 1380 = 7820 x4 = 31280, promo 4x1000 = 4000 -> 27280
    #     fees 4x150 + 5% of 27280 (1364) = 1964; tax 16% of 29244 = 4679.04 -> 4679; total 33923
    #  B: 10000 +10% 1000 = 11000, -15% 1650 = 9350 x2 = 18700, promo 2000 capped by 1000 -> 17700
    #     fees 300 + 885 = 1185; tax 16% of 18885 = 3021.6 -> 3022; total 21907
    table = [(v["stage_adjustment_minor"], v["row_adjustment_minor"], v["group_discount_minor"],
              v["promo_discount_minor"], v["subtotal_minor"], v["fees_minor"], v["taxes_minor"], v["total_minor"])
             for v in (line.view() for line in lines)]
    assert table == [(-8000, 4800, -5520, -4000, 27280, 1964, 4679, 33923),
                     (0, 2000, -3300, -1000, 17700, 1185, 3022, 21907)]
    assert (totals["promo_discount_minor"], totals["subtotal_minor"], totals["total_minor"]) == (-5000, 44980, 55830)
    assert (totals["group_discount_percent"], totals["promo_code"]) == ("15", "SALSA")
    assert lines[0].view()["stage"] == {"id": str(EARLY), "name": "Early bird"}


def test_a_promo_needs_its_minimum_quantity_and_scope():
    groups = [QuoteGroup(PLATEA, "Platea", 1, 5000), QuoteGroup(VIP, "VIP", 2, 20000)]
    vip_only = Promo("VIP25", "percent", Decimal(25), min_quantity=2, zone_ids=frozenset({VIP}))
    lines, totals = price_quote(groups, promo=vip_only)
    assert [li.promo_discount for li in lines] == [0, 10000]
    assert totals["total_minor"] == 5000 + 30000
    _, short = price_quote(groups[:1] + [QuoteGroup(VIP, "VIP", 1, 20000)], promo=vip_only)
    assert (short["promo_discount_minor"], short["promo_code"]) == (0, None)
    free, _ = price_quote([QuoteGroup(PLATEA, "Platea", 1, 500)], promo=Promo("BIG", "fixed", Decimal(900)))
    assert free[0].subtotal == 0  # a fixed discount never makes a ticket negative


def stage(name, priority, *, zone=None, **kw) -> Stage:
    return Stage(uuid.uuid4(), name, zone, priority, **kw)


def test_hybrid_stages_end_by_date_or_by_quantity_whichever_comes_first():
    early = stage("Early", 1, zone=PLATEA, price_minor=8000, ends_at=NOW + timedelta(days=7), quantity=50)
    general = stage("General", 2, zone=PLATEA, price_minor=10000)
    assert early.ends_by == "hybrid" and general.ends_by is None
    assert [s.name for s in stages_in_order([general, early], PLATEA, NOW)] == ["Early", "General"]
    sold_out = Stage(**{**early.__dict__, "allocated": 50})
    assert sold_out.end_reason(NOW) == "quantity"
    assert [s.name for s in stages_in_order([general, sold_out], PLATEA, NOW)] == ["General"]
    assert early.end_reason(NOW + timedelta(days=7)) == "date"
    assert [s.name for s in stages_in_order([general, early], PLATEA, NOW + timedelta(days=7))] == ["General"]
    presale = stage("Presale", 1, percent_of_base=Decimal(90), starts_at=NOW + timedelta(days=1))
    assert stages_in_order([presale], VIP, NOW) == []
    assert presale.unit_price(20001) == 18001  # 18000.9 -> 18001


def test_stage_validation_names_the_field():
    capacities = {PLATEA: 100, VIP: 20}
    a = stage("Early", 1, zone=PLATEA, price_minor=1, starts_at=NOW, ends_at=NOW + timedelta(days=5), quantity=80)
    b = stage("Pre", 2, zone=PLATEA, price_minor=1, starts_at=NOW + timedelta(days=4),
              ends_at=NOW + timedelta(days=9), quantity=30)
    c = stage("Late", 2, zone=VIP, price_minor=1, ends_at=NOW + timedelta(days=4))  # other scope: fine
    fields = {a.id: "stages.0", b.id: "stages.1", c.id: "stages.2"}
    assert [e.field for e in check_stages([a, b, c], capacities, fields)] == [
        "stages.1.ends_at", "stages.1.quantity"]
    d = stage("Too many", 3, zone=VIP, price_minor=1, quantity=21)
    e = stage("Wide", 1, price_minor=500)
    f = stage("Same", 1, zone=PLATEA, percent_of_base=Decimal(80))
    fields = {d.id: "d", e.id: "e", f.id: "f"}
    assert [x.field for x in check_stages([d, e, f], capacities, fields)] == ["d.quantity", "e.price_minor"]
    assert [x.field for x in check_stages([a, f], capacities, {a.id: "a", f.id: "f"})] == ["f.priority"]
