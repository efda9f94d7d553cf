"""Orders' own copy of what the catalog puts on sale."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished

from ..adapters.tables import event_offers


async def record_event_offer(uow, envelope: Envelope, event: EventPublished) -> None:
    values = {
        "tenant_id": envelope.tenant_id, "title": event.title, "currency": event.currency,
        "hold_ttl_seconds": event.hold_ttl_seconds, "max_tickets_per_order": event.max_tickets_per_order,
        "sessions": [s.model_dump(mode="json") for s in event.sessions],
        "zones": [z.model_dump(mode="json") for z in event.zones],
        "payment_plans": event.payment_plans.model_dump(mode="json") if event.payment_plans else None,
    }
    statement = insert(event_offers).values(event_id=event.event_id, **values)
    await uow.session.execute(statement.on_conflict_do_update(index_elements=["event_id"], set_=values))
