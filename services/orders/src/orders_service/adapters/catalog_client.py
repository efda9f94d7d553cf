"""The catalog over HTTP: stage prices locked per hold, the price quote, promo code redemptions.

Calls carry the caller's bearer token (the catalog verifies it) and a timeout; a catalog that does not
answer, or answers 5xx, is `CatalogUnavailable`; a refusal (4xx problem) is `CatalogRefused`.
"""
from __future__ import annotations

import uuid
from urllib.parse import quote as url_quote

from .service_http import ServiceClient, ServiceRefused, ServiceUnavailable


class CatalogUnavailable(ServiceUnavailable):
    """The catalog did not answer (in time); try again later."""


class CatalogRefused(ServiceRefused):
    pass


class CatalogClient(ServiceClient):
    unavailable, refused, name = CatalogUnavailable, CatalogRefused, "catalog"

    async def allocate_stages(self, token: str, event_id: uuid.UUID, hold_id: uuid.UUID, session_id: uuid.UUID,
                              lines: list[tuple[uuid.UUID, int]]) -> dict:
        body = {"hold_id": str(hold_id), "session_id": str(session_id),
                "lines": [{"zone_id": str(zone_id), "quantity": quantity} for zone_id, quantity in lines]}
        return (await self._call("POST", f"/api/v1/events/{event_id}/stage-allocations", token, body)).json()

    async def release_stages(self, token: str, event_id: uuid.UUID, hold_id: uuid.UUID) -> None:
        await self._call("DELETE", f"/api/v1/events/{event_id}/stage-allocations/{hold_id}", token)

    async def quote(self, token: str, event_id: uuid.UUID, body: dict) -> dict:
        return (await self._call("POST", f"/api/v1/events/{event_id}/quote", token, body, ok=(200,))).json()

    async def redeem_promo(self, token: str, event_id: uuid.UUID, code: str, reference: str, buyer_email: str,
                           quantity: int) -> dict:
        body = {"reference": reference, "buyer_email": buyer_email, "quantity": quantity}
        path = f"/api/v1/events/{event_id}/promo-codes/{url_quote(code, safe='')}/redemptions"
        return (await self._call("POST", path, token, body)).json()

    async def cancel_promo(self, token: str, event_id: uuid.UUID, code: str, reference: str) -> bool:
        """False when there was nothing to cancel (never redeemed, or cancelled already)."""
        path = (f"/api/v1/events/{event_id}/promo-codes/{url_quote(code, safe='')}/redemptions/"
                f"{url_quote(reference, safe='')}")
        try:
            await self._call("DELETE", path, token)
        except CatalogRefused as refused:
            if refused.status == 404:
                return False
            raise
        return True
