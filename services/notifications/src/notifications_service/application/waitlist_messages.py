"""`waitlist_offer`: units were released and are held for the head of a waitlist until the offer expires.

Written to the entry's contact address (none: nothing to send, logged), in the event's time zone when
notifications knows the session's event, else in UTC. One email per offer (its hold).
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.inventory import WaitlistOffered
from taquilla_messaging import PermanentError

from ..adapters.tables import event_sessions, events
from ..adapters.templates import TemplateRenderer
from .queue_message import Recipient, queue_message

log = logging.getLogger("taquilla.notifications.waitlist")
WAITLIST_OFFER = "waitlist_offer"


async def offered_session_facts(session, tenant_id, offered: WaitlistOffered) -> dict:
    row = (await session.execute(
        select(event_sessions.c.starts_at, events.c.title, events.c.time_zone, events.c.venue_name,
               events.c.organizer_name, events.c.zones)
        .join(events, (events.c.tenant_id == event_sessions.c.tenant_id)
              & (events.c.event_id == event_sessions.c.event_id))
        .where(event_sessions.c.tenant_id == tenant_id, event_sessions.c.session_id == offered.session_id))).first()
    if row is None:
        return {"event_title": "", "session_starts_at": None, "time_zone": None, "venue_name": None,
                "organizer_name": None, "zone_name": ""}
    return {"event_title": row.title, "session_starts_at": row.starts_at, "time_zone": row.time_zone,
            "venue_name": row.venue_name, "organizer_name": row.organizer_name,
            "zone_name": (row.zones or {}).get(str(offered.zone_id), "")}


async def queue_waitlist_offer(session, envelope: Envelope, offered: WaitlistOffered, renderer: TemplateRenderer,
                               language: str, claim_url: str) -> bool:
    tenant_id = envelope.tenant_id
    if tenant_id is None:
        raise PermanentError("inventory.waitlist.offered without a tenant: no organizer to write on behalf of")
    address = (offered.contact_email or "").strip()
    if not address:
        log.warning("waitlist offer %s (entry %s) has no contact email: nobody to tell", offered.hold_id,
                    offered.entry_id)
        return False
    context = {"buyer_name": "", "quantity": offered.quantity, "offer_expires_at": offered.expires_at,
               "claim_url": claim_url} | await offered_session_facts(session, tenant_id, offered)
    await queue_message(session, renderer, tenant_id=tenant_id, template=WAITLIST_OFFER,
                        recipient=Recipient(address, ""), context=context, default_language=language,
                        reference=str(offered.hold_id),
                        correlation_id=envelope.correlation_id or str(offered.entry_id), causation_id=envelope.id)
    return True
