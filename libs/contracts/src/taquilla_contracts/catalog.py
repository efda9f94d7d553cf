"""Messages the catalog publishes."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .envelope import Event


class ZoneOnSale(BaseModel):
    model_config = ConfigDict(frozen=True)

    zone_id: uuid.UUID
    name: str
    kind: Literal["general", "numbered"]
    capacity: int
    price_minor: int
    currency: str


class SessionOnSale(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: uuid.UUID
    starts_at: datetime


class EventPublished(Event):
    TYPE = "catalog.event.published"

    event_id: uuid.UUID
    slug: str
    title: str
    venue_name: str
    time_zone: str
    currency: str
    organizer_name: str
    sessions: list[SessionOnSale]
    zones: list[ZoneOnSale]
    max_tickets_per_order: int = 10
    hold_ttl_seconds: int = 600  # how long a buyer's seats stay held before payment
