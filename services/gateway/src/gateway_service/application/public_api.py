"""The whole public API as one OpenAPI document, assembled at request time from the upstreams' own.

Each upstream's document is kept for a short while; an upstream that does not answer is left out
(and asked again sooner than a healthy one), so the docs never wait on a service that is down.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ..adapters.upstreams import UpstreamClient, UpstreamError
from ..domain.public_api import merge_openapi

UPSTREAM_OPENAPI_PATH = "/internal/openapi.json"
FAILURE_CACHE_SECONDS = 5.0
log = logging.getLogger("taquilla.gateway.docs")


class PublicApiDocs:
    def __init__(self, upstreams: UpstreamClient, own: Callable[[], dict[str, Any]], *, timeout: float,
                 cache_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._upstreams = upstreams
        self._own = own
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}  # upstream -> (expires, doc)
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        async with self._lock:  # one refresh at a time: a burst of /docs visits fetches once
            now = self._clock()
            stale = [name for name in self._upstreams.base_urls
                     if name not in self._cache or self._cache[name][0] <= now]
            if stale:
                fetched = await asyncio.gather(*(self._fetch(name) for name in stale))
                for name, doc in zip(stale, fetched, strict=True):
                    ttl = self._cache_seconds if doc is not None else min(self._cache_seconds, FAILURE_CACHE_SECONDS)
                    self._cache[name] = (now + ttl, doc)
            docs = {name: doc for name, (_, doc) in self._cache.items() if doc is not None}
        return merge_openapi(self._own(), docs)

    async def _fetch(self, upstream: str) -> dict[str, Any] | None:
        try:
            doc = await self._upstreams.fetch_json(upstream, UPSTREAM_OPENAPI_PATH, timeout=self._timeout)
        except UpstreamError as exc:
            log.warning("left %s out of the API docs: %s", upstream, exc.reason)
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
            log.warning("left %s out of the API docs: not an OpenAPI document", upstream)
            return None
        return doc
