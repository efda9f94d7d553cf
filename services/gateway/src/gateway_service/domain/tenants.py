"""Organizers (tenants): what makes their identity and legal data valid. No I/O."""
from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

ACTIVE = "active"

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TAX_ID = re.compile(r"^[A-Z0-9](?:[A-Z0-9.\- ]{1,38}[A-Z0-9])$")
_REGISTRY_NUMBER = re.compile(r"^[A-Z0-9](?:[A-Z0-9.\-/ ]{0,38}[A-Z0-9])?$")

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
YT ZA ZM ZW
""".split())

# ISO 4217 codes of circulating currencies: fund codes (BOV, CLF, USN...), metals and test codes are not
# something tickets are sold in.
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
ZWG
""".split())


# files of the system's zone database that are not zones a venue can be in
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zone for zone in available_timezones()
                     if zone not in _NOT_ZONES and not zone.startswith(("posix/", "right/")))


def check_slug(value: str) -> str:
    slug = value.strip()
    if not _SLUG.match(slug):
        raise ValueError("use 1 to 63 lower-case letters, digits and hyphens, starting and ending with a letter "
                         "or digit")
    return slug


def check_country(value: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. VE, CO)")
    return code


def check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, VES, COP)")
    return code


def check_time_zone(value: str) -> str:
    zone = value.strip()
    if zone not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Caracas)")
    return zone


def check_tax_id(value: str) -> str:
    tax_id = " ".join(value.split()).upper()
    if not _TAX_ID.match(tax_id):
        raise ValueError("a tax id (RIF, NIT) has 3 to 40 letters, digits, dots, hyphens or spaces")
    return tax_id


def check_registry_number(value: str) -> str:
    number = " ".join(value.split()).upper()
    if not _REGISTRY_NUMBER.match(number):
        raise ValueError("a registry number (PULEP) has up to 40 letters, digits, dots, slashes or hyphens")
    return number
