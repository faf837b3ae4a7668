"""A small JSON Schema (draft-07 subset) checker with OpenClaw's error wording.

OpenClaw validates frames and params with AJV and words failures through its
`formatValidationErrors` (`at /limit: must be <= 1000`, `at root: unexpected property 'x'`).
This module checks the keywords the official protocol schema uses for the params we accept
(type, properties, required, additionalProperties, patternProperties, anyOf, not, enum, const,
min/maxLength, minimum/maximum, items, min/maxItems, uniqueItems, maxProperties, pattern) and
reproduces AJV's messages, so clients see the same text from us as from a real gateway.
Not here: which schema applies to which method (methods.py). Imports nothing else of molt_desktop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Error messages stay readable even for hostile input (thousands of unknown keys, huge names).
_MAX_PARTS = 10
_MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class SchemaError:
    """One failed check: JSON-pointer path of the value, the keyword, AJV's message."""

    path: str
    keyword: str
    message: str
    property: str | None = None  # the unexpected property, for additionalProperties


REQUEST_FRAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "id", "method"],
    "properties": {
        "type": {"type": "string", "const": "req"},
        "id": {"type": "string", "minLength": 1},
        "method": {"type": "string", "minLength": 1},
        "params": {},
        "traceparent": {"type": "string", "maxLength": 128},
    },
    "additionalProperties": False,
}


def request_frame_errors(value: Any) -> list[SchemaError]:
    return schema_errors(REQUEST_FRAME_SCHEMA, value)


def _pointer_part(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # JSON has one number type: 5.0 is the integer 5 to a JavaScript gateway.
    return isinstance(value, float) and value.is_integer()


def _type_matches(name: str, value: Any) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return _is_integer(value)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    return True


def _json_equal(a: Any, b: Any) -> bool:
    # JSON equality: True is not 1, 1 is 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    # JavaScript's `$` (no m flag) matches only at the very end; Python's also before a final \n.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def schema_errors(schema: dict[str, Any], value: Any, path: str = "") -> list[SchemaError]:
    """Every way `value` fails `schema`, in AJV's order and wording (empty list: valid)."""
    errors: list[SchemaError] = []

    def add(keyword: str, message: str, prop: str | None = None, at: str = path) -> None:
        errors.append(SchemaError(at, keyword, message, prop))

    declared = schema.get("type")
    if declared is not None:
        names = declared if isinstance(declared, list) else [declared]
        if not any(_type_matches(n, value) for n in names):
            add("type", f"must be {','.join(names)}")
            return errors  # AJV skips the type-specific keywords of a wrongly typed value

    if "const" in schema and not _json_equal(value, schema["const"]):
        add("const", "must be equal to constant")
    if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
        add("enum", "must be equal to one of the allowed values")

    if isinstance(value, str):
        length = len(value)
        if "maxLength" in schema and length > schema["maxLength"]:
            add("maxLength", f"must NOT have more than {schema['maxLength']} characters")
        if "minLength" in schema and length < schema["minLength"]:
            add("minLength", f"must NOT have fewer than {schema['minLength']} characters")
        if "pattern" in schema and not _compile(schema["pattern"]).search(value):
            add("pattern", f'must match pattern "{schema["pattern"]}"')

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "maximum" in schema and value > schema["maximum"]:
            add("maximum", f"must be <= {_format_number(schema['maximum'])}")
        if "minimum" in schema and value < schema["minimum"]:
            add("minimum", f"must be >= {_format_number(schema['minimum'])}")

    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            add("maxItems", f"must NOT have more than {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            add("minItems", f"must NOT have fewer than {schema['minItems']} items")
        if schema.get("uniqueItems") and len(value) <= 256:  # bounded: the check is quadratic
            duplicate = _first_duplicate(value)
            if duplicate is not None:
                i, j = duplicate
                add("uniqueItems", f"must NOT have duplicate items (items ## {j} and {i} are identical)")

    if isinstance(value, dict):
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            add("maxProperties", f"must NOT have more than {schema['maxProperties']} properties")
        for name in schema.get("required", ()):
            if name not in value:
                add("required", f"must have required property '{name}'")

    if "not" in schema and not schema_errors(schema["not"], value, path):
        add("not", "must NOT be valid")

    if "anyOf" in schema:
        branch_errors: list[SchemaError] = []
        for branch in schema["anyOf"]:
            found = schema_errors(branch, value, path)
            if not found:
                branch_errors = []
                break
            branch_errors.extend(found)
        else:
            errors.extend(branch_errors)
            add("anyOf", "must match a schema in anyOf")

    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        patterns: dict[str, Any] = schema.get("patternProperties", {})
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in properties and not any(_compile(p).search(name) for p in patterns):
                    add("additionalProperties", "must NOT have additional properties", name)
        for name, subschema in properties.items():
            if name in value and isinstance(subschema, dict):
                errors.extend(schema_errors(subschema, value[name], f"{path}/{_pointer_part(name)}"))
        for pattern, subschema in patterns.items():
            regex = _compile(pattern)
            for name, item in value.items():
                if regex.search(name):
                    errors.extend(schema_errors(subschema, item, f"{path}/{_pointer_part(name)}"))

    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors.extend(schema_errors(schema["items"], item, f"{path}/{index}"))

    return errors


def _first_duplicate(items: list[Any]) -> tuple[int, int] | None:
    for j in range(len(items)):
        for i in range(j):
            if _json_equal(items[i], items[j]):
                return i, j
    return None


def _short(name: str) -> str:
    return name if len(name) <= _MAX_NAME_CHARS else name[: _MAX_NAME_CHARS - 3] + "..."


def format_errors(errors: list[SchemaError]) -> str:
    """OpenClaw's `formatValidationErrors`: `at /x: msg; at root: unexpected property 'y'`."""
    if not errors:
        return "unknown validation error"
    parts: list[str] = []
    seen: set[str] = set()
    for err in errors:
        if err.keyword == "additionalProperties" and err.property:
            where = f"at {_short(err.path)}" if err.path else "at root"
            part = f"{where}: unexpected property '{_short(err.property)}'"
        else:
            part = f"at {_short(err.path)}: {err.message}" if err.path else err.message
        if part not in seen:
            seen.add(part)
            parts.append(part)
    if len(parts) > _MAX_PARTS:
        extra = len(parts) - _MAX_PARTS
        parts = parts[:_MAX_PARTS] + [f"and {extra} more"]
    return "; ".join(parts)
