"""Value shapes several producers share."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount_minor: int = Field(description="integer minor units (cents)")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217")


class Buyer(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: uuid.UUID | None = None
    email: str
    name: str
    national_id: str | None = None
    address: str | None = None  # a company's fiscal address, which its invoice must carry


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    zone_id: uuid.UUID
    zone_name: str
    quantity: int
    unit_price_minor: int
    seat_labels: list[str] = Field(default_factory=list)  # numbered seats, when the zone has them
