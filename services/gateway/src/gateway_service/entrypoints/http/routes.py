"""The gateway's own public endpoints: sign-in and sessions, accounts, organizers and their staff, keys
and audit trail."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from taquilla_platform.auth import Principal, Role, current_principal, require_roles
from taquilla_platform.idempotency import MAX_KEY_LENGTH
from taquilla_platform.problems import Problem, not_found

from ...application.account_tokens import (
    EmailToken,
    NewPassword,
    PasswordChange,
    ResetRequest,
    change_password,
    request_password_reset,
    resend_verification,
    reset_password,
    verify_email,
)
from ...application.api_keys import NewApiKey, create_api_key, list_api_keys, revoke_api_key
from ...application.audit import RequestContext, read_audit_log
from ...application.manage_tenants import STATUSES, TenantChanges, change_status, list_tenants, update_tenant
from ...application.members import STAFF_ROLES, NewMember, grant_role, list_members, revoke_role
from ...application.queries import get_tenant, me
from ...application.register_buyer import NewAccount, register_buyer
from ...application.register_tenant import NewTenant, register_tenant
from ...application.sign_in import Credentials, sign_in
from ...domain.routing import API_PREFIX, REQUEST_ID, request_id
from .edge import client_ip
from .schemas import (
    Account,
    ApiKey,
    AuditEntry,
    Me,
    Member,
    NewApiKeyAnswer,
    RecoveryCodes,
    RegisteredTenant,
    Tenant,
    TokenGrant,
    TwoFactorSetup,
    problems,
)

router = APIRouter(prefix=API_PREFIX)
bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/v1/auth/token")


async def signed_in(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:
    return await request.app.state.container.guard.check(current_principal(request))


async def enrolling(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:
    """Signed in, or holding the setup token of an organizer that requires two-factor sign-in."""
    return await request.app.state.container.guard.check(current_principal(request), allow_two_factor_setup=True)


def context(request: Request) -> RequestContext:
    return RequestContext(ip=client_ip(request), request_id=request_id(request.headers.get(REQUEST_ID)))


def _hidden(tenant_id: uuid.UUID) -> Problem:
    # another organizer's things do not exist for you: the same answer as an unknown id
    return not_found("Organizer", tenant_id)


def tenant_staff(principal: Principal, tenant_id: uuid.UUID) -> Principal:
    """Platform admins, or staff acting for this very organizer."""
    if principal.has_any(Role.PLATFORM_ADMIN):
        return principal
    if principal.tenant_id == tenant_id and principal.has_any(*Role.STAFF):
        return principal
    raise _hidden(tenant_id)


def tenant_admin(principal: Principal, tenant_id: uuid.UUID) -> Principal:
    tenant_staff(principal, tenant_id)
    if not principal.has_any(Role.PLATFORM_ADMIN, Role.TENANT_ADMIN):
        raise Problem(403, "forbidden", "Not allowed", "Only this organizer's admins and platform admins")
    return principal


# -- sign-in and sessions -------------------------------------------------------------------------

class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(None, max_length=200)


@router.post("/auth/token", tags=["auth"], response_model=TokenGrant, responses=problems(401, 403, 422, 429))
async def issue_token(request: Request, credentials: Credentials) -> dict:
    """Sign in. Staff of one organizer act for it; staff of several choose one with `tenant_id`.
    Accounts with two-factor sign-in also send `otp`. Repeated failures lock sign-in for a growing time."""
    c = request.app.state.container
    return await sign_in(c.db, c.passwords, c.tokens, credentials, sessions=c.sessions, limiter=c.limiter,
                         box=c.secret_box, ip=client_ip(request),
                         setup_token_ttl=c.settings.sessions.two_factor_setup_ttl_seconds)


@router.post("/auth/refresh", tags=["auth"], response_model=TokenGrant, responses=problems(401, 403, 422))
async def refresh_token(request: Request, body: RefreshRequest) -> dict:
    """A new access token and a new refresh token for a refresh token, which is then used up. Using one
    a second time revokes every token of that sign-in."""
    return await request.app.state.container.sessions.refresh(body.refresh_token)


@router.post("/auth/logout", tags=["auth"], status_code=204, responses=problems(401, 422))
async def logout(request: Request, body: LogoutRequest | None = None,
                 _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Response:
    """End the session of the refresh token sent, or of the access token used: both stop working."""
    session_id = None
    if "authorization" in request.headers:
        session_id = current_principal(request).session_id
    refresh = body.refresh_token if body else None
    if not refresh and not session_id:
        raise Problem(422, "session-required", "Nothing to sign out",
                      "Send the refresh_token, or the access token of a session", field="refresh_token")
    await request.app.state.container.sessions.end(refresh_token=refresh, session_id=session_id)
    return Response(status_code=204)


# -- accounts -------------------------------------------------------------------------------------

@router.post("/auth/register", tags=["auth"], status_code=201, response_model=Account,
             responses=problems(409, 422))
async def register(request: Request, account: NewAccount) -> dict:
    """Create a buyer account; an email asks them to verify the address."""
    c = request.app.state.container
    return await register_buyer(c.db, c.passwords, account,
                                verification_ttl=c.settings.sessions.email_verification_ttl_seconds)


@router.post("/auth/verify-email", tags=["auth"], responses=problems(422))
async def confirm_email(request: Request, body: EmailToken) -> dict:
    """Verify an address with the token from the email."""
    return await verify_email(request.app.state.container.db, body.token)


@router.post("/auth/verify-email/resend", tags=["auth"], status_code=202, responses=problems(401, 409))
async def resend_email(request: Request, principal: Principal = Depends(signed_in)) -> dict:
    c = request.app.state.container
    await resend_verification(c.db, principal, c.settings.sessions.email_verification_ttl_seconds)
    return {"status": "sent"}


@router.post("/auth/password-reset", tags=["auth"], status_code=202, responses=problems(422))
async def forgot_password(request: Request, body: ResetRequest) -> dict:
    """Email a reset link. The answer is the same whether or not the address has an account."""
    c = request.app.state.container
    await request_password_reset(c.db, body.email, c.settings.sessions.password_reset_ttl_seconds)
    return {"status": "if this address has an account, a reset link is on its way"}


@router.post("/auth/password-reset/confirm", tags=["auth"], status_code=204, responses=problems(422))
async def choose_password(request: Request, body: NewPassword) -> Response:
    """Set a new password with the emailed token; every session of the account is signed out."""
    c = request.app.state.container
    await reset_password(c.db, c.passwords, c.sessions, c.limiter, body)
    return Response(status_code=204)


@router.post("/auth/password", tags=["auth"], status_code=204, responses=problems(401, 422))
async def new_password(request: Request, body: PasswordChange, principal: Principal = Depends(signed_in)) -> Response:
    """Change your password; your other sessions are signed out."""
    c = request.app.state.container
    await change_password(c.db, c.passwords, c.sessions, principal, body)
    return Response(status_code=204)


class Code(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="from the authenticator app")


class DisableTwoFactor(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(min_length=1, max_length=64, description="an authenticator or recovery code")


@router.post("/auth/2fa/setup", tags=["auth"], response_model=TwoFactorSetup, responses=problems(401, 409))
async def two_factor_setup(request: Request, principal: Principal = Depends(enrolling)) -> dict:
    """Start enrolling an authenticator: scan the QR code (or enter the secret), then confirm a code."""
    return await request.app.state.container.two_factor.setup(principal)


@router.post("/auth/2fa/enable", tags=["auth"], response_model=RecoveryCodes, responses=problems(401, 409, 422))
async def two_factor_enable(request: Request, body: Code, principal: Principal = Depends(enrolling)) -> dict:
    """Turn two-factor sign-in on with a first code; the recovery codes are shown only now."""
    return await request.app.state.container.two_factor.enable(principal, body.code)


@router.post("/auth/2fa/disable", tags=["auth"], status_code=204, responses=problems(401, 409, 422))
async def two_factor_disable(request: Request, body: DisableTwoFactor,
                             principal: Principal = Depends(signed_in)) -> Response:
    await request.app.state.container.two_factor.disable(principal, body.password, body.code)
    return Response(status_code=204)


@router.get("/me", tags=["auth"], response_model=Me, responses=problems(401))
async def who_am_i(request: Request, principal: Principal = Depends(signed_in)) -> dict:
    found = await me(request.app.state.db, principal)
    if found is None:
        raise Problem(401, "unauthorized", "Authentication required", "This account no longer exists",
                      field="Authorization", headers={"WWW-Authenticate": "Bearer"})
    return found


# -- organizers -----------------------------------------------------------------------------------

@router.get("/tenants", tags=["tenants"], response_model=list[Tenant], responses=problems(401, 403, 422))
async def all_tenants(request: Request, status: Literal[STATUSES] | None = None,  # type: ignore[valid-type]
                      limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(signed_in)) -> list:
    """Every organizer (platform admins only)."""
    require_roles(principal, Role.PLATFORM_ADMIN)
    return await list_tenants(request.app.state.db, status=status, limit=limit)


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
        ip=client_ip(request),
    )
    response.headers["Location"] = f"{API_PREFIX}/tenants/{body['id']}"
    if replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return body


@router.get("/tenants/{tenant_id}", tags=["tenants"], response_model=Tenant, responses=problems(401, 404))
async def read_tenant(request: Request, tenant_id: uuid.UUID, principal: Principal = Depends(signed_in)) -> dict:
    """An organizer, for platform admins and the organizer's own staff."""
    tenant_staff(principal, tenant_id)
    found = await get_tenant(request.app.state.db, tenant_id)
    if found is None:
        raise not_found("Organizer", tenant_id)
    return found


@router.patch("/tenants/{tenant_id}", tags=["tenants"], response_model=Tenant,
              responses=problems(401, 403, 404, 422))
async def change_tenant(request: Request, tenant_id: uuid.UUID, changes: TenantChanges,
                        principal: Principal = Depends(signed_in)) -> dict:
    """Change legal data, branding, storefront origins or the two-factor requirement (tenant admins and
    platform admins). Announced to the other services again."""
    tenant_admin(principal, tenant_id)
    c = request.app.state.container
    updated = await update_tenant(c.db, principal, tenant_id, changes, context(request))
    c.origins.forget()
    return updated


class StatusChange(BaseModel):
    reason: str | None = Field(None, max_length=500)


async def _lifecycle(request: Request, tenant_id: uuid.UUID, action: str, body: StatusChange | None,
                     principal: Principal) -> dict:
    c = request.app.state.container
    updated = await change_status(c.db, principal, tenant_id, action, body.reason if body else None,
                                  context(request))
    await c.guard.forget_tenant(tenant_id)
    c.origins.forget()
    return updated


@router.post("/tenants/{tenant_id}/suspend", tags=["tenants"], response_model=Tenant,
             responses=problems(401, 403, 404, 409))
async def suspend_tenant(request: Request, tenant_id: uuid.UUID, body: StatusChange | None = None,
                         principal: Principal = Depends(signed_in)) -> dict:
    """Suspend an organizer (platform admins): its staff, keys and storefront are refused; its data stays."""
    require_roles(principal, Role.PLATFORM_ADMIN)
    return await _lifecycle(request, tenant_id, "suspend", body, principal)


@router.post("/tenants/{tenant_id}/request-deletion", tags=["tenants"], response_model=Tenant,
             responses=problems(401, 403, 404, 409))
async def request_tenant_deletion(request: Request, tenant_id: uuid.UUID, body: StatusChange | None = None,
                                  principal: Principal = Depends(signed_in)) -> dict:
    """Mark an organizer pending deletion (its admins or platform admins); refused like a suspension."""
    tenant_admin(principal, tenant_id)
    return await _lifecycle(request, tenant_id, "request-deletion", body, principal)


@router.post("/tenants/{tenant_id}/reactivate", tags=["tenants"], response_model=Tenant,
             responses=problems(401, 403, 404, 409))
async def reactivate_tenant(request: Request, tenant_id: uuid.UUID, body: StatusChange | None = None,
                            principal: Principal = Depends(signed_in)) -> dict:
    """Bring a suspended or pending-deletion organizer back (platform admins)."""
    require_roles(principal, Role.PLATFORM_ADMIN)
    return await _lifecycle(request, tenant_id, "reactivate", body, principal)


# -- staff ----------------------------------------------------------------------------------------

@router.get("/tenants/{tenant_id}/members", tags=["staff"], response_model=list[Member],
            responses=problems(401, 403, 404))
async def members(request: Request, tenant_id: uuid.UUID, principal: Principal = Depends(signed_in)) -> list:
    tenant_admin(principal, tenant_id)
    return await list_members(request.app.state.db, tenant_id)


@router.post("/tenants/{tenant_id}/members", tags=["staff"], status_code=201, response_model=Member,
             responses=problems(401, 403, 404, 422))
async def add_member(request: Request, tenant_id: uuid.UUID, new: NewMember,
                     principal: Principal = Depends(signed_in)) -> dict:
    """Give someone a role here (an operator can be limited to `event_ids`). Without an account, one is
    made and they are emailed a link to choose their password."""
    tenant_admin(principal, tenant_id)
    c = request.app.state.container
    return await grant_role(c.db, c.passwords, principal, tenant_id, new, context(request),
                            invitation_ttl=c.settings.sessions.invitation_ttl_seconds)


@router.delete("/tenants/{tenant_id}/members/{user_id}/roles/{role}", tags=["staff"], status_code=204,
               responses=problems(401, 403, 404, 409))
async def remove_member_role(request: Request, tenant_id: uuid.UUID, user_id: uuid.UUID,
                             role: Literal[STAFF_ROLES],  # type: ignore[valid-type]
                             principal: Principal = Depends(signed_in)) -> Response:
    tenant_admin(principal, tenant_id)
    await revoke_role(request.app.state.db, principal, tenant_id, user_id, role, context(request))
    return Response(status_code=204)


# -- API keys -------------------------------------------------------------------------------------

@router.post("/tenants/{tenant_id}/api-keys", tags=["api keys"], status_code=201, response_model=NewApiKeyAnswer,
             responses=problems(401, 403, 404, 422))
async def new_api_key(request: Request, tenant_id: uuid.UUID, new: NewApiKey,
                      principal: Principal = Depends(signed_in)) -> dict:
    """Create a key for a partner or integration. The key is in this answer only; send it as `X-API-Key`."""
    tenant_admin(principal, tenant_id)
    if principal.kind != "user":
        raise Problem(403, "forbidden", "Not allowed", "API keys are created by people, not by other keys")
    return await create_api_key(request.app.state.db, principal, tenant_id, new, context(request))


@router.get("/tenants/{tenant_id}/api-keys", tags=["api keys"], response_model=list[ApiKey],
            responses=problems(401, 403, 404))
async def api_keys(request: Request, tenant_id: uuid.UUID, principal: Principal = Depends(signed_in)) -> list:
    tenant_admin(principal, tenant_id)
    return await list_api_keys(request.app.state.db, tenant_id)


@router.delete("/tenants/{tenant_id}/api-keys/{key_id}", tags=["api keys"], response_model=ApiKey,
               responses=problems(401, 403, 404))
async def revoke_key(request: Request, tenant_id: uuid.UUID, key_id: uuid.UUID,
                     principal: Principal = Depends(signed_in)) -> dict:
    """Revoke a key: it stops working at once."""
    tenant_admin(principal, tenant_id)
    return await revoke_api_key(request.app.state.db, principal, tenant_id, key_id, context(request))


# -- audit trail ----------------------------------------------------------------------------------

@router.get("/tenants/{tenant_id}/audit-log", tags=["audit"], response_model=list[AuditEntry],
            responses=problems(401, 403, 404, 422))
async def audit_log(request: Request, tenant_id: uuid.UUID, limit: int = Query(50, ge=1, le=500),
                    before: int | None = Query(None, ge=1, description="entries older than this id (paging)"),
                    principal: Principal = Depends(signed_in)) -> list:
    """Administrative actions at this organizer, newest first (its admins and platform admins; read-only)."""
    tenant_admin(principal, tenant_id)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await read_audit_log(uow.session, limit=limit, before_id=before)
