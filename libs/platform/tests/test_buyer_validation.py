"""Buyer data as Venezuelan and Colombian buyers write it: names, phones in E.164, cédulas, CC and NIT."""
import pytest
from pydantic import BaseModel, ValidationError
from taquilla_platform.validation import (
    NationalId,
    PersonName,
    PhoneNumber,
    needs_fiscal_address,
    nit_check_digit,
    normalize_national_id,
    normalize_person_name,
    normalize_phone,
    rif_check_digit,
)


@pytest.mark.parametrize(("typed", "e164"), [
    ("0414-1234567", "+584141234567"),
    ("+58 414 1234567", "+584141234567"),
    ("0058 414 123 4567", "+584141234567"),
    ("(0212) 555-1234", "+582125551234"),
    ("300 1234567", "+573001234567"),
    ("+57 300 1234567", "+573001234567"),
    ("+1 212 555 0100", "+12125550100"),
])
def test_phones_are_normalised_to_e164(typed, e164):
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12", "0414-123", "+58 999 1234567", "call me", "0414-1234567 ext 2" * 3])
def test_phones_that_are_not_numbers_are_refused(typed):
    with pytest.raises(ValueError):
        normalize_phone(typed)


@pytest.mark.parametrize(("nit", "check"), [("800197268", 4), ("860034313", 7), ("900373913", 4),
                                            ("811000001", 1)])
def test_nit_check_digits_follow_the_dian_algorithm(nit, check):
    assert nit_check_digit(nit) == check


@pytest.mark.parametrize(("typed", "normalised"), [
    ("V-12345678", "V-12345678"),
    ("v 12.345.678", "V-12345678"),
    ("E-84123456", "E-84123456"),
    ("V012345678", "V-12345678"),
    ("CC 1020304050", "CC-1020304050"),
    ("C.C. 79.123.456", "CC-79123456"),
    ("NIT 800.197.268-4", "NIT-800197268-4"),
    ("860034313-7", "NIT-860034313-7"),
    ("G-20009997-6", "G-20009997-6"),
    ("j 0.123.456 - 0", "J-00123456-0"),
    ("V-12345678-1", "V-12345678-1"),
])
def test_national_ids_are_normalised(typed, normalised):
    assert normalize_national_id(typed) == normalised


@pytest.mark.parametrize("typed", ["X-12345678", "V-12", "V-1234567890", "NIT 800197268-5", "CC 0123",
                                   "12345678", "V-12a45678", "", "G-20009997-5", "J-123-4"])
def test_malformed_ids_and_wrong_check_digits_are_refused(typed):
    with pytest.raises(ValueError):
        normalize_national_id(typed)


def test_bare_digits_are_read_by_the_country_given():
    assert normalize_national_id("12.345.678", "VE") == "V-12345678"
    assert normalize_national_id("1020304050", "CO") == "CC-1020304050"


def test_names_are_tidied_and_must_be_letters():
    assert normalize_person_name("  María   José ") == "María José"
    assert normalize_person_name("O'Neill-Pérez") == "O'Neill-Pérez"
    for bad in ("", "R2D2", "Ana <script>", "x" * 81):
        with pytest.raises(ValueError):
            normalize_person_name(bad)


def test_the_annotated_types_report_the_field_at_fault():
    class Buyer(BaseModel):
        name: PersonName
        phone: PhoneNumber
        national_id: NationalId

    ok = Buyer(name="Ana", phone="0414-1234567", national_id="v-12345678")
    assert (ok.phone, ok.national_id) == ("+584141234567", "V-12345678")
    with pytest.raises(ValidationError) as refused:
        Buyer(name="Ana", phone="0414-1234567", national_id="NIT 800197268-5")
    assert refused.value.errors()[0]["loc"] == ("national_id",)


@pytest.mark.parametrize(("letter", "digits", "check"), [("G", "20009997", 6), ("G", "20000303", 0),
                                                          ("V", "12345678", 1), ("J", "40000000", 9)])
def test_rif_check_digits_follow_seniat(letter, digits, check):
    assert rif_check_digit(letter, digits) == check


def test_only_a_company_needs_a_fiscal_address_on_its_invoice():
    assert [needs_fiscal_address(i) for i in ("J-00123456-0", "G-20009997-6", "NIT-800197268-4")] == [True] * 3
    assert [needs_fiscal_address(i) for i in ("V-12345678", "V-12345678-1", "CC-1020304050", None)] == [False] * 4
