"""What the gateway's own endpoints answer (for the OpenAPI document and response validation)."""
from __future__ import annotations

from pydantic import BaseModel, Field
from taquilla_platform.problems import PROBLEM_JSON


class TokenGrant(BaseModel):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int = Field(description="seconds")
    refresh_token: str = Field(description="use once with POST /api/v1/auth/refresh; a reused one ends the session")
    refresh_expires_in: int = Field(description="seconds")
    tenant_id: str | None = Field(description="the organizer the token acts for; none for buyers")
    roles: list[str]
    event_ids: list[str] | None = Field(None, description="an operator limited to these events")


class Account(BaseModel):
    id: str
    email: str
    name: str
    roles: list[str]
    email_verified: bool = False


class Membership(BaseModel):
    tenant_id: str
    tenant_name: str
    tenant_slug: str
    role: str
    tenant_status: str
    event_ids: list[str] | None = None


class Me(BaseModel):
    id: str
    email: str
    name: str
    is_platform_admin: bool
    email_verified: bool
    two_factor_enabled: bool
    event_ids: list[str] | None = None
    tenant_id: str | None
    roles: list[str]
    memberships: list[Membership]


class Tenant(BaseModel):
    id: str
    name: str
    slug: str
    legal_name: str
    tax_id: str
    registry_number: str | None
    address: str | None
    city: str | None
    country: str
    currency: str
    time_zone: str
    status: str
    created_at: str
    updated_at: str
    branding: dict[str, str]
    storefront_origins: list[str]
    require_staff_2fa: bool
    status_changed_at: str | None


class TenantAdmin(BaseModel):
    user_id: str
    email: str
    role: str
    account_created: bool


class RegisteredTenant(Tenant):
    admin: TenantAdmin


class Member(BaseModel):
    user_id: str
    email: str
    name: str
    role: str
    event_ids: list[str] | None
    two_factor_enabled: bool
    account_created: bool | None = None


class ApiKey(BaseModel):
    id: str
    tenant_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class NewApiKeyAnswer(ApiKey):
    key: str = Field(description="shown only now: store it, it cannot be read again")


class AuditEntry(BaseModel):
    id: int
    tenant_id: str
    actor_user_id: str
    actor_email: str | None
    action: str
    subject_type: str
    subject_id: str
    before: dict | None
    after: dict | None
    details: dict
    ip: str | None
    request_id: str | None
    occurred_at: str


class TwoFactorSetup(BaseModel):
    secret: str
    provisioning_uri: str = Field(description="otpauth:// URI for authenticator apps")
    qr_code_svg: str = Field(description="the URI as a QR code, an SVG data URI")


class RecoveryCodes(BaseModel):
    enabled: bool
    recovery_codes: list[str] = Field(description="shown only now; each works once instead of a code")


class ProblemDetails(BaseModel):  # flat, so its JSON schema can be given inline for problem+json
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, str]] | None = Field(None, description="[{field, detail}] for each field at fault")


def problems(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for the problem+json answers an endpoint can give."""
    schema = ProblemDetails.model_json_schema()
    return {status: {"description": "A problem", "content": {PROBLEM_JSON: {"schema": schema}}}
            for status in statuses}
