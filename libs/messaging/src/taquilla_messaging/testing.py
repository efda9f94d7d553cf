"""Test doubles for the bus: a schema with the outbox/inbox and an `effects` table that handlers write,
so a test can count what a message really did."""
from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects.postgresql import UUID

from .tables import messaging_tables

metadata = MetaData()
tables = messaging_tables(metadata)
effects = Table("effects", metadata, Column("message_id", UUID(as_uuid=True)), Column("note", String(100)))
