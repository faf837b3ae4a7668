"""THE config loader: read `moltbot.json` (JSON5), expand `${VAR}`, validate, redact, write.

`load_config(path)` is the only way the app reads its config. It returns a `LoadedConfig`
(the text as in the file, its sha256 hash, the parsed object, the `${VAR}`-expanded object and
the validated `MoltConfig`) or raises `ConfigError`, whose message names the file, the key path
and the problem. `keyring:<name>` values are left as they are; secrets.resolve_secret reads them
when needed. Also here: RFC 7386 merge patches, the `__OPENCLAW_REDACTED__` redaction used by
`config.get` (in redact.py, re-exported here), and `write_config` (atomic, 0600).

Hot reload lives in watch.py, the running config and `config.patch` in manager.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import json5
from pydantic import ValidationError

from molt_desktop.config.redact import (
    REDACTED,
    URL_SECRET_PARAM,
    format_key_path,
    redact_config,
    redact_raw,
    redact_value,
    restore_redacted,
)
from molt_desktop.config.schema import (
    MOLT_SECTIONS,
    SUPPORTED_APIS,
    MoltConfig,
    MoltModel,
)
from molt_desktop.config.secrets import find_plaintext_secrets, is_reference, is_secret_key

__all__ = [
    "REDACTED",
    "ConfigError",
    "ConfigSnapshot",
    "LoadedConfig",
    "default_loaded",
    "expand_env",
    "find_plaintext_secrets",
    "format_key_path",
    "hash_raw",
    "load_config",
    "merge_patch",
    "parse_json5",
    "read_snapshot",
    "redact_config",
    "redact_raw",
    "redact_value",
    "restore_redacted",
    "validate_config",
    "write_config",
]
from molt_desktop.fileio import atomic_write, ensure_private_dir
from molt_desktop.logs import register_secret

_ENV_PATTERN = re.compile(r"\$?\$\{([A-Z_][A-Z0-9_]*)\}")
_JSON5_ERROR = re.compile(r"^<string>:(\d+) (.*) at column (\d+)$")



class ConfigError(Exception):
    """The config file cannot be used. `str()` names the file, the key path and the problem."""

    def __init__(
        self,
        path: Path | str | None,
        key_path: str,
        problem: str,
        *,
        issues: list[dict[str, str]] | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.key_path = key_path
        self.problem = problem
        self.issues = issues if issues is not None else [{"path": key_path, "message": problem}]
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [str(self.path)] if self.path is not None else []
        if self.key_path:
            parts.append(self.key_path)
        parts.append(self.problem)
        text = ": ".join(parts)
        extra = len(self.issues) - 1
        if extra > 0:
            text += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        return text


@dataclass(frozen=True)
class LoadedConfig:
    """One successful read of the config file."""

    path: Path
    exists: bool
    raw: str
    parsed: dict[str, Any]
    resolved: dict[str, Any]
    config: MoltConfig
    hash: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConfigSnapshot:
    """What is on disk right now, valid or not (config.get shows both)."""

    path: Path
    exists: bool
    raw: str
    hash: str
    parsed: dict[str, Any] | None
    loaded: LoadedConfig | None
    error: ConfigError | None


def hash_raw(raw: str) -> str:
    """sha256 hex of the file text, as OpenClaw 2026.1.29 reports it in `config.get`."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def default_loaded(path: Path) -> LoadedConfig:
    """The config used when there is no file: every default."""
    return LoadedConfig(path, False, "", {}, {}, MoltConfig(), hash_raw(""), [])


# --- parsing -------------------------------------------------------------------------------


def parse_json5(text: str, path: Path | str | None = None) -> Any:
    """Parse JSON5 text; syntax errors become ConfigError naming line and column."""
    body = text.removeprefix("\ufeff")  # Windows editors like to add a BOM
    if not body.strip():
        return {}
    try:
        return json5.loads(body)
    except ValueError as exc:
        message = str(exc)
        match = _JSON5_ERROR.match(message)
        if match:
            line, what, column = int(match.group(1)), match.group(2), int(match.group(3))
            raise ConfigError(
                path, "", f"JSON5 syntax error at line {line}, column {column}: {what}", line=line, column=column
            ) from None
        raise ConfigError(path, "", f"JSON5 syntax error: {message}") from None
    except RecursionError:
        raise ConfigError(path, "", "JSON5 syntax error: nested too deeply") from None


def expand_env(value: Any, path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Any:
    """A deep copy of `value` with `${VAR}` in strings replaced from the environment.

    Only upper-case names are variables (`[A-Z_][A-Z0-9_]*`, as in OpenClaw); `$${VAR}` gives a
    literal `${VAR}`. An unset variable is a ConfigError naming the key path and the variable.
    """
    environ: Mapping[str, str] = os.environ if env is None else env

    def walk(node: Any, parts: list[str | int]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, [*parts, k]) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, [*parts, i]) for i, v in enumerate(node)]
        if isinstance(node, str) and "${" in node:

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if match.group(0).startswith("$$"):
                    return "${" + name + "}"
                if name not in environ:
                    raise ConfigError(
                        path,
                        format_key_path(parts),
                        f"environment variable {name} is not set (used as ${{{name}}}); "
                        f"set it, or write $${{{name}}} for a literal ${{{name}}}",
                    )
                return environ[name]

            expanded = _ENV_PATTERN.sub(substitute, node)
            if parts and isinstance(parts[-1], str) and is_secret_key(parts[-1]):
                register_secret(expanded)
            return expanded
        return node

    return walk(value, [])


def _describe_input(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _issue_path(loc: tuple[str | int, ...], data: Any, missing: bool) -> str:
    """Pydantic's error location as a key path of the input (union/validator tags dropped)."""
    parts: list[str | int] = []
    node = data
    for index, element in enumerate(loc):
        if isinstance(node, dict) and element in node:
            node = node[element]
            parts.append(element)
        elif isinstance(node, list) and isinstance(element, int) and element < len(node):
            node = node[element]
            parts.append(element)
        elif missing and index == len(loc) - 1:
            parts.append(element)  # the required key that is not there
        else:
            node = None
    return format_key_path(parts)


def _issue_message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message.split(", unable to")[0]
    loc = error["loc"]
    under_secret = bool(loc) and isinstance(loc[-1], str) and is_secret_key(loc[-1])
    if error["type"] != "missing" and not under_secret and not isinstance(error.get("input"), dict | list):
        message += f", got {_describe_input(error.get('input'))}"
    return message


def validate_config(
    parsed: Any, path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], MoltConfig, list[str]]:
    """(resolved, config, warnings) for an already parsed config object, or ConfigError."""
    if not isinstance(parsed, dict):
        raise ConfigError(path, "", f"the top level must be an object {{...}}, got {_describe_input(parsed)}")
    resolved = expand_env(parsed, path, env)
    try:
        config = MoltConfig.model_validate(resolved)
    except ValidationError as exc:
        issues = [
            {"path": _issue_path(tuple(e["loc"]), resolved, e["type"] == "missing"), "message": _issue_message(e)}
            for e in exc.errors()
        ]
        first = issues[0]
        raise ConfigError(path, first["path"], first["message"], issues=issues) from None
    _register_plain_secrets(resolved)
    return resolved, config, collect_warnings(config)


def collect_warnings(config: MoltConfig) -> list[str]:
    """Things that load but probably are not what the user meant."""
    warnings: list[str] = []

    def unknown(model: Any, prefix: str) -> None:
        if isinstance(model, MoltModel):
            for key in model.model_extra or {}:
                warnings.append(f"{prefix}.{key}: not a molt_desktop setting (typo?); it is ignored")
            for name in type(model).model_fields:
                unknown(getattr(model, name), f"{prefix}.{name}")
        elif isinstance(model, list):
            for index, item in enumerate(model):
                unknown(item, f"{prefix}[{index}]")

    for section in MOLT_SECTIONS:
        unknown(getattr(config, section), section)
    for name, provider in config.models.providers.items():
        if provider.api is not None and provider.api not in SUPPORTED_APIS:
            warnings.append(
                f"models.providers.{name}.api: {provider.api!r} is not supported by molt_desktop "
                f"(use {' or '.join(SUPPORTED_APIS)}); its models are not available"
            )
    if config.gateway.bind == "tailnet":
        warnings.append('gateway.bind: "tailnet" is not supported; the gateway listens on loopback')
    return warnings


def _register_plain_secrets(node: Any, key: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _register_plain_secrets(v, str(k))
    elif isinstance(node, list):
        for item in node:
            _register_plain_secrets(item, key)
    elif isinstance(node, str):
        if is_secret_key(key) and not is_reference(node):
            register_secret(node)
        for match in URL_SECRET_PARAM.finditer(node):
            register_secret(match.group(2))


# --- reading -------------------------------------------------------------------------------


def read_snapshot(path: Path, env: Mapping[str, str] | None = None) -> ConfigSnapshot:
    """Read and check the file at `path`; never raises for file contents or I/O problems."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        loaded = default_loaded(path)
        return ConfigSnapshot(path, False, "", loaded.hash, {}, loaded, None)
    except OSError as exc:
        error = ConfigError(path, "", f"cannot read the file: {exc.strerror or exc}")
        return ConfigSnapshot(path, True, "", hash_raw(""), None, None, error)
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = ConfigError(path, "", f"not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8")
        return ConfigSnapshot(path, True, "", hashlib.sha256(data).hexdigest(), None, None, error)
    digest = hash_raw(raw)
    try:
        parsed = parse_json5(raw, path)
    except ConfigError as exc:
        return ConfigSnapshot(path, True, raw, digest, None, None, exc)
    try:
        resolved, config, warnings = validate_config(parsed, path, env)
    except ConfigError as exc:
        return ConfigSnapshot(path, True, raw, digest, parsed if isinstance(parsed, dict) else None, None, exc)
    loaded = LoadedConfig(path, True, raw, parsed, resolved, config, digest, warnings)
    return ConfigSnapshot(path, True, raw, digest, parsed, loaded, None)


def load_config(path: Path, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Load the config file; a missing file gives the defaults (`exists=False`, raw "")."""
    snapshot = read_snapshot(path, env)
    if snapshot.error is not None:
        raise snapshot.error
    assert snapshot.loaded is not None
    return snapshot.loaded


def write_config(path: Path, parsed: dict[str, Any]) -> str:
    """Write `parsed` as pretty JSON (valid JSON5), atomically with mode 0600; returns the text.

    Comments of a hand-written JSON5 file do not survive, as with OpenClaw's own writes.
    """
    text = json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"
    ensure_private_dir(path.parent)
    atomic_write(path, text)
    return text


# --- merge patch ---------------------------------------------------------------------------


def merge_patch(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.

    Neither argument is modified.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
