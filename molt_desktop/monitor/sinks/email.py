"""The e-mail sink: one alert notice as one plain-text mail through the configured SMTP server.

`alerts.email.smtp` is "host:port" (port 587 when left out). Port 465 or `alerts.email.tls`
means TLS from the first byte; on any other port the sink upgrades with STARTTLS whenever the
server offers it. A configured login is only ever sent over an encrypted link: a server that
offers neither TLS nor STARTTLS gets no password, and the send fails saying so. A local relay
without a login and without STARTTLS is used as it is.

Every failure ends in a `SinkError` naming the server and what to check; the password never
appears in an error, a log line or the mail. Rules, alert texts and retries are not here
(rules.py, texts.py, alerts.py).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from molt_desktop.config.schema import EmailAlertConfig
from molt_desktop.config.secrets import keyring_name, resolve_secret
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, redact
from molt_desktop.monitor.model import AlertNotice, SinkError

log = get_logger("monitor")

DEFAULT_PORT = 587
IMPLICIT_TLS_PORT = 465
DEFAULT_TIMEOUT = 20.0
# Characters allowed in the left part of our own Message-IDs (RFC 5322 dot-atom, kept simple).
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def parse_server(value: str) -> tuple[str, int]:
    """`"smtp.example.com:587"` -> ("smtp.example.com", 587); `"[::1]:25"` for IPv6; no port -> 587."""
    text = value.strip()
    host, port_text = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(value)
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(value)
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        raise ValueError(value)  # a bare IPv6 address needs brackets to carry a port
    if not host or any(c.isspace() for c in host):
        raise ValueError(value)
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(value)
    return host, int(port_text)


def _severity_word(severity: str) -> str:
    words = {"info": _("info"), "warning": _("warning"), "critical": _("critical")}
    return words.get(severity, severity)


class EmailSink:
    """Sends alert notices as mails; see the module docstring for the TLS and login rules."""

    name = "email"

    def __init__(
        self,
        config: EmailAlertConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        # ssl_context None: the system's CA store with hostname checks (aiosmtplib builds it
        # in a worker thread). Tests and private CAs pass their own.
        self._config = config
        self._ssl_context = ssl_context
        self._timeout = timeout

    @property
    def enabled(self) -> bool:
        return bool(self._config.enabled and self._config.smtp and self._config.to)

    async def send(self, notice: AlertNotice) -> None:
        config = self._config
        if not config.smtp or not config.to:
            raise SinkError(_('E-mail alerts are not set up: alerts.email needs smtp ("host:port") and at least '
                              "one address in to."))
        server = config.smtp.strip()
        try:
            host, port = parse_server(server)
        except ValueError:
            raise SinkError(_('alerts.email.smtp must be "host:port" (for example "smtp.example.com:587"), '
                              'not "{value}".').format(value=server)) from None
        implicit_tls = config.tls or port == IMPLICIT_TLS_PORT
        hostname = socket.gethostname() or "localhost"
        sender = config.sender or f"molt-desktop@{hostname}"
        try:
            message = self._message(notice, sender, hostname)
        except (ValueError, TypeError) as exc:  # e.g. a line break in an address would forge headers
            raise SinkError(_("Cannot write the alert mail: {error}. Check alerts.email.from and alerts.email.to."
                              ).format(error=exc)) from None
        username = config.username or None
        password: str | None = None
        if username is not None:
            password = await self._password(server)
        elif config.password:
            raise SinkError(_("alerts.email.password is set but alerts.email.username is not: set the SMTP login "
                              "name too, or remove the password."))

        smtp = aiosmtplib.SMTP(hostname=host, port=port, use_tls=implicit_tls, start_tls=False,
                               timeout=self._timeout, tls_context=self._ssl_context)
        try:
            async with asyncio.timeout(self._timeout):
                await self._deliver(smtp, message, server, implicit_tls, sender, username, password)
        except SinkError as exc:
            raise SinkError(_scrub(str(exc), password)) from None
        except Exception as exc:  # any failure is the sink's failure, never the caller's crash
            # from None: the chained SMTP exception may carry the server's raw replies.
            raise SinkError(_scrub(self._explain(exc, server, sender, username), password)) from None
        finally:
            smtp.close()
        log.info("Alert mail (%s, %s) sent through %s to %s", notice.kind, notice.alert.key, server,
                 ", ".join(config.to))

    async def _deliver(
        self,
        smtp: aiosmtplib.SMTP,
        message: EmailMessage,
        server: str,
        implicit_tls: bool,
        sender: str,
        username: str | None,
        password: str | None,
    ) -> None:
        await smtp.connect()
        await _hello(smtp)
        encrypted = implicit_tls
        if not implicit_tls and smtp.supports_extension("starttls"):
            await smtp.starttls()
            await _hello(smtp)  # RFC 3207: what the server said before TLS no longer counts
            encrypted = True
        if username is not None:
            if not encrypted:
                raise SinkError(_("The SMTP server {server} offers no encryption (neither TLS nor STARTTLS), so the "
                                  "password was not sent. Use the server's TLS port (465, or set alerts.email.tls) "
                                  "or a server that offers STARTTLS.").format(server=server))
            if not smtp.supports_extension("auth"):
                raise SinkError(_("The SMTP server {server} does not offer a login (AUTH), but alerts.email.username "
                                  "is set. Remove the login or use the server's submission port.").format(
                                      server=server))
            await smtp.login(username, password or "")
        # The envelope takes bare addresses; the headers keep any display names.
        recipients = [parseaddr(address)[1] or address for address in self._config.to]
        refused, _response = await smtp.send_message(message, sender=parseaddr(sender)[1] or sender,
                                                     recipients=recipients)
        if refused:
            delivered = [address for address in recipients if address not in refused]
            replies = "; ".join(f"{address}: {response.code} {response.message}"
                                for address, response in refused.items())
            raise SinkError(_("The alert mail went to {delivered}, but the SMTP server {server} refused {refused}. "
                              "Check alerts.email.to.").format(delivered=", ".join(delivered), server=server,
                                                                 refused=replies))
        try:
            await smtp.quit()
        except aiosmtplib.SMTPException:
            pass  # the mail is already accepted; a rude goodbye changes nothing

    async def _password(self, server: str) -> str:
        configured = self._config.password
        if not configured:
            raise SinkError(_("alerts.email.username is set but alerts.email.password is not: set the SMTP password "
                              '(for example "keyring:alerts.smtp").'))
        try:
            # A keyring behind D-Bus can hang; the worker thread is left behind, the send is not.
            async with asyncio.timeout(self._timeout):
                password = await asyncio.to_thread(resolve_secret, configured)
        except TimeoutError:
            raise SinkError(_("The OS keyring did not give the SMTP password for {server} within {seconds:g} "
                              "seconds.").format(server=server, seconds=self._timeout)) from None
        except Exception as exc:  # keyring backends raise their own kinds of errors
            raise SinkError(_("Cannot read the SMTP password for {server} from the OS keyring: {error}").format(
                server=server, error=redact(str(exc)))) from None
        if not password:
            name = keyring_name(configured)
            if name is not None:
                raise SinkError(_('The SMTP password for {server} is not in the OS keyring (entry "{name}"). Store '
                                  "it there or set alerts.email.password.").format(server=server, name=name))
            raise SinkError(_("The SMTP password for {server} is empty: set alerts.email.password.").format(
                server=server))
        return password

    def _message(self, notice: AlertNotice, sender: str, hostname: str) -> EmailMessage:
        alert = notice.alert
        host = notice.host or hostname
        state = {"fire": _("FIRING"), "repeat": _("FIRING"), "resolve": _("RESOLVED"), "test": _("TEST")}[
            notice.kind]
        title = " ".join((alert.title or alert.key).split())  # a header is one line
        lines = [alert.body.rstrip(), "", _("Host: {host}").format(host=host),
                 _("Severity: {severity}").format(severity=_severity_word(alert.severity))]
        message = EmailMessage()
        message["Subject"] = f"[molt-desktop] {state} {title}"
        message["From"] = sender
        message["To"] = ", ".join(self._config.to)
        message["Date"] = formatdate(localtime=True)
        # RFC 3834: an automatic mail; well-behaved responders do not answer it.
        message["Auto-Submitted"] = "auto-generated"
        domain = _ID_UNSAFE.sub("-", hostname) or "localhost"
        # The fire mail's id is derived from the alert, so the resolve and repeat mails can refer
        # to it and mail clients show one alert as one thread.
        thread_id = f"<molt-desktop.{_ID_UNSAFE.sub('-', alert.key)}.{int(alert.since)}@{domain}>"
        if notice.kind == "fire":
            message["Message-ID"] = thread_id
        else:
            message["Message-ID"] = make_msgid("molt-desktop", domain=domain)
            if notice.kind != "test":
                message["In-Reply-To"] = thread_id
                message["References"] = thread_id
        text = "\n".join(lines) + "\n"
        # base64 for anything beyond ASCII: 8-bit bodies need 8BITMIME, which not every relay offers.
        message.set_content(text, charset="utf-8", cte="7bit" if text.isascii() else "base64")
        return message

    def _explain(self, exc: Exception, server: str, sender: str, username: str | None) -> str:
        """What went wrong, for people: the server, what it said, what to check."""
        tls_error = _tls_cause(exc)
        if tls_error is not None:
            return _("TLS with the SMTP server {server} failed: {error}. Check the server's certificate and "
                     "alerts.email.tls (port 465 or tls: true mean TLS from the start; other ports use STARTTLS)."
                     ).format(server=server, error=tls_error)
        if isinstance(exc, TimeoutError):
            return _("The SMTP server {server} did not answer within {seconds:g} seconds.").format(
                server=server, seconds=self._timeout)
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return _("The SMTP server {server} refused the login of {user}: {reply}. Check alerts.email.username "
                     "and the password.").format(server=server, user=username or "", reply=_reply(exc))
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            refused = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            return _("The SMTP server {server} refused every recipient ({refused}). Check alerts.email.to.").format(
                server=server, refused=refused)
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            return _("The SMTP server {server} refused the sender address {sender}: {reply}. Set alerts.email.from "
                     "to an address the server accepts.").format(server=server, sender=sender, reply=_reply(exc))
        if isinstance(exc, aiosmtplib.SMTPDataError):
            return _("The SMTP server {server} refused the message: {reply}.").format(server=server,
                                                                                      reply=_reply(exc))
        if isinstance(exc, (aiosmtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror)):
            return _("Cannot connect to the SMTP server {server}: {error}. Check alerts.email.smtp and that the "
                     "server is running.").format(server=server, error=_plain(exc))
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return _("The SMTP server {server} closed the connection: {error}.").format(server=server,
                                                                                      error=_plain(exc))
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return _("The SMTP server {server} answered with an error: {reply}.").format(server=server,
                                                                                         reply=_reply(exc))
        return _("Sending the alert mail through {server} failed: {error}.").format(server=server,
                                                                                     error=_plain(exc))


async def _hello(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()  # a very old relay without ESMTP


def _tls_cause(exc: BaseException) -> str | None:
    """The TLS error behind `exc` (aiosmtplib wraps a failed implicit-TLS handshake), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or seen.reason or str(seen)
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def _plain(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _scrub(text: str, password: str | None) -> str:
    """Belt and braces: no error text carries the password, whatever a server echoed back."""
    if password:
        text = text.replace(password, "***")
    return redact(text)
