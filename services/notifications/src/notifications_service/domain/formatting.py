"""Money and dates the way a buyer reads them, in Spanish or English. No I/O here."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taquilla_platform.money import currency_exponent

_SEPARATORS = {"es": (".", ","), "en": (",", ".")}  # (thousands, decimal)

_MONTHS = {
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
_WEEKDAYS = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def format_money(amount_minor: int, currency: str, language: str = "es") -> str:
    """1234567 USD → '12.345,67 USD' (es) or 'USD 12,345.67' (en); exact, no floats."""
    currency = currency.upper()
    thousands, decimal = _SEPARATORS.get(language, _SEPARATORS["es"])
    exponent = currency_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    units, fraction = divmod(abs(amount_minor), 10 ** exponent)
    number = f"{units:,}".replace(",", thousands)
    if exponent:
        number += decimal + f"{fraction:0{exponent}d}"
    return f"{sign}{currency} {number}" if language == "en" else f"{sign}{number} {currency}"


def format_datetime(moment: datetime, time_zone: str | None, language: str = "es") -> str:
    """A session's start in the event's time zone: 'sábado, 14 de marzo de 2026, 20:00 (America/Caracas)'."""
    try:
        zone, label = ZoneInfo(time_zone), time_zone
    except (ValueError, TypeError, ZoneInfoNotFoundError):  # unknown or missing: say plainly it is UTC
        zone, label = UTC, "UTC"
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    if language == "en":
        hour = local.hour % 12 or 12
        return (f"{_WEEKDAYS['en'][local.weekday()]}, {_MONTHS['en'][local.month - 1]} {local.day}, {local.year}, "
                f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'} ({label})")
    return (f"{_WEEKDAYS['es'][local.weekday()]}, {local.day} de {_MONTHS['es'][local.month - 1]} de {local.year}, "
            f"{local.hour:02d}:{local.minute:02d} ({label})")
