"""The outbox and inbox tables; every service adds them to its own metadata and migrations."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


_BY_METADATA: dict[int, MessagingTables] = {}


def messaging_tables(metadata: MetaData) -> MessagingTables:
    if id(metadata) in _BY_METADATA:
        return _BY_METADATA[id(metadata)]
    outbox = Table(
        "outbox_messages",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),  # publication order
        Column("message_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("kind", String(10), nullable=False),  # event | command
        Column("routing_key", String(200), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # trace context
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Column("sent_at", DateTime(timezone=True)),
        Index("outbox_messages_pending", "available_at", "id", postgresql_where=text("sent_at IS NULL")),
    )
    inbox = Table(
        "inbox_messages",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("message_id", UUID(as_uuid=True), primary_key=True),
        Column("message_type", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    tables = MessagingTables(outbox, inbox)
    _BY_METADATA[id(metadata)] = tables
    return tables
