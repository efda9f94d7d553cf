"""What every request meets first: CORS for organizers' storefront origins, then the rate limits."""
from __future__ import annotations

from fastapi import FastAPI, Request, Response
from taquilla_platform.auth import bearer_token
from taquilla_platform.problems import Problem, problem_response

from ...domain.routing import API_PREFIX

ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Accept, Idempotency-Key, X-API-Key, X-Request-Id, traceparent"
EXPOSED_HEADERS = "Location, Retry-After, Idempotency-Replayed, X-Request-Id"
PREFLIGHT_MAX_AGE = "600"


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def install_edge(app: FastAPI) -> None:
    @app.middleware("http")
    async def rate_limits(request: Request, call_next):
        if request.url.path.startswith(API_PREFIX + "/") and request.method != "OPTIONS":
            container = request.app.state.container
            user_id = None
            token = bearer_token(request)
            if token is not None:
                try:
                    user_id = str(container.tokens.verify(token).user_id)
                except Problem:
                    user_id = None  # the endpoint answers the 401
            problem = await container.limiter.check_request(ip=client_ip(request), user_id=user_id,
                                                            api_key=request.headers.get("x-api-key"))
            if problem is not None:
                return problem_response(problem, request.url.path)
        return await call_next(request)

    @app.middleware("http")  # added last: the outermost, so refusals carry CORS headers too
    async def cors(request: Request, call_next):
        origin = request.headers.get("origin")
        if not origin:
            return await call_next(request)
        allowed = await request.app.state.container.origins.allowed(origin)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            if not allowed:
                return problem_response(Problem(403, "origin-not-allowed", "This origin may not call the API",
                                                f"{origin} is not a storefront origin of an active organizer",
                                                field="Origin", headers={"Vary": "Origin"}), request.url.path)
            return Response(status_code=204, headers={
                "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin"})
        response = await call_next(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"
        return response
