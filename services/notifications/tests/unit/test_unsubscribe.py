"""Unsubscribe links name one buyer at one organizer and cannot be forged or bent to another address."""
import uuid

import pytest
from notifications_service.domain.unsubscribe import InvalidToken, read_unsubscribe_token, unsubscribe_token

KEY = b"k" * 32


def test_a_link_reads_back_to_its_buyer_and_organizer():
    tenant = uuid.uuid4()
    token = unsubscribe_token(KEY, tenant, " Ana@Example.com ")
    assert read_unsubscribe_token(KEY, token) == (tenant, "ana@example.com")


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
    lambda t: unsubscribe_token(KEY, uuid.uuid4(), "eve@example.com").split(".")[0] + "." + t.split(".")[1],
    lambda t: t.split(".")[0],  # no signature at all
    lambda t: "",
])
def test_a_changed_link_is_refused(tamper):
    token = unsubscribe_token(KEY, uuid.uuid4(), "ana@example.com")
    with pytest.raises(InvalidToken):
        read_unsubscribe_token(KEY, tamper(token))


def test_a_link_signed_with_another_key_is_refused():
    with pytest.raises(InvalidToken):
        read_unsubscribe_token(KEY, unsubscribe_token(b"x" * 32, uuid.uuid4(), "ana@example.com"))
