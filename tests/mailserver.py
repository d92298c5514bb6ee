"""A real SMTP server for the tests (aiosmtpd), keeping every message it accepts."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text part."""
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        """The HTML part."""
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""


class _Keeper:
    """The aiosmtpd handler: keep each message; refuse addresses on the refuse list."""

    def __init__(self):
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.hold: threading.Event | None = None  # set by a test to stall the Nth message
        self.hold_at = 0
        self.holding = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            count = len(self.received)
        if self.hold is not None and count == self.hold_at:
            self.holding.set()
            while not self.hold.is_set():  # the worker waits for the reply meanwhile
                import asyncio

                await asyncio.sleep(0.02)
        return "250 Message accepted"


class MailServer:
    """aiosmtpd on 127.0.0.1 and a free port, started once for the run."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.keeper = _Keeper()
        self.controller = Controller(self.keeper, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        """Listen."""
        self.controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        """Every message accepted since the last clear()."""
        with self.keeper.lock:
            return list(self.keeper.received)

    def to(self, address: str) -> list[Received]:
        """The messages whose envelope names address."""
        return [m for m in self.received if address in m.recipients]

    def clear(self) -> None:
        """Forget what was received, and stop refusing or holding."""
        with self.keeper.lock:
            self.keeper.received.clear()
        self.keeper.refuse.clear()
        self.keeper.hold = None
        self.keeper.hold_at = 0
        self.keeper.holding.clear()
