"""Redaction of secrets for `config.get` (`__OPENCLAW_REDACTED__`) and its undoing in `config.patch`.

Which keys hold secrets is decided by secrets.is_secret_key. `redact_raw` works on the JSON5
text itself (comments and layout kept, even for a file that does not parse). Loading and
validating the config is load.py's job; load.py re-exports these functions.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5

from molt_desktop.config.secrets import is_reference, is_secret_key

REDACTED = "__OPENCLAW_REDACTED__"

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
# Query parameters that carry credentials inside URLs (DingTalk/WeCom webhooks: access_token=...).
URL_SECRET_PARAM = re.compile(
    r"([?&][^=&#]*(?:token|key|secret|sign|password)[^=&#]*=)([^&#]+)", re.IGNORECASE
)


def format_key_path(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def redact_value(key: str, value: Any) -> Any:
    """The value as `config.get` shows it: secrets become `__OPENCLAW_REDACTED__`.

    References (`keyring:<name>`, `${VAR}`) are shown: they name a secret, they are not one.
    Credentials in URL query strings (`?access_token=...`) are replaced inside the URL.
    """
    if not isinstance(value, str) or not value:
        return value
    if is_secret_key(key):
        return value if is_reference(value) else REDACTED
    if "://" in value and "?" in value:
        return URL_SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, value)
    return value


def redact_config(obj: Any, key: str = "") -> Any:
    """A copy of a config object with every secret value redacted."""
    if isinstance(obj, dict):
        return {k: redact_config(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact_config(item, key) for item in obj]
    return redact_value(key, obj)


def restore_redacted(new: Any, old: Any, key: str = "", parts: list[str | int] | None = None) -> Any:
    """Undo redaction in a patched config: a value equal to the redacted form of the existing
    value keeps the existing value (so a client can send back what `config.get` gave it).

    A bare `__OPENCLAW_REDACTED__` with no existing secret is an error (ValueError).
    """
    parts = parts or []
    if isinstance(new, dict):
        old_dict = old if isinstance(old, dict) else {}
        return {k: restore_redacted(v, old_dict.get(k), str(k), [*parts, k]) for k, v in new.items()}
    if isinstance(new, list):
        old_list = old if isinstance(old, list) else []
        restored = []
        for index, item in enumerate(new):
            counterpart = _list_counterpart(item, index, old_list)
            restored.append(restore_redacted(item, counterpart, key, [*parts, index]))
        return restored
    if isinstance(new, str) and REDACTED in new:
        if isinstance(old, str) and old and redact_value(key, old) == new:
            return old
        if new == REDACTED:
            raise ValueError(
                f"{format_key_path(parts)}: the value is {REDACTED} but there is no stored value to keep; "
                "send the real value"
            )
    return new


def _list_counterpart(item: Any, index: int, old_list: list[Any]) -> Any:
    if isinstance(item, dict) and "id" in item:
        for candidate in old_list:
            if isinstance(candidate, dict) and candidate.get("id") == item["id"]:
                return candidate
    return old_list[index] if index < len(old_list) else None


def redact_raw(raw: str, parsed: Any = None) -> str:
    """The file text with secret string values redacted, comments and layout kept.

    Works on the JSON5 tokens (it knows which key each string value belongs to), so it also
    redacts a file that does not parse. Values equal to a secret found in `parsed` are
    redacted wherever they appear.
    """
    known: set[str] = set()
    if parsed is not None:
        _collect_secret_values(parsed, "", known)
    out: list[str] = []
    last_key = ""
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if raw.startswith("//", i):
            end = raw.find("\n", i)
            end = n if end < 0 else end
            out.append(raw[i:end])
            i = end
        elif raw.startswith("/*", i):
            end = raw.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(raw[i:end])
            i = end
        elif ch in "\"'":
            end = _string_end(raw, i)
            literal = raw[i:end]
            i = end
            if _next_significant(raw, i) == ":":
                last_key = _decode_literal(literal) or ""
                out.append(literal)
                continue
            value = _decode_literal(literal)
            if value is None:
                out.append(literal)
                continue
            redacted = REDACTED if value in known else redact_value(last_key, value)
            out.append(literal if redacted == value else _quote(redacted, ch))
        elif ch.isalpha() or ch in "_$":
            j = i
            while j < n and (raw[j].isalnum() or raw[j] in "_$"):
                j += 1
            if _next_significant(raw, j) == ":":
                last_key = raw[i:j]
            out.append(raw[i:j])
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _collect_secret_values(node: Any, key: str, into: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _collect_secret_values(v, str(k), into)
    elif isinstance(node, list):
        for item in node:
            _collect_secret_values(item, key, into)
    elif isinstance(node, str) and node and redact_value(key, node) == REDACTED and len(node) >= 4:
        into.add(node)


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote or text[i] == "\n":
            return i + 1
        i += 1
    return len(text)


def _next_significant(text: str, i: int) -> str:
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            return text[i]
    return ""


def _decode_literal(literal: str) -> str | None:
    try:
        value = json5.loads(literal)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _quote(value: str, quote: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if quote == "'":
        text = "'" + text[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"
    return text
