"""Check-in lists and scanner devices: what the organizer sets up before the doors open."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import func, select
from taquilla_contracts.envelope import uuid7
from taquilla_platform.auth import ALGORITHM, Role
from taquilla_platform.problems import Problem

from ..adapters.tables import checkin_lists, scanner_devices
from ..domain.checkin import EntryRules
from ..domain.devices import DeviceStatus, digest, new_pairing_code, normalize_pairing_code, same_digest


def list_view(row) -> dict:
    return {"id": str(row.id), "event_id": str(row.event_id), "name": row.name,
            "zone_ids": [str(z) for z in row.zone_ids], "doors": list(row.doors),
            "allow_reentry": row.allow_reentry, "max_entries": row.max_entries,
            "created_at": row.created_at.isoformat()}


def rules_of(row) -> EntryRules:
    return EntryRules(allow_reentry=row.allow_reentry, max_entries=row.max_entries)


async def create_list(session, tenant_id: uuid.UUID, *, event_id: uuid.UUID, name: str, zone_ids: list[uuid.UUID],
                      doors: list[str], allow_reentry: bool, max_entries: int | None) -> dict:
    exists = (await session.execute(select(checkin_lists.c.id).where(
        checkin_lists.c.tenant_id == tenant_id, checkin_lists.c.event_id == event_id,
        checkin_lists.c.name == name))).first()
    if exists is not None:
        raise Problem(409, "check-in-list-exists", "A check-in list with this name exists",
                      f"The event already has a list named {name!r}", field="name")
    row = (await session.execute(checkin_lists.insert().values(
        id=uuid7(), tenant_id=tenant_id, event_id=event_id, name=name, zone_ids=list(dict.fromkeys(zone_ids)),
        doors=list(dict.fromkeys(doors)), allow_reentry=allow_reentry, max_entries=max_entries,
    ).returning(*checkin_lists.c))).one()
    return list_view(row)


async def lists_of_event(session, event_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(select(checkin_lists).where(checkin_lists.c.event_id == event_id)
                                  .order_by(checkin_lists.c.created_at, checkin_lists.c.name))).all()
    return [list_view(row) for row in rows]


def device_view(row) -> dict:
    return {"id": str(row.id), "name": row.name, "event_id": str(row.event_id), "list_id": str(row.list_id),
            "door": row.door, "status": row.status, "created_at": row.created_at.isoformat(),
            "paired_at": row.paired_at.isoformat() if row.paired_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


async def register_device(session, tenant_id: uuid.UUID, *, name: str, list_id: uuid.UUID, door: str,
                          pairing_ttl_seconds: int) -> dict:
    found = (await session.execute(select(checkin_lists).where(checkin_lists.c.id == list_id))).first()
    if found is None:
        raise Problem(422, "unknown-check-in-list", "Unknown check-in list",
                      f"No check-in list {list_id} here", field="list_id")
    if found.doors and door not in found.doors:
        raise Problem(422, "unknown-door", "The door is not on the check-in list",
                      f"The list {found.name!r} has the doors {', '.join(found.doors)}", field="door")
    code = new_pairing_code()
    expires = datetime.now(UTC) + timedelta(seconds=pairing_ttl_seconds)
    row = (await session.execute(scanner_devices.insert().values(
        id=uuid7(), tenant_id=tenant_id, name=name, event_id=found.event_id, list_id=list_id, door=door,
        status=DeviceStatus.PENDING.value, pairing_code_hash=digest(code), pairing_expires_at=expires,
    ).returning(*scanner_devices.c))).one()
    return device_view(row) | {"pairing_code": code, "pairing_expires_at": expires.isoformat()}


def _device_token(settings, device_id: uuid.UUID, tenant_id: uuid.UUID) -> str:
    """A token the gateway lets through (signed like an access token) with the scanner role only; the
    tickets service also checks its hash against the device row on every request, so revoking works."""
    now = int(time.time())
    claims = {"iss": settings.auth.issuer, "sub": str(device_id), "email": "", "roles": [Role.SCANNER],
              "tid": str(tenant_id), "iat": now, "exp": now + settings.devices.token_ttl_seconds,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


async def pair_device(session, settings, code: str) -> dict:
    """In the system scope: exchange a one-time pairing code for the device token (shown once)."""
    row = (await session.execute(select(scanner_devices).where(
        scanner_devices.c.pairing_code_hash == digest(normalize_pairing_code(code))).with_for_update())).first()
    if row is None or row.status != DeviceStatus.PENDING.value or row.pairing_expires_at < datetime.now(UTC):
        raise Problem(400, "invalid-pairing-code", "The pairing code is not valid",
                      "Unknown, used or expired pairing code: ask the operator for a new one", field="code")
    token = _device_token(settings, row.id, row.tenant_id)
    updated = (await session.execute(scanner_devices.update().where(scanner_devices.c.id == row.id).values(
        status=DeviceStatus.ACTIVE.value, token_hash=digest(token), pairing_code_hash=None,
        pairing_expires_at=None, paired_at=func.now()).returning(*scanner_devices.c))).one()
    return {"device_token": token, "token_type": "Device", "expires_in": settings.devices.token_ttl_seconds,
            "tenant_id": str(row.tenant_id), "device": device_view(updated)}


async def revoke_device(session, device_id: uuid.UUID) -> dict | None:
    row = (await session.execute(scanner_devices.update().where(scanner_devices.c.id == device_id).values(
        status=DeviceStatus.REVOKED.value, pairing_code_hash=None,
        revoked_at=func.coalesce(scanner_devices.c.revoked_at, func.now())).returning(*scanner_devices.c))).first()
    return device_view(row) if row is not None else None


async def devices_of_tenant(session, event_id: uuid.UUID | None) -> list[dict]:
    query = select(scanner_devices).order_by(scanner_devices.c.created_at)
    if event_id is not None:
        query = query.where(scanner_devices.c.event_id == event_id)
    return [device_view(row) for row in (await session.execute(query)).all()]


@dataclass(frozen=True)
class Device:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    event_id: uuid.UUID
    door: str
    list: object  # the check-in list row

    @property
    def rules(self) -> EntryRules:
        return rules_of(self.list)


def _refused(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Device not authorized", detail, field="Authorization",
                   headers={"WWW-Authenticate": "Device"})


async def authenticate_device(session, tokens, token: str) -> Device:
    """In the system scope: the active device this token belongs to, or 401."""
    principal = tokens.verify(token)
    if not principal.has_any(Role.SCANNER):
        raise _refused("This needs a scanner device token ('Authorization: Device <token>')")
    row = (await session.execute(
        select(scanner_devices, checkin_lists.c.name.label("list_name"))
        .join(checkin_lists, checkin_lists.c.id == scanner_devices.c.list_id)
        .where(scanner_devices.c.id == principal.user_id))).first()
    if row is None or row.tenant_id != principal.tenant_id or not same_digest(token, row.token_hash):
        raise _refused("The device token is not valid")
    if row.status != DeviceStatus.ACTIVE.value:
        raise _refused("This device was revoked")
    found = (await session.execute(select(checkin_lists).where(checkin_lists.c.id == row.list_id))).one()
    return Device(row.id, row.tenant_id, row.name, row.event_id, row.door, found)
