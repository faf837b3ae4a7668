"""The running config: one `ConfigManager` owns `moltbot.json` while the app runs.

It holds the config in force (`current`), applies edits made on disk (hot reload through
watch.py) and through the gateway (`config.patch`), and tells subscribers about every change.
An invalid edit never replaces the running config: it is kept in `last_error` and logged once.
`get_payload()` and `patch()` implement `config.get` / `config.patch` exactly as OpenClaw
2026.1.29 does (hash = sha256 of the file text, base-hash messages verbatim, redacted secrets).

`patch()` may run in a worker thread (the gateway calls it with `asyncio.to_thread`); once
`start()` has been awaited, subscribers are always called on the event loop's thread.
Parsing and validation live in load.py; the file watcher in watch.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.clock import now_ms
from molt_desktop.config.load import (
    ConfigError,
    LoadedConfig,
    default_loaded,
    load_config,
    merge_patch,
    parse_json5,
    read_snapshot,
    redact_config,
    redact_raw,
    restore_redacted,
    validate_config,
    write_config,
)
from molt_desktop.config.schema import MoltConfig
from molt_desktop.config.watch import ConfigWatcher
from molt_desktop.fileio import FileWriteError
from molt_desktop.logs import get_logger

log = get_logger("config")

BASE_HASH_REQUIRED = "config base hash required; re-run config.get and retry"
BASE_HASH_STALE = "config changed since last load; re-run config.get and retry"
PATCH_NOT_OBJECT = "config.patch raw must be an object"

ChangeCallback = Callable[[LoadedConfig], None]
ErrorCallback = Callable[[ConfigError | None], None]


class ConfigPatchError(Exception):
    """`config.patch` was refused; `str()` is the message for the client (`INVALID_REQUEST`)."""

    def __init__(self, message: str, *, code: str = "INVALID_REQUEST", details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


def config_changed_payload(loaded: LoadedConfig) -> dict[str, Any]:
    """The payload of the `config.changed` event: `{path, hash, ts}`."""
    return {"path": str(loaded.path), "hash": loaded.hash, "ts": now_ms()}


class ConfigManager:
    """Owner of the config file and the config in force."""

    def __init__(self, path: Path | None = None, *, strict: bool = True) -> None:
        """Load the config at `path` (default: `<state>/moltbot.json`).

        An invalid file raises ConfigError when `strict`; otherwise the defaults run and the
        problem is in `last_error` (the desktop app starts and shows it in the settings).
        """
        self.path = Path(path) if path is not None else paths.config_path(paths.state_dir())
        self._lock = threading.RLock()
        self._subscribers: list[ChangeCallback] = []
        self._error_subscribers: list[ErrorCallback] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watcher: ConfigWatcher | None = None
        self._last_logged_error = ""
        self._missing_warned = False
        self.last_error: ConfigError | None = None
        try:
            self._current = load_config(self.path)
        except ConfigError as exc:
            if strict:
                raise
            self._current = default_loaded(self.path)
            self._record_error(exc)
        for warning in self._current.warnings:
            log.warning("config: %s", warning)

    # --- reading ---------------------------------------------------------------------------

    @property
    def current(self) -> LoadedConfig:
        """The config in force (the last valid one)."""
        with self._lock:
            return self._current

    @property
    def config(self) -> MoltConfig:
        return self.current.config

    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(new LoadedConfig)` after each applied change; returns the unsubscriber."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def subscribe_errors(self, callback: ErrorCallback) -> Callable[[], None]:
        """Call `callback(ConfigError)` when an edit is rejected and `callback(None)` when fixed."""
        self._error_subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._error_subscribers:
                self._error_subscribers.remove(callback)

        return unsubscribe

    def get_payload(self) -> dict[str, Any]:
        """The `config.get` result for the file as it is on disk now, secrets redacted."""
        snapshot = read_snapshot(self.path)
        if snapshot.loaded is not None:
            config = snapshot.loaded.config.to_dict()
            issues: list[dict[str, str]] = []
            warnings = list(snapshot.loaded.warnings)
        else:
            config = self.current.config.to_dict()  # what is running while the file is broken
            issues = snapshot.error.issues if snapshot.error is not None else []
            warnings = []
        return {
            "path": str(self.path),
            "exists": snapshot.exists,
            "raw": redact_raw(snapshot.raw, snapshot.parsed) if snapshot.exists else None,
            "parsed": redact_config(snapshot.parsed if snapshot.parsed is not None else {}),
            "valid": snapshot.error is None,
            "config": redact_config(config),
            "hash": snapshot.hash,
            "issues": issues,
            "warnings": warnings,
            "legacyIssues": [],
        }

    # --- changing --------------------------------------------------------------------------

    def reload(self) -> bool:
        """Re-read the file; True when a new valid config was applied."""
        snapshot = read_snapshot(self.path)
        if snapshot.error is not None:
            self._record_error(snapshot.error)
            return False
        assert snapshot.loaded is not None
        return self._apply(snapshot.loaded)

    def patch(self, raw_patch: str, base_hash: str | None, *, note: str | None = None) -> dict[str, Any]:
        """Apply a JSON5 merge patch (RFC 7386) to the file, as `config.patch` does.

        Returns `{ok, path, config (redacted), hash}`; raises ConfigPatchError with OpenClaw's
        messages. A value `"__OPENCLAW_REDACTED__"` keeps the stored secret.
        """
        with self._lock:
            snapshot = read_snapshot(self.path)
            if snapshot.exists:
                if not base_hash:
                    raise ConfigPatchError(BASE_HASH_REQUIRED)
                if base_hash != snapshot.hash:
                    raise ConfigPatchError(BASE_HASH_STALE)
            if snapshot.error is not None or snapshot.parsed is None:
                raise ConfigPatchError(f"invalid config; fix before patching: {snapshot.error}")
            if not isinstance(raw_patch, str):
                raise ConfigPatchError("invalid config.patch params: raw (string) required")
            try:
                patch = parse_json5(raw_patch)
            except ConfigError as exc:
                raise ConfigPatchError(f"invalid config.patch raw: {exc.problem}") from None
            if not isinstance(patch, dict):
                raise ConfigPatchError(PATCH_NOT_OBJECT)
            try:
                merged = restore_redacted(merge_patch(snapshot.parsed, patch), snapshot.parsed)
            except ValueError as exc:
                raise ConfigPatchError(str(exc)) from None
            try:
                validate_config(merged)
            except ConfigError as exc:
                raise ConfigPatchError(f"invalid config: {exc}", details={"issues": exc.issues}) from None
            if merged == snapshot.parsed and snapshot.exists:
                result = {"ok": True, "path": str(self.path), "config": redact_config(merged)}
                return {**result, "hash": snapshot.hash, "noop": True}
            try:
                write_config(self.path, merged)
            except FileWriteError as exc:
                raise ConfigPatchError(f"cannot save the config: {exc}", code="UNAVAILABLE") from None
            try:
                loaded = load_config(self.path)
            except ConfigError as exc:  # the file changed under us between write and read
                raise ConfigPatchError(f"the config was saved but does not load: {exc}", code="UNAVAILABLE") from None
            log.info("config patched%s; new hash %s", f" ({note})" if note else "", loaded.hash[:12])
            self._apply(loaded)
            return {"ok": True, "path": str(self.path), "config": redact_config(merged), "hash": loaded.hash}

    # --- hot reload ------------------------------------------------------------------------

    async def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start watching the file; later edits apply without a restart."""
        self._loop = loop or asyncio.get_running_loop()
        if self._watcher is None:
            self._watcher = ConfigWatcher(self.path, self._loop, self._on_file_change, self._record_error)
            self._watcher.start()
        self.reload()  # an edit made between construction and start

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    # --- internals -------------------------------------------------------------------------

    def _on_file_change(self, loaded: LoadedConfig) -> None:
        # The watcher read the file on the loop; a config.patch (written and applied in a worker
        # thread) may have replaced it since. Read it again and apply under the lock, so an older
        # read never wins over a newer patch.
        del loaded
        with self._lock:
            try:
                fresh = load_config(self.path)
            except ConfigError as exc:
                self._record_error(exc)
                return
            self._apply(fresh)

    def _apply(self, loaded: LoadedConfig) -> bool:
        with self._lock:
            had_error = self.last_error is not None
            self.last_error = None
            self._last_logged_error = ""
            if not loaded.exists and self._current.exists:
                if not self._missing_warned:
                    log.warning("config file %s was removed; keeping the running config", self.path)
                    self._missing_warned = True
                return False
            self._missing_warned = False
            changed = loaded.hash != self._current.hash or loaded.exists != self._current.exists
            if changed:
                self._current = loaded
        if had_error:
            log.info("config %s is valid again", self.path)
            self._dispatch(self._error_subscribers, None)
        if not changed:
            return False
        log.info("config reloaded from %s", self.path)
        for warning in loaded.warnings:
            log.warning("config: %s", warning)
        self._dispatch(self._subscribers, loaded)
        return True

    def _record_error(self, error: ConfigError) -> None:
        with self._lock:
            self.last_error = error
            text = str(error)
            first_time = text != self._last_logged_error
            self._last_logged_error = text
        if first_time:
            log.error("config not applied, keeping the running config: %s", text)
            self._dispatch(self._error_subscribers, error)

    def _dispatch(self, callbacks: list[Any], arg: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed() and not _on_loop(loop):
            try:
                loop.call_soon_threadsafe(self._call_all, list(callbacks), arg)
                return
            except RuntimeError:
                pass  # loop closed in between: call here
        self._call_all(list(callbacks), arg)

    @staticmethod
    def _call_all(callbacks: list[Any], arg: Any) -> None:
        for callback in callbacks:
            try:
                callback(arg)
            except Exception:
                log.exception("config subscriber %r failed", callback)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
