"""Turn whatever a provider call raised into a `ProviderError` a person can act on.

Both SDKs (anthropic, openai) raise the same family of exceptions: a status error carrying the
HTTP status and the provider's JSON error body, a connection error, a timeout (a subclass of the
connection error), and a bare API error for errors sent inside a stream. Errors raised while a
stream is being read can also surface as the HTTP library's own exceptions, or as OSError.
`classify` looks at the status, the body's error type/code and the wording, and writes a
message naming the provider, what happened and which config key to look at.

The adapters call `classify`; nothing else in the app needs to know the SDK exception types.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import sys
from dataclasses import dataclass
from typing import Any

from molt_desktop.agent.providers.base import ErrorKind, ProviderError
from molt_desktop.logs import redact


def _loaded(*names: str) -> tuple[type[BaseException], ...]:
    """`<sdk>.<name>` of the SDKs already imported: an exception can only come from one of those,
    and importing an SDK just to classify costs a second."""
    found: list[type[BaseException]] = []
    for module_name in ("anthropic", "openai", "httpx2"):
        module = sys.modules.get(module_name)
        for name in names:
            cls = getattr(module, name, None) if module is not None else None
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(found)


# Wording providers use for "the prompt does not fit": Anthropic "prompt is too long",
# OpenAI "maximum context length" / code context_length_exceeded, DeepSeek, Qwen, Ollama...
_CONTEXT_WORDING = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|prompt is too long|too many tokens|"
    r"input (is )?too long|exceeds? the (model'?s )?(maximum|max)|reduce the length|token limit",
    re.IGNORECASE,
)
_BODY_TYPE_KINDS: dict[str, ErrorKind] = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "rate_limit",
    "authentication_error": "auth",
    "invalid_api_key": "auth",
    "permission_error": "auth",
    "api_error": "server",
    "server_error": "server",
    "timeout_error": "timeout",
    "context_length_exceeded": "context_length",
}


@dataclass(frozen=True)
class CallSite:
    """Who was called: for messages that name the provider, model and the config keys."""

    provider: str
    model: str
    base_url: str
    timeout_s: float
    has_api_key: bool = True


def classify(exc: BaseException, site: CallSite) -> ProviderError:
    """The ProviderError for `exc`, raised while calling `site`."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, _loaded("APIStatusError")):
        return _from_status(getattr(exc, "status_code", None), getattr(exc, "body", None),
                            str(getattr(exc, "message", exc)), _headers(exc), site)
    if isinstance(exc, (*_loaded("APITimeoutError", "TimeoutException"), TimeoutError)) and not _refused(exc):
        return _error(
            "timeout",
            f"{site.provider} did not answer within {site.timeout_s:g} s (timeout). The service may be "
            f"slow or unreachable; try again, or add a fallback model under agents.defaults.model.fallbacks.",
            site,
        )
    if isinstance(exc, (*_loaded("APIConnectionError", "TransportError"), OSError)):
        return _error(
            "network",
            f"Could not connect to {site.provider} at {site.base_url} ({_connection_reason(exc)}). "
            f"Check the network connection and models.providers.{site.provider}.baseUrl.",
            site,
        )
    if isinstance(exc, _loaded("APIError")):
        # An error event inside the stream: no HTTP status of its own, the body says what it was.
        return _from_status(None, getattr(exc, "body", None), str(getattr(exc, "message", exc)), {}, site)
    return _error("unknown", f"Unexpected error from {site.provider}: {_short(str(exc) or type(exc).__name__)}", site)


def _headers(exc: Any) -> dict[str, str]:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return dict(headers) if headers is not None else {}


def _error(kind: ErrorKind, message: str, site: CallSite, **extra: Any) -> ProviderError:
    return ProviderError(kind, message, provider=site.provider, model=site.model, **extra)


def _body_error(body: object) -> tuple[str, str]:
    """(type-or-code, message) from an Anthropic `{type:error, error:{type, message}}` or an
    OpenAI `{error:{message, type, code}}` body (or the inner error object itself)."""
    if not isinstance(body, dict):
        return "", str(body) if isinstance(body, str) else ""
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    assert isinstance(inner, dict)
    code = inner.get("code")
    kind = inner.get("type")
    label = ""
    for candidate in (code, kind):
        if isinstance(candidate, str) and candidate in _BODY_TYPE_KINDS:
            label = candidate
            break
    if not label:
        label = str(kind or code or "")
    message = inner.get("message")
    return label, message if isinstance(message, str) else ""


def _retry_after(headers: dict[str, str]) -> float | None:
    for name in ("retry-after", "Retry-After"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _from_status(
    status: int | None, body: object, sdk_message: str, headers: dict[str, str], site: CallSite
) -> ProviderError:
    if status is not None and status < 400:
        status = None  # an error event inside a 200 stream: only the body tells what it was
    body_type, body_message = _body_error(body)
    detail = _short(body_message or sdk_message)
    name = site.provider
    kind = _kind_for(status, body_type, detail)
    shown = f"{status}" if status else (body_type or "error in stream")
    if kind == "auth":
        if status == 402 or "balance" in detail.lower() or "billing" in detail.lower():
            message = (
                f"{name} refused the request: payment required ({shown}: {detail}). "
                f"Check the account's balance or billing with {name}."
            )
        elif not site.has_api_key:
            message = (
                f"No API key is configured for {name}, and it refused the request ({shown}). "
                f"Set models.providers.{name}.apiKey."
            )
        else:
            message = f"The API key was rejected by {name} ({shown}). Check models.providers.{name}.apiKey."
        return _error(kind, message, site, status=status)
    if kind == "rate_limit":
        retry_after = _retry_after(headers)
        wait = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return _error(
            kind,
            f"{name} is rate limiting requests ({shown}). Wait a moment and try again{wait}, or add a "
            f"fallback model under agents.defaults.model.fallbacks.",
            site,
            status=status,
            retry_after_s=retry_after,
        )
    if kind == "overloaded":
        return _error(
            kind,
            f"{name} is overloaded right now ({shown}). Try again in a few minutes, or add a fallback "
            f"model under agents.defaults.model.fallbacks.",
            site,
            status=status,
            retry_after_s=_retry_after(headers),
        )
    if kind == "timeout":
        return _error(kind, f"{name} timed out while answering ({shown}). Try again.", site, status=status)
    if kind == "context_length":
        return _error(
            kind,
            f"The conversation is too long for {site.model} ({shown}: {detail}). Start a new session "
            f"(reset it) or choose a model with a larger context window.",
            site,
            status=status,
        )
    if kind == "server":
        return _error(
            kind,
            f"{name} had an internal error ({shown}{': ' + detail if detail else ''}). Try again later.",
            site,
            status=status,
        )
    if status == 404:
        return _error(
            "bad_request",
            f"{name} answered 404 Not Found for model {site.model!r}{': ' + detail if detail else ''}. Check "
            f"the model id and models.providers.{name}.baseUrl ({site.base_url}).",
            site,
            status=status,
        )
    if kind == "bad_request":
        return _error(kind, f"{name} rejected the request ({shown}): {detail or 'no details given'}", site,
                      status=status)
    return _error(kind, f"Unexpected error from {name} ({shown}): {detail or 'no details given'}", site, status=status)


def _kind_for(status: int | None, body_type: str, detail: str) -> ErrorKind:
    if status in (401, 403, 402):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status in (529, 503):
        return "overloaded"
    if status in (408, 504):
        return "timeout"
    if body_type in _BODY_TYPE_KINDS:
        mapped = _BODY_TYPE_KINDS[body_type]
        if status is None or mapped == "context_length" or status >= 500:
            return mapped
    if status is not None and status >= 500:
        return "server"
    if (status in (400, 413, 422) or status is None) and _CONTEXT_WORDING.search(detail):
        return "context_length"
    if status is not None and 400 <= status < 500:
        return "bad_request"
    if status is None and "overloaded" in detail.lower():
        return "overloaded"
    return "unknown"


def _refused(exc: BaseException) -> bool:
    """A connect that failed at once (refused, unknown host) under a timeout error: the SDK's
    aiohttp transport reports every failed connect as ConnectTimeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


def _connection_reason(exc: BaseException) -> str:
    """A short cause from the exception chain: 'connection refused', 'host not found'..."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ssl.SSLError):
            return f"TLS error: {_short(str(current))}"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        if isinstance(current, (*_loaded("RemoteProtocolError"), asyncio.IncompleteReadError)):
            return "the server closed the connection mid-answer"
        text = str(current).lower()
        if "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "host name not found"
        current = current.__cause__ or current.__context__
    return _short(str(exc)) or type(exc).__name__


def _short(text: str, limit: int = 300) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
