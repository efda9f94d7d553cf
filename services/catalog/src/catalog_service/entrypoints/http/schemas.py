"""The request bodies of the catalog's HTTP API (shapes here; the rules live in the domain)."""
from __future__ import annotations

import uuid
from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, field_validator
from pydantic_core import PydanticCustomError
from taquilla_platform.validation import EmailAddress

from ...domain.currencies import is_currency
from ...domain.events import (
    CATEGORIES,
    HOLD_TTL_DEFAULT,
    HOLD_TTL_MAX,
    HOLD_TTL_MIN_OUTSIDE_PRODUCTION,
    MAX_TAGS,
    MAX_TICKETS_PER_ORDER_DEFAULT,
    MAX_TICKETS_PER_ORDER_LIMIT,
    PRICE_MINOR_MAX,
    ZONE_CAPACITY_MAX,
    EventDraft,
    ZoneDraft,
    is_time_zone,
)
from ...domain.pricing import GroupTier
from ...domain.recurrence import Recurrence
from ...domain.seating import SeatLayout, TableSpec
from ...domain.slugs import MAX_SLUG_LENGTH


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise PydanticCustomError("currency", "'{code}' is not an ISO 4217 currency code such as 'USD'",
                                  {"code": value})
    return code


class TableIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(min_length=1, max_length=20)
    seats: int = Field(ge=1, le=30)
    sold_as: Literal["whole", "seat"] = "whole"
    x: float = 0
    y: float = 0


class LayoutIn(BaseModel):
    """A numbered zone's seats: rows x seats with the venue's nomenclature, and/or tables."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rows: int = Field(0, ge=0, le=200)
    seats_per_row: int = Field(0, ge=0, le=200)
    row_labels: Literal["letters", "numbers"] = "letters"
    first_row: int = Field(1, ge=0, le=1000)
    skip_letters: list[str] = Field(default_factory=list, max_length=26)
    numbering: Literal["ltr", "rtl", "odd_even"] = Field(
        "ltr", description="ltr/rtl from the left/right; odd_even: odd to the right, even to the left of centre")
    prefix: str = Field("", max_length=10, description="nomenclature letters before the row, e.g. 'PL'")
    aisles_after_seat: list[int] = Field(default_factory=list, max_length=50)
    aisles_after_row: list[int] = Field(default_factory=list, max_length=50)
    aisle_width: float = Field(1, ge=0, le=20)
    gaps: list[str] = Field(default_factory=list, max_length=5000, description="'ROW:POSITION' without a seat")
    accessible: list[str] = Field(default_factory=list, max_length=5000, description="'ROW-NUMBER', e.g. 'A-1'")
    companion: list[str] = Field(default_factory=list, max_length=5000)
    blocked: list[str] = Field(default_factory=list, max_length=5000, description="kept off sale")
    origin_x: float = 0
    origin_y: float = 0
    tables: list[TableIn] = Field(default_factory=list, max_length=500)

    def to_layout(self) -> SeatLayout:
        return SeatLayout(
            rows=self.rows, seats_per_row=self.seats_per_row, row_labels=self.row_labels, first_row=self.first_row,
            skip_letters=tuple(self.skip_letters), numbering=self.numbering, prefix=self.prefix,
            aisles_after_seat=tuple(self.aisles_after_seat), aisles_after_row=tuple(self.aisles_after_row),
            aisle_width=self.aisle_width, gaps=tuple(self.gaps), accessible=tuple(self.accessible),
            companion=tuple(self.companion), blocked=tuple(self.blocked), origin_x=self.origin_x,
            origin_y=self.origin_y,
            tables=tuple(TableSpec(t.label, t.seats, t.sold_as, t.x, t.y) for t in self.tables),
        )


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["general", "numbered"] = Field("general", description="'numbered' zones need a layout")
    capacity: int | None = Field(None, ge=1, le=ZONE_CAPACITY_MAX,
                                 description="general admission; numbered zones count their seats")
    price_minor: int = Field(ge=0, le=PRICE_MINOR_MAX, description="the base price, integer minor units (cents)")
    currency: str | None = Field(None, description="ISO 4217; the event's currency when left out")
    layout: LayoutIn | None = None
    row_adjustments: dict[str, Decimal] = Field(
        default_factory=dict, description="percent added to (or, negative, taken off) a row's price: {'A': '20'}")
    hidden: bool = Field(False, description="sold only with a promo code that unlocks it")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        return None if value is None else _currency(value)

    def to_draft(self) -> ZoneDraft:
        return ZoneDraft(self.name, self.kind, self.capacity, self.price_minor, self.currency,
                         layout=self.layout.to_layout() if self.layout else None,
                         row_adjustments=tuple(self.row_adjustments.items()), hidden=self.hidden)


class ImageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: HttpUrl
    alt: str = Field("", max_length=300)
    role: Literal["cover", "banner", "gallery", "seat_map"] = "gallery"


class GroupDiscountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_quantity: int = Field(ge=2, le=MAX_TICKETS_PER_ORDER_LIMIT)
    percent: Decimal = Field(gt=0, le=100)


class RecurrenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date
    at: time = Field(description="local time of every session, e.g. '20:00'")
    frequency: Literal["daily", "weekly"] = "weekly"
    interval: int = Field(1, ge=1, le=52)
    weekdays: list[Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]] = Field(
        default_factory=list)
    count: int | None = Field(None, ge=1, le=366)
    until: date | None = None
    except_dates: list[date] = Field(default_factory=list, max_length=366)

    def to_rule(self) -> Recurrence:
        return Recurrence(self.starts_on, self.at, self.frequency, self.interval, tuple(self.weekdays), self.count,
                          self.until, tuple(self.except_dates))


class CreateEventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=MAX_SLUG_LENGTH,
                             description="made from the title when left out; unique among your events")
    description: str | None = Field(None, max_length=10_000)
    venue_name: str | None = Field(None, min_length=1, max_length=200,
                                   description="the venue's name when left out and venue_id is given")
    city: str | None = Field(None, max_length=100, description="the organizer's city when left out")
    time_zone: str = Field(description="IANA name, e.g. 'America/Caracas'")
    starts_at: AwareDatetime = Field(description="ISO 8601 with an offset, e.g. '2026-03-14T20:00:00-04:00'")
    currency: str = Field(description="ISO 4217, e.g. 'USD'")
    # 60..3600 in production; down to 5 seconds elsewhere, checked against the environment by the domain
    hold_ttl_seconds: int = Field(HOLD_TTL_DEFAULT, ge=HOLD_TTL_MIN_OUTSIDE_PRODUCTION, le=HOLD_TTL_MAX)
    max_tickets_per_order: int = Field(MAX_TICKETS_PER_ORDER_DEFAULT, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)
    zones: list[ZoneIn] = Field(default_factory=list, max_length=100)
    venue_id: uuid.UUID | None = Field(None, description="one of your venues (see /venues)")
    venue_layout: str | None = Field(None, max_length=100, description="start from this layout of the venue")
    category: str | None = Field(None, description=f"one of {', '.join(CATEGORIES)}")
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    images: list[ImageIn] = Field(default_factory=list, max_length=20)
    sessions: list[AwareDatetime] = Field(default_factory=list, max_length=366,
                                          description="more dates besides starts_at")
    recurrence: RecurrenceIn | None = Field(None, description="more dates from a rule, e.g. every Friday x 8")
    fee_fixed_minor: int = Field(0, ge=0, le=PRICE_MINOR_MAX, description="service fee per ticket")
    fee_percent: Decimal = Field(Decimal(0), ge=0, le=100, description="service fee, percent of the ticket")
    tax_percent: Decimal = Field(Decimal(0), ge=0, le=100, description="tax on ticket and fees, shown apart")
    group_discounts: list[GroupDiscountIn] = Field(default_factory=list, max_length=10)

    @field_validator("zones")
    @classmethod
    def _some_zones(cls, value: list) -> list:
        if value == []:
            raise PydanticCustomError("zones", "An event needs at least one zone (or a venue_layout)")
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str]) -> list[str]:
        cleaned = []
        for tag in value:
            tag = tag.strip().lower()
            if not tag or len(tag) > 40:
                raise PydanticCustomError("tag", "Tags are 1 to 40 characters")
            if tag not in cleaned:
                cleaned.append(tag)
        return cleaned

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
            title=self.title, venue_name=self.venue_name or "", time_zone=self.time_zone, starts_at=self.starts_at,
            currency=self.currency, description=self.description or None, city=self.city or None,
            slug=self.slug, hold_ttl_seconds=self.hold_ttl_seconds,
            max_tickets_per_order=self.max_tickets_per_order,
            zones=tuple(z.to_draft() for z in self.zones),
            venue_id=self.venue_id, category=self.category, tags=tuple(self.tags),
            images=tuple(i.model_dump(mode="json") for i in self.images), more_starts=tuple(self.sessions),
            recurrence=self.recurrence.to_rule() if self.recurrence else None,
            fee_fixed_minor=self.fee_fixed_minor, fee_percent=self.fee_percent, tax_percent=self.tax_percent,
            group_discounts=tuple(GroupTier(g.min_quantity, g.percent) for g in self.group_discounts),
        )


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["published", "on_sale", "sold_out", "cancelled", "completed"]
    reason: str | None = Field(None, max_length=500)


class StageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    zone_id: uuid.UUID | None = Field(None, description="the zone it prices; event-wide when left out")
    priority: int = Field(ge=0, le=1000, description="lower first: the open stage with the lowest priority sells")
    price_minor: int | None = Field(None, ge=0, le=PRICE_MINOR_MAX, description="zone stages: the unit price")
    percent_of_base: Decimal | None = Field(None, ge=0, le=1000, description="or a share of the zone's base price")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = Field(None, description="ends by date (and by quantity too: 'hybrid')")
    quantity: int | None = Field(None, ge=1, le=ZONE_CAPACITY_MAX * 100, description="ends when sold")

    def to_values(self) -> dict:
        return self.model_dump()


class AllocationLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hold_id: uuid.UUID = Field(description="the inventory hold the prices are locked for")
    session_id: uuid.UUID
    lines: list[AllocationLineIn] = Field(min_length=1, max_length=20)


class QuoteLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone_id: uuid.UUID
    quantity: int | None = Field(None, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)
    seat_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TICKETS_PER_ORDER_LIMIT)


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    session_id: uuid.UUID | None = None
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=20)
    promo_code: str | None = Field(None, min_length=1, max_length=40)
    buyer_email: EmailAddress | None = None
    hold_id: uuid.UUID | None = Field(None, description="price at the stage prices locked for this hold")


class PromoCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["percent", "fixed"]
    value: Decimal = Field(gt=0, description="percent, or minor units off each ticket")
    min_quantity: int = Field(1, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)
    max_discount_minor: int | None = Field(None, ge=1, le=PRICE_MINOR_MAX)
    max_uses: int | None = Field(None, ge=1, le=10_000_000)
    max_uses_per_buyer: int | None = Field(None, ge=1, le=1000)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    zone_ids: list[uuid.UUID] | None = Field(None, description="the zones it discounts; every zone when left out")
    unlocks_zone_ids: list[uuid.UUID] = Field(default_factory=list, description="hidden zones it opens")

    def to_values(self) -> dict:
        return self.model_dump()


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=100, description="the order (or hold) it is used for")
    buyer_email: EmailAddress
    quantity: int = Field(1, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)


class ZoneChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_minor: int | None = Field(None, ge=0, le=PRICE_MINOR_MAX)
    row_adjustments: dict[str, Decimal] | None = None
    hidden: bool | None = None


class AccessibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    wheelchair_spaces: int = Field(0, ge=0, le=10_000)
    step_free_entrance: bool = False
    accessible_toilets: bool = False
    hearing_loop: bool = False
    assistance_dogs: bool = True
    notes: str | None = Field(None, max_length=2000)


class VenueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=500)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")
    time_zone: str
    capacity: int = Field(ge=1, le=1_000_000)
    accessibility: AccessibilityIn = Field(default_factory=AccessibilityIn)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise PydanticCustomError("time_zone", "'{name}' is not an IANA time zone name such as "
                                      "'America/Caracas'", {"name": value})
        return value

    def to_values(self) -> dict:
        values = self.model_dump(mode="json")
        values["country"] = values["country"].upper() if values["country"] else None
        return values


class VenueLayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    zones: list[ZoneIn] = Field(min_length=1, max_length=100)


class AddSessionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: list[AwareDatetime] = Field(default_factory=list, max_length=366)
    recurrence: RecurrenceIn | None = None


class CloneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    starts_at: AwareDatetime = Field(description="the new event's first (and only) session")
    title: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=MAX_SLUG_LENGTH)


class StageChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=100)
    priority: int | None = Field(None, ge=0, le=1000)
    price_minor: int | None = Field(None, ge=0, le=PRICE_MINOR_MAX)
    percent_of_base: Decimal | None = Field(None, ge=0, le=1000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    quantity: int | None = Field(None, ge=1, le=ZONE_CAPACITY_MAX * 100)

    def changes(self) -> dict:
        """Only what was sent; null clears a date or the quantity, but never the name or priority."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k in ("starts_at", "ends_at", "quantity")}


class SeatBlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    labels: list[str] = Field(min_length=1, max_length=5000, description="seat labels as printed, e.g. 'PLA-12'")
    blocked: bool = Field(True, description="false gives the seats back to the sale")


class PaymentPlanRulesIn(BaseModel):
    """Paying an order in parts: which plans, the smallest deposit, the deadline and what a missed one costs."""
    model_config = ConfigDict(extra="forbid")

    kinds: list[Literal["installments", "flexible"]] = Field(
        min_length=1, max_length=2, description="installments: fixed amounts and due dates; flexible: any amounts")
    max_installments: int = Field(3, ge=2, le=12, description="installments: the deposit included")
    installment_interval_days: int | None = Field(
        None, ge=1, le=180, description="days between installments; left out: spread evenly until the deadline")
    min_deposit_percent: int = Field(0, ge=0, le=100, description="the smallest deposit, percent of the total")
    min_deposit_minor: int = Field(0, ge=0, le=PRICE_MINOR_MAX, description="the smallest deposit, an amount")
    min_contribution_minor: int = Field(0, ge=0, le=PRICE_MINOR_MAX,
                                        description="flexible: the smallest contribution after the deposit")
    final_deadline: AwareDatetime = Field(description="everything paid by then; before the event's first session")
    on_missed_deadline: Literal["refund_all", "keep_percent", "keep_deposit"] = Field(
        "refund_all", description="what the buyer gets back when the deadline passes unpaid")
    keep_percent: int = Field(0, ge=0, le=100, description="keep_percent: the share of the total kept")


class UpdateEventRequest(BaseModel):
    """Only what is sent changes; zones, dates and prices have their own endpoints."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    category: str | None = None
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    images: list[ImageIn] | None = Field(None, max_length=20)
    hold_ttl_seconds: int | None = Field(None, ge=HOLD_TTL_MIN_OUTSIDE_PRODUCTION, le=HOLD_TTL_MAX)
    max_tickets_per_order: int | None = Field(None, ge=1, le=MAX_TICKETS_PER_ORDER_LIMIT)
    fee_fixed_minor: int | None = Field(None, ge=0, le=PRICE_MINOR_MAX)
    fee_percent: Decimal | None = Field(None, ge=0, le=100)
    tax_percent: Decimal | None = Field(None, ge=0, le=100)
    group_discounts: list[GroupDiscountIn] | None = Field(None, max_length=10)
    payment_plans: PaymentPlanRulesIn | None = Field(None, description="allow paying in parts; null: one payment")

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else CreateEventRequest._clean_tags(value)

    def changes(self) -> dict:
        sent = self.model_dump(mode="json", exclude_unset=True)
        for name in ("fee_percent", "tax_percent"):
            if sent.get(name) is not None:
                sent[name] = getattr(self, name)
        if self.group_discounts is not None:
            sent["group_discounts"] = [{"min_quantity": g.min_quantity, "percent": str(g.percent)}
                                       for g in self.group_discounts]
        if self.payment_plans is not None:  # whole, defaults included
            sent["payment_plans"] = self.payment_plans.model_dump(mode="json")
        nullable = ("description", "category", "payment_plans")
        return {k: v for k, v in sent.items() if v is not None or k in nullable}
