"""The organizer's rules for paying in parts (no I/O)."""
from datetime import UTC, datetime, timedelta

from catalog_service.domain.payment_plans import payment_plan_errors

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=30)


def rules(**changes) -> dict:
    return {"kinds": ["installments"], "final_deadline": (NOW + timedelta(days=20)).isoformat(),
            "on_missed_deadline": "refund_all", "keep_percent": 0, **changes}


def fields(**changes) -> list[str]:
    return [e.field for e in payment_plan_errors(rules(**changes), first_session_at=STARTS, now=NOW)]


def test_rules_with_a_deadline_before_the_event_are_accepted():
    assert fields() == []
    assert fields(on_missed_deadline="keep_percent", keep_percent=10) == []


def test_the_deadline_falls_between_now_and_the_first_session():
    assert fields(final_deadline=(STARTS + timedelta(hours=1)).isoformat()) == ["payment_plans.final_deadline"]
    assert fields(final_deadline=STARTS.isoformat()) == ["payment_plans.final_deadline"]
    assert fields(final_deadline=(NOW - timedelta(hours=1)).isoformat()) == ["payment_plans.final_deadline"]


def test_keeping_a_share_names_it_and_each_kind_is_named_once():
    assert fields(on_missed_deadline="keep_percent") == ["payment_plans.keep_percent"]
    assert fields(kinds=["flexible", "flexible"]) == ["payment_plans.kinds"]
