"""PagoMovil data, refund limits and the t=,v1= signature scheme."""
import uuid

import pytest
from payments_service.adapters.providers import signatures
from payments_service.domain.manual import check_bank_code, normalize_venezuelan_mobile
from payments_service.domain.payments import refundable_minor, why_not_refundable


@pytest.mark.parametrize("raw", ["04141234567", "0414-1234567", "0414 123.45.67", "+58 414 1234567",
                                 "584141234567", "(0424) 123-4567", "4121234567"])
def test_venezuelan_mobile_numbers_are_normalized(raw):
    assert normalize_venezuelan_mobile(raw)[:4] in ("0414", "0424", "0412")
    assert len(normalize_venezuelan_mobile(raw)) == 11


@pytest.mark.parametrize("raw", ["02125551234", "0414123456", "041412345678", "+1 414 1234567", "abc"])
def test_landlines_and_foreign_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="Venezuelan mobile"):
        normalize_venezuelan_mobile(raw)


def test_bank_codes_are_pagomovil_banks():
    assert check_bank_code("0102") == "0102"
    with pytest.raises(ValueError):
        check_bank_code("0999")


PAYMENT_ORDER = uuid.uuid4()


def refusal(**changes):
    values = dict(payment_status="captured", payment_currency="USD", payment_order_id=PAYMENT_ORDER,
                  order_id=PAYMENT_ORDER, currency="USD", amount_minor=100, left_minor=100)
    return why_not_refundable(**{**values, **changes})


def test_a_refund_is_limited_to_what_is_left():
    assert refundable_minor(5997, 2000) == 3997
    assert refundable_minor(100, 150) == 0
    assert refusal() is None
    assert "exceeds" in refusal(amount_minor=101)
    assert "captured" in refusal(payment_status="pending")
    assert "currency" in refusal(currency="EUR")
    assert "belongs to order" in refusal(order_id=uuid.uuid4())


def test_signatures_are_checked_for_body_secret_and_age():
    body = b'{"id": "evt_1"}'
    header = signatures.sign(body, "s3cret", timestamp=1_000_000)
    signatures.verify(body, header, "s3cret", now=1_000_100)
    for bad_body, secret, now in ((body + b" ", "s3cret", 1_000_100), (body, "other", 1_000_100),
                                  (body, "s3cret", 1_000_000 + 301)):
        with pytest.raises(ValueError):
            signatures.verify(bad_body, header, secret, now=now)
    with pytest.raises(ValueError, match="no signature"):
        signatures.verify(body, None, "s3cret")
