from .base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    EventKind,
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    ProviderRegistry,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    UnknownProvider,
    WebhookRejected,
)
from .builtin import TEST_OUTCOMES, TestProvider
from .manual import MANUAL_REFUND_PREFIX, ManualProvider, manual_providers
from .stripe_provider import StripeProvider
from .wompi import WompiProvider

__all__ = [
    "MANUAL_REFUND_PREFIX",
    "TEST_OUTCOMES",
    "ChargeRequest",
    "ChargeResult",
    "ChargeStatus",
    "EventKind",
    "ManualProvider",
    "PaymentProvider",
    "ProviderError",
    "ProviderEvent",
    "ProviderRegistry",
    "RefundOutcome",
    "RefundRequest",
    "RefundResult",
    "StripeProvider",
    "TestProvider",
    "UnknownProvider",
    "WebhookRejected",
    "WompiProvider",
    "manual_providers",
]
