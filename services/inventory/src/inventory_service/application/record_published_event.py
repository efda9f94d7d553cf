"""`catalog.event.published`: keep the event's sale rules and create a unit per seat of every session.

Idempotent: a redelivery or a re-publish updates the rules and creates only units that are missing.
Numbered zones get their units (one per seat) from `catalog.seat_map.published` instead.
A smaller capacity withdraws units still on sale beyond it; held or sold units are never taken back.
"""
from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_messaging import PermanentError

from ..adapters.availability_feed import announce_change
from ..adapters.repository import units_added
from ..adapters.tables import events, sessions, units, zones
from ..domain.holds import UnitStatus, label_width

CREATE_UNITS = text(f"""
    INSERT INTO {units.name} (id, tenant_id, session_id, zone_id, position, label, status)
    SELECT gen_random_uuid(), CAST(:tenant_id AS uuid), CAST(:session_id AS uuid), CAST(:zone_id AS uuid), n,
           CAST(:prefix AS text) || lpad(n::text, CAST(:width AS integer), '0'), '{UnitStatus.AVAILABLE.value}'
    FROM generate_series(1, CAST(:capacity AS integer)) AS n
    ON CONFLICT (tenant_id, session_id, zone_id, position) DO NOTHING
""")


async def record_published_event(uow, message: Envelope, event: EventPublished) -> None:
    if message.tenant_id is None:
        raise PermanentError("catalog.event.published needs the organizer as tenant_id")
    await record_event(uow.session, message.tenant_id, event, published_at=message.occurred_at)


async def record_event(session: AsyncSession, tenant_id: uuid.UUID, event: EventPublished, *, published_at) -> None:
    rules = {"title": event.title[:300], "on_sale": True, "max_tickets_per_order": event.max_tickets_per_order,
             "hold_ttl_seconds": event.hold_ttl_seconds, "published_at": published_at,
             "max_tickets_per_buyer": getattr(event, "max_tickets_per_buyer", None)}
    upsert = insert(events).values(tenant_id=tenant_id, event_id=event.event_id, **rules)
    applied = (await session.execute(upsert.on_conflict_do_update(
        index_elements=[events.c.tenant_id, events.c.event_id], set_=rules,
        where=events.c.published_at <= upsert.excluded.published_at,
    ).returning(events.c.event_id))).first()
    if applied is None:
        return  # an older publication arriving late: the newer one already set the event up
    for position, zone in enumerate(event.zones):
        values = {"event_id": event.event_id, "name": zone.name[:200], "kind": zone.kind,
                  "capacity": max(zone.capacity, 0), "position": position}
        await session.execute(insert(zones).values(tenant_id=tenant_id, zone_id=zone.zone_id, **values)
                              .on_conflict_do_update(index_elements=[zones.c.tenant_id, zones.c.zone_id], set_=values))
    added = 0
    for show in event.sessions:
        await session.execute(
            insert(sessions).values(tenant_id=tenant_id, session_id=show.session_id, event_id=event.event_id,
                                    starts_at=show.starts_at)
            .on_conflict_do_update(index_elements=[sessions.c.tenant_id, sessions.c.session_id],
                                   set_={"starts_at": show.starts_at})
        )
        for zone in event.zones:
            if zone.kind == "numbered":
                continue  # its units are its seats, created from catalog.seat_map.published
            capacity = max(zone.capacity, 0)
            added += (await session.execute(CREATE_UNITS, {
                "tenant_id": str(tenant_id), "session_id": str(show.session_id), "zone_id": str(zone.zone_id),
                "prefix": f"{zone.name[:200]}-", "width": label_width(capacity), "capacity": capacity,
            })).rowcount
            await session.execute(units.delete().where(
                units.c.tenant_id == tenant_id, units.c.session_id == show.session_id,
                units.c.zone_id == zone.zone_id, units.c.position > capacity,
                units.c.status == UnitStatus.AVAILABLE.value,
            ))
    await units_added(session, added)
    await announce_change(session, [show.session_id for show in event.sessions])  # new zones, capacities
