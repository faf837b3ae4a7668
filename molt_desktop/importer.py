"""`molt-desktop import DIR`: bring in an existing Clawdbot / Moltbot / OpenClaw file-era state dir.

Transcripts and sessions.json entries are copied byte for byte (existing sessions here are
never overwritten); the config is converted into this app's `moltbot.json`, with every secret
moved into the OS keyring and replaced by a `keyring:` reference. Without a keyring backend the
secrets stay in the config as they were, and the report says so.

`import_transcript` brings in one exported JSONL transcript as a new session (the session list's
Import). Not here: building transcripts (sessions/transcript.py) or the session list itself.
"""

from __future__ import annotations

import json
import secrets as random_tokens
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.config.load import ConfigError, find_plaintext_secrets, load_config, merge_patch, write_config
from molt_desktop.config.secrets import SecretStoreUnavailable, set_secret
from molt_desktop.fileio import atomic_write, ensure_private_dir
from molt_desktop.i18n import _
from molt_desktop.sessions.store import SessionStore
from molt_desktop.sessions.transcript import encode_line

CONFIG_NAMES = ("openclaw.json", "moltbot.json", "clawdbot.json")


@dataclass
class ImportReport:
    source: str
    config_source: str | None = None
    sessions_imported: int = 0
    sessions_skipped: list[str] = field(default_factory=list)
    transcripts_copied: int = 0
    secrets_moved: list[str] = field(default_factory=list)
    secrets_left: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class ImportFailed(Exception):
    pass


def _keyring_name(key_path: str) -> str:
    parts = key_path.split(".")
    if parts[:3] == ["gateway", "auth", "token"]:
        return "gateway.token"
    if parts[:3] == ["gateway", "auth", "password"]:
        return "gateway.password"
    if len(parts) >= 4 and parts[:2] == ["models", "providers"]:
        return f"provider.{parts[2]}.{parts[-1]}"
    return "import." + key_path


def _get(tree: dict[str, Any], key_path: str) -> Any:
    node: Any = tree
    for part in key_path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set(tree: dict[str, Any], key_path: str, value: Any) -> None:
    parts = key_path.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _convert_config(source: Path, state: Path, report: ImportReport) -> None:
    config_file = next((source / name for name in CONFIG_NAMES if (source / name).exists()), None)
    if config_file is None:
        report.warnings.append(_("no config file found in the source; only sessions were imported"))
        return
    report.config_source = str(config_file)
    try:
        loaded = load_config(config_file)
    except ConfigError as exc:
        raise ImportFailed(_("cannot read the source config: {error}").format(error=exc)) from exc
    converted = json.loads(json.dumps(loaded.parsed))
    converted.pop("meta", None)
    for key_path in find_plaintext_secrets(converted):
        value = _get(converted, key_path)
        if not isinstance(value, str) or not value:
            continue
        name = _keyring_name(key_path)
        try:
            set_secret(name, value)
        except SecretStoreUnavailable:
            report.secrets_left.append(key_path)
            continue
        _set(converted, key_path, f"keyring:{name}")
        report.secrets_moved.append(key_path)
    if report.secrets_left:
        report.warnings.append(_("no OS keyring: secrets were kept in the config as they were ({keys})").format(
            keys=", ".join(report.secrets_left)))
    target = paths.config_path(state)
    existing: dict[str, Any] = {}
    if target.exists():
        try:
            existing = load_config(target).parsed
        except ConfigError as exc:
            raise ImportFailed(_("the existing config is invalid, fix it first: {error}").format(error=exc)) from exc
    merged = merge_patch(converted, existing)  # what is already configured here wins
    write_config(target, merged)
    load_config(target)  # the result must load; raises ConfigError otherwise


def _import_agent_sessions(src_dir: Path, dst_dir: Path, report: ImportReport) -> None:
    src_index = src_dir / "sessions.json"
    if not src_index.exists():
        return
    try:
        src_entries = json.loads(src_index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.warnings.append(_("skipped {path}: {error}").format(path=src_index, error=exc))
        return
    if not isinstance(src_entries, dict):
        report.warnings.append(_("skipped {path}: not an object").format(path=src_index))
        return
    ensure_private_dir(dst_dir)
    dst_index = dst_dir / "sessions.json"
    dst_entries: dict[str, Any] = {}
    if dst_index.exists():
        dst_entries = json.loads(dst_index.read_text(encoding="utf-8"))
    for path in sorted(src_dir.glob("*.jsonl*")):
        target = dst_dir / path.name
        if target.exists():
            continue
        shutil.copy2(path, target)
        target.chmod(0o600)
        report.transcripts_copied += 1
    for key, entry in src_entries.items():
        if key in dst_entries:
            report.sessions_skipped.append(key)
            continue
        if isinstance(entry, dict) and entry.get("sessionFile"):
            entry = {**entry, "sessionFile": str(dst_dir / Path(str(entry["sessionFile"])).name)}
        dst_entries[key] = entry
        report.sessions_imported += 1
    atomic_write(dst_index, json.dumps(dst_entries, indent=2, ensure_ascii=False))


def import_state_dir(source: Path, state: Path) -> ImportReport:
    source = source.expanduser()
    if not source.is_dir():
        raise ImportFailed(_("{path} is not a directory").format(path=source))
    report = ImportReport(source=str(source))
    agents = source / "agents"
    if not agents.is_dir():
        raise ImportFailed(_("{path} has no agents/ folder: is it a ~/.clawdbot, ~/.moltbot or ~/.openclaw dir?")
                           .format(path=source))
    _convert_config(source, state, report)
    for agent_dir in sorted(p for p in agents.iterdir() if p.is_dir()):
        _import_agent_sessions(agent_dir / "sessions", paths.sessions_dir(state, agent_dir.name), report)
    return report


class TranscriptImportError(ImportFailed):
    """A transcript that cannot be imported. `reason` is one of "unreadable", "empty",
    "not_utf8", "bad_line", "torn", "no_header"; `line` is the 1-based line at fault (or 0)."""

    def __init__(self, message: str, reason: str, line: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class TranscriptImport:
    key: str
    session_id: str
    path: Path
    entries: int
    messages: int


def _check_transcript(data: bytes, name: str) -> list[dict[str, Any]]:
    """Every line of an OpenClaw transcript, or TranscriptImportError: a file we cannot read
    whole is not imported at all (half a conversation would look complete in the list)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptImportError(_("{name} is not a text (UTF-8) file").format(name=name), "not_utf8") from exc
    lines = text.split("\n")
    last = lines.pop()  # "" when the file ends with a newline
    entries: list[dict[str, Any]] = []
    for number, line in enumerate([*lines, last], start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            if number == len(lines) + 1:
                raise TranscriptImportError(
                    _("{name} ends in an unfinished line (was it copied while being written?)").format(name=name),
                    "torn", number)
            raise TranscriptImportError(
                _("line {line} of {name} is not a transcript entry (JSON object)").format(line=number, name=name),
                "bad_line", number)
        entries.append(value)
    if not entries:
        raise TranscriptImportError(_("{name} is empty").format(name=name), "empty")
    if entries[0].get("type") != "session" or not isinstance(entries[0].get("id"), str):
        raise TranscriptImportError(
            _("{name} is not an OpenClaw transcript: its first line is not a session header").format(name=name),
            "no_header", 1)
    return entries


def import_transcript(source: Path, state: Path, agent_id: str = paths.DEFAULT_AGENT_ID) -> TranscriptImport:
    """Copy one JSONL transcript into `agents/<agent>/sessions/` under a new sessionId and add it
    to sessions.json as `agent:<agent>:imported-<8 hex>`. The file is checked whole first; on any
    failure nothing is left behind. A running gateway sees the new entry on its next read."""
    source = source.expanduser()
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise TranscriptImportError(_("cannot read {path}: {error}").format(
            path=source, error=exc.strerror or exc), "unreadable") from exc
    entries = _check_transcript(data, source.name)
    session_id = str(uuid.uuid4())
    header = {**entries[0], "id": session_id}
    body = data.split(b"\n", 1)[1] if b"\n" in data else b""
    if body and not body.endswith(b"\n"):
        body += b"\n"
    target = paths.sessions_dir(state, agent_id) / f"{session_id}.jsonl"
    atomic_write(target, encode_line(header) + body)
    store = SessionStore(state)
    try:
        key = f"agent:{agent_id}:imported-{random_tokens.token_hex(4)}"
        while store.get(key) is not None:
            key = f"agent:{agent_id}:imported-{random_tokens.token_hex(4)}"
        store.update(key, {"sessionId": session_id, "sessionFile": str(target), "chatType": "direct",
                           "inputTokens": 0, "outputTokens": 0, "totalTokens": 0})
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        store.close()
    messages = sum(1 for entry in entries if entry.get("type") == "message")
    return TranscriptImport(key, session_id, target, len(entries), messages)


def run_import(source: Path, state: Path, *, as_json: bool = False) -> int:
    try:
        report = import_state_dir(source, state)
    except (ImportFailed, ConfigError, OSError) as exc:
        print(_("Import failed: {error}").format(error=exc), file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
        return 0
    print(_("Imported from {source}:").format(source=report.source))
    print("  " + _("sessions: {imported} imported, {skipped} already here").format(
        imported=report.sessions_imported, skipped=len(report.sessions_skipped)))
    print("  " + _("transcripts copied: {count}").format(count=report.transcripts_copied))
    if report.config_source:
        print("  " + _("config: {source} -> {target}").format(source=report.config_source,
                                                           target=paths.config_path(state)))
    if report.secrets_moved:
        print("  " + _("secrets moved to the OS keyring: {keys}").format(keys=", ".join(report.secrets_moved)))
    for warning in report.warnings:
        print("  " + _("warning: {warning}").format(warning=warning))
    return 0
