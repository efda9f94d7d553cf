"""Messages the fiscal service publishes."""
from __future__ import annotations

import uuid
from datetime import datetime

from .envelope import Event


class DocumentIssued(Event):
    TYPE = "fiscal.document.issued"

    document_id: uuid.UUID
    order_id: uuid.UUID
    document_type: str  # "invoice" | "credit_note"
    series_code: str
    number: int  # consecutive within the series, from 1, no gap
    formatted_number: str  # prefix + zero-padded number, as printed
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    currency: str
    issued_at: datetime
    point_of_sale: str = "online"  # "online" or "terminal:<code>" (a box office)
    references_document_id: uuid.UUID | None = None  # a credit note: the invoice it corrects
    refund_id: uuid.UUID | None = None  # a credit note asked for by fiscal.issue_credit_note
