"""The public paths other services answer: checked here, forwarded there, answered back as they came."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from taquilla_platform.auth import bearer_token
from taquilla_platform.problems import Problem

from ...adapters.upstreams import UpstreamBroken, UpstreamTimeout, UpstreamUnavailable
from ...domain.routing import (
    API_PREFIX,
    PUBLIC_ROUTES,
    REQUEST_ID,
    event_in_path,
    forwarded_request_headers,
    request_id,
    returned_response_headers,
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def proxy_router() -> APIRouter:
    router = APIRouter()
    for segment, upstream in PUBLIC_ROUTES.items():
        endpoint = _forwarder(upstream)
        for path in (f"{API_PREFIX}/{segment}", f"{API_PREFIX}/{segment}/{{rest:path}}"):
            router.add_api_route(path, endpoint, methods=METHODS, include_in_schema=False,
                                 name=f"forward to {upstream}")
    return router


def _forwarder(upstream: str):
    async def forward(request: Request) -> Response:
        return await forward_request(request, upstream)

    return forward


async def forward_request(request: Request, upstream: str) -> Response:
    container = request.app.state.container
    rid = request_id(request.headers.get(REQUEST_ID))
    echo = {"X-Request-Id": rid}
    try:
        forwarded_token = await _caller_token(request, container)
    except Problem as problem:
        problem.headers = {**(problem.headers or {}), **echo}
        raise
    body = await _read_body(request, container.settings.proxy.max_body_bytes)
    headers = forwarded_request_headers(request.headers.items(),
                                        client_host=request.client.host if request.client else None,
                                        request_id=rid, path=request.url.path)
    if forwarded_token is not None:  # an API key travels on as the short-lived token it was exchanged for
        headers["authorization"] = f"Bearer {forwarded_token}"
    raw_path = request.scope.get("raw_path") or quote(request.url.path).encode()
    try:
        answer = await container.upstreams.forward(upstream, request.method, raw_path,
                                                   request.scope.get("query_string", b""), headers, body)
    except UpstreamUnavailable as exc:
        raise Problem(503, "upstream-unavailable", "Service unavailable",
                      f"The {upstream} service cannot be reached; try again shortly", upstream=upstream,
                      headers={"Retry-After": "5", **echo}) from exc
    except UpstreamTimeout as exc:
        raise Problem(504, "upstream-timeout", "Service too slow",
                      f"The {upstream} service did not answer in time", upstream=upstream, headers=echo) from exc
    except UpstreamBroken as exc:
        raise Problem(502, "upstream-error", "Bad answer from a service",
                      f"The {upstream} service gave no valid answer", upstream=upstream, headers=echo) from exc
    headers = returned_response_headers(answer.headers) | echo
    if answer.chunks is not None:  # a download of unknown length: passed on chunk by chunk
        return StreamingResponse(answer.chunks, status_code=answer.status_code, headers=headers,
                                 background=BackgroundTask(answer.close))
    return Response(answer.content, status_code=answer.status_code, headers=headers)


async def _caller_token(request: Request, container) -> str | None:
    """Check the caller before anything is forwarded: a bad token, a revoked session, a suspended
    organizer, an API key without the scope, an operator outside their events never reach a service."""
    api_key = request.headers.get("x-api-key")
    if api_key is not None and "authorization" not in request.headers:
        principal = await container.api_keys.principal_for(api_key.strip(), request.method, request.url.path)
        token, _ = container.tokens.issue(principal, ttl_seconds=container.settings.sessions.api_key_token_ttl_seconds)
        return token
    if "authorization" not in request.headers:
        return None
    token = bearer_token(request)
    if token is None:
        raise Problem(401, "unauthorized", "Authentication required", "Use 'Authorization: Bearer <token>'",
                      field="Authorization", headers={"WWW-Authenticate": "Bearer"})
    principal = await container.guard.check(container.tokens.verify(token))
    if principal.event_ids is not None:
        check_event_limit(principal, request.method, request.url.path)
    return None


def check_event_limit(principal, method: str, path: str) -> None:
    """An operator limited to chosen events changes only those (reading stays as the services decide)."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return
    event = event_in_path(path)
    if event is None or not principal.may_act_on_event(event):
        raise Problem(403, "event-not-allowed", "Not one of your events",
                      "This account may only manage the events it was given", field="event_id")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "payload-too-large", "Request body too large", f"At most {limit} bytes")
