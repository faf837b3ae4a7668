"""The e-mail sink against a real SMTP server (aiosmtpd, smtp_server.py): fire and resolve mails
with Chinese texts arrive intact; STARTTLS whenever offered, implicit TLS on `tls: true`; a login
only over an encrypted link; and every failure (refused login, untrusted certificate, server down,
silent server, refused recipients) is a SinkError that names the server and never the password."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from molt_desktop import i18n
from molt_desktop.config.schema import EmailAlertConfig
from molt_desktop.config.secrets import set_secret
from molt_desktop.monitor.model import Alert, AlertNotice, SinkError
from molt_desktop.monitor.sinks.email import EmailSink, parse_server
from tests.monitor.smtp_server import Received, self_signed, smtp_server

LOGIN = "alerts@example.test"
PASSWORD = "correct-horse-battery-staple"
TITLE = "远程网关服务器已断开"
BODY = ("远程网关服务器 (wss://10.0.0.5:18789) 自 10:02 起没有响应。\n"
        "最后的错误：连接被拒绝。\n"
        "请检查服务器是否在运行。")
RESOLVED_BODY = "远程网关服务器 (wss://10.0.0.5:18789) 已恢复，共断开 3 分钟。"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def trust(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def stored_password() -> str:
    set_secret("alerts.smtp", PASSWORD)
    return "keyring:alerts.smtp"


def alert(*, state: str = "firing", body: str = BODY, severity: str = "critical") -> Alert:
    now = time.time()
    return Alert(key="remote_down:server", rule="remote_down", subject="server", severity=severity,  # type: ignore[arg-type]
                 state=state, since=now - 180, fired_at=now - 120,  # type: ignore[arg-type]
                 resolved_at=now if state == "resolved" else None, title=TITLE, body=body)


def fire() -> AlertNotice:
    return AlertNotice("fire", alert(), host="build-01")


def resolve() -> AlertNotice:
    return AlertNotice("resolve", alert(state="resolved", body=RESOLVED_BODY, severity="critical"), host="build-01")


def config(**values: Any) -> EmailAlertConfig:
    return EmailAlertConfig.model_validate({"enabled": True, "to": ["ops@example.test"], **values})


def parse(received: Received) -> EmailMessage:
    message = email.message_from_bytes(received.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # SMTP carries CRLF line ends


def assert_secret_kept(text: str) -> None:
    assert PASSWORD not in text
    # AUTH PLAIN / LOGIN carry it base64-encoded: that form must not leak either.
    assert base64.b64encode(PASSWORD.encode()).decode() not in text
    assert base64.b64encode(f"\0{LOGIN}\0{PASSWORD}".encode()).decode() not in text


async def test_fire_and_resolve_over_starttls_with_login(certificate: tuple[Path, Path], trust: ssl.SSLContext,
                                                         stored_password: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(certificate=certificate, login=(LOGIN, PASSWORD)) as server:
        sink = EmailSink(config(smtp=server.address, username=LOGIN, password=stored_password,
                                to=["ops@example.test", "值班@example.test"]), ssl_context=trust)
        assert sink.name == "email" and sink.enabled
        await sink.send(fire())
        await sink.send(resolve())

        first, second = server.record.messages
        assert server.record.commands == ["STARTTLS", "AUTH", "STARTTLS", "AUTH"]
        assert server.record.logins == [(LOGIN, True), (LOGIN, True)]
    assert first.tls and first.login == LOGIN and second.tls and second.login == LOGIN
    assert first.rcpt_tos == ["ops@example.test", "值班@example.test"]
    assert first.mail_from == f"molt-desktop@{socket.gethostname()}"

    fired, resolved = parse(first), parse(second)
    assert fired["Subject"] == f"[molt-desktop] FIRING {TITLE}"
    assert resolved["Subject"] == f"[molt-desktop] RESOLVED {TITLE}"
    assert fired["From"] == f"molt-desktop@{socket.gethostname()}"
    assert fired["Auto-Submitted"] == "auto-generated"
    # The resolve mail answers the fire mail: one alert, one thread in the mail client.
    assert resolved["In-Reply-To"] == fired["Message-ID"] == resolved["References"]
    assert resolved["Message-ID"] != fired["Message-ID"]

    fired_text = text_of(fired)
    assert fired_text.startswith(BODY)
    assert "最后的错误：连接被拒绝。" in fired_text and "请检查服务器是否在运行。" in fired_text
    assert "Host: build-01" in fired_text and "Severity: critical" in fired_text
    assert RESOLVED_BODY in text_of(resolved)
    assert_secret_kept(caplog.text)
    assert "sent through" in caplog.text


async def test_starttls_is_used_whenever_offered(certificate: tuple[Path, Path], trust: ssl.SSLContext) -> None:
    with smtp_server(certificate=certificate) as server:
        await EmailSink(config(smtp=server.address), ssl_context=trust).send(fire())
        (received,) = server.record.messages
        assert server.record.commands == ["STARTTLS"]
    assert received.tls and received.login is None


async def test_implicit_tls_with_tls_true(certificate: tuple[Path, Path], trust: ssl.SSLContext,
                                          stored_password: str) -> None:
    with smtp_server(certificate=certificate, implicit_tls=True, login=(LOGIN, PASSWORD)) as server:
        sink = EmailSink(config(smtp=server.address, tls=True, username=LOGIN, password=stored_password,
                                **{"from": "Molt Alerts <alerts@example.test>"}), ssl_context=trust)
        await sink.send(AlertNotice("test", alert(severity="info", body="这是一封测试邮件。"), host="build-01"))
        (received,) = server.record.messages
        assert server.record.commands == ["AUTH"]  # no STARTTLS: TLS from the first byte
    assert received.tls and received.login == LOGIN
    assert received.mail_from == "alerts@example.test"
    message = parse(received)
    assert message["From"] == "Molt Alerts <alerts@example.test>"
    assert message["Subject"] == f"[molt-desktop] TEST {TITLE}"
    assert message["In-Reply-To"] is None
    assert "这是一封测试邮件。" in text_of(message) and "Severity: info" in text_of(message)


async def test_plain_relay_without_login_is_fine() -> None:
    with smtp_server() as server:
        await EmailSink(config(smtp=server.address, **{"from": "alerts@example.test"})).send(fire())
        (received,) = server.record.messages
        assert server.record.commands == []
    assert not received.tls and received.mail_from == "alerts@example.test"
    assert parse(received)["Subject"] == f"[molt-desktop] FIRING {TITLE}"


async def test_password_is_never_sent_over_a_plain_link(stored_password: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # A careless server: AUTH offered over plain text, no STARTTLS.
    with smtp_server(login=(LOGIN, PASSWORD), auth_over_plain=True) as server:
        sink = EmailSink(config(smtp=server.address, username=LOGIN, password=stored_password))
        with pytest.raises(SinkError) as caught:
            await sink.send(fire())
        assert server.record.commands == [] and server.record.logins == [] and server.record.messages == []
    message = str(caught.value)
    assert server.address in message
    assert "offers no encryption" in message and "password was not sent" in message
    assert_secret_kept(message)
    assert_secret_kept(caplog.text)


async def test_wrong_password_is_a_sink_error(certificate: tuple[Path, Path], trust: ssl.SSLContext,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-at-all"
    with smtp_server(certificate=certificate, login=(LOGIN, PASSWORD)) as server:
        sink = EmailSink(config(smtp=server.address, username=LOGIN, password=wrong), ssl_context=trust)
        with pytest.raises(SinkError) as caught:
            await sink.send(fire())
        assert server.record.messages == [] and (LOGIN, False) in server.record.logins
    message = str(caught.value)
    assert f"The SMTP server {server.address} refused the login of {LOGIN}" in message
    assert "535" in message
    assert wrong not in message and wrong not in caplog.text


async def test_server_down_is_a_sink_error(stored_password: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # A port that is bound but not listening: connections to it are refused.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        sink = EmailSink(config(smtp=address, username=LOGIN, password=stored_password))
        with pytest.raises(SinkError) as caught:
            await sink.send(fire())
    message = str(caught.value)
    assert message.startswith(f"Cannot connect to the SMTP server {address}")
    assert_secret_kept(message)
    assert_secret_kept(caplog.text)


@pytest.mark.parametrize("implicit", [False, True])
async def test_untrusted_certificate_is_a_sink_error(certificate: tuple[Path, Path], implicit: bool,
                                                     stored_password: str) -> None:
    with smtp_server(certificate=certificate, implicit_tls=implicit, login=(LOGIN, PASSWORD)) as server:
        # No ssl_context: the system CA store, which does not know the test's certificate.
        sink = EmailSink(config(smtp=server.address, tls=implicit, username=LOGIN, password=stored_password))
        with pytest.raises(SinkError) as caught:
            await sink.send(fire())
        assert server.record.logins == [] and server.record.messages == []
    message = str(caught.value)
    assert message.startswith(f"TLS with the SMTP server {server.address} failed")
    assert "certificate" in message
    assert_secret_kept(message)


async def test_refused_recipients(certificate: tuple[Path, Path], trust: ssl.SSLContext) -> None:
    with smtp_server(certificate=certificate, refuse=frozenset({"nobody@example.test"})) as server:
        some = EmailSink(config(smtp=server.address, to=["ops@example.test", "nobody@example.test"]),
                         ssl_context=trust)
        with pytest.raises(SinkError) as partly:
            await some.send(fire())
        (received,) = server.record.messages
        assert received.rcpt_tos == ["ops@example.test"]

        none = EmailSink(config(smtp=server.address, to=["nobody@example.test"]), ssl_context=trust)
        with pytest.raises(SinkError) as wholly:
            await none.send(fire())
        assert len(server.record.messages) == 1
    assert str(partly.value).startswith(f"The alert mail went to ops@example.test, but the SMTP server "
                                        f"{server.address} refused nobody@example.test: 550")
    assert str(wholly.value).startswith(f"The SMTP server {server.address} refused every recipient "
                                        f"(nobody@example.test: 550")


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never greets: the sink must give up by itself."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await reader.read()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for writer in connections:
            writer.close()
        await server.wait_closed()


async def test_silent_server_times_out(silent_server: str) -> None:
    sink = EmailSink(config(smtp=silent_server), timeout=0.5)
    with pytest.raises(SinkError) as caught:
        await sink.send(fire())
    assert str(caught.value) == f"The SMTP server {silent_server} did not answer within 0.5 seconds."


async def test_missing_keyring_entry_is_a_sink_error() -> None:
    sink = EmailSink(config(smtp="127.0.0.1:1", username=LOGIN, password="keyring:alerts.smtp"))
    with pytest.raises(SinkError, match='not in the OS keyring \\(entry "alerts.smtp"\\)'):
        await sink.send(fire())


async def test_password_without_login_is_a_sink_error() -> None:
    sink = EmailSink(config(smtp="127.0.0.1:1", password=PASSWORD))
    with pytest.raises(SinkError) as caught:
        await sink.send(fire())
    assert "alerts.email.username is not" in str(caught.value)
    assert_secret_kept(str(caught.value))


@pytest.mark.parametrize("smtp", ["smtp.example.com:port", "smtp.example.com:0", "a:b:c", "[::1", ""])
async def test_bad_server_address_is_a_sink_error(smtp: str) -> None:
    sink = EmailSink(config(smtp=smtp or " "))
    with pytest.raises(SinkError, match='alerts.email.smtp must be "host:port"'):
        await sink.send(fire())


async def test_header_injection_is_a_sink_error() -> None:
    with smtp_server() as server:
        sink = EmailSink(config(smtp=server.address, **{"from": "alerts@example.test\nBcc: all@example.test"}))
        with pytest.raises(SinkError, match="Cannot write the alert mail: .*Check alerts.email.from"):
            await sink.send(fire())
        assert server.record.messages == []


async def test_unconfigured_sink_is_disabled_and_says_why() -> None:
    assert not EmailSink(EmailAlertConfig()).enabled
    assert not EmailSink(config(smtp=None)).enabled
    assert not EmailSink(config(smtp="127.0.0.1:25", to=[])).enabled
    assert not EmailSink(config(smtp="127.0.0.1:25", enabled=False)).enabled
    with pytest.raises(SinkError, match="E-mail alerts are not set up"):
        await EmailSink(config(smtp=None)).send(fire())


def test_parse_server() -> None:
    assert parse_server("smtp.example.com:465") == ("smtp.example.com", 465)
    assert parse_server("smtp.example.com") == ("smtp.example.com", 587)
    assert parse_server(" [::1]:2525 ") == ("::1", 2525)
    assert parse_server("[::1]") == ("::1", 587)
    for bad in ("::1", "host:", "host:70000", "[::1]x", "two words:25"):
        with pytest.raises(ValueError):
            parse_server(bad)
