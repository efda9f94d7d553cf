from .base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    PaymentProvider,
    ProviderRegistry,
    UnknownProvider,
)
from .builtin import TEST_OUTCOMES, TestProvider

__all__ = [
    "TEST_OUTCOMES",
    "ChargeRequest",
    "ChargeResult",
    "ChargeStatus",
    "PaymentProvider",
    "ProviderRegistry",
    "TestProvider",
    "UnknownProvider",
]
