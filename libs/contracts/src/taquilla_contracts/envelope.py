"""The message envelope and the base of every event and command schema.

Additive changes keep a message's version and readers ignore unknown fields; any other change is a
new version published beside the old one until every reader has moved.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

_REGISTRY: dict[tuple[str, int], type[Message]] = {}
M = TypeVar("M", bound="Message")


class Message(BaseModel):
    """Event or command payload (the envelope's `data`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    KIND: ClassVar[Literal["event", "command"]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            key = (cls.TYPE, cls.VERSION)
            if key in _REGISTRY and _REGISTRY[key] is not cls:
                raise TypeError(f"message {key} defined twice")
            _REGISTRY[key] = cls


class Event(Message):
    """Something that happened: `<producer>.<aggregate>.<past-tense verb>`, on the topic exchange."""

    KIND: ClassVar[Literal["event", "command"]] = "event"


class Command(Message):
    """A request to one receiver: `<receiver>.<imperative>`, on the direct exchange."""

    KIND: ClassVar[Literal["event", "command"]] = "command"


def uuid7() -> uuid.UUID:
    """Time-ordered, non-guessable ids (RFC 9562 UUIDv7)."""
    import os
    import time

    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid7)  # also the AMQP message id and the dedup key
    type: str
    version: int = 1
    kind: Literal["event", "command"] = "event"
    source: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant_id: uuid.UUID | None = None
    correlation_id: str | None = None  # the order or saga the message belongs to
    causation_id: uuid.UUID | None = None  # the message that caused this one
    data: dict[str, Any]

    @classmethod
    def wrap(cls, message: Message, *, source: str, tenant_id: uuid.UUID | None,
             correlation_id: str | None = None, cause: Envelope | None = None) -> Self:
        return cls(
            type=message.TYPE,
            version=message.VERSION,
            kind=message.KIND,
            source=source,
            tenant_id=tenant_id,
            correlation_id=correlation_id or (cause.correlation_id if cause else None),
            causation_id=cause.id if cause else None,
            data=message.model_dump(mode="json"),
        )

    def parse(self, model: type[M]) -> M:
        return model.model_validate(self.data)


def message_class(type_: str, version: int) -> type[Message] | None:
    _load_all()
    return _REGISTRY.get((type_, version))


def registered_messages() -> dict[tuple[str, int], type[Message]]:
    _load_all()
    return dict(_REGISTRY)


def _load_all() -> None:
    from . import catalog, fiscal, gateway, inventory, notifications, orders, payments, tickets  # noqa: F401
