"""A real SMTP server for the e-mail sink's tests: aiosmtpd on 127.0.0.1 in its own thread.

`smtp_server(...)` starts one of the shapes the sink meets: a plain relay, a submission server
with STARTTLS (required) and a login, an implicit-TLS server, or a careless server that offers
AUTH over plain text. It keeps every received mail and every AUTH/STARTTLS command it saw, so
tests can tell what went over the wire. Certificates come from `self_signed()`.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.certs import self_signed as make_certificate


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in `directory`."""
    return make_certificate(directory, "smtp-")


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool  # the mail came over an encrypted link
    login: str | None  # who had logged in, if anyone


@dataclass
class Record:
    """What the server saw; written by the server thread, read by the test after a send returned."""

    messages: list[Received] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # "AUTH", "STARTTLS" as they arrived
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, accepted)
    lock: threading.Lock = field(default_factory=threading.Lock)


class KeepingHandler:
    def __init__(self, record: Record, refuse: frozenset[str]) -> None:
        self.record = record
        self.refuse = refuse

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content if envelope.original_content is not None else b""
        login = session.auth_data if session.authenticated else None
        # The transport, not session.ssl: aiosmtpd sets the latter only after STARTTLS.
        tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        with self.record.lock:
            self.record.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, tls,
                                                 login))
        return "250 Message accepted for delivery"


class Authenticator:
    """Accepts exactly one login; remembers who tried (never the password tried)."""

    def __init__(self, record: Record, login: str, password: str) -> None:
        self.record, self.login, self.password = record, login, password

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = login == self.login and auth_data.password.decode() == self.password
        with self.record.lock:
            self.record.logins.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


class RecordingSMTP(SMTP):
    """aiosmtpd's server, noting each AUTH and STARTTLS command before handling it."""

    def __init__(self, handler: Any, *, record: Record, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.record = record

    async def smtp_AUTH(self, arg: str) -> None:
        with self.record.lock:
            self.record.commands.append("AUTH")
        await super().smtp_AUTH(arg)

    async def smtp_STARTTLS(self, arg: str) -> None:
        with self.record.lock:
            self.record.commands.append("STARTTLS")
        await super().smtp_STARTTLS(arg)


class SmtpServer(Controller):
    """A Controller on a free port of 127.0.0.1 (the OS picks it: no guessing, no races)."""

    def __init__(self, handler: KeepingHandler, record: Record, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, server_hostname="smtp.test", **kwargs)
        self.record = record

    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, record=self.record, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd pokes the server on it.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def smtp_server(
    *,
    certificate: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
    auth_over_plain: bool = False,
    refuse: frozenset[str] = frozenset(),
) -> Iterator[SmtpServer]:
    """A running server. With `certificate`: STARTTLS offered and required before MAIL (or, with
    `implicit_tls`, TLS from the start). With `login`: AUTH offered, only over TLS unless
    `auth_over_plain` (a careless server, to show the sink still keeps its password)."""
    record = Record()
    kwargs: dict[str, Any] = {}
    if certificate is not None:
        context = server_context(*certificate)
        if implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if login is not None:
        # aiosmtpd counts only STARTTLS as TLS, so on an implicit-TLS server it must not insist.
        kwargs.update(authenticator=Authenticator(record, *login),
                      auth_require_tls=not (auth_over_plain or implicit_tls))
    server = SmtpServer(KeepingHandler(record, refuse), record, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
