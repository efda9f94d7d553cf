"""Liveness (the process answers) and readiness (its dependencies answer) endpoints, and /metrics."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .problems import PROBLEM_JSON

Check = Callable[[], Awaitable[None]]


class HealthChecks:
    def __init__(self, timeout: float = 2.0):
        self.timeout = timeout
        self.checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def run(self) -> dict[str, str]:
        async def one(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), self.timeout)
                return "ok"
            except Exception as exc:  # a readiness probe reports any failure, it never raises
                return f"failing: {type(exc).__name__}: {exc}"[:300]

        names = list(self.checks)
        results = await asyncio.gather(*(one(self.checks[n]) for n in names))
        return dict(zip(names, results, strict=True))


def health_router(checks: HealthChecks) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/healthz/ready")
    async def ready():
        results = await checks.run()
        ok = all(v == "ok" for v in results.values())
        body = {"status": "ok" if ok else "unavailable", "checks": results}
        if not ok:
            body |= {"type": "https://taquilla.dev/problems/not-ready", "title": "Not ready", "status": 503}
        return JSONResponse(body, status_code=200 if ok else 503, media_type=None if ok else PROBLEM_JSON)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
