"""Turn a platform event into one webhook delivery per subscribed, active endpoint of its tenant.

Runs in the consumer's transaction (inbox claimed): the deliveries exist exactly once per event and
endpoint, whatever the redeliveries. Sending is the delivery job's business, never the consumer's, so
a slow partner never holds up the purchase flow.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.sql.expression import cast
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import webhook_deliveries, webhook_endpoints
from ..domain.webhooks import webhook_id_for, webhook_payload


async def queue_webhooks(session, envelope: Envelope, event_type: str, data: dict | None = None) -> int:
    """Queue `event_type` for every endpoint of the envelope's tenant that listens to it."""
    if envelope.tenant_id is None:
        return 0
    e = webhook_endpoints
    endpoint_ids = (await session.execute(select(e.c.id).where(
        e.c.tenant_id == envelope.tenant_id, e.c.active.is_(True),
        e.c.event_types.op("@>")(cast([event_type], JSONB)),
    ))).scalars().all()
    payload = webhook_payload(event_type, envelope.occurred_at, envelope.data if data is None else data)
    for endpoint_id in endpoint_ids:
        await queue_delivery(session, envelope.tenant_id, endpoint_id, webhook_id_for(envelope.id), event_type,
                             payload)
    return len(endpoint_ids)


async def queue_delivery(session, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, webhook_id: str, event_type: str,
                         payload: str, *, due: datetime | None = None) -> uuid.UUID | None:
    values = {"id": uuid7(), "tenant_id": tenant_id, "endpoint_id": endpoint_id, "webhook_id": webhook_id,
              "event_type": event_type, "payload": payload, "status": "pending"}
    if due is not None:
        values["next_attempt_at"] = due
    inserted = await session.execute(insert(webhook_deliveries).values(**values).on_conflict_do_nothing()
                                     .returning(webhook_deliveries.c.id))
    return inserted.scalar()
