"""Validate instances against the official OpenClaw protocol schema (tests/fixtures, MIT).

    from tests.schema import validate
    validate("ResponseFrame", frame)        # raises jsonschema.ValidationError when invalid

The schema is loaded once per process; `$ref`s resolve inside the same document. The Draft
is the one its `$schema` names (draft-07).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

SCHEMA_PATH = Path(__file__).parent / "fixtures" / "protocol.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The whole official schema document."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def validator(definition_name: str) -> Validator:
    root = schema()
    if definition_name not in root["definitions"]:
        raise KeyError(f"no definition {definition_name!r} in {SCHEMA_PATH.name}")
    # A `$ref` next to the definitions resolves `#/definitions/...` within the same document.
    subschema = {"$schema": root["$schema"], "$ref": f"#/definitions/{definition_name}",
                 "definitions": root["definitions"]}
    cls = jsonschema.validators.validator_for(subschema)
    cls.check_schema({"$schema": root["$schema"]})
    return cls(subschema)


def validate(definition_name: str, instance: Any) -> None:
    """Raise `jsonschema.ValidationError` unless `instance` satisfies `definitions[definition_name]`."""
    validator(definition_name).validate(instance)


def is_valid(definition_name: str, instance: Any) -> bool:
    return bool(validator(definition_name).is_valid(instance))
