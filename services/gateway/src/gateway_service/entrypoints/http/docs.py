"""/openapi.json and /docs show the whole public API, not only the gateway's own endpoints."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ...application.public_api import PublicApiDocs


def install_public_docs(app: FastAPI, docs: PublicApiDocs) -> None:
    # FastAPI registers its own schema route first; the merged one replaces it at the same URL
    app.router.routes = [route for route in app.router.routes if getattr(route, "path", None) != app.openapi_url]

    async def public_openapi(request: Request) -> JSONResponse:
        return JSONResponse(await docs.document())

    app.add_api_route(app.openapi_url, public_openapi, include_in_schema=False)
