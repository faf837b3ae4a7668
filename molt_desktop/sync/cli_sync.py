"""`molt-desktop sync now | status | test`: session sync from the command line, with the config's settings.

- `now [--json] [--yes]`: one push and one pull; prints files and bytes sent and received (JSON:
  the SyncReport keys plus "device" and "fingerprint"). `--yes` confirms a push that would archive
  more than half of the files on the server. The run is recorded in `<state>/sync/status.json`,
  so the app (if it runs) counts it too.
- `status [--json]`: the last good sync, its age, the last error, from that file.
- `test [--json]`: connects, lists the remote folder (the device folders), prints the host key
  fingerprint.
Exit 0 on success, 1 on failure with a message for people (stderr).

Not here: the sync itself (engine.py) and the backends (settings.py).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.config.load import ConfigError
from molt_desktop.config.manager import ConfigManager
from molt_desktop.config.schema_molt import SyncConfig
from molt_desktop.i18n import _
from molt_desktop.monitor.texts import duration
from molt_desktop.sync import settings
from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine, SyncLocked, SyncNeedsConfirmation, SyncReport
from molt_desktop.sync.service import read_status_file, write_status_file

EXIT_OK, EXIT_FAIL = 0, 1


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _fail(message: str, as_json: bool, **extra: Any) -> int:
    if as_json:
        _print_json({"ok": False, "error": message, **extra})
    print(message, file=sys.stderr)
    return EXIT_FAIL


def _load(state: Path) -> SyncConfig:
    return ConfigManager(paths.config_path(state)).current.config.sync


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


async def _now(state: Path, cfg: SyncConfig, confirm: bool) -> tuple[SyncReport, dict[str, str], str | None]:
    pinned: list[str] = []
    device_id = await asyncio.to_thread(settings.device_id, state)
    backend = await settings.build_backend(state, cfg, on_new_host_key=pinned.append)
    engine = SyncEngine(state, backend, settings.device_name(cfg), device_id)
    device = {"name": engine.device_name, "id": engine.device_id, "folder": engine.folder}
    try:
        await backend.connect()
        report = await engine.sync_now(confirm_mass_delete=confirm)
    finally:
        try:
            await backend.close()
        except Exception:  # closing a connection that already broke: nothing to add
            pass
    fingerprint = pinned[0] if pinned else await settings.backend_fingerprint(state, cfg)
    return report, device, fingerprint


def run_sync_now(state: Path, *, as_json: bool = False, yes: bool = False) -> int:
    try:
        cfg = _load(state)
    except ConfigError as exc:
        return _fail(_("The config is invalid: {error}").format(error=exc), as_json)
    if not cfg.enabled:
        return _fail(_("Sync is turned off. Turn it on in Settings > Sync, or set sync.enabled in {path}.").format(
            path=paths.config_path(state)), as_json)
    started = time.time()
    record: dict[str, Any] = {"lastAttemptAt": started, "lastGoodAt": None}
    old = read_status_file(state)
    record["fingerprint"] = old.get("fingerprint")
    try:
        report, device, fingerprint = asyncio.run(_now(state, cfg, yes))
    except SyncNeedsConfirmation as exc:
        record.update(lastError=str(exc), pending=[exc.archive_count, exc.remote_count])
        write_status_file(state, record)
        return _fail(str(exc) + " " + _("Run again with --yes to go on."), as_json,
                     needsConfirmation={"archive": exc.archive_count, "remote": exc.remote_count})
    except SyncLocked as exc:
        return _fail(str(exc) + " " + _("Try again when it has finished."), as_json, locked=True)
    except settings.SyncNotConfigured as exc:
        return _fail(str(exc) + " " + _("(config: {path})").format(path=paths.config_path(state)), as_json)
    except SyncBackendError as exc:
        record.update(lastError=str(exc), pending=old.get("pending"))
        write_status_file(state, record)
        return _fail(str(exc), as_json)
    record.update(lastGoodAt=time.time(), lastError="; ".join(report.errors[:3]) or None,
                  lastReport=report.as_json(), fingerprint=fingerprint or record["fingerprint"], pending=None)
    write_status_file(state, record)
    if as_json:
        _print_json({**report.as_json(), "device": device, "fingerprint": fingerprint})
        return EXIT_OK
    print(_("Sent {files} files, {bytes} bytes.").format(files=report.files_sent, bytes=report.bytes_sent))
    print(_("Received {files} files, {bytes} bytes.").format(files=report.files_received,
                                                             bytes=report.bytes_received))
    print(_("This device: {folder}").format(folder=device["folder"]))
    if fingerprint:
        print(_("Server host key: {fingerprint}").format(fingerprint=fingerprint))
    for error in report.errors:
        print(_("Problem: {error}").format(error=error), file=sys.stderr)
    return EXIT_OK


def run_sync_status(state: Path, *, as_json: bool = False) -> int:
    try:
        cfg: SyncConfig | None = _load(state)
    except ConfigError:
        cfg = None
    record = read_status_file(state)
    good = record.get("lastGoodAt")
    age = time.time() - good if isinstance(good, (int, float)) else None
    enabled = bool(cfg and cfg.enabled)
    if as_json:
        _print_json({"enabled": enabled, "lastGoodAt": good, "ageSeconds": round(age, 1) if age is not None else None,
                     "lastAttemptAt": record.get("lastAttemptAt"), "lastError": record.get("lastError"),
                     "lastReport": record.get("lastReport"), "fingerprint": record.get("fingerprint"),
                     "pending": record.get("pending"),
                     "interval": cfg.intervalSeconds if cfg is not None else None,
                     "where": settings.describe(cfg) if cfg is not None else None})
        return EXIT_OK
    print(_("Sync is on ({where}).").format(where=settings.describe(cfg)) if cfg is not None and enabled
          else _("Sync is off."))
    if isinstance(good, (int, float)) and age is not None:
        print(_("Last good sync: {when} ({age} ago)").format(when=_when(good), age=duration(age)))
    else:
        print(_("Last good sync: never"))
    attempt = record.get("lastAttemptAt")
    if isinstance(attempt, (int, float)) and attempt != good:
        print(_("Last attempt: {when}").format(when=_when(attempt)))
    error = record.get("lastError")
    if error:
        print(_("Last error: {error}").format(error=error))
    pending = record.get("pending")
    if isinstance(pending, list) and len(pending) == 2:
        print(_("Waiting for confirmation: a push would archive {count} of {total} files "
                "(molt-desktop sync now --yes).").format(count=pending[0], total=pending[1]))
    if record.get("fingerprint"):
        print(_("Server host key: {fingerprint}").format(fingerprint=record["fingerprint"]))
    return EXIT_OK


def run_sync_test(state: Path, *, as_json: bool = False) -> int:
    try:
        cfg = _load(state)
    except ConfigError as exc:
        return _fail(_("The config is invalid: {error}").format(error=exc), as_json)
    result = asyncio.run(settings.test_settings(state, cfg))
    if as_json:
        _print_json({"ok": result.ok, "message": result.message, "fingerprint": result.fingerprint,
                     "entries": [{"name": e.name, "size": e.size, "isDir": e.is_dir} for e in result.entries]})
        return EXIT_OK if result.ok else EXIT_FAIL
    if not result.ok:
        if result.fingerprint:
            print(_("Server host key: {fingerprint}").format(fingerprint=result.fingerprint))
        print(result.message, file=sys.stderr)
        return EXIT_FAIL
    print(result.message)
    for entry in result.entries:
        print(f"  {entry.name}/" if entry.is_dir else f"  {entry.name}")
    if result.fingerprint:
        print(_("Server host key: {fingerprint}").format(fingerprint=result.fingerprint))
    return EXIT_OK
