"""What the settings pages edit, without widgets: the config draft, saving, presets, provider tests.

`ConfigDraft` starts from a `config.get` payload. Pages write the values they show into it
(`set` skips values equal to what is in force, so defaults never land in the file; `set_raw`
writes whole objects such as one provider); `patch()` is then the RFC 7386 difference between
the file as it was and as it should be: only the changed keys, and never a redacted secret that
was not touched. Secrets typed by the user go to `add_secret(path, name, value)`: the keyring
gets the value, the config gets `"keyring:<name>"`. `validate()` checks the merged config with
the pydantic schema before anything is sent; `save()` stores the secrets (worker thread) and
sends `config.patch` with the base hash.

Also here: the field descriptions of the schema (`describe`, shown through the core `_()`
because they live in the core catalogs), the provider presets, the provider Test (`probe_provider`:
one tiny real request through the app's provider code), and which page owns a config path.
Widgets live in settings_*.py; the dialog in settings_dialog.py.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel

from molt_desktop import i18n as core_i18n
from molt_desktop.agent.providers.probe import ProbeResult, probe_provider  # noqa: F401 - used by the pages
from molt_desktop.client.connection import GatewayCallError
from molt_desktop.config.load import ConfigError, validate_config
from molt_desktop.config.manager import BASE_HASH_STALE
from molt_desktop.config.redact import REDACTED
from molt_desktop.config.schema import MoltConfig
from molt_desktop.config.secrets import KEYRING_PREFIX, set_secret
from molt_desktop.logs import get_logger

log = get_logger("ui")

# The descriptions are marked with N_() in schema.py and extracted from there; here they are only
# looked up (a call with a variable would look like an untranslatable string to the extractor).
_translate_description = core_i18n.gettext

Path = tuple[str | int, ...]

# Which settings page shows a config path (the first matching prefix wins).
PAGE_PREFIXES = (
    ("models.providers", "providers"),
    ("models", "providers"),
    ("agents", "models"),
    ("gateway", "gateway"),
    ("remotes", "remotes"),
    ("failover", "remotes"),
    ("sync", "sync"),
    ("alerts", "alerts"),
    ("ui", "general"),
)
PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def split_path(path: str | Path) -> Path:
    return tuple(path.split(".")) if isinstance(path, str) else path


def path_text(path: str | Path) -> str:
    """`("remotes", 0, "url")` -> `remotes[0].url`, as the config loader names issue paths."""
    text = ""
    for part in split_path(path):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def page_for(path: str) -> str | None:
    for prefix, page in PAGE_PREFIXES:
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return page
    return None


# --- schema descriptions ---------------------------------------------------------------------


def schema_field(model: type[BaseModel], name: str) -> Any:
    """The pydantic FieldInfo of `name` (by attribute name or alias, e.g. `from`)."""
    fields = model.model_fields
    if name in fields:
        return fields[name]
    for info in fields.values():
        if info.alias == name:
            return info
    raise KeyError(f"{model.__name__} has no field {name!r}")


def describe(model: type[BaseModel], name: str) -> str:
    """The schema's description of a field, in the current language (core gettext catalogs)."""
    description = schema_field(model, name).description or ""
    return _translate_description(description) if description else ""


def section_model(path: str) -> type[BaseModel]:
    """The schema class of a dotted section path from the root: "alerts.email" -> EmailAlertConfig."""
    model: type[BaseModel] = MoltConfig
    for name in path.split("."):
        annotation = schema_field(model, name).annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise KeyError(f"{path} is not a section")
        model = annotation
    return model


# --- the draft ---------------------------------------------------------------------------------


def get_in(data: Any, path: str | Path) -> Any:
    node = data
    for part in split_path(path):
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def merge_diff(old: Any, new: Any) -> dict[str, Any]:
    """The JSON merge patch that turns the object `old` into `new` (lists are replaced whole)."""
    patch: dict[str, Any] = {}
    old = old if isinstance(old, dict) else {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key in old and old[key] == value:
            continue
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            inner = merge_diff(old[key], value)
            if inner:
                patch[key] = inner
        else:
            patch[key] = copy.deepcopy(value)
    return patch


@dataclass
class Issue:
    path: str  # "gateway.port", "remotes[0].url", or "" for the whole config
    message: str


class StaleConfig(Exception):
    """The config changed since it was read (config.patch refused the base hash)."""


class InvalidConfig(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass
class ConfigDraft:
    payload: dict[str, Any]
    desired: dict[str, Any] = field(init=False)
    secrets: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.desired = copy.deepcopy(self.parsed)

    @property
    def parsed(self) -> dict[str, Any]:
        """The file as it is (secrets redacted), without defaults."""
        parsed = self.payload.get("parsed")
        return parsed if isinstance(parsed, dict) else {}

    @property
    def config(self) -> dict[str, Any]:
        """The config in force, every default filled in (secrets redacted)."""
        config = self.payload.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def hash(self) -> str | None:
        return self.payload.get("hash")

    def effective(self, path: str | Path) -> Any:
        return get_in(self.config, path)

    def raw(self, path: str | Path) -> Any:
        return get_in(self.parsed, path)

    def set(self, path: str | Path, value: Any) -> None:
        """A setting as the page shows it; unchanged values (defaults included) stay out of the file."""
        if value == self.effective(path) and get_in(self.desired, path) == self.raw(path):
            return
        self.set_raw(path, value)

    def set_raw(self, path: str | Path, value: Any) -> None:
        """Write `value` at `path` of the file (None removes the key)."""
        parts = split_path(path)
        node: Any = self.desired
        for index, part in enumerate(parts[:-1]):
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                # A shorthand (`model: "a/b"`) is replaced by the object it stands for; a missing
                # section starts empty (defaults stay out of the file).
                in_force = self.effective(parts[: index + 1]) if child is not None else None
                child = copy.deepcopy(in_force) if isinstance(in_force, dict) else {}
                node[part] = child
            node = child
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = copy.deepcopy(value)

    def add_secret(self, path: str | Path, name: str, value: str) -> str:
        """Keep `value` in the keyring as `name`; the config gets the reference. Returns it."""
        reference = self.secret_ref(name, value)
        self.set_raw(path, reference)
        return reference

    def secret_ref(self, name: str, value: str) -> str:
        """Keep `value` in the keyring as `name` on save; the reference to put into the config."""
        self.secrets[name] = value
        return KEYRING_PREFIX + name

    def add_issue(self, path: str | Path, message: str) -> None:
        self.issues.append(Issue(path_text(path) if not isinstance(path, str) else path, message))

    def patch(self) -> dict[str, Any]:
        return merge_diff(self.parsed, self.desired)

    def changed(self) -> bool:
        return bool(self.patch()) or bool(self.secrets)

    def validate(self) -> list[Issue]:
        """Problems of the merged config, checked by the schema (as the gateway will check it)."""
        try:
            validate_config(self.desired)
        except ConfigError as exc:
            return [Issue(str(i.get("path") or ""), str(i.get("message") or "")) for i in exc.issues]
        return []

    async def save(self, call: Any) -> dict[str, Any] | None:
        """Store the secrets, then `config.patch` the changes. None when there was nothing to save.

        `call` is `bridge.call`. Raises SecretStoreUnavailable (nothing sent), StaleConfig,
        InvalidConfig (the gateway's own validation) or the call's error.
        """
        patch = self.patch()
        for name, value in self.secrets.items():
            await asyncio.to_thread(set_secret, name, value)
        if not patch:
            return None
        try:
            return await call("config.patch", {"raw": json.dumps(patch, ensure_ascii=False),
                                               "baseHash": self.hash, "note": "settings dialog"})
        except GatewayCallError as exc:
            if BASE_HASH_STALE in exc.message or "base hash" in exc.message:
                raise StaleConfig(exc.message) from exc
            details = exc.details if isinstance(exc.details, dict) else {}
            issues = details.get("issues")
            if isinstance(issues, list) and issues:
                raise InvalidConfig([Issue(str(i.get("path") or ""), str(i.get("message") or ""))
                                     for i in issues if isinstance(i, dict)]) from exc
            raise


def is_redacted(value: Any) -> bool:
    return isinstance(value, str) and REDACTED in value


def check_http_url(value: str) -> bool:
    parsed = urlparse(value.strip())
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in value.strip()


# --- presets -------------------------------------------------------------------------------------


def _model(model_id: str, name: str, context: int, max_tokens: int, *, reasoning: bool = False) -> dict[str, Any]:
    model: dict[str, Any] = {"id": model_id, "name": name, "contextWindow": context, "maxTokens": max_tokens}
    if reasoning:
        model["reasoning"] = True
    return model


@dataclass(frozen=True)
class ProviderPreset:
    id: str  # also the provider name it suggests
    label: str  # a product name, the same in every language
    base_url: str
    api: str
    models: tuple[dict[str, Any], ...]
    needs_key: bool = True
    key_url: str = ""


PRESETS: tuple[ProviderPreset, ...] = (
    ProviderPreset("anthropic", "Anthropic", "https://api.anthropic.com", "anthropic-messages", (
        _model("claude-sonnet-4-5", "Claude Sonnet 4.5", 200_000, 64_000),
        _model("claude-opus-4-5", "Claude Opus 4.5", 200_000, 32_000),
        _model("claude-haiku-4-5", "Claude Haiku 4.5", 200_000, 64_000),
    ), key_url="https://console.anthropic.com/settings/keys"),
    ProviderPreset("bigmodel", "BigModel (Zhipu GLM)", "https://open.bigmodel.cn/api/anthropic", "anthropic-messages", (
        _model("glm-4.6", "GLM-4.6", 200_000, 128_000),
        _model("glm-4.5-air", "GLM-4.5-Air", 128_000, 96_000),
    ), key_url="https://open.bigmodel.cn/usercenter/apikeys"),
    ProviderPreset("minimax", "MiniMax", "https://api.minimaxi.com/anthropic", "anthropic-messages", (
        _model("MiniMax-M2", "MiniMax-M2", 204_800, 128_000),
    ), key_url="https://platform.minimaxi.com/user-center/basic-information/interface-key"),
    ProviderPreset("deepseek", "DeepSeek", "https://api.deepseek.com", "openai-completions", (
        _model("deepseek-chat", "DeepSeek Chat", 128_000, 8_192),
        _model("deepseek-reasoner", "DeepSeek Reasoner", 128_000, 64_000, reasoning=True),
    ), key_url="https://platform.deepseek.com/api_keys"),
    ProviderPreset("qwen", "Qwen (DashScope)", "https://dashscope.aliyuncs.com/compatible-mode/v1",
                   "openai-completions", (
        _model("qwen-plus", "Qwen Plus", 131_072, 16_384),
        _model("qwen-max", "Qwen Max", 32_768, 8_192),
        _model("qwen-turbo", "Qwen Turbo", 131_072, 16_384),
    ), key_url="https://dashscope.console.aliyun.com/apiKey"),
    ProviderPreset("ollama", "Ollama", "http://127.0.0.1:11434/v1", "openai-completions", (
        _model("qwen2.5:7b", "Qwen 2.5 7B (local)", 32_768, 8_192),
        _model("llama3.2", "Llama 3.2 (local)", 131_072, 8_192),
    ), needs_key=False, key_url="https://ollama.com/download"),
)


def preset(preset_id: str) -> ProviderPreset | None:
    return next((p for p in PRESETS if p.id == preset_id), None)


def unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    index = 2
    while f"{base}-{index}" in taken:
        index += 1
    return f"{base}-{index}"


# --- the provider Test: agent/providers/probe.py (the monitor uses it too) ---------------------------
