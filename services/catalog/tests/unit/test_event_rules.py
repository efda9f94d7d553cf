"""Slugs and the rules an event draft must meet (no I/O)."""
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from catalog_service.domain.currencies import is_currency
from catalog_service.domain.errors import InvalidEvent
from catalog_service.domain.events import EventDraft, ZoneDraft, check_event_draft, is_time_zone
from catalog_service.domain.seating import SeatLayout
from catalog_service.domain.slugs import MAX_SLUG_LENGTH, first_free_slug, is_valid_slug, slugify

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def draft(**changes) -> EventDraft:
    base = EventDraft(
        title="Rock al Parque", venue_name="Parque Simón Bolívar", time_zone="America/Bogota",
        starts_at=NOW + timedelta(days=30), currency="COP",
        zones=(ZoneDraft("General", "general", 5000, 12000000), ZoneDraft("VIP", "general", 200, 45000000)),
    )
    return replace(base, **changes)


def fields_at_fault(excinfo) -> list[str]:
    return [e.field for e in excinfo.value.errors]


@pytest.mark.parametrize(("title", "slug"), [
    ("Rock al Parque 2026", "rock-al-parque-2026"),
    ("Concierto de Año Nuevo — ¡Caracas!", "concierto-de-ano-nuevo-caracas"),
    ("  --Ópera   &  Ballet--  ", "opera-ballet"),
    ("🎸🎶", "event"),
])
def test_slugs_are_readable_ascii(title, slug):
    assert slugify(title) == slug
    assert is_valid_slug(slugify(title))


def test_a_slug_never_looks_like_an_event_id():
    title = str(uuid.uuid4())
    assert slugify(title) == f"event-{title}"
    assert not is_valid_slug(title)


def test_long_titles_are_cut_without_a_dangling_hyphen():
    slug = slugify("a" * 79 + " bcd")
    assert len(slug) <= MAX_SLUG_LENGTH and not slug.endswith("-")


def test_a_taken_slug_gets_the_next_free_number():
    assert first_free_slug("feria", []) == "feria"
    assert first_free_slug("feria", ["feria"]) == "feria-2"
    assert first_free_slug("feria", ["feria", "feria-2", "feria-3"]) == "feria-4"
    long = "x" * MAX_SLUG_LENGTH
    assert first_free_slug(long, [long]) == "x" * (MAX_SLUG_LENGTH - 2) + "-2"


@pytest.mark.parametrize("slug", ["Rock", "rock--parque", "-rock", "rock_parque", "ñandú", "x" * 81])
def test_slugs_chosen_by_the_organizer_must_be_clean(slug):
    assert not is_valid_slug(slug)


def test_currencies_are_circulating_iso_4217_codes():
    assert all(is_currency(c) for c in ("USD", "COP", "VES", "EUR", "JPY"))
    assert not any(is_currency(c) for c in ("usd", "XYZ", "XAU", "US", "DOLLAR", ""))


def test_time_zones_are_iana_names():
    assert all(is_time_zone(z) for z in ("America/Caracas", "America/Bogota", "Europe/Madrid", "UTC"))
    assert not any(is_time_zone(z) for z in ("EST", "Mars/Olympus_Mons", "america/caracas", "", "GMT-4"))


def test_a_complete_draft_passes():
    check_event_draft(draft(), now=NOW, production=True)


def test_a_naive_start_is_refused():
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(starts_at=datetime(2026, 3, 1, 20, 0)), now=NOW, production=True)
    assert fields_at_fault(excinfo) == ["starts_at"]


def test_the_event_must_start_in_the_future_in_any_offset():
    from datetime import timezone
    caracas = timezone(timedelta(hours=-4))
    check_event_draft(draft(starts_at=NOW.astimezone(caracas) + timedelta(minutes=1)), now=NOW, production=True)
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(starts_at=NOW.astimezone(caracas)), now=NOW, production=True)
    assert fields_at_fault(excinfo) == ["starts_at"]


def test_short_holds_only_outside_production():
    check_event_draft(draft(hold_ttl_seconds=5), now=NOW, production=False)
    check_event_draft(draft(hold_ttl_seconds=60), now=NOW, production=True)
    for ttl, production in ((5, True), (59, True), (4, False), (3601, False), (3601, True)):
        with pytest.raises(InvalidEvent) as excinfo:
            check_event_draft(draft(hold_ttl_seconds=ttl), now=NOW, production=production)
        assert fields_at_fault(excinfo) == ["hold_ttl_seconds"], (ttl, production)


def test_tickets_per_order_between_1_and_50():
    for n in (1, 50):
        check_event_draft(draft(max_tickets_per_order=n), now=NOW, production=True)
    for n in (0, 51):
        with pytest.raises(InvalidEvent) as excinfo:
            check_event_draft(draft(max_tickets_per_order=n), now=NOW, production=True)
        assert fields_at_fault(excinfo) == ["max_tickets_per_order"]


def test_numbered_zones_need_a_valid_layout_and_count_their_unblocked_seats():
    platea = ZoneDraft("Platea", "numbered", None, 1000, layout=SeatLayout(rows=3, seats_per_row=10,
                                                                            blocked=("A-1",)),
                       row_adjustments=(("A", Decimal(20)),))
    check_event_draft(draft(zones=(ZoneDraft("General", "general", 100, 1000), platea)), now=NOW, production=True)
    assert platea.sellable_capacity() == 29
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(zones=(ZoneDraft("Platea", "numbered", 100, 1000),
                                       replace(platea, row_adjustments=(("Z", Decimal(5)),)),
                                       ZoneDraft("Pista", "general", 10, 1, row_adjustments=(("A", Decimal(1)),)))),
                          now=NOW, production=True)
    assert fields_at_fault(excinfo) == ["zones.0.layout", "zones.1.name", "zones.1.row_adjustments.Z",
                                        "zones.2.row_adjustments"]


def test_extra_sessions_recurrence_categories_and_fees_are_checked():
    from datetime import date, time

    from catalog_service.domain.pricing import GroupTier
    from catalog_service.domain.recurrence import Recurrence
    weekly = Recurrence(starts_on=date(2026, 3, 6), at=time(20), weekdays=("friday",), count=8)
    ok = draft(more_starts=(NOW + timedelta(days=40),), recurrence=weekly, category="music", tags=("salsa",))
    check_event_draft(ok, now=NOW, production=True)
    assert len(ok.session_starts()) == 10
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(more_starts=(NOW - timedelta(days=1),), category="opera", tax_percent=Decimal(101),
                                group_discounts=(GroupTier(1, Decimal(10)),),
                                recurrence=replace(weekly, starts_on=date(2026, 1, 2))), now=NOW, production=True)
    assert fields_at_fault(excinfo) == ["category", "tax_percent", "group_discounts.0.min_quantity", "sessions.0",
                                        "recurrence.starts_on"]


def test_every_zone_rule_is_reported_with_its_field():
    zones = (
        ZoneDraft("General", "general", 0, 1000),
        ZoneDraft("general ", "general", 100, -1),
        ZoneDraft("VIP", "general", 100_001, 1000, currency="USD"),
        ZoneDraft("Palco", "general", 100_000, 0, currency="COP"),  # the largest zone, free, priced in COP: fine
    )
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(zones=zones), now=NOW, production=True)
    assert fields_at_fault(excinfo) == ["zones.0.capacity", "zones.1.name", "zones.1.price_minor",
                                        "zones.2.capacity", "zones.2.currency"]


def test_several_faults_are_reported_together():
    with pytest.raises(InvalidEvent) as excinfo:
        check_event_draft(draft(currency="XYZ", time_zone="EST", zones=(), slug="Bad Slug"), now=NOW,
                          production=True)
    assert set(fields_at_fault(excinfo)) == {"currency", "time_zone", "zones", "slug"}
