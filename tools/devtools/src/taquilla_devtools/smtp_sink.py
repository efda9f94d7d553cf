"""A development SMTP server that keeps every email as a file instead of delivering it.

Each message becomes `<folder>/<UTC timestamp>-<n>.eml` (open it with any mail client) and one log line.
Any AUTH credentials are accepted, so a client configured to log in works unchanged.
"""
from __future__ import annotations

import itertools
import logging
import socket
import threading
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

log = logging.getLogger("taquilla.mail")


class MailFolder:
    """aiosmtpd handler: writes each message to the folder, with its envelope in two added headers."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        recipients = ", ".join(envelope.rcpt_tos)
        envelope_headers = (f"X-Envelope-From: <{envelope.mail_from}>\r\n"
                            f"X-Envelope-To: {recipients}\r\n").encode()
        with self._lock:
            number = next(self._numbers)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{stamp}-{number}.eml"
        with path.open("xb") as f:
            f.write(envelope_headers + content)
        subject = BytesHeaderParser(policy=default_policy).parsebytes(content).get("Subject", "")
        log.info("mail from %s to %s: %r saved as %s", envelope.mail_from, recipients, str(subject), path)
        return "250 Message accepted for delivery"


def _accept_any_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=True)


class SmtpSink:
    """`with SmtpSink(folder, port=1025): ...` runs the server in a thread of its own."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 1025):
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:  # fail at once; aiosmtpd would first wait out its ready timeout
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.port))
            except OSError as exc:
                raise OSError(f"the SMTP sink could not listen on {self.host}:{self.port}: {exc}") from exc
        controller = Controller(MailFolder(self.folder), hostname=self.host, port=self.port,
                                authenticator=_accept_any_login, auth_require_tls=False)
        try:
            controller.start()
        except Exception as exc:
            raise OSError(f"the SMTP sink could not listen on {self.host}:{self.port}: {exc}") from exc
        self._controller = controller
        log.info("SMTP sink on %s:%s, saving mail in %s", self.host, self.port, self.folder)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        """The saved messages, oldest first."""
        return sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
