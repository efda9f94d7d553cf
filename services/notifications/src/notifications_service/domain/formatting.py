"""Money and dates the way a buyer reads them, in Spanish or English. No I/O here."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# ISO 4217 minor-unit exponents that are not 2 (the default).
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
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


def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


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
