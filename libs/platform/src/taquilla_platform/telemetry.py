"""OpenTelemetry setup, called first in every entrypoint.

W3C trace context and baggage propagate over HTTP, gRPC and AMQP. Spans are exported over OTLP
only when OTEL_EXPORTER_OTLP_ENDPOINT is set (sampled as OTEL_TRACES_SAMPLER says, every trace by
default). Without an exporter they are not recorded: the trace and span ids are still made and passed
on (logs carry them, a caller's trace continues through us), but no attributes or events are kept
for spans that would go nowhere — that bookkeeping, a span per query and per hop, was a measurable
part of every service's CPU in the on-sale rush. OTEL_TRACES_SAMPLER, when set, decides either way.
"""
from __future__ import annotations

import os

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_configured: str | None = None


def configure_telemetry(service: str, *, instance: str | None = None) -> None:
    global _configured
    if _configured:
        return
    _configured = service
    resource = Resource.create({
        "service.name": f"taquilla-{service}",
        "service.namespace": "taquilla",
        "service.instance.id": instance or f"{os.uname().nodename}-{os.getpid()}",
    })
    exporting = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    sampler = None if exporting or os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(ALWAYS_OFF)
    provider = TracerProvider(resource=resource, sampler=sampler)  # None: the SDK's default, or the environment's
    if exporting:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))

    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()


def instrument_fastapi(app) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz/.*,metrics")


def instrument_sqlalchemy(engine) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)


def shutdown_telemetry() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(5000)
        provider.shutdown()
