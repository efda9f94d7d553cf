"""HTTP calls to the services behind the gateway, over one shared connection pool per process.

The trace context is added by the httpx instrumentation (taquilla_platform.telemetry), not here.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ..config import ProxySettings


class UpstreamError(Exception):
    def __init__(self, upstream: str, reason: str):
        super().__init__(f"{upstream}: {reason}")
        self.upstream = upstream
        self.reason = reason


class UpstreamUnavailable(UpstreamError):
    """Nothing answered: refused, unresolvable, or no connection within the connect timeout."""


class UpstreamTimeout(UpstreamError):
    """Connected, but the answer did not come in time."""


class UpstreamBroken(UpstreamError):
    """The upstream answered something that is not HTTP, or dropped the connection mid-answer."""


@dataclass(frozen=True)
class UpstreamResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    # an answer of unknown length (a streamed export) is passed on as it comes, never held whole
    chunks: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = None


def http_client(settings: ProxySettings) -> httpx.AsyncClient:
    """One pool for every upstream. Every connection it may open is also kept open: the keep-alive limit is
    the pool's, not an upstream's, and a smaller one (it was 50 for seven upstreams) made a busy gateway close
    and reconnect on most requests — a TCP connect per proxied call, a tenth of its CPU in the on-sale rush.
    An idle connection is dropped after 3 s, before the upstream's server closes it (uvicorn: 5 s): reused at
    the moment the server closes it, a request fails with a 502 (one or two per flash-sale run before)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds,
                              pool=settings.connect_timeout_seconds),
        limits=httpx.Limits(max_connections=settings.max_connections,
                            max_keepalive_connections=settings.max_connections, keepalive_expiry=3.0),
        follow_redirects=False,  # a redirect is the caller's to follow
        trust_env=False,  # service-to-service calls never go through an environment proxy
    )


def _upstream_error(upstream: str, exc: httpx.TransportError) -> UpstreamError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return UpstreamUnavailable(upstream, type(exc).__name__)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(upstream, type(exc).__name__)
    return UpstreamBroken(upstream, type(exc).__name__)


class UpstreamClient:
    def __init__(self, client: httpx.AsyncClient, base_urls: dict[str, str]):
        self.client = client
        self.base_urls = base_urls

    def url(self, upstream: str, raw_path: bytes, query: bytes = b"") -> httpx.URL:
        base = httpx.URL(self.base_urls[upstream])
        return base.copy_with(raw_path=base.raw_path.rstrip(b"/") + raw_path + (b"?" + query if query else b""))

    async def forward(self, upstream: str, method: str, raw_path: bytes, query: bytes,
                      headers: dict[str, str], body: bytes) -> UpstreamResponse:
        request = self.client.build_request(method, self.url(upstream, raw_path, query), headers=headers,
                                            content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _upstream_error(upstream, exc) from exc
        if response.status_code == 200 and "content-length" not in response.headers:
            return UpstreamResponse(response.status_code, response.headers, b"",
                                    chunks=response.aiter_raw(), close=response.aclose)
        try:
            await response.aread()
        except httpx.TransportError as exc:
            raise _upstream_error(upstream, exc) from exc
        finally:
            await response.aclose()
        return UpstreamResponse(response.status_code, response.headers, response.content)

    async def fetch_json(self, upstream: str, path: str, *, timeout: float, params: dict[str, str] | None = None,
                         headers: dict[str, str] | None = None) -> Any:
        """GET a JSON document; any failure (an error status too) is an UpstreamError."""
        try:
            response = await self.client.get(self.url(upstream, path.encode()), timeout=timeout, params=params,
                                             headers={"accept": "application/json", **(headers or {})})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UpstreamUnavailable(upstream, f"{type(exc).__name__}: {exc}") from exc
