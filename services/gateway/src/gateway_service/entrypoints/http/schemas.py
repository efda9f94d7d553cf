"""What the gateway's own endpoints answer (for the OpenAPI document and response validation)."""
from __future__ import annotations

from pydantic import BaseModel, Field
from taquilla_platform.problems import PROBLEM_JSON


class TokenGrant(BaseModel):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int = Field(description="seconds")
    tenant_id: str | None = Field(description="the organizer the token acts for; none for buyers")
    roles: list[str]


class Account(BaseModel):
    id: str
    email: str
    name: str
    roles: list[str]


class Membership(BaseModel):
    tenant_id: str
    tenant_name: str
    tenant_slug: str
    role: str


class Me(BaseModel):
    id: str
    email: str
    name: str
    is_platform_admin: bool
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


class TenantAdmin(BaseModel):
    user_id: str
    email: str
    role: str
    account_created: bool


class RegisteredTenant(Tenant):
    admin: TenantAdmin


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
