"""What payments needs of a payment provider, whatever provider it is."""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class ChargeStatus(StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    PENDING = "pending"  # the provider (or an operator) answers later: a signed webhook, a review


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: uuid.UUID  # also the provider-side idempotency key, so a retried charge is one charge
    order_id: uuid.UUID
    order_code: str
    amount_minor: int
    currency: str
    instructions: Mapping[str, Any] = field(default_factory=dict)  # provider-specific, from the payer


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    provider_reference: str
    method: str  # how the buyer paid (card, pagomovil, ...), as fiscal documents print it
    reason: str | None = None  # why it was declined
    next_action: dict[str, Any] | None = None  # what the buyer does next (a redirect), for pending ones
    after_commit: Callable[[], Awaitable[None]] | None = None  # run once the payment row is committed

    @property
    def captured(self) -> bool:
        return self.status is ChargeStatus.CAPTURED


@dataclass(frozen=True)
class RefundRequest:
    refund_id: uuid.UUID  # the provider-side idempotency key: the same refund asked twice is one refund
    payment_id: uuid.UUID
    order_id: uuid.UUID
    payment_reference: str  # the provider's id of the captured charge
    amount_minor: int
    currency: str
    reason: str


class RefundOutcome(StrEnum):
    COMPLETED = "completed"
    PENDING = "pending"  # the provider confirms it by webhook
    FAILED = "failed"  # refused for good (already refunded, too old…): reported, never retried


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    provider_reference: str | None
    reason: str | None = None


class EventKind(StrEnum):
    PAYMENT_CAPTURED = "payment_captured"
    PAYMENT_FAILED = "payment_failed"
    REFUND_COMPLETED = "refund_completed"
    REFUND_FAILED = "refund_failed"
    IGNORED = "ignored"  # a genuine event payments has no use for (answered 200, recorded)


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook, in payments' terms."""

    event_id: str  # the provider's id of the event: the same id twice is one effect
    event_type: str  # as the provider names it
    kind: EventKind
    payment_id: uuid.UUID | None = None  # ours, when the provider echoes it (metadata, reference)
    payment_reference: str | None = None  # the provider's id of the charge
    amount_minor: int | None = None
    currency: str | None = None
    method: str | None = None
    reason: str | None = None
    refund_references: tuple[str, ...] = ()  # the provider's refund ids a refund event settles
    payload: Mapping[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not be reached or answered with an error worth retrying (5xx, 429, timeouts)."""


class WebhookRejected(Exception):
    """A webhook that is not this provider's (bad signature: 401) or that cannot be read (400)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PaymentProvider(Protocol):
    name: str
    manual: bool  # True: no money moves through us; staff confirm the payment and pay refunds out

    async def charge(self, request: ChargeRequest) -> ChargeResult: ...

    async def refund(self, request: RefundRequest) -> RefundResult: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        """Verify the signature and read the event; raise WebhookRejected when it cannot be trusted."""
        ...


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

    async def aclose(self) -> None:
        for provider in self._by_name.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()
