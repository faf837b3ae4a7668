"""This installation's device identity and the device tokens gateways issued to it.

- `load_device_identity(state)`: the Ed25519 key pair that signs every `connect`, made once per
  install. The private key lives in the OS keyring (entry `device.identity`, the OpenClaw
  `device.json` text); where no keyring exists, in `<state>/identity/device.json` (mode 0600).
  An existing `device.json` (an older install, or one copied from OpenClaw) stays in use.
- `DeviceTokenStore(state)`: the device token each gateway issued (per URL, device and role),
  kept in the keyring, or in `<state>/identity/device-tokens.json` (0600) without one. Reads are
  cached in memory: a connect costs no keyring call once a token is known.

Keyring calls can block (D-Bus, Windows Credential Manager): the connection calls the token
store from a worker thread. Keys and tokens never reach a log line (logs.register_secret).
Not here: the signing itself (protocol/device.py) and the handshake (client/connection.py).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from molt_desktop import fileio, paths
from molt_desktop.config.secrets import (
    SecretStoreUnavailable,
    delete_secret,
    get_secret,
    set_secret,
)
from molt_desktop.logs import get_logger, register_secret
from molt_desktop.protocol.device import DeviceIdentity, DeviceIdentityError

log = get_logger("client")

DEVICE_FILE = "device.json"
TOKENS_FILE = "device-tokens.json"
IDENTITY_SECRET = "device.identity"
TOKEN_SECRET_PREFIX = "device.token."


def device_file(state: Path) -> Path:
    return paths.identity_dir(state) / DEVICE_FILE


def load_device_identity(state: Path) -> DeviceIdentity | None:
    """This installation's device key; created on first use. None if it cannot be kept anywhere."""
    path = device_file(state)
    try:
        if path.exists():
            return DeviceIdentity.load(path)
    except DeviceIdentityError as exc:
        log.warning("device identity unavailable (%s): connecting with the token only", exc)
        return None
    stored = get_secret(IDENTITY_SECRET)
    if stored:
        try:
            return DeviceIdentity.from_json(stored)
        except DeviceIdentityError as exc:
            # A damaged entry cannot sign anything; a new identity replaces it (the gateways
            # will ask to pair this device again).
            log.warning("the device identity in the keyring is unusable (%s): making a new one", exc)
    identity = DeviceIdentity.generate()
    text = identity.to_json()
    try:
        set_secret(IDENTITY_SECRET, text)
        log.info("made this installation's device identity %s (kept in the OS keyring)", identity.device_id)
        return identity
    except SecretStoreUnavailable:
        pass
    try:
        fileio.ensure_private_dir(path.parent)
        fileio.atomic_write(path, text)
    except OSError as exc:
        log.warning("device identity unavailable (%s): connecting with the token only", exc)
        return None
    log.info("made this installation's device identity %s (no OS keyring: kept in %s, mode 0600)",
             identity.device_id, path)
    return identity


def _entry_key(url: str, device_id: str, role: str) -> str:
    """One short name per (gateway URL, device, role); hashed so a URL never becomes a keyring path."""
    digest = hashlib.sha256(f"{url.strip().rstrip('/').lower()}|{device_id}|{role}".encode()).hexdigest()
    return digest[:32]


class DeviceTokenStore:
    """Device tokens by gateway: keyring first, a 0600 file where there is no keyring."""

    def __init__(self, state: Path) -> None:
        self.path = paths.identity_dir(state) / TOKENS_FILE
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def get(self, url: str, device_id: str, role: str = "operator") -> str | None:
        key = _entry_key(url, device_id, role)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        token = get_secret(TOKEN_SECRET_PREFIX + key)
        if not token:
            entry = self._read_file().get(key)
            token = entry.get("token") if isinstance(entry, dict) and isinstance(entry.get("token"), str) else None
            register_secret(token)
        with self._lock:
            self._cache[key] = token or None
        return token or None

    def save(self, url: str, device_id: str, role: str, token: str) -> None:
        """Keep the token; a failure to keep it is logged (the shared secret still works)."""
        key = _entry_key(url, device_id, role)
        register_secret(token)
        with self._lock:
            if self._cache.get(key) == token:
                return
        try:
            set_secret(TOKEN_SECRET_PREFIX + key, token)
        except SecretStoreUnavailable:
            try:
                self._write_entry(key, {"url": url, "deviceId": device_id, "role": role, "token": token,
                                        "savedAtMs": time.time_ns() // 1_000_000})
            except OSError as exc:
                log.warning("cannot keep the device token for %s: %s", url, exc)
                return
        with self._lock:
            self._cache[key] = token
        log.info("kept the device token issued by %s (role %s)", url, role)

    def forget(self, url: str, device_id: str, role: str = "operator") -> None:
        key = _entry_key(url, device_id, role)
        with self._lock:
            self._cache[key] = None
        delete_secret(TOKEN_SECRET_PREFIX + key)
        if key in self._read_file():
            try:
                self._write_entry(key, None)
            except OSError as exc:
                log.warning("cannot forget the device token for %s: %s", url, exc)

    def _read_file(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        return tokens if isinstance(tokens, dict) else {}

    def _write_entry(self, key: str, entry: dict[str, Any] | None) -> None:
        tokens = self._read_file()
        if entry is None:
            tokens.pop(key, None)
        else:
            tokens[key] = entry
        fileio.ensure_private_dir(self.path.parent)
        fileio.atomic_write_json(self.path, {"version": 1, "tokens": tokens})


__all__ = ["DEVICE_FILE", "IDENTITY_SECRET", "DeviceTokenStore", "device_file", "load_device_identity"]
