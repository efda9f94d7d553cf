"""The administrative audit trail: append-only rows (a trigger refuses updates and deletes)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from taquilla_platform.auth import Principal

from ..adapters.tables import admin_audit_log, users


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str | None = None


async def audit(session, tenant_id: uuid.UUID, actor: Principal, action: str, subject_type: str,
                subject_id: object, context: RequestContext, *, before: dict | None = None,
                after: dict | None = None, details: dict | None = None) -> None:
    await session.execute(admin_audit_log.insert().values(
        tenant_id=tenant_id, actor_user_id=actor.user_id, action=action, subject_type=subject_type,
        subject_id=str(subject_id), details=details or {}, request_id=context.request_id, ip=context.ip,
        before=before, after=after,
    ))


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that changed, on each side."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def read_audit_log(session, *, limit: int, before_id: int | None) -> list[dict]:
    """The caller's tenant scope (row-level security) decides whose trail this is."""
    query = (select(admin_audit_log, users.c.email.label("actor_email"))
             .join(users, users.c.id == admin_audit_log.c.actor_user_id, isouter=True)
             .order_by(admin_audit_log.c.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(admin_audit_log.c.id < before_id)
    rows = (await session.execute(query)).all()
    return [{
        "id": row.id, "tenant_id": str(row.tenant_id), "actor_user_id": str(row.actor_user_id),
        "actor_email": row.actor_email, "action": row.action, "subject_type": row.subject_type,
        "subject_id": row.subject_id, "before": row.before, "after": row.after, "details": row.details,
        "ip": row.ip, "request_id": row.request_id, "occurred_at": row.occurred_at.isoformat(),
    } for row in rows]
