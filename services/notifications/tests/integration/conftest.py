"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping what it accepts."""
from __future__ import annotations

import asyncio
import email
import socket
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

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


class WebhookReceiver:
    """A partner's endpoint, written with the `standardwebhooks` package as a partner would.

    `script` is the status codes to answer, one per request (then 200); `hang` makes it wait on an event
    before answering. Every request is verified; `received` keeps (webhook-id, payload) of the valid ones.
    """

    def __init__(self, port: int, secret: str | None = None, script: list[int] | None = None):
        self.port = port
        self.secret = secret
        self.script = list(script or [])
        self.received: list[tuple[str, dict]] = []
        self.answers: list[int] = []
        self.signature_headers: list[str] = []
        self.invalid = 0
        self.hang: asyncio.Event | None = None
        self.waiting = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def app(self):
        app = FastAPI()

        @app.post("/hooks")
        async def hooks(request: Request):
            body = await request.body()
            if self.hang is not None:
                self.waiting += 1
                await self.hang.wait()
            self.signature_headers.append(request.headers.get("webhook-signature", ""))
            try:
                payload = Webhook(self.secret).verify(body, dict(request.headers))
            except WebhookVerificationError:
                self.invalid += 1
                return JSONResponse({"error": "bad signature"}, status_code=401)
            status = self.script.pop(0) if self.script else 200
            self.answers.append(status)
            self.received.append((request.headers["webhook-id"], payload))
            return JSONResponse({"ok": status < 300, "note": "x" * 5000}, status_code=status)

        return app

    async def start(self) -> None:
        from taquilla_platform.http import serve_http

        self._task = asyncio.create_task(serve_http(self.app(), "127.0.0.1", self.port, self._stop))
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)


@pytest.fixture
async def webhook_receiver():
    """`await webhook_receiver(script=[500, 500])` → a started receiver; set `.secret` before events flow."""
    receivers: list[WebhookReceiver] = []

    async def make(script: list[int] | None = None) -> WebhookReceiver:
        receiver = WebhookReceiver(free_port(), script=script)
        await receiver.start()
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        await receiver.stop()


class FakeTextProvider:
    """A Twilio-style messaging API on a local port: Basic auth, form posts, 201 with a sid, errors as JSON.

    `script`: status codes to answer first (429 and 503 as Twilio words them), then 201. Numbers starting
    with +1999 are refused as invalid (400, code 21211). `messages` keeps what it accepted.
    """

    SID = "AC" + "f" * 32
    TOKEN = "fake-provider-token-0123456789"
    CALLBACK = "https://notifications.example.com/api/v1/notifications/providers/twilio/status"

    def __init__(self, port: int, script: list[int] | None = None):
        self.port = port
        self.script = list(script or [])
        self.messages: list[dict[str, str]] = []
        self.requests = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"NOTIFICATIONS_PROVIDER__BASE_URL": f"http://127.0.0.1:{self.port}/2010-04-01",
                "NOTIFICATIONS_PROVIDER__ACCOUNT_SID": self.SID, "NOTIFICATIONS_PROVIDER__AUTH_TOKEN": self.TOKEN,
                "NOTIFICATIONS_PROVIDER__STATUS_CALLBACK_URL": self.CALLBACK}

    def app(self):
        import base64
        import uuid
        from urllib.parse import parse_qsl

        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create_message(sid: str, request: Request):
            self.requests += 1
            expected = "Basic " + base64.b64encode(f"{self.SID}:{self.TOKEN}".encode()).decode()
            if sid != self.SID or request.headers.get("authorization") != expected:
                return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
            form = dict(parse_qsl((await request.body()).decode()))
            if self.script:
                status = self.script.pop(0)
                return JSONResponse({"code": 20000 + status, "message": "Service unavailable" if status >= 500
                                     else "Too Many Requests", "status": status}, status_code=status)
            number = form.get("To", "").removeprefix("whatsapp:")
            if not number.startswith("+") or number.startswith("+1999"):
                return JSONResponse({"code": 21211, "message": f"The 'To' number {number} is not a valid phone "
                                     "number.", "status": 400}, status_code=400)
            message = form | {"sid": "SM" + uuid.uuid4().hex, "status": "queued"}
            self.messages.append(message)
            return JSONResponse(message, status_code=201)

        return app

    def callback(self, sid: str, status: str, *, token: str | None = None, **extra: str):
        """The status callback the provider would post: (form body, headers)."""
        from urllib.parse import urlencode

        from notifications_service.adapters.text_messages import twilio_signature

        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.SID, **extra}
        signature = twilio_signature(token or self.TOKEN, self.CALLBACK, params)
        return urlencode(params), {"X-Twilio-Signature": signature,
                                   "Content-Type": "application/x-www-form-urlencoded"}

    async def start(self) -> None:
        from taquilla_platform.http import serve_http

        self._task = asyncio.create_task(serve_http(self.app(), "127.0.0.1", self.port, self._stop))
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)


@pytest.fixture
async def text_provider():
    providers: list[FakeTextProvider] = []

    async def make(script: list[int] | None = None) -> FakeTextProvider:
        provider = FakeTextProvider(free_port(), script)
        await provider.start()
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.stop()
