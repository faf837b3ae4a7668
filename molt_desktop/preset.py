"""Deployment presets: settings an administrator ships with the installer, applied on first start.

The Windows installer copies `/PRESET=<file>` to `<install dir>\\preset.json5`. On the first start
of the app (no `moltbot.json` in the state dir yet) `apply_first_start_preset` turns that file
into the config: it keeps only the sections a deployment sets (`remotes`, `failover`, `sync`,
`alerts`, `ui` and `gateway.port`), leaves out every secret typed in as it is (a value under a
token/password/apiKey/secret key, or a credential in a URL's query, that is not a `keyring:` or
`${VAR}` reference) and logs which key paths were left out, never their values. A marker file
in the state dir (`preset-applied.json`, with the preset's sha256) records that the preset was
seen, so it is applied once: later starts, and a config the user already has, are left alone.

Where the preset is found: `$MOLT_DESKTOP_PRESET`, else `preset.json5` next to the frozen
executable. Running from source without the variable there is none.
Not here: parsing, validating and writing the config (config/load.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.clock import now_ms
from molt_desktop.config.load import ConfigError, format_key_path, hash_raw, parse_json5, validate_config, write_config
from molt_desktop.config.redact import URL_SECRET_PARAM
from molt_desktop.config.secrets import is_reference, is_secret_key
from molt_desktop.fileio import atomic_write_json
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger

log = get_logger("preset")

ENV_PRESET = "MOLT_DESKTOP_PRESET"
PRESET_FILENAME = "preset.json5"
MARKER_FILENAME = "preset-applied.json"
KEPT_SECTIONS = ("remotes", "failover", "sync", "alerts", "ui")
KEPT_GATEWAY_KEYS = ("port",)
# OpenClaw's laptop setup names its server as gateway.remote; it becomes this remote's id.
OPENCLAW_REMOTE_ID = "server"


@dataclass
class Preset:
    """What a preset file gives the config: `config` is written, the rest is reported."""

    config: dict[str, Any]
    dropped: list[str] = field(default_factory=list)  # key paths of secrets left out
    ignored: list[str] = field(default_factory=list)  # keys a preset does not set


def preset_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The preset file this installation would use, whether or not it exists."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_PRESET, "").strip()
    if value:
        return Path(value).expanduser()
    if getattr(sys, "frozen", False):
        return Path(sys.executable).parent / PRESET_FILENAME
    return None


def marker_path(state: Path) -> Path:
    return state / MARKER_FILENAME


def filter_preset(parsed: Any) -> Preset:
    """The settings of a parsed preset a deployment may set, secrets left out."""
    if not isinstance(parsed, dict):
        return Preset({}, ignored=["(top level is not an object)"])
    preset = Preset({})
    for key, value in parsed.items():
        if key in KEPT_SECTIONS:
            preset.config[key] = _without_secrets(value, [key], preset.dropped)
        elif key == "gateway" and isinstance(value, dict):
            kept = {k: value[k] for k in KEPT_GATEWAY_KEYS if k in value}
            if kept:
                preset.config["gateway"] = kept
            remote = value.get("remote")
            converted = isinstance(remote, dict) and isinstance(remote.get("url"), str) and "remotes" not in parsed
            if converted:
                assert isinstance(remote, dict)
                entry = {"id": OPENCLAW_REMOTE_ID, "url": remote["url"]}
                entry.update({k: remote[k] for k in ("token", "password", "tlsFingerprint") if k in remote})
                preset.config["remotes"] = [_without_secrets(entry, ["gateway", "remote"], preset.dropped)]
            preset.ignored += [f"gateway.{k}" for k in value
                               if k not in KEPT_GATEWAY_KEYS and not (k == "remote" and converted)]
        else:
            preset.ignored.append(str(key))
    return preset


def _without_secrets(node: Any, parts: list[str | int], dropped: list[str]) -> Any:
    if isinstance(node, dict):
        kept: dict[str, Any] = {}
        for key, value in node.items():
            where = [*parts, key]
            if isinstance(value, str) and _is_plain_secret(str(key), value):
                dropped.append(format_key_path(where))
            else:
                kept[key] = _without_secrets(value, where, dropped)
        return kept
    if isinstance(node, list):
        return [_without_secrets(item, [*parts, index], dropped) for index, item in enumerate(node)]
    return node


def _is_plain_secret(key: str, value: str) -> bool:
    if is_secret_key(key):
        return bool(value) and not is_reference(value)
    # A webhook URL carries its access token in the query (DingTalk, WeCom): a secret as well.
    return any(not is_reference(match.group(2)) for match in URL_SECRET_PARAM.finditer(value))


def read_preset(source: Path) -> str:
    """The preset file's text; ConfigError when it cannot be read."""
    try:
        return source.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, "", f"not UTF-8 text (bad byte at offset {exc.start})") from None


def parse_preset(raw: str, source: Path | None = None) -> Preset:
    """What the preset text gives the config; ConfigError when it does not parse or validate
    (an unset `${VAR}` included: the config written would not load)."""
    preset = filter_preset(parse_json5(raw, source))
    validate_config(preset.config, source)
    return preset


def apply_first_start_preset(state: Path, source: Path | None = None) -> Preset | None:
    """Write the preset as the config when this state dir has none yet; None when nothing was applied.

    Never raises for a bad preset: the app starts with its defaults and the log says why.
    """
    source = source if source is not None else preset_path()
    if source is None or not source.is_file():
        if source is not None and os.environ.get(ENV_PRESET, "").strip():
            log.warning("%s", _("Deployment preset {path} not found ({env}); starting without it.").format(
                path=source, env=ENV_PRESET))
        return None
    config = paths.config_path(state)
    marker = marker_path(state)
    try:
        raw = read_preset(source)
        digest = hash_raw(raw)
        if _marker_hash(marker) == digest:
            return None  # this preset was seen before: every later start costs one read
        record: dict[str, Any] = {"source": str(source), "sha256": digest, "at": now_ms()}
        if config.exists():
            log.info("deployment preset %s not applied: %s already exists", source, config)
            _write_marker(marker, {**record, "applied": False})
            return None
        preset = parse_preset(raw, source)
    except ConfigError as exc:
        log.error("%s", _("Deployment preset not applied: {error}").format(error=exc))
        return None
    if preset.ignored:
        log.info("deployment preset: ignored %s (a preset sets only %s and gateway.port)",
                 ", ".join(preset.ignored), ", ".join(KEPT_SECTIONS))
    if preset.dropped:
        log.warning("%s", _("Deployment preset: left out the secrets at {paths}; enter them in the settings "
                            "(a preset may only name them as keyring:<name> or ${{VARIABLE}}).").format(
            paths=", ".join(preset.dropped)))
    try:
        write_config(config, preset.config)
    except OSError as exc:
        log.error("%s", _("Deployment preset not applied: cannot write {path}: {error}").format(path=config, error=exc))
        return None
    _write_marker(marker, {**record, "applied": True, "sections": sorted(preset.config),
                           "dropped": preset.dropped, "ignored": preset.ignored})
    log.info("deployment preset %s applied to %s (%s)", source, config, ", ".join(sorted(preset.config)) or "empty")
    return preset


def _marker_hash(marker: Path) -> str | None:
    try:
        value = json.loads(marker.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _write_marker(marker: Path, record: dict[str, Any]) -> None:
    try:
        atomic_write_json(marker, record)
    except OSError as exc:
        # Without the marker the preset is looked at again next start, where the config now exists.
        log.warning("cannot record the deployment preset in %s: %s", marker, exc)


__all__ = ["ENV_PRESET", "PRESET_FILENAME", "Preset", "apply_first_start_preset", "filter_preset",
           "parse_preset", "preset_path", "read_preset"]
