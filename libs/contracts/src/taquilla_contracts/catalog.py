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


class PaymentPlanRules(BaseModel):
    """What the organizer allows of paying an order in parts; an event without them is paid at once."""
    model_config = ConfigDict(frozen=True)

    kinds: list[Literal["installments", "flexible"]]  # fixed schedule, and/or any amounts until the total
    max_installments: int = 3  # fixed plans: the deposit plus at most this many minus one installments
    installment_interval_days: int | None = None  # fixed plans: days between installments; None: spread evenly
    min_deposit_percent: int = 0  # of the order's total
    min_deposit_minor: int = 0
    min_contribution_minor: int = 0  # flexible plans: the smallest contribution after the deposit
    final_deadline: datetime  # everything paid by then (before the event), or the order is cancelled
    on_missed_deadline: Literal["refund_all", "keep_percent", "keep_deposit"] = "refund_all"
    keep_percent: int = 0  # keep_percent: the share of the total the organizer keeps (never more than paid)


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
    payment_plans: PaymentPlanRules | None = None  # None: orders are paid in one payment


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
