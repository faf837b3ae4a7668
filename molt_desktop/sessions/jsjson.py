"""JSON text exactly as Node's `JSON.stringify` writes it, for files OpenClaw also writes.

What lives here: `js_dumps` (compact or indented like `JSON.stringify(v, null, 2)`) and `js_utf8`.
Python's json module differs from Node in small ways that change bytes: floats (`3e-05` vs
`0.00003`, `1.0` vs `1`), NaN (Node writes `null`), the order of integer-like object keys (Node
puts them first), and lone surrogates (Node escapes them). Nothing else lives here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

encode_string = json.encoder.encode_basestring
_SURROGATE = re.compile("[\ud800-\udfff]")


def _js_number(value: float) -> str:
    """`Number.prototype.toString`: `0.00003` not `3e-05`, `1` not `1.0`, `1e-7`, `1e+21`."""
    if math.isnan(value) or math.isinf(value):
        return "null"  # JSON.stringify(NaN) === "null"
    if value == 0:
        return "0"
    text = repr(value)  # shortest round-trip digits, the same digits V8 picks
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if exp >= 0 else "-")
        out += str(abs(exp))
    return sign + out


def _is_array_index(key: object) -> bool:
    return (
        isinstance(key, str) and key.isascii() and key.isdigit()
        and (key == "0" or key[0] != "0") and int(key) < 4294967295
    )


def js_keys(obj: dict[str, Any]) -> list[str]:
    """Object key order in JS: integer-like keys first, ascending; then insertion order."""
    keys = [str(k) if isinstance(k, int) and not isinstance(k, bool) else k for k in obj]
    if not any(isinstance(k, str) and k[:1].isdigit() for k in keys):
        return keys
    ints = sorted((k for k in keys if _is_array_index(k)), key=int)
    return ints + [k for k in keys if not _is_array_index(k)]


def _encode(value: Any, out: list[str], indent: str | None, level: int) -> None:
    if isinstance(value, str):
        out.append(encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_js_number(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        keys = js_keys(value)
        by_str = value if keys == list(value) else {str(k): v for k, v in value.items()}
        if indent is None:
            out.append("{")
            for i, key in enumerate(keys):
                if not isinstance(key, str):
                    raise TypeError(f"object keys must be strings, not {type(key).__name__}")
                out.append(("," if i else "") + encode_string(key) + ":")
                _encode(by_str[key], out, None, 0)
            out.append("}")
        else:
            inner = "\n" + indent * (level + 1)
            out.append("{")
            for i, key in enumerate(keys):
                if not isinstance(key, str):
                    raise TypeError(f"object keys must be strings, not {type(key).__name__}")
                out.append(("," if i else "") + inner + encode_string(key) + ": ")
                _encode(by_str[key], out, indent, level + 1)
            out.append("\n" + indent * level + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        if indent is None:
            out.append("[")
            for i, item in enumerate(value):
                if i:
                    out.append(",")
                _encode(item, out, None, 0)
            out.append("]")
        else:
            inner = "\n" + indent * (level + 1)
            out.append("[")
            for i, item in enumerate(value):
                out.append(("," if i else "") + inner)
                _encode(item, out, indent, level + 1)
            out.append("\n" + indent * level + "]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")


def js_dumps(value: Any, indent: int | None = None, level: int = 0) -> str:
    """`JSON.stringify(value, null, indent)`; `level` starts nested output at that depth."""
    out: list[str] = []
    _encode(value, out, " " * indent if indent else None, level)
    return "".join(out)


def js_utf8(text: str) -> bytes:
    """UTF-8 of JSON text; lone surrogates become `\\udxxx` escapes as in Node's JSON.stringify."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")
