"""Access tokens: issued by the gateway, verified again by every service that receives them."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import jwt
from fastapi import Request

from .problems import Problem
from .settings import AuthSettings

ALGORITHM = "HS256"


class Role:
    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    EVENT_OPERATOR = "event_operator"
    CASHIER = "box_office_cashier"
    SCANNER = "scanner_device"
    BUYER = "buyer"

    STAFF = frozenset({TENANT_ADMIN, EVENT_OPERATOR, CASHIER})


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str
    roles: frozenset[str] = field(default_factory=frozenset)
    tenant_id: uuid.UUID | None = None  # staff act for one tenant at a time; buyers have none
    # additive claims (absent from older tokens): an operator limited to chosen events, an API key's
    # scopes, the sign-in session (refresh-token family) the token belongs to, and who the caller is
    event_ids: frozenset[str] | None = None  # None: every event of the tenant
    scopes: frozenset[str] | None = None  # None: not an API key, the roles decide
    session_id: str | None = None
    kind: str = "user"  # "user", "api_key", or "service" (one Taquilla service calling another)
    time_zone: str | None = None  # the tenant's IANA time zone, for reports' day boundaries

    def may_act_on_event(self, event_id: uuid.UUID | str) -> bool:
        return self.event_ids is None or str(event_id) in self.event_ids

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class TokenService:
    def __init__(self, settings: AuthSettings):
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.issuer
        self._ttl = settings.access_token_ttl_seconds

    def issue(self, principal: Principal, *, ttl_seconds: int | None = None) -> tuple[str, int]:
        now = int(time.time())
        ttl = ttl_seconds if ttl_seconds is not None else self._ttl
        claims = {
            "iss": self._issuer,
            "sub": str(principal.user_id),
            "email": principal.email,
            "roles": sorted(principal.roles),
            "tid": str(principal.tenant_id) if principal.tenant_id else None,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if principal.event_ids is not None:
            claims["evt"] = sorted(principal.event_ids)
        if principal.scopes is not None:
            claims["scp"] = sorted(principal.scopes)
        if principal.session_id is not None:
            claims["sid"] = principal.session_id
        if principal.kind != "user":
            claims["knd"] = principal.kind
        if principal.time_zone is not None:
            claims["tz"] = principal.time_zone
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), ttl

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=self._issuer,
                                options={"require": ["exp", "sub", "iss"]})
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized("The access token is not valid") from exc
        return Principal(
            user_id=uuid.UUID(claims["sub"]),
            email=claims.get("email", ""),
            roles=frozenset(claims.get("roles", [])),
            tenant_id=uuid.UUID(claims["tid"]) if claims.get("tid") else None,
            event_ids=frozenset(claims["evt"]) if isinstance(claims.get("evt"), list) else None,
            scopes=frozenset(claims["scp"]) if isinstance(claims.get("scp"), list) else None,
            session_id=claims.get("sid"),
            kind=claims.get("knd", "user"),
            time_zone=claims.get("tz") if isinstance(claims.get("tz"), str) else None,
        )


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Authentication required", detail, field="Authorization",
                   headers={"WWW-Authenticate": "Bearer"})


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller (the app keeps its TokenService in `app.state.tokens`)."""
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("Send an access token as 'Authorization: Bearer <token>'")
    return request.app.state.tokens.verify(token)


def require_roles(principal: Principal, *roles: str) -> Principal:
    if not principal.has_any(*roles):
        raise Problem(403, "forbidden", "Not allowed", f"This needs one of the roles: {', '.join(roles)}")
    return principal


SERVICE = "service"


def require_service(principal: Principal) -> Principal:
    """Steps only another Taquilla service takes (it mints its token with the shared secret; no person,
    device or API key holds one)."""
    if principal.kind != SERVICE:
        raise Problem(403, "forbidden", "Not allowed", "Only Taquilla's own services take this step")
    return principal


def require_staff_of_tenant(principal: Principal) -> uuid.UUID:
    require_roles(principal, *Role.STAFF)
    if principal.tenant_id is None:
        raise Problem(403, "forbidden", "No organizer selected", "Sign in as staff of an organizer")
    return principal.tenant_id


REPORT_READERS = (Role.TENANT_ADMIN, Role.EVENT_OPERATOR)


def require_report_reader(principal: Principal, event_id: uuid.UUID | None = None,
                          roles: tuple[str, ...] = REPORT_READERS) -> uuid.UUID:
    """An organizer's admin or event operator reading its reports: the tenant, or 403. An operator limited to
    some events asking for another one gets a 403 naming event_id."""
    tenant_id = require_staff_of_tenant(principal)
    require_roles(principal, *roles)
    if event_id is not None and not principal.may_act_on_event(event_id):
        raise Problem(403, "forbidden", "Not allowed", f"You do not operate event {event_id}", field="event_id")
    return tenant_id


def report_events(principal: Principal, event_id: uuid.UUID | None = None) -> frozenset[uuid.UUID] | None:
    """The events a report covers: the one asked for, else those an operator is limited to (None: all)."""
    if event_id is not None:
        return frozenset({event_id})
    if principal.event_ids is None:
        return None
    return frozenset(uuid.UUID(e) for e in principal.event_ids)
