"""Sales of every channel: orders' rows and the box-office terminals' rows summed per group and currency."""
from gateway_service.application.reports import merge_sales


def figures(tickets, gross, discounts=0, fees=0, taxes=0, refunds=0, refunded_taxes=0):
    collected = gross - discounts + fees + taxes
    return {"orders": 1, "tickets": tickets, "gross_minor": gross, "discounts_minor": discounts, "fees_minor": fees,
            "taxes_minor": taxes, "collected_minor": collected, "refunds_minor": refunds, "refunded_tickets": 0,
            "refunded_taxes_minor": refunded_taxes, "net_minor": collected - refunds - (taxes - refunded_taxes)}


def test_by_channel_the_terminals_are_one_more_channel_and_currencies_never_mix():
    online = {"rows": [
        {"key": "online", "label": "Online", "currency": "USD", **figures(3, 7500, discounts=500, taxes=1120)},
        {"key": "cashier", "label": "Cashier", "currency": "USD", **figures(1, 2500, taxes=400)},
        {"key": "online", "label": "Online", "currency": "VES", **figures(2, 900_00)},
    ]}
    terminals = {"rows": [], "totals": [{"currency": "USD", **figures(4, 10000, taxes=1600)}]}
    merged = merge_sales("channel", online, terminals)
    by = {(r["key"], r["currency"]): r for r in merged["rows"]}
    assert set(by) == {("online", "USD"), ("cashier", "USD"), ("box_office_terminal", "USD"), ("online", "VES")}
    assert by[("box_office_terminal", "USD")]["collected_minor"] == 11600
    usd = next(t for t in merged["totals"] if t["currency"] == "USD")
    assert usd["tickets"] == 3 + 1 + 4
    assert usd["collected_minor"] == (7500 - 500 + 1120) + (2500 + 400) + 11600
    assert usd["average_ticket_price_minor"] == 2438  # (7000 + 2500 + 10000) / 8 = 2437.5, rounded half up
    ves = next(t for t in merged["totals"] if t["currency"] == "VES")
    assert ves["collected_minor"] == 900_00 and ves["tickets"] == 2


def test_by_period_the_same_day_from_both_sources_is_one_row():
    online = {"rows": [{"key": "2026-03-01", "label": "2026-03-01", "currency": "USD", **figures(2, 5000)},
                       {"key": "2026-03-02", "label": "2026-03-02", "currency": "USD", **figures(0, 0)}]}
    terminals = {"rows": [{"period": "2026-03-01", "currency": "USD", **figures(1, 2500, refunds=2500)}],
                 "totals": []}
    merged = merge_sales("period", online, terminals)
    assert [(r["key"], r["tickets"], r["refunds_minor"]) for r in merged["rows"]] == [
        ("2026-03-01", 3, 2500), ("2026-03-02", 0, 0)]
    assert merged["rows"][1]["average_ticket_price_minor"] is None  # no tickets: no average
    assert merged["totals"][0]["net_minor"] == 7500 - 2500


def test_a_source_that_did_not_answer_leaves_the_other_channels():
    online = {"rows": [{"key": "online", "label": "Online", "currency": "USD", **figures(1, 1000)}]}
    assert merge_sales("channel", online, None)["totals"][0]["tickets"] == 1
    assert merge_sales("channel", None, None) == {"rows": [], "totals": []}
