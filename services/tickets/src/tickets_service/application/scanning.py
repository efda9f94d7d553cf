"""Scanning at the doors: online answers, offline uploads merged, the peer feed and the counts.

Concurrency: every decision about a ticket is taken with its row locked (`SELECT ... FOR UPDATE`),
so two doors scanning the same ticket at the same moment are served one after the other, and the
second sees the first one's passage.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.tickets import TicketCheckedIn
from taquilla_messaging import publish

from ..adapters.tables import bus, checkin_lists, scans, tickets
from ..domain.checkin import MESSAGES, Direction, EntryRules, Passage, ScanResult, Verdict, decide, replay
from ..domain.qr import InvalidTicket, TicketClaims, verify_qr
from ..domain.tickets import TicketStatus
from .checkin_setup import Device
from .signing_keys import verifying_keys

FEED_SETTLE_SECONDS = 10  # the feed cursor stays this far behind the newest scans (late commits)


@dataclass
class Check:
    """What the code and the ticket say before the door's rules are applied."""

    result: ScanResult | None  # None: genuine, for this list, and valid
    reason: str | None
    ticket: object | None
    claims: TicketClaims | None


async def _check(session, device: Device, qr: str, keys: dict[str, bytes], *, lock: bool) -> Check:
    try:
        claims = verify_qr(qr, keys, tenant_id=device.tenant_id)
    except InvalidTicket as exc:
        return Check(ScanResult.INVALID_SIGNATURE, str(exc), None, None)
    query = select(tickets).where(tickets.c.id == claims.ticket_id)
    ticket = (await session.execute(query.with_for_update() if lock else query)).first()
    if ticket is None:
        return Check(ScanResult.UNKNOWN_TICKET, "signed, but no such ticket", None, claims)
    if claims.event_id != device.event_id or ticket.event_id != device.event_id:
        return Check(ScanResult.WRONG_EVENT, f"ticket for {ticket.event_title}", ticket, claims)
    if ticket.status == TicketStatus.VOID.value:
        return Check(ScanResult.VOIDED, ticket.void_reason, ticket, claims)
    if claims.generation < ticket.qr_generation:
        return Check(ScanResult.TRANSFERRED, "the ticket was transferred; a newer code replaced this one",
                     ticket, claims)
    zones = device.list.zone_ids
    if zones and ticket.zone_id not in zones:
        return Check(ScanResult.WRONG_LIST, f"{ticket.zone_name} is not admitted at {device.list.name}",
                     ticket, claims)
    return Check(None, None, ticket, claims)


def _passage(row) -> Passage:
    return Passage(row.id, Direction(row.direction), row.scanned_at, row.door)


async def _passages(session, ticket_id: uuid.UUID, list_id: uuid.UUID) -> list:
    return (await session.execute(
        select(scans).where(scans.c.ticket_id == ticket_id, scans.c.list_id == list_id, scans.c.passed)
    )).all()


def _ticket_view(ticket) -> dict | None:
    if ticket is None:
        return None
    return {"id": str(ticket.id), "holder_name": ticket.holder_name, "zone_name": ticket.zone_name,
            "label": ticket.label, "event_title": ticket.event_title, "order_code": ticket.order_code}


def _earlier(row_or_passage, devices: dict | None = None) -> dict | None:
    if row_or_passage is None:
        return None
    view = {"scan_id": str(row_or_passage.id), "at": row_or_passage.scanned_at.isoformat(),
            "door": row_or_passage.door}
    if devices is not None and row_or_passage.id in devices:
        view["device_id"] = str(devices[row_or_passage.id])
    return view


async def scan_online(session, device: Device, qr: str, direction: Direction,
                      client_scan_id: uuid.UUID | None) -> dict:
    if client_scan_id is not None:
        stored = await _stored_scan(session, device, client_scan_id)
        if stored is not None:
            return stored
    keys = await verifying_keys(session, device.tenant_id)
    check = await _check(session, device, qr, keys, lock=True)
    now = datetime.now(UTC)
    verdict = Verdict(check.result) if check.result else None
    entries_used = None
    if verdict is None:
        history = await _passages(session, check.ticket.id, device.list.id)
        state = replay([_passage(row) for row in history], device.rules)
        verdict = decide(state.presence, direction, device.rules)
        entries_used = state.presence.entries + (1 if verdict.result is ScanResult.ADMITTED else 0)
    scan_id = uuid7()
    inserted = (await session.execute(insert(scans).values(
        id=scan_id, tenant_id=device.tenant_id, event_id=device.event_id, list_id=device.list.id,
        device_id=device.id, door=device.door, ticket_id=check.ticket.id if check.ticket is not None else None,
        direction=direction.value, mode="online", result=verdict.result.value, reason=check.reason,
        passed=verdict.result.passes, client_scan_id=client_scan_id, scanned_at=now,
        duplicate_of=verdict.because_of.id if verdict.because_of else None,
    ).on_conflict_do_nothing().returning(scans.c.id))).first()
    if inserted is None:  # the same client scan id, sent twice at once: the first one's answer
        return await _stored_scan(session, device, client_scan_id)
    if verdict.result.passes:
        await _announce(session, device, check.ticket, direction, "online", now)
    allowed = device.rules.entries_allowed
    return {
        "scan_id": str(scan_id), "result": verdict.result.value, "admitted": verdict.result.passes,
        "message": MESSAGES[verdict.result], "reason": check.reason, "direction": direction.value,
        "door": device.door, "scanned_at": now.isoformat(), "ticket": _ticket_view(check.ticket),
        "earlier": _earlier(verdict.because_of),
        "entries_used": entries_used,
        "entries_left": (max(allowed - entries_used, 0) if allowed is not None and entries_used is not None
                         else None),
    }


async def _stored_scan(session, device: Device, client_scan_id: uuid.UUID) -> dict | None:
    row = (await session.execute(select(scans).where(
        scans.c.device_id == device.id, scans.c.client_scan_id == client_scan_id))).first()
    if row is None:
        return None
    ticket = None
    if row.ticket_id is not None:
        ticket = (await session.execute(select(tickets).where(tickets.c.id == row.ticket_id))).first()
    earlier = None
    if row.duplicate_of is not None:
        earlier = (await session.execute(select(scans).where(scans.c.id == row.duplicate_of))).first()
    result = ScanResult(row.result)
    return {"scan_id": str(row.id), "result": row.result, "admitted": result.passes, "message": MESSAGES[result],
            "reason": row.reason, "direction": row.direction, "door": row.door,
            "scanned_at": row.scanned_at.isoformat(), "ticket": _ticket_view(ticket), "earlier": _earlier(earlier),
            "repeated": True}


@dataclass(frozen=True)
class OfflineScan:
    id: uuid.UUID  # the device's own id for the scan: a re-upload is recognised by it
    qr: str
    direction: Direction
    scanned_at: datetime
    passed: bool  # the device let the person through
    device_result: ScanResult | None = None  # what the device answered (for a refusal)


async def upload_offline_scans(session, device: Device, batch: list[OfflineScan]) -> dict:
    """Merge scans a device made offline. The first scan of a ticket wins; a later entry the rules
    would have refused is reported as a duplicate (with the scan that came first). Idempotent: scans
    already uploaded are recognised by the device's scan id and change nothing."""
    now = datetime.now(UTC)
    keys = await verifying_keys(session, device.tenant_id)
    known = {row.client_scan_id for row in (await session.execute(select(scans.c.client_scan_id).where(
        scans.c.device_id == device.id, scans.c.client_scan_id.in_([s.id for s in batch])))).all()}
    fresh = [s for s in batch if s.id not in known]
    checks = {s.id: await _check(session, device, s.qr, keys, lock=False) for s in fresh}
    ticket_ids = sorted({c.ticket.id for c in checks.values() if c.ticket is not None})
    if ticket_ids:  # in id order, so two uploads touching the same tickets never deadlock
        await session.execute(select(tickets.c.id).where(tickets.c.id.in_(ticket_ids))
                              .order_by(tickets.c.id).with_for_update())
    for item in fresh:
        check = checks[item.id]
        genuine = check.result is None
        if genuine:
            result = ScanResult.ADMITTED if item.direction is Direction.ENTRY else ScanResult.EXITED
            if not item.passed:
                refused = item.device_result
                result = refused if refused is not None and not refused.passes else ScanResult.ALREADY_USED
        else:
            result = check.result
        reason = check.reason
        if not genuine and item.passed:
            reason = f"let through offline although: {check.reason or MESSAGES[check.result]}"
        inserted = (await session.execute(insert(scans).values(
            id=uuid7(), tenant_id=device.tenant_id, event_id=device.event_id, list_id=device.list.id,
            device_id=device.id, door=device.door, ticket_id=check.ticket.id if check.ticket is not None else None,
            direction=item.direction.value, mode="offline", result=result.value, reason=reason,
            passed=genuine and item.passed, client_scan_id=item.id, scanned_at=min(item.scanned_at, now),
        ).on_conflict_do_nothing().returning(scans.c.id))).first()  # a concurrent re-upload stored it first
        if inserted is not None and genuine and item.passed:
            await _announce(session, device, check.ticket, item.direction, "offline", min(item.scanned_at, now))
    for ticket_id in ticket_ids:
        await _settle(session, ticket_id, device.list.id, device.rules)
    rows = (await session.execute(select(scans).where(
        scans.c.device_id == device.id, scans.c.client_scan_id.in_([s.id for s in batch])))).all()
    firsts = {row.duplicate_of for row in rows if row.duplicate_of is not None}
    earlier = {row.id: row for row in (await session.execute(
        select(scans).where(scans.c.id.in_(firsts)))).all()} if firsts else {}
    by_client = {row.client_scan_id: row for row in rows}
    results = []
    for item in batch:
        row = by_client[item.id]
        first = earlier.get(row.duplicate_of)
        results.append({"id": str(item.id), "scan_id": str(row.id), "result": row.result, "reason": row.reason,
                        "ticket_id": str(row.ticket_id) if row.ticket_id else None,
                        "first_scan": ({"scan_id": str(first.id), "device_id": str(first.device_id),
                                        "door": first.door, "at": first.scanned_at.isoformat()}
                                       if first is not None else None)})
    return {"received": len(batch), "merged": len(fresh), "already_uploaded": len(batch) - len(fresh),
            "duplicates": sum(1 for r in results if r["result"] == ScanResult.DUPLICATE.value),
            "results": results}


async def _announce(session, device: Device, ticket, direction: Direction, mode: str, at: datetime) -> None:
    """For partners' webhooks and dashboards: a ticket went through a door."""
    event = TicketCheckedIn(ticket_id=ticket.id, order_id=ticket.order_id, event_id=device.event_id,
                            list_id=device.list.id, door=device.door, direction=direction.value, mode=mode,
                            scanned_at=at)
    await publish(session, bus, Envelope.wrap(event, source="tickets", tenant_id=device.tenant_id,
                                              correlation_id=str(ticket.order_id)))


async def _settle(session, ticket_id: uuid.UUID, list_id: uuid.UUID, rules: EntryRules) -> None:
    """Replay every passage of the ticket on the list in scan order and store each one's verdict."""
    rows = await _passages(session, ticket_id, list_id)
    state = replay([_passage(row) for row in rows], rules)
    for row in rows:
        verdict = state.verdicts[row.id]
        if verdict.result.passes:
            result, first = verdict.result, None
        else:
            result = ScanResult.DUPLICATE if row.direction == Direction.ENTRY.value else ScanResult.NOT_INSIDE
            first = verdict.because_of.id if verdict.because_of else None
        if (row.result, row.duplicate_of) != (result.value, first):
            await session.execute(scans.update().where(scans.c.id == row.id)
                                  .values(result=result.value, duplicate_of=first))


async def feed(session, device: Device, after: int, limit: int) -> dict:
    """Passages on the device's list after a cursor: what other doors let through, for peer sync.

    The cursor returned stays behind the newest few seconds, so a scan whose transaction commits late
    is still delivered; records repeat at most, and a device merges them by scan id.
    """
    rows = (await session.execute(
        select(scans.c.seq, scans.c.id, scans.c.ticket_id, scans.c.direction, scans.c.scanned_at, scans.c.door,
               scans.c.device_id, scans.c.result, scans.c.received_at)
        .where(scans.c.list_id == device.list.id, scans.c.passed, scans.c.seq > after)
        .order_by(scans.c.seq).limit(limit))).all()
    settled = datetime.now(UTC) - timedelta(seconds=FEED_SETTLE_SECONDS)
    cursor = after
    for row in rows:
        if row.received_at > settled:
            break
        cursor = row.seq
    return {"cursor": cursor, "passages": [
        {"scan_id": str(row.id), "ticket_id": str(row.ticket_id), "direction": row.direction,
         "scanned_at": row.scanned_at.isoformat(), "door": row.door, "device_id": str(row.device_id),
         "result": row.result} for row in rows]}


async def duplicates_of_event(session, event_id: uuid.UUID) -> list[dict]:
    """For the operator: every entry that got in although another scan of the ticket came first."""
    first = scans.alias("first")
    rows = (await session.execute(
        select(scans.c.id, scans.c.ticket_id, scans.c.device_id, scans.c.door, scans.c.scanned_at, scans.c.mode,
               scans.c.list_id, first.c.id.label("first_id"), first.c.device_id.label("first_device_id"),
               first.c.door.label("first_door"), first.c.scanned_at.label("first_at"),
               first.c.mode.label("first_mode"), tickets.c.holder_name, tickets.c.label)
        .join(first, first.c.id == scans.c.duplicate_of)
        .join(tickets, tickets.c.id == scans.c.ticket_id)
        .where(scans.c.event_id == event_id, scans.c.result == ScanResult.DUPLICATE.value)
        .order_by(scans.c.scanned_at))).all()
    return [{"scan_id": str(r.id), "ticket_id": str(r.ticket_id), "holder_name": r.holder_name, "label": r.label,
             "list_id": str(r.list_id),
             "duplicate": {"device_id": str(r.device_id), "door": r.door, "at": r.scanned_at.isoformat(),
                           "mode": r.mode},
             "first": {"scan_id": str(r.first_id), "device_id": str(r.first_device_id), "door": r.first_door,
                       "at": r.first_at.isoformat(), "mode": r.first_mode}} for r in rows]


async def checkin_counts(session, event_id: uuid.UUID) -> dict:
    """Live counts: people admitted and inside per event and list, and passages and refusals per door."""
    lists = (await session.execute(select(checkin_lists).where(checkin_lists.c.event_id == event_id)
                                   .order_by(checkin_lists.c.created_at))).all()
    valid = (await session.execute(select(func.count()).select_from(tickets).where(
        tickets.c.event_id == event_id, tickets.c.status == TicketStatus.VALID.value))).scalar_one()
    kept = and_(scans.c.event_id == event_id, scans.c.passed)
    entries = and_(kept, scans.c.result == ScanResult.ADMITTED.value)
    exits = and_(kept, scans.c.result == ScanResult.EXITED.value)
    per_list = {row.list_id: row for row in (await session.execute(
        select(scans.c.list_id, func.count(func.distinct(scans.c.ticket_id)).filter(entries).label("admitted"),
               func.count().filter(entries).label("entries"), func.count().filter(exits).label("exits"))
        .where(scans.c.event_id == event_id).group_by(scans.c.list_id))).all()}
    per_door = (await session.execute(
        select(scans.c.list_id, scans.c.door, func.count().filter(entries).label("entries"),
               func.count().filter(exits).label("exits"),
               func.count().filter(~scans.c.result.in_([ScanResult.ADMITTED.value, ScanResult.EXITED.value]))
               .label("refused"))
        .where(scans.c.event_id == event_id).group_by(scans.c.list_id, scans.c.door)
        .order_by(scans.c.door))).all()
    views = []
    for found in lists:
        counts = per_list.get(found.id)
        admitted = counts.admitted if counts else 0
        inside = (counts.entries - counts.exits) if counts else 0
        views.append({"list_id": str(found.id), "name": found.name, "admitted": admitted, "inside": inside,
                      "doors": [{"door": d.door, "entries": d.entries, "exits": d.exits, "refused": d.refused}
                                for d in per_door if d.list_id == found.id]})
    admitted = (await session.execute(select(func.count(func.distinct(scans.c.ticket_id))).where(entries))).scalar_one()
    return {"event_id": str(event_id), "valid_tickets": valid, "admitted": admitted,
            "inside": sum(v["inside"] for v in views), "lists": views}

