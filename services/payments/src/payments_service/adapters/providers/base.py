"""What payments needs of a payment provider, whatever provider it is."""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ChargeStatus(StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    # A provider that confirms later (by signed webhook) will answer PENDING; nothing does yet.


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: uuid.UUID  # also the provider-side idempotency key, so a retried charge is one charge
    order_id: uuid.UUID
    order_code: str
    amount_minor: int
    currency: str
    instructions: Mapping[str, str] = field(default_factory=dict)  # provider-specific, from the payer


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    provider_reference: str
    method: str  # how the buyer paid (card, pagomovil, ...), as fiscal documents print it
    reason: str | None = None  # why it was declined

    @property
    def captured(self) -> bool:
        return self.status is ChargeStatus.CAPTURED


class PaymentProvider(Protocol):
    name: str

    async def charge(self, request: ChargeRequest) -> ChargeResult: ...


class UnknownProvider(LookupError):
    def __init__(self, name: str, available: Iterable[str]):
        super().__init__(name)
        self.name = name
        self.available = sorted(available)


class ProviderRegistry:
    """The providers this deployment accepts, by the name clients send."""

    def __init__(self, providers: Iterable[PaymentProvider] = ()):
        self._by_name = {provider.name: provider for provider in providers}

    def get(self, name: str) -> PaymentProvider:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownProvider(name, self._by_name) from None

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)
