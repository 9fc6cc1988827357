"""A real SMTP server (aiosmtpd) that keeps every message, in memory and as .eml files."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """Messages received, oldest first; each also saved to ``folder`` when set."""

    folder: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.file_of(len(self.messages) - 1).write_bytes(envelope.content)
        return "250 Message accepted for delivery"

    def file_of(self, index: int) -> Path:
        """Where the ``index``-th message (from 0) is saved."""
        return self.folder / f"{index + 1:04d}.eml"


class SmtpServer:
    """Listens on 127.0.0.1 (a free port unless given) until ``stop``."""

    def __init__(self, folder: Path | None = None, port: int = 0):
        self.mailbox = Mailbox(folder)
        self.port = port or _free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
