"""The catalog over HTTP: stage prices locked per hold, the price quote, promo code redemptions.

Calls carry the caller's bearer token (the catalog verifies it) and a timeout; a catalog that does not
answer, or answers 5xx, is `CatalogUnavailable`; a refusal (4xx problem) is `CatalogRefused`.
"""
from __future__ import annotations

import uuid
from urllib.parse import quote as url_quote

import httpx


class CatalogUnavailable(Exception):
    """The catalog did not answer (in time); try again later."""


class CatalogRefused(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(problem.get("detail") or problem.get("title") or f"catalog answered {status}")
        self.status, self.problem = status, problem

    @property
    def slug(self) -> str:
        return str(self.problem.get("type", "catalog-refused")).rsplit("/", 1)[-1]

    @property
    def field(self) -> str | None:
        errors = self.problem.get("errors") or []
        return errors[0].get("field") if errors else None


class CatalogClient:
    def __init__(self, base_url: str, timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None):
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_seconds),
                                      transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, token: str, body: dict | None = None,
                    ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
        try:
            response = await self.http.request(method, path, json=body,
                                               headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise CatalogUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in ok:
            return response
        if response.status_code >= 500 or response.status_code == 429:
            raise CatalogUnavailable(f"catalog answered {response.status_code}")
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.text[:200]}
        raise CatalogRefused(response.status_code, problem if isinstance(problem, dict) else {})

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
