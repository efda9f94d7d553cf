"""Promo codes: created by staff, checked for a quote, redeemed once per order under database-enforced limits.

A redemption is one row per (code, reference) — a repeat for the same order is answered, not counted again —
and two conditional counter updates: `promo_codes.uses` (total, with a CHECK against `max_uses`) and
`promo_buyer_uses.uses` (per buyer). Concurrent redemptions queue on those rows; none slips past a limit.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import promo_buyer_uses, promo_codes, promo_redemptions
from ..domain.errors import FieldError, InvalidEvent, PromoCodeRefused, PromoCodeTaken
from ..domain.pricing import Promo


def normalize_code(code: str) -> str:
    return code.strip().upper()


def promo_view(row) -> dict:
    return {"id": str(row.id), "code": row.code, "kind": row.kind, "value": format(row.value.normalize(), "f"),
            "min_quantity": row.min_quantity, "max_discount_minor": row.max_discount_minor,
            "max_uses": row.max_uses, "uses": row.uses, "max_uses_per_buyer": row.max_uses_per_buyer,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "zone_ids": [str(z) for z in row.zone_ids] if row.zone_ids is not None else None,
            "unlocks_zone_ids": [str(z) for z in row.unlocks_zone_ids]}


def as_promo(row) -> Promo:
    return Promo(row.code, row.kind, row.value, row.min_quantity, row.max_discount_minor,
                 frozenset(row.zone_ids) if row.zone_ids is not None else None)


async def create_promo_code(session, tenant_id: uuid.UUID, event, values: dict, zone_ids: set[uuid.UUID]) -> dict:
    errors = []
    if values["kind"] == "percent" and not Decimal(0) < values["value"] <= Decimal(100):
        errors.append(FieldError("value", "A percentage between 0 and 100"))
    if values["kind"] == "fixed" and (values["value"] <= 0 or values["value"] != values["value"].to_integral()):
        errors.append(FieldError("value", "A fixed discount is a positive whole number of minor units"))
    if values["valid_from"] and values["valid_until"] and values["valid_from"] >= values["valid_until"]:
        errors.append(FieldError("valid_until", "The code must expire after it becomes valid"))
    for name in ("zone_ids", "unlocks_zone_ids"):
        for i, zone_id in enumerate(values[name] or []):
            if zone_id not in zone_ids:
                errors.append(FieldError(f"{name}.{i}", "The event has no such zone"))
    if values["max_uses"] is not None and values["max_uses_per_buyer"] is not None and \
            values["max_uses_per_buyer"] > values["max_uses"]:
        errors.append(FieldError("max_uses_per_buyer", "Cannot exceed max_uses"))
    if errors:
        raise InvalidEvent(errors)
    code = normalize_code(values.pop("code"))
    values["unlocks_zone_ids"] = values.get("unlocks_zone_ids") or []
    try:
        async with session.begin_nested():
            row = (await session.execute(promo_codes.insert().values(
                id=uuid7(), tenant_id=tenant_id, event_id=event.id, code=code, **values,
            ).returning(*promo_codes.c))).one()
    except IntegrityError as exc:
        if "promo_codes_event_code" in str(exc.orig):
            raise PromoCodeTaken(code) from exc
        raise
    return promo_view(row)


async def find_promo(session, event_id: uuid.UUID, code: str):
    return (await session.execute(select(promo_codes).where(
        promo_codes.c.event_id == event_id, promo_codes.c.code == normalize_code(code)))).first()


async def usable_promo(session, event_id: uuid.UUID, code: str, *, now: datetime, buyer: str | None):
    """The code's row if a buyer may use it now (limits not reached), else PromoCodeRefused."""
    row = await find_promo(session, event_id, code)
    if row is None:
        raise PromoCodeRefused(code, "unknown", f"No promo code {code!r} for this event", status=422)
    if row.valid_from and now < row.valid_from:
        raise PromoCodeRefused(code, "not-valid-yet", f"The code is valid from {row.valid_from.isoformat()}")
    if row.valid_until and now >= row.valid_until:
        raise PromoCodeRefused(code, "expired", f"The code expired at {row.valid_until.isoformat()}")
    if row.max_uses is not None and row.uses >= row.max_uses:
        raise PromoCodeRefused(code, "used-up", "The code has been used as many times as allowed", status=409)
    if buyer and row.max_uses_per_buyer is not None:
        used = (await session.execute(select(promo_buyer_uses.c.uses).where(
            promo_buyer_uses.c.promo_code_id == row.id, promo_buyer_uses.c.buyer == buyer.lower()))).scalar()
        if (used or 0) >= row.max_uses_per_buyer:
            raise PromoCodeRefused(code, "buyer-limit", "You have used this code as many times as allowed",
                                   status=409)
    return row


async def redeem(session, tenant_id: uuid.UUID, event, code: str, *, reference: str, buyer: str, quantity: int,
                 now: datetime) -> tuple[dict, bool]:
    """Count one use of the code for an order; (redemption, created). A repeat for the same reference is free."""
    row = await usable_promo(session, event.id, code, now=now, buyer=None)
    if quantity < row.min_quantity:
        raise PromoCodeRefused(code, "minimum-quantity", f"The code needs at least {row.min_quantity} tickets")
    buyer = buyer.strip().lower()
    inserted = (await session.execute(insert(promo_redemptions).values(
        id=uuid7(), tenant_id=tenant_id, promo_code_id=row.id, reference=reference, buyer=buyer, quantity=quantity,
    ).on_conflict_do_nothing(constraint="promo_redemptions_reference").returning(*promo_redemptions.c))).first()
    if inserted is None:
        existing = (await session.execute(select(promo_redemptions).where(
            promo_redemptions.c.promo_code_id == row.id, promo_redemptions.c.reference == reference))).one()
        return redemption_view(existing, row.code), False
    counted = (await session.execute(
        promo_codes.update().where(promo_codes.c.id == row.id,
                                   (promo_codes.c.max_uses.is_(None)) | (promo_codes.c.uses < promo_codes.c.max_uses))
        .values(uses=promo_codes.c.uses + 1).returning(promo_codes.c.uses))).first()
    if counted is None:
        raise PromoCodeRefused(code, "used-up", "The code has been used as many times as allowed", status=409)
    per_buyer = insert(promo_buyer_uses).values(tenant_id=tenant_id, promo_code_id=row.id, buyer=buyer, uses=1)
    limit = row.max_uses_per_buyer
    mine = (await session.execute(per_buyer.on_conflict_do_update(
        index_elements=[promo_buyer_uses.c.promo_code_id, promo_buyer_uses.c.buyer],
        set_={"uses": promo_buyer_uses.c.uses + 1},
        where=(promo_buyer_uses.c.uses < limit) if limit is not None else None,
    ).returning(promo_buyer_uses.c.uses))).first()
    if mine is None or (limit is not None and mine.uses > limit):
        raise PromoCodeRefused(code, "buyer-limit", "You have used this code as many times as allowed", status=409)
    return redemption_view(inserted, row.code), True


async def cancel_redemption(session, event, code: str, reference: str) -> bool:
    """The order did not go through: give the use back (total and buyer)."""
    row = await find_promo(session, event.id, code)
    if row is None:
        return False
    cancelled = (await session.execute(promo_redemptions.update().where(
        promo_redemptions.c.promo_code_id == row.id, promo_redemptions.c.reference == reference,
        promo_redemptions.c.status == "redeemed").values(status="cancelled").returning(promo_redemptions.c.buyer)
    )).first()
    if cancelled is None:
        return False
    await session.execute(promo_codes.update().where(promo_codes.c.id == row.id)
                          .values(uses=promo_codes.c.uses - 1))
    await session.execute(promo_buyer_uses.update().where(
        promo_buyer_uses.c.promo_code_id == row.id, promo_buyer_uses.c.buyer == cancelled.buyer)
        .values(uses=promo_buyer_uses.c.uses - 1))
    return True


def redemption_view(row, code: str) -> dict:
    return {"id": str(row.id), "code": code, "reference": row.reference, "buyer": row.buyer,
            "quantity": row.quantity, "status": row.status, "created_at": row.created_at.isoformat()}
