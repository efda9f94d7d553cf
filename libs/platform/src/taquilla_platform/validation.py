"""Input types shared by services' request models."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def normalize_email(value: str) -> str:
    """Syntax only (no DNS): local part kept as typed, domain lower-cased. Local domains are allowed."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


EmailAddress = Annotated[str, AfterValidator(normalize_email)]


# --- buyer data: names, phones (E.164) and national ids of Venezuela and Colombia ------------------------

_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.\-]+[^\W\d_]+)*\.?$")


def normalize_person_name(value: str) -> str:
    """A given name or surname: letters (any script), spaces, apostrophes, hyphens and dots; no digits."""
    value = " ".join(value.split())
    if not value or len(value) > 80:
        raise ValueError("a name needs 1 to 80 characters")
    if not _NAME.match(value):
        raise ValueError("a name has letters, spaces, apostrophes, hyphens or dots only")
    return value


PHONE_REGIONS = ("VE", "CO")  # national forms (0414-1234567, 300 1234567) are read as these, in order


def normalize_phone(value: str, regions: tuple[str, ...] = PHONE_REGIONS) -> str:
    """A phone number in E.164 (+584141234567). International forms (+58 …, 0058 …) are taken as they are;
    national forms are tried against `regions` in order and the first valid reading wins."""
    import phonenumbers  # imported here: only services that read phone numbers pay for the metadata

    raw = value.strip()
    if not raw or len(raw) > 30:
        raise ValueError("not a valid phone number")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    candidates = (None,) if raw.startswith("+") else regions
    for region in candidates:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError("not a valid phone number: write it with its country code, e.g. +58 414 1234567")


NIT_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def nit_check_digit(digits: str) -> int:
    """The DIAN check digit (dígito de verificación) of a Colombian NIT: weights 3, 7, 13… from the right, mod 11."""
    if not digits.isdigit() or len(digits) > len(NIT_WEIGHTS):
        raise ValueError("a NIT has at most 15 digits")
    total = sum(int(d) * w for d, w in zip(reversed(digits), NIT_WEIGHTS, strict=False))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


_RIF = re.compile(r"^([VEJPGC])[\s.\-]*((?:\d[.\s]?){5,8})[\s]*-[\s]*(\d)$")
_RIF_LETTERS = {"V": 1, "E": 2, "J": 3, "P": 4, "G": 5, "C": 6}
_RIF_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2)
BUSINESS_RIF_LETTERS = frozenset("JGCP")  # companies, government bodies, communal councils, passports of firms
_CEDULA = re.compile(r"^([VE])[\s.\-]*((?:\d[.\s]?){1,9})$")
_CC = re.compile(r"^(?:CC|C\.C\.)[\s.\-]*((?:\d[.\s]?){3,10})$")
_NIT = re.compile(r"^(?:NIT[\s.\-]*)?((?:\d[.\s]?){5,15})[\s]*-[\s]*(\d)$")


def rif_check_digit(letter: str, digits: str) -> int:
    """SENIAT's check digit of a Venezuelan RIF: the letter's value and the 8 digits, weighted, mod 11."""
    values = (_RIF_LETTERS[letter], *(int(d) for d in digits.zfill(8)))
    remainder = sum(v * w for v, w in zip(values, _RIF_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return 0 if check >= 10 else check


def needs_fiscal_address(national_id: str | None) -> bool:
    """A company's invoice carries its fiscal address: a RIF of a legal person (J, G, C, P) or a NIT."""
    if not national_id:
        return False
    return national_id.startswith("NIT-") or (len(national_id) > 2 and national_id[0] in BUSINESS_RIF_LETTERS
                                              and national_id[1] == "-")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def normalize_national_id(value: str, country: str | None = None) -> str:
    """A Venezuelan cédula ("V-12345678", "E-84123456") or RIF with its verified check digit ("J-12345678-9"),
    a Colombian cédula de ciudadanía ("CC-1020304050") or a Colombian NIT with its verified check digit
    ("NIT-900123456-7"). Bare digits need `country`
    ("VE" reads them as a V- cédula, "CO" as a CC); otherwise the prefix says which document it is."""
    text = " ".join(value.strip().upper().split())
    if not text or len(text) > 30:
        raise ValueError("not a valid national id")
    if (found := _RIF.match(text)) is not None:
        letter, digits, check = found.group(1), _digits(found.group(2)).zfill(8), int(found.group(3))
        if rif_check_digit(letter, digits) != check:
            raise ValueError(f"the RIF's check digit is {rif_check_digit(letter, digits)}, not {check}")
        return f"{letter}-{digits}-{check}"
    if (found := _CEDULA.match(text)) is not None:
        digits = _digits(found.group(2)).lstrip("0")
        if not 5 <= len(digits) <= 9:
            raise ValueError("a cédula has 5 to 9 digits")
        return f"{found.group(1)}-{digits}"
    if (found := _CC.match(text)) is not None:
        digits = _digits(found.group(1))
        if digits.startswith("0"):
            raise ValueError("a cédula de ciudadanía does not start with 0")
        return f"CC-{digits}"
    if (found := _NIT.match(text)) is not None:
        digits, check = _digits(found.group(1)), int(found.group(2))
        if nit_check_digit(digits) != check:
            raise ValueError(f"the NIT's check digit is {nit_check_digit(digits)}, not {check}")
        return f"NIT-{digits}-{check}"
    if re.fullmatch(r"(?:\d[.\s]?)+", text) and country in ("VE", "CO"):
        return normalize_national_id(("V-" if country == "VE" else "CC ") + text)
    raise ValueError("not a valid national id: write V-12345678 or E-12345678 (cédula), J-12345678-9 (RIF), "
                     "CC 1020304050 or NIT 900123456-7")


PersonName = Annotated[str, AfterValidator(normalize_person_name)]
PhoneNumber = Annotated[str, AfterValidator(normalize_phone)]
NationalId = Annotated[str, AfterValidator(normalize_national_id)]
