"""Append to and verify the tenant's hash-chained fiscal audit log."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.expression import Executable
from taquilla_contracts.envelope import uuid7

from ..adapters.tables import audit_chain_heads, audit_entries, fiscal_documents
from ..domain.audit import GENESIS, digest, entry_hash

DOCUMENT_ISSUED = "document.issued"
CREDIT_NOTE_ISSUED = "credit_note.issued"
NUMBERS_VOIDED = "numbers.voided"
DAY_CLOSED = "day.closed"


async def append_audit(session, tenant_id: uuid.UUID, kind: str, subject_id: uuid.UUID | None, payload: dict,
                       *, along_with: Executable | None = None) -> int:
    """Add one entry in the caller's transaction (see `append_audit_many`); returns its sequence."""
    return (await append_audit_many(session, tenant_id, [(kind, subject_id, payload)], along_with=along_with))[0]


async def append_audit_many(session, tenant_id: uuid.UUID, entries: list[tuple[str, uuid.UUID | None, dict]],
                            *, along_with: Executable | None = None) -> list[int]:
    """Add entries (kind, subject, payload), in order, in the caller's transaction; the head row lock keeps
    the chain linear. `along_with` (the insert of the documents the entries record) goes in the same round
    trip as the entries, so the head stays locked for as few round trips as possible."""
    payloads = [_plain(payload) for _, _, payload in entries]  # before the lock: nothing below it but the chain
    locate = select(audit_chain_heads).where(audit_chain_heads.c.tenant_id == tenant_id).with_for_update()
    head = (await session.execute(locate)).first()
    if head is None:  # the tenant's first entry
        await session.execute(insert(audit_chain_heads).values(tenant_id=tenant_id, last_sequence=0,
                                                               last_hash=GENESIS).on_conflict_do_nothing())
        head = (await session.execute(locate)).one()
    sequence, previous = head.last_sequence, head.last_hash
    recorded_at = datetime.now(UTC)
    rows = []
    for (kind, subject_id, _), payload in zip(entries, payloads, strict=True):
        sequence += 1
        hashed = entry_hash(previous, sequence, kind, str(subject_id) if subject_id else None, payload, recorded_at)
        rows.append(dict(id=uuid7(), tenant_id=tenant_id, sequence=sequence, kind=kind, subject_id=subject_id,
                         payload=payload, recorded_at=recorded_at, previous_hash=previous, hash=hashed))
        previous = hashed
    move = audit_chain_heads.update().where(audit_chain_heads.c.tenant_id == tenant_id) \
        .values(last_sequence=sequence, last_hash=previous).add_cte(audit_entries.insert().values(rows).cte("entry"))
    if along_with is not None:
        move = move.add_cte(along_with.cte("alongside"))
    await session.execute(move)  # data-modifying CTEs run whether or not the statement reads them
    return [row["sequence"] for row in rows]


def _plain(payload: dict) -> dict:
    import json

    from ..domain.audit import canonical
    return json.loads(canonical(payload))


async def verify_chain(session, tenant_id: uuid.UUID) -> dict:
    """Walk the chain from the start; report the first entry whose link or content does not hold."""
    previous = GENESIS
    expected_sequence = 1
    checked = 0
    rows = (await session.execute(select(audit_entries).order_by(audit_entries.c.sequence))).all()
    documents = {row.id: document_digest(dict(row._mapping)) for row in (await session.execute(
        select(fiscal_documents))).all()}
    for row in rows:
        problem = None
        if row.sequence != expected_sequence:
            problem = f"entry {expected_sequence} is missing"
        elif row.previous_hash != previous:
            problem = "the entry does not point to the hash of the entry before it"
        elif entry_hash(row.previous_hash, row.sequence, row.kind, str(row.subject_id) if row.subject_id else None,
                        row.payload, row.recorded_at) != row.hash:
            problem = "the entry's content does not match its hash"
        elif row.kind in (DOCUMENT_ISSUED, CREDIT_NOTE_ISSUED) and \
                documents.get(row.subject_id) != row.payload.get("digest"):
            problem = "the fiscal document no longer matches what was recorded"
        if problem:
            return {"valid": False, "entries_checked": checked, "first_broken": {
                "sequence": expected_sequence, "entry_id": str(row.id), "kind": row.kind, "problem": problem}}
        previous = row.hash
        expected_sequence += 1
        checked += 1
    head = (await session.execute(select(audit_chain_heads).where(audit_chain_heads.c.tenant_id == tenant_id))).first()
    if head is not None and (head.last_sequence != checked or head.last_hash != previous):
        return {"valid": False, "entries_checked": checked, "first_broken": {
            "sequence": checked + 1, "entry_id": None, "kind": None,
            "problem": "entries after this point were removed"}}
    return {"valid": True, "entries_checked": checked, "first_broken": None, "last_hash": previous}


def document_digest(values: dict) -> str:
    """What the audit entry pins of a document: every field a reader relies on."""
    keys = ("id", "series_id", "document_type", "number", "formatted_number", "order_id", "buyer", "lines",
            "currency", "subtotal_minor", "tax_minor", "total_minor", "taxes", "organizer", "payment_method",
            "issued_at", "references_document_id", "point_of_sale", "cashier")
    return digest({k: values.get(k) for k in keys})
