"""The package a scanner downloads to validate its list offline, signed by the organizer.

    {"format": "TQPKG1", "kid": ..., "package": {...}, "signature": b64url(Ed25519(
        b"TQPKG1." + canonical JSON of "package"))}

The signed text starts with `TQPKG1.`, never `TQ1.`, so a package signature can never pass for a
ticket's. The device verifies it with the organizer's published keys (the same JWKs it carries).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ..adapters.key_vault import KeyVault
from ..adapters.tables import scans, tickets
from ..domain.offline_door import PACKAGE_FORMAT, package_signing_text
from ..domain.qr import b64url_encode
from ..domain.tickets import TicketStatus
from .checkin_setup import Device, list_view
from .signing_keys import active_signing_key, published_keys

PACKAGE_VALID_HOURS = 24  # a device refuses to work offline with an older package


async def offline_package(session, device: Device, vault: KeyVault, *, include_tickets: bool) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    event_tickets = (await session.execute(
        select(tickets.c.id, tickets.c.status, tickets.c.void_reason, tickets.c.qr_generation, tickets.c.zone_id,
               tickets.c.label, tickets.c.holder_name)
        .where(tickets.c.event_id == device.event_id).order_by(tickets.c.id))).all()
    zones = set(device.list.zone_ids)
    revoked = [{"tk": str(t.id), "reason": t.void_reason or "voided"} for t in event_tickets
               if t.status == TicketStatus.VOID.value]
    # A transferred ticket's codes below its current generation are refused ("transferred").
    superseded = [{"tk": str(t.id), "g": t.qr_generation} for t in event_tickets
                  if t.status == TicketStatus.VALID.value and t.qr_generation > 0]
    passages = (await session.execute(
        select(scans.c.id, scans.c.ticket_id, scans.c.direction, scans.c.scanned_at, scans.c.door)
        .where(scans.c.list_id == device.list.id, scans.c.passed,
               scans.c.result.in_(["admitted", "exited"])).order_by(scans.c.scanned_at, scans.c.id))).all()
    package = {
        "tenant_id": str(device.tenant_id), "event_id": str(device.event_id), "device_id": str(device.id),
        "door": device.door, "list": list_view(device.list),
        "keys": await published_keys(session, device.tenant_id),
        "revoked": revoked, "superseded": superseded,
        "passages": [{"scan_id": str(p.id), "tk": str(p.ticket_id), "direction": p.direction,
                      "at": p.scanned_at.isoformat(), "door": p.door} for p in passages],
        "generated_at": now.isoformat(), "valid_until": (now + timedelta(hours=PACKAGE_VALID_HOURS)).isoformat(),
    }
    if include_tickets:
        package["tickets"] = [{"tk": str(t.id), "zone_id": str(t.zone_id), "label": t.label,
                               "holder_name": t.holder_name, "g": t.qr_generation} for t in event_tickets
                              if t.status == TicketStatus.VALID.value and (not zones or t.zone_id in zones)]
    key = await active_signing_key(session, device.tenant_id, vault)
    signature = key.private_key.sign(package_signing_text(package))
    return {"format": PACKAGE_FORMAT, "kid": key.kid, "package": package, "signature": b64url_encode(signature)}
