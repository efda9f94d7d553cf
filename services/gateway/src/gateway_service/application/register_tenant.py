"""A platform admin registers an organizer and its first admin; the other services hear of it."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.gateway import TenantRegistered
from taquilla_messaging import publish
from taquilla_platform.auth import Principal, Role
from taquilla_platform.database import Database
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..adapters.tables import bus, idempotency, memberships, tenants
from ..domain.identity import clean_name
from ..domain.tenants import (
    ACTIVE,
    check_country,
    check_currency,
    check_registry_number,
    check_slug,
    check_tax_id,
    check_time_zone,
)
from .accounts import create_user, find_user_by_email
from .audit import RequestContext, audit
from .queries import tenant_view
from .register_buyer import NewAccount

IDEMPOTENCY = IdempotencyStore(idempotency)


class NewTenant(BaseModel):
    name: str = Field(max_length=200, examples=["Producciones Ávila"])
    slug: str = Field(max_length=63, examples=["producciones-avila"])
    legal_name: str = Field(max_length=200, examples=["Producciones Ávila, C.A."])
    tax_id: str = Field(max_length=40, description="RIF or NIT", examples=["J-12345678-9"])
    registry_number: str | None = Field(None, max_length=40, description="PULEP, where the organizer has one")
    address: str | None = Field(None, max_length=300)
    city: str | None = Field(None, max_length=120)
    country: str = Field(description="ISO 3166-1 alpha-2", examples=["VE"])
    currency: str = Field(description="ISO 4217", examples=["USD"])
    time_zone: str = Field(description="IANA time zone", examples=["America/Caracas"])
    admin: NewAccount = Field(description="the organizer's first admin: created, or an existing account attached")

    @field_validator("name", "legal_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_slug(value)

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str) -> str:
        return check_tax_id(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("registry_number")
    @classmethod
    def _registry_number(cls, value: str | None) -> str | None:
        return check_registry_number(value) if value and value.strip() else None

    @field_validator("address", "city")
    @classmethod
    def _optional_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return " ".join(value.split()) or None


def slug_taken(slug: str) -> Problem:
    return Problem(409, "slug-taken", "This slug belongs to another organizer", f"Choose another slug than {slug}",
                   field="slug")


async def register_tenant(db: Database, passwords: Passwords, actor: Principal, new: NewTenant, *,
                          request_id: str | None = None, idempotency_key: str | None = None,
                          ip: str | None = None) -> tuple[dict, bool]:
    """Returns the new organizer and whether the answer is a replay of an earlier identical request."""
    tenant_id = uuid7()
    admin_password_hash = await _hash_unless_registered(db, passwords, new.admin)
    async with db.unit_of_work(tenant_id) as uow:
        session = uow.session
        scope = f"{actor.user_id}:register-tenant"
        if idempotency_key is not None:
            fingerprint = request_fingerprint(new.model_dump(mode="json", exclude={"admin": {"password"}}))
            stored = await IDEMPOTENCY.claim(session, scope, idempotency_key, fingerprint)
            if stored is not None:
                return stored.body, True
        created = (await session.execute(
            insert(tenants).values(
                id=tenant_id, name=new.name, slug=new.slug, legal_name=new.legal_name, tax_id=new.tax_id,
                registry_number=new.registry_number, address=new.address, city=new.city, country=new.country,
                currency=new.currency, time_zone=new.time_zone, status=ACTIVE,
            ).on_conflict_do_nothing().returning(tenants)
        )).first()
        if created is None:
            raise slug_taken(new.slug)
        admin_id, admin_created = await _admin_account(session, passwords, new.admin, admin_password_hash)
        await session.execute(insert(memberships).values(
            id=uuid7(), tenant_id=tenant_id, user_id=admin_id, role=Role.TENANT_ADMIN,
        ).on_conflict_do_nothing())
        context = RequestContext(ip=ip, request_id=request_id)
        await audit(session, tenant_id, actor, "tenant.created", "tenant", tenant_id, context,
                    after=tenant_view(created), details={"slug": new.slug, "name": new.name,
                                                         "legal_name": new.legal_name, "tax_id": new.tax_id})
        await audit(session, tenant_id, actor, "membership.granted", "user", admin_id, context,
                    after={"email": new.admin.email, "role": Role.TENANT_ADMIN},
                    details={"email": new.admin.email, "role": Role.TENANT_ADMIN, "account_created": admin_created})
        registered = TenantRegistered(
            tenant_id=tenant_id, slug=new.slug, name=new.name, legal_name=new.legal_name, tax_id=new.tax_id,
            registry_number=new.registry_number, address=new.address, city=new.city, country=new.country,
            currency=new.currency, time_zone=new.time_zone, status=ACTIVE,
        )
        await publish(session, bus, Envelope.wrap(registered, source="gateway", tenant_id=tenant_id,
                                                  correlation_id=str(tenant_id)))
        body = tenant_view(created) | {"admin": {"user_id": str(admin_id), "email": new.admin.email,
                                                 "role": Role.TENANT_ADMIN, "account_created": admin_created}}
        if idempotency_key is not None:
            await IDEMPOTENCY.complete(session, scope, idempotency_key, 201, body)
        await uow.commit()
    return body, False


async def _hash_unless_registered(db: Database, passwords: Passwords, admin: NewAccount) -> str | None:
    async with db.unit_of_work(system=True) as uow:
        existing = await find_user_by_email(uow.session, admin.email)
    return None if existing is not None else await passwords.hash(admin.password)


async def _admin_account(session, passwords: Passwords, admin: NewAccount,
                         password_hash: str | None) -> tuple[uuid.UUID, bool]:
    """The admin's account: an existing one is attached as it is (its password and name untouched)."""
    existing = await find_user_by_email(session, admin.email)
    if existing is None:
        if password_hash is None:  # the account was deleted since we looked: rare enough to hash here
            password_hash = await passwords.hash(admin.password)
        user_id = await create_user(session, email=admin.email, password_hash=password_hash, name=admin.name)
        if user_id is not None:
            return user_id, True
        existing = await find_user_by_email(session, admin.email)  # created meanwhile by another request
    return existing.id, False
