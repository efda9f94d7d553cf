"""Templates, buyer preferences and announcements, for the organizer's staff and for buyers themselves."""
from __future__ import annotations

import uuid
from html import escape
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from taquilla_platform.auth import Principal, Role, current_principal, require_roles, require_staff_of_tenant
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint, require_idempotency_key
from taquilla_platform.problems import Problem
from taquilla_platform.validation import EmailAddress, normalize_email

from ...adapters.tables import idempotency
from ...adapters.templates import TemplateRenderer
from ...application import templates_admin, tenants
from ...application.announce import announce
from ...application.preferences import get_preferences, set_preferences
from ...application.queue_message import Recipient
from ...domain.messages import is_phone_number
from ...domain.unsubscribe import InvalidToken, read_unsubscribe_token

router = APIRouter(prefix="/api/v1/notifications", tags=["templates", "preferences"])
renderer = TemplateRenderer()
idempotency_keys = IdempotencyStore(idempotency)


class TemplateParts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    sms: str | None = None

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = "es"
    context: dict[str, Any] | None = None
    draft: TemplateParts = TemplateParts()


class PreferencesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str | None = None
    phone: str | None = Field(None, description="E.164, e.g. +584141234567")
    email_marketing: bool | None = None
    sms_transactional: bool | None = None
    sms_marketing: bool | None = None
    whatsapp_transactional: bool | None = None
    whatsapp_marketing: bool | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value):
        if value is not None and value not in ("es", "en"):
            raise ValueError("language must be 'es' or 'en'")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value):
        if value is not None and not is_phone_number(value.replace(" ", "")):
            raise ValueError("phone must be in E.164 form: + country code and number, e.g. +584141234567")
        return value.replace(" ", "") if value else value


class AnnouncementRecipient(BaseModel):
    email: EmailAddress
    name: str = Field("", max_length=200)
    language: str | None = None


class AnnouncementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headline: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)
    url: str | None = Field(None, max_length=2000)
    event_id: uuid.UUID | None = None
    recipients: list[AnnouncementRecipient] | None = Field(None, max_length=10_000)


class TenantSettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_language: Literal["es", "en"] | None = Field(
        description="the language buyers without a choice of their own are written in; null: from the country")


def staff_tenant(principal: Principal = Depends(current_principal)) -> uuid.UUID:
    return require_staff_of_tenant(principal)


@router.get("/settings")
async def tenant_settings(request: Request, tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await tenants.get_settings(uow.session, tenant_id)


@router.put("/settings")
async def set_tenant_settings(request: Request, body: TenantSettingsChange,
                              tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        saved = await tenants.set_default_language(uow.session, tenant_id, body.default_language)
        await uow.commit()
    return saved


@router.get("/templates")
async def templates(request: Request, tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return {"items": await templates_admin.list_templates(uow.session)}


@router.get("/templates/{template}/{language}")
async def template(request: Request, template: str, language: str,
                   tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await templates_admin.template_sources(uow.session, renderer, tenant_id, template, language)


@router.put("/templates/{template}/{language}")
async def override(request: Request, template: str, language: str, body: TemplateParts,
                   tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        saved = await templates_admin.save_overrides(uow.session, renderer, tenant_id, template, language,
                                                     body.given())
        await uow.commit()
    return saved


@router.delete("/templates/{template}/{language}", status_code=204)
async def restore(request: Request, template: str, language: str,
                  tenant_id: uuid.UUID = Depends(staff_tenant)) -> None:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        await templates_admin.restore_defaults(uow.session, template, language)
        await uow.commit()


@router.post("/templates/{template}/preview")
async def preview(request: Request, template: str, body: PreviewRequest,
                  tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await templates_admin.preview(uow.session, renderer, tenant_id, template, body.language,
                                             body.context, body.draft.given())


@router.get("/preferences/{email}")
async def preferences_of(request: Request, email: str, tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await get_preferences(uow.session, tenant_id, _email(email))


@router.put("/preferences/{email}")
async def set_preferences_of(request: Request, email: str, body: PreferencesChange,
                             tenant_id: uuid.UUID = Depends(staff_tenant)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        saved = await set_preferences(uow.session, tenant_id, _email(email), body.model_dump(exclude_unset=True))
        await uow.commit()
    return saved


@router.get("/me/preferences")
async def my_preferences(request: Request, tenant_id: uuid.UUID,
                         principal: Principal = Depends(current_principal)) -> dict:
    require_roles(principal, Role.BUYER)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await get_preferences(uow.session, tenant_id, principal.email)


@router.put("/me/preferences")
async def set_my_preferences(request: Request, tenant_id: uuid.UUID, body: PreferencesChange,
                             principal: Principal = Depends(current_principal)) -> dict:
    """A buyer's own choices with one organizer (the opt-out behind every marketing message)."""
    require_roles(principal, Role.BUYER)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        saved = await set_preferences(uow.session, tenant_id, principal.email, body.model_dump(exclude_unset=True))
        await uow.commit()
    return saved


@router.post("/announcements", status_code=201)
async def announcement(request: Request, body: AnnouncementRequest,
                       principal: Principal = Depends(current_principal),
                       idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")) -> JSONResponse:
    tenant_id = require_staff_of_tenant(principal)
    key = None if idempotency_key is None else require_idempotency_key(idempotency_key)
    scope = f"announce:{tenant_id}:{principal.user_id}"
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        if key is not None:
            first = await idempotency_keys.claim(uow.session, scope, key,
                                                 request_fingerprint(body.model_dump(mode="json")))
            if first is not None:
                return JSONResponse(first.body, status_code=first.status_code, headers={"Idempotency-Replayed": "true"})
        recipients = None if body.recipients is None else [
            Recipient(r.email, r.name, r.language) for r in body.recipients]
        counts = await announce(uow.session, renderer, tenant_id, event_id=body.event_id, headline=body.headline,
                                message=body.message, url=body.url, recipients=recipients,
                                default_language=request.app.state.settings.default_language,
                                unsubscribe_url=request.app.state.settings.unsubscribe_url)
        if key is not None:
            await idempotency_keys.complete(uow.session, scope, key, 201, counts)
        await uow.commit()
    return JSONResponse(counts, status_code=201)


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError as exc:
        raise Problem(422, "validation-error", "Not a valid email address", str(exc), field="email") from exc


_PAGE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;">
{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status)


def _unsubscriber(request: Request, token: str) -> tuple[uuid.UUID, str]:
    try:
        return read_unsubscribe_token(request.app.state.settings.unsubscribe_key, token)
    except InvalidToken as exc:
        raise Problem(400, "invalid-unsubscribe-link", "This unsubscribe link is not valid", str(exc),
                      field="token") from exc


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Only a page with a button: mail scanners follow links, and a GET must not unsubscribe anyone."""
    _, email = _unsubscriber(request, token)
    return _page("Darse de baja / Unsubscribe", (
        f"<p>¿Dejar de recibir novedades en <strong>{escape(email)}</strong>? Seguirás recibiendo tus entradas "
        f"y los avisos de tus compras.</p><p>Stop receiving news at <strong>{escape(email)}</strong>? You will "
        f"still get your tickets and messages about your orders.</p>"
        f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
        f'<button type="submit">Darme de baja / Unsubscribe</button></form>'))


@router.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str | None = None) -> HTMLResponse:
    """The button, and RFC 8058 one-click posts (`List-Unsubscribe=One-Click`)."""
    if token is None:
        token = dict(parse_qsl((await request.body()).decode())).get("token")
    if not token:
        raise Problem(400, "invalid-unsubscribe-link", "The unsubscribe link has no token", field="token")
    tenant_id, email = _unsubscriber(request, token)
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        await set_preferences(uow.session, tenant_id, email, {"email_marketing": False})
        await uow.commit()
    return _page("Listo / Done", f"<p>Listo: no enviaremos más novedades a {escape(email)}.</p>"
                                 f"<p>Done: we will send no more news to {escape(email)}.</p>")
