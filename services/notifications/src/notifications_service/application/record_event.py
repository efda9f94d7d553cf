"""Keep what notifications needs to know of an event (its time zone and venue) from the catalog."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_messaging import PermanentError

from ..adapters.tables import events


async def record_published_event(uow, envelope: Envelope, published: EventPublished) -> None:
    if envelope.tenant_id is None:
        raise PermanentError("catalog.event.published without a tenant")
    values = {"title": published.title, "venue_name": published.venue_name, "time_zone": published.time_zone,
              "organizer_name": published.organizer_name, "published_at": envelope.occurred_at}
    statement = insert(events).values(tenant_id=envelope.tenant_id, event_id=published.event_id, **values)
    await uow.session.execute(statement.on_conflict_do_update(
        index_elements=[events.c.tenant_id, events.c.event_id], set_=values,
        where=events.c.published_at <= statement.excluded.published_at,
    ))
