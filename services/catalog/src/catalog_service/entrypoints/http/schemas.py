"""The request bodies of the catalog's HTTP API (shapes here; the rules live in the domain)."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ...domain.currencies import is_currency
from ...domain.events import (
    HOLD_TTL_DEFAULT,
    HOLD_TTL_MAX,
    HOLD_TTL_MIN_OUTSIDE_PRODUCTION,
    MAX_TICKETS_PER_ORDER_DEFAULT,
    MAX_TICKETS_PER_ORDER_LIMIT,
    PRICE_MINOR_MAX,
    ZONE_CAPACITY_MAX,
    EventDraft,
    ZoneDraft,
    is_time_zone,
)
from ...domain.slugs import MAX_SLUG_LENGTH


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise PydanticCustomError("currency", "'{code}' is not an ISO 4217 currency code such as 'USD'",
                                  {"code": value})
    return code


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["general", "numbered"] = Field("general", description="only 'general' is available for now")
    capacity: int = Field(ge=1, le=ZONE_CAPACITY_MAX)
    price_minor: int = Field(ge=0, le=PRICE_MINOR_MAX, description="integer minor units (cents)")
    currency: str | None = Field(None, description="ISO 4217; the event's currency when left out")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        return None if value is None else _currency(value)


class CreateEventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=MAX_SLUG_LENGTH,
                             description="made from the title when left out; unique among your events")
    description: str | None = Field(None, max_length=10_000)
    venue_name: str = Field(min_length=1, max_length=200)
    city: str | None = Field(None, max_length=100, description="the organizer's city when left out")
    time_zone: str = Field(description="IANA name, e.g. 'America/Caracas'")
    starts_at: AwareDatetime = Field(description="ISO 8601 with an offset, e.g. '2026-03-14T20:00:00-04:00'")
    currency: str = Field(description="ISO 4217, e.g. 'USD'")
    # 60..3600 in production; down to 5 seconds elsewhere, checked against the environment by the domain
    hold_ttl_seconds: int = Field(HOLD_TTL_DEFAULT, ge=HOLD_TTL_MIN_OUTSIDE_PRODUCTION, le=HOLD_TTL_MAX)
    max_tickets_per_order: int = Field(MAX_TICKETS_PER_ORDER_DEFAULT, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)
    zones: list[ZoneIn] = Field(min_length=1, max_length=100)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return _currency(value)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise PydanticCustomError("time_zone", "'{name}' is not an IANA time zone name such as "
                                      "'America/Caracas'", {"name": value})
        return value

    def to_draft(self) -> EventDraft:
        return EventDraft(
            title=self.title, venue_name=self.venue_name, time_zone=self.time_zone, starts_at=self.starts_at,
            currency=self.currency, description=self.description or None, city=self.city or None,
            slug=self.slug, hold_ttl_seconds=self.hold_ttl_seconds,
            max_tickets_per_order=self.max_tickets_per_order,
            zones=tuple(ZoneDraft(z.name, z.kind, z.capacity, z.price_minor, z.currency) for z in self.zones),
        )
