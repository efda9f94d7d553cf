"""Idempotency-Key support for creating endpoints.

The key row is inserted in the same transaction as the effect, so a concurrent repeat waits on the
unique index until the first commits, then reads its stored answer. A failed request rolls back
and leaves the key free. A different body under the same key is a 409.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Header
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .problems import Problem

MAX_KEY_LENGTH = 200


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(200), primary_key=True),  # who and which operation: a key is theirs alone
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response_body", JSONB),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def request_fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def require_idempotency_key(
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> str:
    if not idempotency_key or not idempotency_key.strip():
        raise Problem(400, "idempotency-key-required", "An Idempotency-Key header is required",
                      "Send a unique Idempotency-Key (a UUID, say) so a retry cannot create twice",
                      field="Idempotency-Key")
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise Problem(400, "idempotency-key-invalid", "The Idempotency-Key is too long",
                      f"At most {MAX_KEY_LENGTH} characters", field="Idempotency-Key")
    return idempotency_key.strip()


class IdempotencyStore:
    def __init__(self, table: Table):
        self.table = table

    async def claim(self, session: AsyncSession, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """Reserve the key in this transaction; return the first answer if the key was used before."""
        inserted = await session.execute(
            insert(self.table)
            .values(scope=scope, key=key, request_hash=fingerprint)
            .on_conflict_do_nothing()
            .returning(self.table.c.key)
        )
        if inserted.first() is not None:
            return None
        row = (await session.execute(
            select(self.table).where(self.table.c.scope == scope, self.table.c.key == key)
        )).one()
        if row.request_hash != fingerprint:
            raise Problem(409, "idempotency-key-reused", "This Idempotency-Key was used for another request",
                          "Use a new Idempotency-Key for a different request", field="Idempotency-Key")
        if row.status_code is None:
            raise Problem(409, "idempotency-key-in-progress", "A request with this Idempotency-Key is in progress",
                          field="Idempotency-Key", headers={"Retry-After": "1"})
        return StoredResponse(row.status_code, row.response_body)

    async def complete(self, session: AsyncSession, scope: str, key: str, status_code: int, body: Any) -> None:
        await session.execute(
            self.table.update()
            .where(self.table.c.scope == scope, self.table.c.key == key)
            .values(status_code=status_code, response_body=json.loads(json.dumps(body, default=str)))
        )

    async def purge_older_than(self, session: AsyncSession, cutoff: datetime) -> int:
        result = await session.execute(self.table.delete().where(self.table.c.created_at < cutoff))
        return result.rowcount or 0
