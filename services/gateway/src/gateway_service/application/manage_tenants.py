"""Organizers after registration: their legal data and branding change, and their lifecycle
active -> suspended -> pending deletion -> reactivated. Every change is audited and announced again."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update
from taquilla_contracts import Envelope
from taquilla_contracts.gateway import TenantRegistered
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import bus, tenants
from ..domain.identity import clean_name
from ..domain.tenants import (
    ACTIVE,
    check_country,
    check_currency,
    check_registry_number,
    check_tax_id,
    check_time_zone,
)
from .audit import RequestContext, audit, changed
from .queries import tenant_view

SUSPENDED = "suspended"
PENDING_DELETION = "pending_deletion"
STATUSES = (ACTIVE, SUSPENDED, PENDING_DELETION)
# action -> (statuses it starts from, status it leads to)
TRANSITIONS = {
    "suspend": ((ACTIVE,), SUSPENDED),
    "request-deletion": ((ACTIVE, SUSPENDED), PENDING_DELETION),
    "reactivate": ((SUSPENDED, PENDING_DELETION), ACTIVE),
}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Branding(BaseModel):
    logo_url: str | None = Field(None, max_length=500, examples=["https://cdn.example.com/avila.png"])
    primary_color: str | None = Field(None, examples=["#1a73e8"])
    secondary_color: str | None = Field(None, examples=["#ffffff"])
    website: str | None = Field(None, max_length=300)

    @field_validator("logo_url", "website")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("use an https:// address")
        return value.strip()

    @field_validator("primary_color", "secondary_color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value is not None and not _COLOR.match(value):
            raise ValueError("use a hex color like #1a73e8")
        return value.lower() if value else None


def check_origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin like https://tickets.example.com")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
        raise ValueError(f"{value!r}: storefronts are served over https (http only for localhost)")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


class TenantChanges(BaseModel):
    """Only the fields sent change; `null` clears an optional one."""

    name: str | None = Field(None, max_length=200)
    legal_name: str | None = Field(None, max_length=200)
    tax_id: str | None = Field(None, max_length=40)
    registry_number: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=300)
    city: str | None = Field(None, max_length=120)
    country: str | None = None
    currency: str | None = None
    time_zone: str | None = None
    branding: Branding | None = None
    storefront_origins: list[str] | None = Field(None, max_length=20,
                                                 description="origins allowed to call the API from a browser")
    require_staff_2fa: bool | None = Field(None, description="staff must use two-factor sign-in")

    _required = ("name", "legal_name", "tax_id", "country", "currency", "time_zone", "storefront_origins",
                 "require_staff_2fa", "branding")

    @field_validator("name", "legal_name")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return clean_name(value) if value is not None else None

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        return check_tax_id(value) if value is not None else None

    @field_validator("registry_number")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        return check_registry_number(value) if value and value.strip() else None

    @field_validator("address", "city")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return (" ".join(value.split()) or None) if value is not None else None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return check_country(value) if value is not None else None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return check_currency(value) if value is not None else None

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        return check_time_zone(value) if value is not None else None

    @field_validator("storefront_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return sorted({check_origin(v) for v in value}) if value is not None else None

    def values(self) -> dict:
        sent = self.model_dump(mode="json", exclude_unset=True)
        for field in self._required:
            if field in sent and sent[field] is None:
                raise Problem(422, "validation-error", "The request is not valid", "cannot be null", field=field)
        if "branding" in sent:
            sent["branding"] = {k: v for k, v in sent["branding"].items() if v is not None}
        return sent


def announce(row) -> Envelope:
    return Envelope.wrap(TenantRegistered(
        tenant_id=row.id, slug=row.slug, name=row.name, legal_name=row.legal_name, tax_id=row.tax_id,
        registry_number=row.registry_number, address=row.address, city=row.city, country=row.country,
        currency=row.currency, time_zone=row.time_zone, status=row.status, branding=row.branding or None,
    ), source="gateway", tenant_id=row.id, correlation_id=str(row.id))


async def _locked(session, tenant_id: uuid.UUID):
    row = (await session.execute(select(tenants).where(tenants.c.id == tenant_id).with_for_update())).first()
    if row is None:
        raise not_found("Organizer", tenant_id)
    return row


async def update_tenant(db: Database, actor: Principal, tenant_id: uuid.UUID, changes: TenantChanges,
                        context: RequestContext) -> dict:
    values = changes.values()
    async with db.unit_of_work(tenant_id) as uow:
        row = await _locked(uow.session, tenant_id)
        before_view = tenant_view(row)
        if values:
            row = (await uow.session.execute(update(tenants).where(tenants.c.id == tenant_id)
                                             .values(**values, updated_at=datetime.now(UTC))
                                             .returning(tenants))).first()
        before, after = changed(before_view, tenant_view(row))
        after.pop("updated_at", None)
        before.pop("updated_at", None)
        if after:
            await audit(uow.session, tenant_id, actor, "tenant.updated", "tenant", tenant_id, context,
                        before=before, after=after)
            await publish(uow.session, bus, announce(row))
        await uow.commit()
    return tenant_view(row)


async def change_status(db: Database, actor: Principal, tenant_id: uuid.UUID, action: str, reason: str | None,
                        context: RequestContext) -> dict:
    sources, target = TRANSITIONS[action]
    async with db.unit_of_work(tenant_id) as uow:
        row = await _locked(uow.session, tenant_id)
        if row.status not in sources:
            raise Problem(409, "invalid-status-change", f"Cannot {action.replace('-', ' ')} this organizer",
                          f"The organizer is {row.status}; {action} applies to {' or '.join(sources)} ones",
                          field="status", status_now=row.status)
        previous = row.status
        row = (await uow.session.execute(update(tenants).where(tenants.c.id == tenant_id).values(
            status=target, status_changed_at=datetime.now(UTC), updated_at=datetime.now(UTC)).returning(tenants))).first()
        await audit(uow.session, tenant_id, actor, f"tenant.{target}" if target != ACTIVE else "tenant.reactivated",
                    "tenant", tenant_id, context, before={"status": previous}, after={"status": target},
                    details={"reason": reason} if reason else {})
        await publish(uow.session, bus, announce(row))
        await uow.commit()
    return tenant_view(row)


async def list_tenants(db: Database, *, status: str | None, limit: int) -> list[dict]:
    async with db.unit_of_work(system=True) as uow:
        query = select(tenants).order_by(tenants.c.name).limit(limit)
        if status is not None:
            query = query.where(tenants.c.status == status)
        rows = (await uow.session.execute(query)).all()
    return [tenant_view(r) for r in rows]
