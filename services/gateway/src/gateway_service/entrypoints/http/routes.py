"""The gateway's own public endpoints: tokens, accounts and organizers."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from taquilla_platform.auth import Principal, Role, current_principal, require_roles
from taquilla_platform.idempotency import MAX_KEY_LENGTH
from taquilla_platform.problems import Problem, not_found

from ...application.queries import get_tenant, me
from ...application.register_buyer import NewAccount, register_buyer
from ...application.register_tenant import NewTenant, register_tenant
from ...application.sign_in import Credentials, sign_in
from ...domain.routing import API_PREFIX, REQUEST_ID, request_id
from .schemas import Account, Me, RegisteredTenant, Tenant, TokenGrant, problems

router = APIRouter(prefix=API_PREFIX)
bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/v1/auth/token")


def signed_in(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:
    return current_principal(request)


@router.post("/auth/token", tags=["auth"], response_model=TokenGrant, responses=problems(401, 403, 422))
async def issue_token(request: Request, credentials: Credentials) -> dict:
    """Sign in. Staff of one organizer act for it; staff of several choose one with `tenant_id`."""
    container = request.app.state.container
    return await sign_in(container.db, container.passwords, container.tokens, credentials)


@router.post("/auth/register", tags=["auth"], status_code=201, response_model=Account,
             responses=problems(409, 422))
async def register(request: Request, account: NewAccount) -> dict:
    """Create a buyer account."""
    container = request.app.state.container
    return await register_buyer(container.db, container.passwords, account)


@router.get("/me", tags=["auth"], response_model=Me, responses=problems(401))
async def who_am_i(request: Request, principal: Principal = Depends(signed_in)) -> dict:
    found = await me(request.app.state.db, principal)
    if found is None:
        raise Problem(401, "unauthorized", "Authentication required", "This account no longer exists",
                      field="Authorization", headers={"WWW-Authenticate": "Bearer"})
    return found


@router.post("/tenants", tags=["tenants"], status_code=201, response_model=RegisteredTenant,
             responses=problems(401, 403, 409, 422))
async def create_tenant(request: Request, response: Response, new: NewTenant,
                        principal: Principal = Depends(signed_in),
                        idempotency_key: str | None = Header(None, alias="Idempotency-Key",
                                                             max_length=MAX_KEY_LENGTH)) -> dict:
    """Register an organizer and its first admin (platform admins only)."""
    require_roles(principal, Role.PLATFORM_ADMIN)
    container = request.app.state.container
    body, replayed = await register_tenant(
        container.db, container.passwords, principal, new,
        request_id=request_id(request.headers.get(REQUEST_ID)),
        idempotency_key=idempotency_key.strip() if idempotency_key and idempotency_key.strip() else None,
    )
    response.headers["Location"] = f"{API_PREFIX}/tenants/{body['id']}"
    if replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return body


@router.get("/tenants/{tenant_id}", tags=["tenants"], response_model=Tenant, responses=problems(401, 403, 404))
async def read_tenant(request: Request, tenant_id: uuid.UUID, principal: Principal = Depends(signed_in)) -> dict:
    """An organizer, for platform admins and the organizer's own staff."""
    own_staff = principal.tenant_id == tenant_id and principal.has_any(*Role.STAFF)
    if not (own_staff or principal.has_any(Role.PLATFORM_ADMIN)):
        raise Problem(403, "forbidden", "Not allowed", "Only platform admins and this organizer's staff")
    found = await get_tenant(request.app.state.db, tenant_id)
    if found is None:
        raise not_found("Organizer", tenant_id)
    return found
