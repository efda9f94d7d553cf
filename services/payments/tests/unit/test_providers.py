"""The provider registry and the built-in test provider."""
import uuid

import pytest
from payments_service.adapters.providers import (
    ChargeRequest,
    ChargeStatus,
    ProviderRegistry,
    TestProvider,
    UnknownProvider,
)
from payments_service.bootstrap import build_providers
from payments_service.config import Settings


def charge(**instructions) -> ChargeRequest:
    return ChargeRequest(payment_id=uuid.uuid4(), order_id=uuid.uuid4(), order_code="TQ-1", amount_minor=5997,
                         currency="USD", instructions=instructions)


async def test_the_test_provider_captures_unless_asked_to_decline():
    provider = TestProvider()
    request = charge()
    captured = await provider.charge(request)
    assert captured.status is ChargeStatus.CAPTURED and captured.captured
    assert captured.provider_reference == f"test_{request.payment_id.hex}"
    assert captured.reason is None
    declined = await provider.charge(charge(outcome="decline"))
    assert declined.status is ChargeStatus.DECLINED and not declined.captured
    assert declined.reason
    assert (await provider.charge(charge(outcome="succeed"))).captured


async def test_the_test_provider_refuses_an_outcome_it_does_not_know():
    with pytest.raises(ValueError, match="no outcome"):
        await TestProvider().charge(charge(outcome="maybe"))


def test_an_unknown_provider_names_the_ones_there_are():
    registry = ProviderRegistry([TestProvider()])
    assert registry.get("test").name == "test"
    with pytest.raises(UnknownProvider) as raised:
        registry.get("acme-pay")
    assert raised.value.available == ["test"]


def settings(**values) -> Settings:
    return Settings(db={"url": "postgresql+asyncpg://app@localhost/payments"},
                    auth={"jwt_secret": "a-real-secret-for-this-test-0123456789"}, **values)


MANUAL = ["bank_transfer", "cash", "pagomovil"]


@pytest.mark.parametrize(("values", "offered"), [
    ({"environment": "production"}, MANUAL),
    ({"environment": "production", "test_provider_enabled": True,
      "test_provider_webhook_secret": "a-real-webhook-secret-0123456789"}, [*MANUAL, "test"]),
    ({"environment": "development"}, [*MANUAL, "test"]),
    ({"environment": "test", "test_provider_enabled": False}, MANUAL),
    ({"environment": "test", "test_provider_enabled": False, "manual_methods": ["cash"]}, ["cash"]),
])
def test_the_test_provider_is_off_in_production_unless_asked_for(values, offered):
    assert build_providers(settings(**values)).names == offered


def test_the_test_provider_is_refused_in_production_with_the_development_webhook_secret():
    with pytest.raises(ValueError, match="test_provider_webhook_secret"):
        settings(environment="production", test_provider_enabled=True)


def test_stripe_and_wompi_are_offered_once_configured():
    configured = settings(environment="production", manual_methods=[],
                          stripe={"api_key": "sk_test_x", "webhook_secret": "whsec_x"},
                          wompi={"public_key": "pub_test_x", "integrity_secret": "i", "events_secret": "e"})
    assert build_providers(configured).names == ["stripe", "wompi"]
