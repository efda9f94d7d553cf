"""Payments declared by the buyer or a cashier and confirmed by the organizer's staff. No I/O here.

PagoMovil (Venezuela): the payer's bank code (4 digits, SUDEBAN), the payer's mobile number and the
transfer's reference number as the bank shows it.
"""
from __future__ import annotations

import re
from enum import StrEnum


class ManualMethod(StrEnum):
    CASH = "cash"  # at the box office
    BANK_TRANSFER = "bank_transfer"
    PAGOMOVIL = "pagomovil"


# Banks of Venezuela that take part in PagoMovil (SUDEBAN codes).
VENEZUELAN_BANKS: dict[str, str] = {
    "0102": "Banco de Venezuela", "0104": "Venezolano de Crédito", "0105": "Mercantil",
    "0108": "BBVA Provincial", "0114": "Bancaribe", "0115": "Exterior", "0128": "Banco Caroní",
    "0134": "Banesco", "0137": "Sofitasa", "0138": "Banco Plaza", "0146": "Bangente", "0151": "BFC",
    "0156": "100% Banco", "0157": "DelSur", "0163": "Banco del Tesoro", "0166": "Banco Agrícola",
    "0168": "Bancrecer", "0169": "Mi Banco", "0171": "Banco Activo", "0172": "Bancamiga",
    "0173": "Banco Internacional de Desarrollo", "0174": "Banplus", "0175": "Banco Bicentenario",
    "0177": "BANFANB", "0178": "N58 Banco Digital", "0191": "BNC",
}
MOBILE_PREFIXES = ("412", "414", "416", "422", "424", "426")  # Digitel, Movistar, Movilnet
_PHONE = re.compile(r"^(?:\+?58|0)?(4\d{2})(\d{7})$")
REFERENCE = re.compile(r"^\d{4,20}$")


def normalize_venezuelan_mobile(raw: str) -> str:
    """'0414-123.45.67', '+58 414 1234567', '584141234567' → '04141234567'; ValueError otherwise."""
    digits = re.sub(r"[\s().-]", "", raw)
    match = _PHONE.match(digits)
    if match is None or match.group(1) not in MOBILE_PREFIXES:
        raise ValueError("a Venezuelan mobile number is 04XX-XXXXXXX with XX one of "
                         + ", ".join(p[1:] for p in MOBILE_PREFIXES))
    return f"0{match.group(1)}{match.group(2)}"


def check_bank_code(code: str) -> str:
    if code not in VENEZUELAN_BANKS:
        raise ValueError("not a Venezuelan bank code taking part in PagoMovil (4 digits, e.g. 0102, 0134)")
    return code


def check_reference(reference: str) -> str:
    reference = reference.strip()
    if not REFERENCE.match(reference):
        raise ValueError("the reference is the 4 to 20 digits the bank shows for the transfer")
    return reference
