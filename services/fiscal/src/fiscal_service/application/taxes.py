"""Tax configuration at organizer and event level: rates with validity dates, kept as history."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select, text
from taquilla_contracts.envelope import uuid7
from taquilla_platform.problems import Problem

from ..adapters.tables import tax_rules
from ..config import Settings
from ..domain.documents import ADDED, INCLUDED, TaxRate


def rule_view(row) -> dict:
    return {
        "id": str(row.id), "event_id": str(row.event_id) if row.event_id else None, "code": row.code,
        "name": row.name, "rate": str(row.rate), "inclusion": row.inclusion, "payment_methods": row.payment_methods,
        "valid_from": row.valid_from.isoformat(), "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "created_at": row.created_at.isoformat() if row.created_at else None, "created_by": row.created_by,
        "retired_at": row.retired_at.isoformat() if row.retired_at else None, "retired_by": row.retired_by,
    }


async def applicable_rates(session, settings: Settings, tenant_id: uuid.UUID, event_id: uuid.UUID | None,
                           payment_method: str | None, at: datetime) -> list[TaxRate]:
    """Event rules override the organizer's rule of the same code; no rule at all: the default VAT."""
    return rates_from(await live_tax_rules(session, tenant_id), settings, event_id, payment_method, at)


async def live_tax_rules(session, tenant_id: uuid.UUID) -> list:
    """The organizer's rules not retired (one read: a tenant has a handful of rules)."""
    return (await session.execute(select(tax_rules).where(
        tax_rules.c.tenant_id == tenant_id, tax_rules.c.retired_at.is_(None)).order_by(tax_rules.c.code))).all()


def rates_from(live: list, settings: Settings, event_id: uuid.UUID | None, payment_method: str | None,
               at: datetime) -> list[TaxRate]:
    """`applicable_rates` on rules already read."""
    if not live:
        return [TaxRate(settings.default_tax_code, settings.default_tax_name, settings.default_vat_rate)]
    rows = [row for row in live if (row.event_id is None or row.event_id == event_id)
            and row.valid_from <= at and (row.valid_to is None or row.valid_to > at)]
    chosen: dict[str, object] = {}
    for row in rows:
        if row.code not in chosen or (row.event_id is not None and chosen[row.code].event_id is None):
            chosen[row.code] = row
    rates = []
    for row in chosen.values():
        if row.payment_methods and (payment_method or "") not in row.payment_methods:
            continue
        if row.rate == 0:
            continue  # an event-level zero rate exempts the event from the organizer's tax
        rates.append(TaxRate(row.code, row.name, Decimal(row.rate), row.inclusion))
    return rates


async def add_tax_rule(session, tenant_id: uuid.UUID, body, actor: str) -> dict:
    valid_from = (body.valid_from or datetime.now(UTC)).astimezone(UTC)
    valid_to = body.valid_to.astimezone(UTC) if body.valid_to else None
    if valid_to is not None and valid_to <= valid_from:
        raise Problem(422, "invalid-validity", "A rate must end after it starts", field="valid_to")
    if body.inclusion not in (INCLUDED, ADDED):
        raise Problem(422, "invalid-inclusion", "Inclusion is 'included' or 'added'", field="inclusion")
    # one writer per (organizer, tax) at a time, so two overlapping rates cannot both be accepted
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                          {"k": f"tax:{tenant_id}:{body.event_id}:{body.code}"})
    same = and_(tax_rules.c.tenant_id == tenant_id, tax_rules.c.code == body.code,
                tax_rules.c.event_id.is_(None) if body.event_id is None else tax_rules.c.event_id == body.event_id,
                tax_rules.c.retired_at.is_(None))
    existing = (await session.execute(select(tax_rules).where(same).with_for_update())).all()
    for row in existing:
        if row.valid_to is None and valid_to is None and row.valid_from < valid_from:
            # a new open-ended rate from a later date supersedes the current one, which stays in history, ended
            await session.execute(tax_rules.update().where(tax_rules.c.id == row.id).values(valid_to=valid_from))
            continue
        ends = row.valid_to
        if (valid_to is None or row.valid_from < valid_to) and (ends is None or valid_from < ends):
            raise Problem(409, "tax-rate-overlaps", "Another rate of this tax is valid in that period",
                          f"{row.code} at {row.rate} is valid from {row.valid_from.isoformat()}"
                          f"{' to ' + ends.isoformat() if ends else ''}", field="valid_from",
                          conflicting_rule_id=str(row.id))
    rule_id = uuid7()
    await session.execute(tax_rules.insert().values(
        id=rule_id, tenant_id=tenant_id, event_id=body.event_id, code=body.code, name=body.name, rate=body.rate,
        inclusion=body.inclusion, payment_methods=body.payment_methods, valid_from=valid_from, valid_to=valid_to,
        created_by=actor))
    row = (await session.execute(select(tax_rules).where(tax_rules.c.id == rule_id))).one()
    return rule_view(row)


async def retire_tax_rule(session, rule_id: uuid.UUID, actor: str) -> dict | None:
    row = (await session.execute(select(tax_rules).where(tax_rules.c.id == rule_id).with_for_update())).first()
    if row is None:
        return None
    if row.retired_at is None:
        await session.execute(tax_rules.update().where(tax_rules.c.id == rule_id)
                              .values(retired_at=datetime.now(UTC), retired_by=actor))
        row = (await session.execute(select(tax_rules).where(tax_rules.c.id == rule_id))).one()
    return rule_view(row)


async def tax_history(session, event_id: uuid.UUID | None) -> list[dict]:
    query = select(tax_rules).order_by(tax_rules.c.code, tax_rules.c.valid_from, tax_rules.c.created_at)
    if event_id is not None:
        query = query.where(or_(tax_rules.c.event_id.is_(None), tax_rules.c.event_id == event_id))
    return [rule_view(row) for row in (await session.execute(query)).all()]
