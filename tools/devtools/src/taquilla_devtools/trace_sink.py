"""A tiny OTLP/HTTP trace receiver: what the services export is collected here, for tests and drills.

Point `OTEL_EXPORTER_OTLP_ENDPOINT` at it; spans arrive as protobuf `ExportTraceServiceRequest`s.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict


@dataclass
class TraceSink:
    port: int
    spans: list[ReceivedSpan] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.trace_id == trace_id]

    def services_in(self, trace_id: str) -> set[str]:
        return {s.service for s in self.trace(trace_id)}

    async def receive(self, request: Request) -> Response:
        export = trace_service_pb2.ExportTraceServiceRequest()
        export.ParseFromString(await request.body())
        for resource_spans in export.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        service=attrs.get("service.name", ""), name=span.name, trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(), parent_span_id=span.parent_span_id.hex(), kind=span.kind,
                        attributes={a.key: a.value.string_value or a.value.int_value for a in span.attributes},
                    ))
        return Response(trace_service_pb2.ExportTraceServiceResponse().SerializeToString(),
                        media_type="application/x-protobuf")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def running_trace_sink(port: int | None = None) -> AsyncIterator[TraceSink]:
    sink = TraceSink(port or free_port())
    app = Starlette(routes=[Route("/v1/traces", sink.receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=sink.port, log_config=None,
                                           access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield sink
    finally:
        server.should_exit = True
        await task
