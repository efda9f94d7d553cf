"""The tickets service over HTTP: reserving a resale listing for a resale order until its payment deadline."""
from __future__ import annotations

import uuid
from datetime import datetime

from .service_http import ServiceClient, ServiceRefused, ServiceUnavailable


class TicketsUnavailable(ServiceUnavailable):
    """The tickets service did not answer (in time); try again later."""


class TicketsRefused(ServiceRefused):
    pass


class TicketsClient(ServiceClient):
    unavailable, refused, name = TicketsUnavailable, TicketsRefused, "tickets"

    async def reserve_listing(self, token: str, listing_id: uuid.UUID, order_id: uuid.UUID,
                              buyer_user_id: uuid.UUID, reserved_until: datetime) -> dict:
        """The listing, its ticket's unit and the seller's order; the same order asking again gets the same."""
        body = {"order_id": str(order_id), "buyer_user_id": str(buyer_user_id),
                "reserved_until": reserved_until.isoformat()}
        return (await self._call("POST", f"/api/v1/tickets/resale/listings/{listing_id}/reservations", token, body,
                                 ok=(200,))).json()
