"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping what it accepts."""
from __future__ import annotations

import asyncio
import email
import socket
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

RESERVED_PORTS = set(range(8000, 8008)) | {1025}  # the platform's local ports


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


class SmtpSink:
    """Accepts every message with `reply` ("250 OK"), or refuses it with the reply given ("550 ...")."""

    def __init__(self, port: int, reply: str = "250 OK"):
        self.port = port
        self.reply = reply
        self.accepted: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused = 0
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.reply.startswith("250"):
            self.accepted.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        else:
            self.refused += 1
        return self.reply

    async def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        await asyncio.to_thread(self._controller.start)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink():
    """`smtp_sink(reply=...)` → a sink on a free port, not started yet; stopped after the test."""
    sinks: list[SmtpSink] = []

    def make(reply: str = "250 OK") -> SmtpSink:
        sink = SmtpSink(free_port(), reply)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()
