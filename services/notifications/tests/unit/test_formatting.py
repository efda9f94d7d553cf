"""Money and dates as a buyer reads them: exact minor units, the event's own clock."""
from datetime import UTC, datetime

import pytest
from notifications_service.domain.formatting import currency_exponent, format_datetime, format_money


@pytest.mark.parametrize(("minor", "currency", "language", "expected"), [
    (123456, "USD", "es", "1.234,56 USD"),
    (123456, "USD", "en", "USD 1,234.56"),
    (5, "VES", "es", "0,05 VES"),
    (100000000, "VES", "es", "1.000.000,00 VES"),
    (0, "EUR", "en", "EUR 0.00"),
    (1500, "JPY", "en", "JPY 1,500"),  # no minor unit
    (1500, "CLP", "es", "1.500 CLP"),
    (12345, "KWD", "en", "KWD 12.345"),  # three decimals
    (-2599, "usd", "en", "-USD 25.99"),
])
def test_money_is_formatted_from_minor_units_per_language(minor, currency, language, expected):
    assert format_money(minor, currency, language) == expected


def test_currency_exponents_follow_iso_4217():
    assert (currency_exponent("USD"), currency_exponent("JPY"), currency_exponent("BHD")) == (2, 0, 3)


def test_money_never_goes_through_floats():
    # 0.1 + 0.2 style errors would show up on large amounts with odd cents
    assert format_money(900719925474099_1, "USD", "en") == "USD 90,071,992,547,409.91"


def test_a_session_is_shown_in_the_event_time_zone():
    starts = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)  # 20:30 the day before in Caracas (UTC-4)
    assert format_datetime(starts, "America/Caracas", "es") == "sábado, 14 de marzo de 2026, 20:30 (America/Caracas)"
    assert format_datetime(starts, "America/Caracas", "en") == "Saturday, March 14, 2026, 8:30 PM (America/Caracas)"


def test_an_unknown_or_missing_time_zone_says_utc():
    starts = datetime(2026, 1, 5, 9, 5, tzinfo=UTC)
    assert format_datetime(starts, None, "en") == "Monday, January 5, 2026, 9:05 AM (UTC)"
    assert format_datetime(starts, "Mars/Olympus", "es") == "lunes, 5 de enero de 2026, 09:05 (UTC)"
    assert format_datetime(datetime(2026, 1, 5, 12, 0), None, "en") == "Monday, January 5, 2026, 12:00 PM (UTC)"
