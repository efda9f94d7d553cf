"""Tickets and the rules of issuing them. Pure: no I/O."""
from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    VALID = "valid"  # admits its holder
    VOID = "void"  # refunded or replaced; its unit may be sold again


class NotIssuable(ValueError):
    """An issue command that can never succeed, however often it is retried."""


def check_units(units) -> None:
    """Every unit once, at a price that is not negative."""
    if not units:
        raise NotIssuable("an order without units has no tickets to issue")
    unit_ids = [unit.unit_id for unit in units]
    if len(set(unit_ids)) != len(unit_ids):
        raise NotIssuable("the same unit appears twice in the order")
    if any(unit.price_minor < 0 for unit in units):
        raise NotIssuable("a unit has a negative price")
