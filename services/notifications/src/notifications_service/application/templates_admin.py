"""A tenant's wording of the message templates: see the defaults, override them, preview, restore."""
from __future__ import annotations

import uuid

from jinja2 import TemplateError, TemplateNotFound
from jinja2.exceptions import SecurityError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from taquilla_platform.problems import Problem, not_found

from ..adapters.tables import template_overrides
from ..adapters.templates import LANGUAGES, PARTS, TemplateRenderer
from ..domain.template_catalog import KINDS, TemplateKind, preview_context
from .queue_message import tenant_overrides

MAX_SOURCE = 100_000


def kind_named(template: str) -> TemplateKind:
    kind = KINDS.get(template)
    if kind is None:
        raise not_found("Template", template)
    return kind


def valid_language(language: str) -> str:
    if language not in LANGUAGES:
        raise Problem(422, "unsupported-language", "Unsupported language",
                      f"Templates exist in: {', '.join(LANGUAGES)}", field="language")
    return language


async def list_templates(session) -> list[dict]:
    o = template_overrides
    rows = (await session.execute(select(o.c.template, o.c.language, o.c.part))).all()
    overridden: dict[str, set[str]] = {}
    for r in rows:
        overridden.setdefault(r.template, set()).add(f"{r.language}.{r.part}")
    return [{"template": k.name, "description": k.description, "category": "marketing" if k.marketing
             else "transactional", "languages": list(LANGUAGES), "overridden": sorted(overridden.get(k.name, ()))}
            for k in KINDS.values()]


async def template_sources(session, renderer: TemplateRenderer, tenant_id: uuid.UUID, template: str,
                           language: str) -> dict:
    kind_named(template)
    valid_language(language)
    mine = await tenant_overrides(session, tenant_id, template)
    parts = {}
    for part in PARTS:
        try:
            default = renderer.source(template, language, part)
        except TemplateNotFound:
            default = None
        parts[part] = {"default": default, "override": mine.get((language, part))}
    return {"template": template, "language": language, "parts": parts}


def render_or_problem(renderer: TemplateRenderer, kind: TemplateKind, language: str, context: dict,
                      overrides: dict[tuple[str, str], str]):
    try:
        return renderer.render(kind.name, language, context, overrides=overrides)
    except SecurityError as exc:
        raise Problem(422, "template-not-allowed", "The template does something templates may not do",
                      str(exc), field=_culprit(exc, overrides)) from exc
    except TemplateError as exc:
        raise Problem(422, "template-error", "The template cannot be rendered", f"{type(exc).__name__}: {exc}",
                      field=_culprit(exc, overrides)) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise Problem(422, "template-error", "The template cannot be rendered", f"{type(exc).__name__}: {exc}",
                      field="context") from exc


def _culprit(exc: Exception, overrides: dict[tuple[str, str], str]) -> str:
    name = getattr(exc, "name", None) or getattr(exc, "filename", None) or ""
    for (_, part), _source in overrides.items():
        if name and name.endswith("." + PARTS[part]):
            return part
    return next((part for (_, part) in overrides), "template")


async def save_overrides(session, renderer: TemplateRenderer, tenant_id: uuid.UUID, template: str, language: str,
                         parts: dict[str, str]) -> dict:
    """Checked by rendering every part with the sample context first: a broken template is never saved."""
    kind = kind_named(template)
    valid_language(language)
    if not parts:
        raise Problem(422, "validation-error", "Give at least one part to override",
                      f"Parts: {', '.join(PARTS)}", field="parts")
    for part, source in parts.items():
        if len(source) > MAX_SOURCE:
            raise Problem(422, "validation-error", "The template is too long", f"At most {MAX_SOURCE} characters",
                          field=part)
    merged = await tenant_overrides(session, tenant_id, template) | {(language, p): s for p, s in parts.items()}
    for part, _source in parts.items():
        _check_each(renderer, kind, language, merged, part)
    for part, source in parts.items():
        statement = insert(template_overrides).values(tenant_id=tenant_id, template=template, language=language,
                                                      part=part, source=source)
        await session.execute(statement.on_conflict_do_update(
            index_elements=[template_overrides.c.tenant_id, template_overrides.c.template,
                            template_overrides.c.language, template_overrides.c.part],
            set_={"source": source, "updated_at": func.now()}))
    return await template_sources(session, renderer, tenant_id, template, language)


def _check_each(renderer, kind, language, merged, part) -> None:
    only = {k: v for k, v in merged.items() if k == (language, part)}
    try:
        render_or_problem(renderer, kind, language, kind.sample, merged)
    except Problem as problem:
        if only:  # say which part is at fault when it is this one
            try:
                render_or_problem(renderer, kind, language, kind.sample, only)
            except Problem as own:
                own.errors = [{"field": part, "detail": own.detail or own.title}]
                raise own from None
        raise problem


async def restore_defaults(session, template: str, language: str) -> None:
    kind_named(template)
    valid_language(language)
    o = template_overrides
    await session.execute(delete(o).where(o.c.template == template, o.c.language == language))


async def preview(session, renderer: TemplateRenderer, tenant_id: uuid.UUID, template: str, language: str,
                  context: dict | None, draft: dict[str, str]) -> dict:
    kind = kind_named(template)
    valid_language(language)
    try:
        full_context = preview_context(kind, context)
    except ValueError as exc:
        raise Problem(422, "validation-error", "The context is not valid", str(exc), field="context") from exc
    overrides = await tenant_overrides(session, tenant_id, template) | {(language, p): s for p, s in draft.items()}
    rendered = render_or_problem(renderer, kind, language, full_context, overrides)
    return {"template": template, "language": language, "subject": rendered.subject, "text": rendered.text,
            "html": rendered.html, "sms": rendered.sms}
