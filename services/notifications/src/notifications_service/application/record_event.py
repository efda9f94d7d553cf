"""Keep what notifications needs to know of an event (time zone, venue, sessions, zones) from the catalog.

Each publication is compared with the one kept: what changed for buyers (the venue, a session's start) is
returned for `event_changed`. The first publication, and a late copy older than the one kept, change nothing.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_messaging import PermanentError

from ..adapters.tables import event_sessions, events
from ..domain.event_changes import EventChanges, changes_between


async def record_published_event(uow, envelope: Envelope, published: EventPublished) -> EventChanges:
    if envelope.tenant_id is None:
        raise PermanentError("catalog.event.published without a tenant")
    session, tenant_id = uow.session, envelope.tenant_id
    values = {"title": published.title, "venue_name": published.venue_name, "time_zone": published.time_zone,
              "organizer_name": published.organizer_name, "published_at": envelope.occurred_at,
              "zones": {str(z.zone_id): z.name for z in published.zones}}
    kept = await _kept_event(session, tenant_id, published.event_id)
    if kept is None:
        inserted = (await session.execute(insert(events).values(
            tenant_id=tenant_id, event_id=published.event_id, **values).on_conflict_do_nothing()
            .returning(events.c.event_id))).first()
        if inserted is not None:  # the first publication: nothing was known, so nothing changed
            await _keep_sessions(session, tenant_id, published)
            return EventChanges()
        kept = await _kept_event(session, tenant_id, published.event_id)  # another copy got there first
    if kept.published_at > envelope.occurred_at:
        return EventChanges()  # a late, older copy never wins
    old_starts = dict((await session.execute(select(event_sessions.c.session_id, event_sessions.c.starts_at).where(
        event_sessions.c.tenant_id == tenant_id, event_sessions.c.event_id == published.event_id))).all())
    changes = changes_between(kept.venue_name, old_starts, published.venue_name,
                              {s.session_id: s.starts_at for s in published.sessions})
    await session.execute(events.update().where(events.c.tenant_id == tenant_id,
                                                events.c.event_id == published.event_id).values(**values))
    await _keep_sessions(session, tenant_id, published)
    return changes


async def _kept_event(session, tenant_id, event_id):
    """Locked: two publications of one event are compared one after the other."""
    return (await session.execute(select(events).where(events.c.tenant_id == tenant_id, events.c.event_id == event_id)
                                  .with_for_update())).first()


async def _keep_sessions(session, tenant_id, published: EventPublished) -> None:
    if not published.sessions:
        return
    statement = insert(event_sessions).values([
        {"tenant_id": tenant_id, "session_id": s.session_id, "event_id": published.event_id, "starts_at": s.starts_at}
        for s in published.sessions])
    await session.execute(statement.on_conflict_do_update(
        index_elements=[event_sessions.c.tenant_id, event_sessions.c.session_id],
        set_={"event_id": statement.excluded.event_id, "starts_at": statement.excluded.starts_at}))
