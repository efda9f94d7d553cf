"""Trace context carried with messages: stored on the outbox row, put in AMQP headers, restored."""
from __future__ import annotations

from typing import Any

from opentelemetry import propagate, trace

tracer = trace.get_tracer("taquilla.messaging")


def current_trace_headers() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(headers: dict[str, Any] | None):
    carrier = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (headers or {}).items()
               if k in ("traceparent", "tracestate", "baggage")}
    return propagate.extract(carrier)
