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


class SeatOnSale(BaseModel):
    model_config = ConfigDict(frozen=True)

    seat_id: uuid.UUID
    label: str  # what the ticket prints, e.g. "PLA-12"
    row: str  # the row label, or the table's label
    number: str
    x: float  # seat widths from the venue map's origin
    y: float
    accessible: bool = False
    companion: bool = False
    blocked: bool = False  # kept off sale by the organizer
    table: str | None = None
    table_sold_as: Literal["whole", "seat"] | None = None  # "whole": the table's seats sell together


class SeatMapPublished(Event):
    """The seats of one numbered zone, the same for every listed session (one unit per seat and session)."""
    TYPE = "catalog.seat_map.published"

    event_id: uuid.UUID
    zone_id: uuid.UUID
    zone_name: str
    session_ids: list[uuid.UUID]
    seats: list[SeatOnSale]


class EventStatusChanged(Event):
    """draft -> published -> on_sale -> sold_out -> cancelled / completed (and back to on_sale from sold_out)."""
    TYPE = "catalog.event.status_changed"

    event_id: uuid.UUID
    from_status: str
    to_status: str
    reason: str | None = None
    changed_at: datetime


class PriceStageChanged(Event):
    """A sale stage opened or ended (by date, by quantity, or by the organizer): prices of its scope changed."""
    TYPE = "catalog.price_stage.changed"

    event_id: uuid.UUID
    stage_id: uuid.UUID
    zone_id: uuid.UUID | None  # None: event-wide
    name: str
    from_status: str
    to_status: str
    reason: str
    allocated: int
    changed_at: datetime
