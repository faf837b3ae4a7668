"""From the `sync` config section to a working backend: device name and id, `build_backend`, `test_settings`.

- `device_name(cfg)`: `sync.deviceName`, or this computer's host name.
- `device_id(state_dir)`: this installation's device id (client/identity.py), or a random id kept
  in `<state>/sync/device-id` where no identity can be kept, so the folder name stays the same.
- `build_backend(state_dir, cfg)`: the Backend the settings describe (SFTP, SMB, or a mounted
  folder), with `keyring:` passwords resolved off the event loop. SFTP host keys are pinned in
  `<state>/sync/known_hosts`.
- `test_settings(state_dir, cfg)`: connects with (possibly unsaved) settings, lists the remote
  folder and tells the host key fingerprint; never raises.

Not here: what to sync (engine.py), when (service.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from molt_desktop import fileio
from molt_desktop.config.schema_molt import SyncConfig
from molt_desktop.config.secrets import keyring_name, resolve_secret
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, register_secret
from molt_desktop.sync.backend import Backend, RemoteFile, SyncBackendError

log = get_logger("sync")

SYNC_DIR = "sync"
KNOWN_HOSTS = "known_hosts"
DEVICE_ID_FILE = "device-id"
TEST_TIMEOUT = 20.0


class SyncNotConfigured(SyncBackendError):
    """The settings lack what the chosen backend needs (host, share, folder)."""


def sync_dir(state_dir: Path) -> Path:
    return Path(state_dir) / SYNC_DIR


def known_hosts_path(state_dir: Path) -> Path:
    return sync_dir(state_dir) / KNOWN_HOSTS


def device_name(cfg: SyncConfig) -> str:
    name = (cfg.deviceName or "").strip()
    return name or socket.gethostname() or "device"


def device_id(state_dir: Path) -> str:
    """Blocking (the identity may live in the OS keyring): call it from a worker thread on the loop."""
    from molt_desktop.client.identity import load_device_identity

    try:
        identity = load_device_identity(Path(state_dir))
    except Exception as exc:  # a broken keyring must not stop sync: the fallback id is as stable
        log.warning("device identity unavailable for sync (%s): using the sync device id", exc)
        identity = None
    if identity is not None:
        return str(identity.device_id)
    path = sync_dir(state_dir) / DEVICE_ID_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    except OSError:
        pass
    made = secrets.token_hex(16)
    fileio.ensure_private_dir(path.parent)
    fileio.atomic_write(path, made + "\n")
    return made


def default_port(cfg: SyncConfig) -> int:
    if cfg.port is not None:
        return int(cfg.port)
    return 445 if cfg.backend == "smb" else 22


def describe(cfg: SyncConfig) -> str:
    """Where the settings point, for messages ("user@host:22:/path"); never a password."""
    if cfg.backend == "folder":
        return cfg.path or "?"
    who = f"{cfg.username}@" if cfg.username else ""
    where = f"{who}{cfg.host or '?'}:{default_port(cfg)}"
    if cfg.backend == "smb":
        return f"//{where}/{cfg.share or '?'}/{(cfg.path or '').strip('/')}"
    return f"{where}:{cfg.path or '.'}"


async def _password(cfg: SyncConfig) -> str | None:
    if not cfg.password:
        return None
    secret = await asyncio.to_thread(resolve_secret, cfg.password)
    name = keyring_name(cfg.password)
    if secret is None and name is not None:
        raise SyncNotConfigured(
            _("The sync password is set to the keyring entry {name}, but the keyring has no such entry. "
              "Enter the password again in Settings > Sync.").format(name=name))
    register_secret(secret)
    return secret


async def build_backend(state_dir: Path, cfg: SyncConfig, *,
                        on_new_host_key: Callable[[str], None] | None = None) -> Backend:
    """The backend the settings describe, not yet connected. Raises SyncBackendError (SyncNotConfigured)."""
    if cfg.backend == "folder":
        if not cfg.path:
            raise SyncNotConfigured(_("Sync is not set up: choose the mounted folder to sync to (sync.path)."))
        from molt_desktop.sync.local import LocalFolderBackend

        return LocalFolderBackend(Path(cfg.path).expanduser())
    if not cfg.host:
        raise SyncNotConfigured(_("Sync is not set up: enter the server's host name (sync.host)."))
    if cfg.backend == "smb":
        if not cfg.share:
            raise SyncNotConfigured(_("Sync is not set up: enter the SMB share name (sync.share)."))
        if importlib.util.find_spec("molt_desktop.sync.smb") is None:
            raise SyncBackendError(_("SMB sync is not available in this version; use SFTP or a mounted folder."))
        from molt_desktop.sync import smb

        password = await _password(cfg)
        backend: Backend = smb.SmbBackend(cfg.host, cfg.share, (cfg.path or "").strip("/"),
                                          username=cfg.username, password=password, port=default_port(cfg))
        return backend
    from molt_desktop.sync.sftp import SftpBackend

    password = await _password(cfg)
    known = known_hosts_path(state_dir)
    await asyncio.to_thread(fileio.ensure_private_dir, known.parent)
    return SftpBackend(cfg.host, default_port(cfg), cfg.username or "", cfg.path or ".",
                       key_file=cfg.keyFile, password=password, known_hosts=known,
                       on_new_host_key=on_new_host_key)


def pinned_fingerprint(state_dir: Path, host: str, port: int) -> str | None:
    """The SHA-256 fingerprint of the host key pinned for host:port in `<state>/sync/known_hosts`."""
    import asyncssh

    try:
        data = known_hosts_path(state_dir).read_text(encoding="utf-8", errors="replace")
        keys = asyncssh.import_known_hosts(data).match(host, host, port)[0]
    except (OSError, ValueError, asyncssh.KeyImportError):
        return None
    return str(keys[0].get_fingerprint("sha256")) if keys else None


async def backend_fingerprint(state_dir: Path, cfg: SyncConfig) -> str | None:
    """The host key fingerprint in use for these settings (SFTP only)."""
    if cfg.backend != "sftp" or not cfg.host:
        return None
    return await asyncio.to_thread(pinned_fingerprint, state_dir, cfg.host, default_port(cfg))


@dataclass
class SyncTestResult:
    ok: bool
    message: str
    entries: list[RemoteFile] = field(default_factory=list)
    fingerprint: str | None = None


async def test_settings(state_dir: Path, cfg: SyncConfig) -> SyncTestResult:
    """Connect with `cfg`, list its folder (the device folders), tell the fingerprint. Never raises."""
    pinned: list[str] = []
    backend: Backend | None = None
    try:
        backend = await build_backend(state_dir, cfg, on_new_host_key=pinned.append)
        async with asyncio.timeout(TEST_TIMEOUT + 5):
            await backend.connect()
            entries = await backend.listdir("")
        fingerprint = pinned[0] if pinned else await backend_fingerprint(state_dir, cfg)
        folders = [e for e in entries if e.is_dir and not e.name.startswith(".")]
        if folders:
            message = _("Connected to {where}: {count} device folders.").format(where=describe(cfg),
                                                                               count=len(folders))
        else:
            message = _("Connected to {where}: the folder is empty so far.").format(where=describe(cfg))
        return SyncTestResult(True, message, sorted(entries), fingerprint)
    except SyncBackendError as exc:
        return SyncTestResult(False, str(exc), [], await _quiet_fingerprint(state_dir, cfg, pinned))
    except TimeoutError:
        return SyncTestResult(False, _("{where}: no answer within {seconds} seconds.").format(
            where=describe(cfg), seconds=int(TEST_TIMEOUT + 5)), [], None)
    except Exception as exc:  # the Test button shows whatever went wrong instead of failing itself
        log.warning("sync settings test failed: %s", type(exc).__name__)
        return SyncTestResult(False, _("The test failed: {error}").format(error=str(exc) or type(exc).__name__))
    finally:
        if backend is not None:
            try:
                await backend.close()
            except Exception:  # closing a half-open connection may fail; nothing to report
                pass


async def _quiet_fingerprint(state_dir: Path, cfg: SyncConfig, pinned: list[str]) -> str | None:
    if pinned:
        return pinned[0]
    try:
        return await backend_fingerprint(state_dir, cfg)
    except Exception:
        return None
