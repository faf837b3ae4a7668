"""The webhook sink: posts alert notices to DingTalk, WeCom, Feishu, Slack or a plain JSON endpoint.

What lives here: the message body of each `alerts.webhook.kind`, the DingTalk and Feishu request
signatures, the retries (connection errors, timeouts, HTTP 5xx and 429), reading each service's
answer (DingTalk and WeCom say `errcode`, Feishu `code`/`StatusCode`, Slack `ok`), and keeping the
URL's secret parts (tokens in the query or the path) out of errors and log lines.
What does not: when to notify (alerts.py) and the alert texts themselves (texts.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import aiohttp
import yarl

from molt_desktop.config.schema import WebhookAlertConfig
from molt_desktop.config.secrets import resolve_secret
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, register_secret
from molt_desktop.monitor.model import AlertNotice, SinkError

log = get_logger("monitor")

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0)  # 3 attempts in all
DEFAULT_TIMEOUT_S = 10.0
EXCERPT_CHARS = 200
# WeCom refuses markdown content over 4096 bytes; DingTalk and Feishu allow more, Slack ~40000 chars.
WECOM_MAX_BYTES = 4096
TEXT_MAX_BYTES = 16000

_RETRY_STATUS = frozenset({429})


class _Retryable(Exception):
    """One attempt failed in a way another attempt may fix; the message is already safe to show."""


class WebhookSink:
    """Delivers `AlertNotice`s to `config.url` in the format of `config.kind`."""

    name = "webhook"

    def __init__(
        self,
        config: WebhookAlertConfig,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._hidden: set[str] = set()  # URL parts that must never be shown
        if config.url:
            self._hide_url_secrets(config.url)

    @property
    def enabled(self) -> bool:
        return bool(self.config.enabled and self.config.url)

    # --- delivery ----------------------------------------------------------------------------

    async def send(self, notice: AlertNotice) -> None:
        url = self.config.url
        if not url:
            raise SinkError(_("The webhook has no URL: set alerts.webhook.url."))
        try:
            parsed = yarl.URL(url)
        except (ValueError, TypeError):
            raise SinkError(_("The webhook URL is not a valid URL: check alerts.webhook.url.")) from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise SinkError(
                _("The webhook URL {url} is not an http(s) URL: check alerts.webhook.url.").format(url=self.safe_url())
            )
        secret = await self._secret()
        body = build_body(self.config.kind, notice)
        attempts = len(self.retry_delays) + 1
        last = ""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for attempt in range(1, attempts + 1):
                # Signatures carry a timestamp, so each attempt signs afresh.
                target, payload = self._signed(parsed, body, secret)
                try:
                    await self._post(session, target, payload)
                    return
                except _Retryable as exc:
                    last = str(exc)
                if attempt < attempts:
                    delay = self.retry_delays[attempt - 1]
                    log.info("webhook %s: attempt %d of %d failed (%s); retrying in %.1f s",
                             self.safe_url(), attempt, attempts, last, delay)
                    await asyncio.sleep(delay)
        raise SinkError(
            _("The webhook at {url} failed {attempts} times; the last attempt: {error}").format(
                url=self.safe_url(), attempts=attempts, error=last)
        )

    async def _secret(self) -> str | None:
        """The signing secret (DingTalk and Feishu only); other kinds have none to sign with."""
        reference = self.config.secret
        if not reference or self.config.kind not in ("dingtalk", "feishu"):
            return None
        try:
            secret = await asyncio.to_thread(resolve_secret, reference)
        except Exception as exc:  # a broken keyring backend is a delivery failure, not a crash
            raise SinkError(
                _("Cannot read the webhook signing secret: {error}").format(error=type(exc).__name__)
            ) from None
        if not secret:
            raise SinkError(
                _("The webhook signing secret {name} is not in the keyring: store it again in Settings > Alerts.")
                .format(name=reference)
            )
        self._hidden.add(secret)
        register_secret(secret)
        return secret

    def _signed(self, url: yarl.URL, body: dict[str, Any], secret: str | None) -> tuple[yarl.URL, dict[str, Any]]:
        if secret is None:
            return url, body
        if self.config.kind == "dingtalk":
            timestamp = str(int(self.clock() * 1000))
            sign = dingtalk_sign(secret, timestamp)
            self._hidden.add(sign)
            # Appended as DingTalk documents it (urlencoded base64), and sent as written: yarl would
            # otherwise re-quote the signature's %2F as "/".
            sep = "&" if url.raw_query_string else "?"
            return yarl.URL(f"{url}{sep}timestamp={timestamp}&sign={sign}", encoded=True), body
        timestamp = str(int(self.clock()))
        sign = feishu_sign(secret, timestamp)
        self._hidden.add(sign)
        return url, {"timestamp": timestamp, "sign": sign, **body}

    async def _post(self, session: aiohttp.ClientSession, url: yarl.URL, payload: dict[str, Any]) -> None:
        """One attempt: returns when delivered, raises _Retryable or SinkError (final) otherwise."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            async with session.post(url, data=data, headers=headers, allow_redirects=False) as response:
                status = response.status
                raw = await response.read()
        except asyncio.TimeoutError:
            raise _Retryable(
                _("no answer within {seconds:g} seconds").format(seconds=self.timeout)) from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror if exc.os_error.strerror else type(exc.os_error).__name__
            raise _Retryable(
                _("cannot connect to {host}:{port} ({reason})").format(
                    host=exc.host, port=exc.port, reason=self.scrub(str(reason)))
            ) from None
        except aiohttp.ClientError as exc:
            # aiohttp's messages may quote the whole URL: say only what kind of failure it was.
            raise _Retryable(_("connection failed ({error})").format(error=type(exc).__name__)) from None
        text = raw.decode("utf-8", errors="replace")
        if status >= 500 or status in _RETRY_STATUS:
            raise _Retryable(
                _("HTTP {status}: {answer}").format(status=status, answer=self.excerpt(text)))
        if status >= 300:
            raise SinkError(
                _("The webhook at {url} refused the message with HTTP {status}: {answer}").format(
                    url=self.safe_url(), status=status, answer=self.excerpt(text))
            )
        problem = answer_problem(self.config.kind, text)
        if problem is not None:
            raise SinkError(
                _("The webhook at {url} refused the message: {answer}").format(
                    url=self.safe_url(), answer=self.excerpt(problem))
            )

    # --- keeping secrets out of messages --------------------------------------------------------

    def _hide_url_secrets(self, url: str) -> None:
        """Remember the URL's query values and token-like path parts: they are the credentials."""
        try:
            parsed = urllib.parse.urlsplit(url)
        except ValueError:
            self._hidden.add(url)
            return
        pieces = [value for _key, value in urllib.parse.parse_qsl(parsed.query, keep_blank_values=False)]
        pieces += [segment for segment in parsed.path.split("/") if _tokenish(segment)]
        if parsed.password:
            pieces.append(parsed.password)
        for piece in pieces:
            if len(piece) >= 4:
                self._hidden.add(piece)
                self._hidden.add(urllib.parse.quote(piece, safe=""))
                register_secret(piece)

    def safe_url(self) -> str:
        """The URL to show people: scheme, host and path, with token-like path parts and the query hidden."""
        url = self.config.url or ""
        try:
            parsed = urllib.parse.urlsplit(url)
            host = parsed.hostname or ""
            port = parsed.port
        except ValueError:
            return "***"
        netloc = f"[{host}]" if ":" in host else host
        if port is not None:
            netloc += f":{port}"
        path = "/".join("***" if _tokenish(segment) else segment for segment in parsed.path.split("/"))
        query = "?***" if parsed.query else ""
        return f"{parsed.scheme}://{netloc}{path}{query}"

    def scrub(self, text: str) -> str:
        for piece in sorted(self._hidden, key=len, reverse=True):
            if piece and piece in text:
                text = text.replace(piece, "***")
        return text

    def excerpt(self, text: str) -> str:
        """A short one-line excerpt of an answer, with anything secret taken out."""
        flat = " ".join(self.scrub(text).split())
        if not flat:
            return _("(empty answer)")
        return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _tokenish(segment: str) -> bool:
    """A path part that looks like a credential (Feishu's hook id, Slack's T…/B…/token parts)."""
    has_digit = any(ch.isdigit() for ch in segment)
    return len(segment) >= 20 or (has_digit and len(segment) >= 8)


# --- signatures ------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's `sign` query value: urlencoded base64 of HMAC-SHA256(secret, "timestamp\\nsecret")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's `sign` body field: base64 of HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


# --- bodies ----------------------------------------------------------------------------------


def state_word(notice: AlertNotice) -> str:
    if notice.kind == "test":
        return _("TEST")
    if notice.kind == "resolve" or notice.alert.state == "resolved":
        return _("RESOLVED")
    return _("FIRING")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    # Cut on a character boundary, leaving room for the ellipsis.
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def _host_line(notice: AlertNotice) -> str:
    return _("Host: {host}").format(host=notice.host) if notice.host else ""


def build_body(kind: str, notice: AlertNotice) -> dict[str, Any]:
    """The JSON body for one notice in the format of `kind` (without any signature fields)."""
    alert = notice.alert
    word = state_word(notice)
    title = alert.title or alert.key
    lines = alert.body.splitlines()
    host = _host_line(notice)
    if kind == "dingtalk":
        # DingTalk's markdown drops single newlines; a blank line keeps each line of the body.
        parts = [f"### [{word}] {title}", *[line for line in lines if line.strip()]]
        if host:
            parts.append(f"> {host}")
        text = _truncate_bytes("\n\n".join(parts), TEXT_MAX_BYTES)
        return {"msgtype": "markdown", "markdown": {"title": f"[{word}] {title}", "text": text}}
    if kind == "wecom":
        parts = [f"### [{word}] {title}", *lines]
        if host:
            parts.append(f"> {host}")
        return {"msgtype": "markdown", "markdown": {"content": _truncate_bytes("\n".join(parts), WECOM_MAX_BYTES)}}
    if kind == "feishu":
        parts = [f"[{word}] {title}", *lines]
        if host:
            parts.append(host)
        return {"msg_type": "text", "content": {"text": _truncate_bytes("\n".join(parts), TEXT_MAX_BYTES)}}
    if kind == "slack":
        parts = [f"*[{_slack_escape(word)}] {_slack_escape(title)}*", *(_slack_escape(line) for line in lines)]
        if host:
            parts.append(f"_{_slack_escape(host)}_")
        return {"text": _truncate_bytes("\n".join(parts), TEXT_MAX_BYTES)}
    return {
        "kind": notice.kind,
        "state": alert.state,
        "rule": alert.rule,
        "subject": alert.subject,
        "severity": alert.severity,
        "title": alert.title,
        "body": alert.body,
        "since": _iso(alert.since),
        "firedAt": _iso(alert.fired_at),
        "resolvedAt": _iso(alert.resolved_at),
        "host": notice.host,
        "value": alert.value,
        "threshold": alert.threshold,
    }


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions; these three are the escapes it documents.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- answers ---------------------------------------------------------------------------------


def answer_problem(kind: str, text: str) -> str | None:
    """What is wrong with a 2xx answer, or None when it means "delivered"."""
    if kind in ("dingtalk", "wecom"):
        answer = _json_object(text)
        if answer is None:
            return text or _("(empty answer)")
        code = answer.get("errcode")
        if code in (0, "0"):
            return None
        return f"errcode {code}: {answer.get('errmsg', '')}"
    if kind == "feishu":
        answer = _json_object(text)
        if answer is None:
            return text or _("(empty answer)")
        for field, message in (("code", "msg"), ("StatusCode", "StatusMessage")):
            if field in answer:
                if answer[field] in (0, "0"):
                    return None
                return f"{field} {answer[field]}: {answer.get(message, '')}"
        return text
    if kind == "slack":
        return None if text.strip() == "ok" else (text or _("(empty answer)"))
    return None  # plain JSON: any 2xx is a delivery


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
