"""Another Taquilla service over HTTP, with orders' service token and a timeout: a service that does not
answer, or answers 5xx or 429, is `unavailable`; a refusal (a 4xx problem) is `refused`."""
from __future__ import annotations

import httpx


class ServiceUnavailable(Exception):
    """The service did not answer (in time); try again later."""


class ServiceRefused(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(problem.get("detail") or problem.get("title") or f"answered {status}")
        self.status, self.problem = status, problem

    @property
    def slug(self) -> str:
        return str(self.problem.get("type", "refused")).rsplit("/", 1)[-1]

    @property
    def field(self) -> str | None:
        errors = self.problem.get("errors") or []
        return errors[0].get("field") if errors else None


class ServiceClient:
    unavailable: type[ServiceUnavailable] = ServiceUnavailable
    refused: type[ServiceRefused] = ServiceRefused
    name = "service"

    def __init__(self, base_url: str, timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None):
        # as many connections kept open as may be opened: with httpx's default (20 kept of 100) an on-sale rush
        # of concurrent placements closed and reopened a connection to the service on most calls; an idle one is
        # dropped after 3 s, before the service's server closes it (5 s), so a call never races that close
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_seconds),
                                      limits=httpx.Limits(max_connections=100, max_keepalive_connections=100,
                                                          keepalive_expiry=3.0),
                                      transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, token: str, body: dict | None = None,
                    ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
        try:
            response = await self.http.request(method, path, json=body,
                                               headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise self.unavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in ok:
            return response
        if response.status_code >= 500 or response.status_code == 429:
            raise self.unavailable(f"{self.name} answered {response.status_code}")
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.text[:200]}
        raise self.refused(response.status_code, problem if isinstance(problem, dict) else {})
