"""Paired devices and pending pairing requests: `<state>/devices/paired.json` and `pending.json`.

The files have OpenClaw's format (2026.1.29 and later): `paired.json` is an object keyed by
deviceId, `pending.json` one keyed by requestId; a paired device carries its device tokens
per role under `tokens`. Both are rewritten whole through `fileio.atomic_write` (mode 0600)
and re-read on every call, so `molt-desktop devices approve` in another process is seen at
once. Pending requests expire after 5 minutes. Device tokens never leave this module except
to the device they were issued to: `list()` and `get_paired()` show token summaries only.
Not here: the connect checks that decide when pairing is needed (gateway/auth.py).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from molt_desktop.clock import now_ms as clock_now_ms
from molt_desktop.fileio import atomic_write, ensure_private_dir
from molt_desktop.logs import get_logger, register_secret

log = get_logger("pairing")

PENDING_TTL_MS = 5 * 60 * 1000
PAIRED_FILE = "paired.json"
PENDING_FILE = "pending.json"
_LOCK_FILE = ".pairing.lock"

SCOPE_ADMIN = "operator.admin"
SCOPE_WRITE = "operator.write"
SCOPE_READ = "operator.read"

_TOKEN_SUMMARY_KEYS = ("role", "scopes", "createdAtMs", "rotatedAtMs", "revokedAtMs", "lastUsedAtMs")


class PairingRequestNotFound(KeyError):
    """No pending request has this id (never made, already handled, or expired)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id

    def __str__(self) -> str:
        return (
            f"no pending pairing request {self.request_id} (requests expire after 5 minutes; "
            "let the device connect again and approve the new request)"
        )


@dataclass(frozen=True)
class DeviceClaim:
    """What a connecting device says about itself (its key is already verified)."""

    device_id: str
    public_key: str
    display_name: str | None = None
    platform: str | None = None
    device_family: str | None = None
    client_id: str | None = None
    client_mode: str | None = None


def normalize_scopes(scopes: Iterable[str] | None) -> list[str]:
    """Trimmed, unique, sorted (how device tokens record their scopes)."""
    return sorted({s.strip() for s in scopes or () if isinstance(s, str) and s.strip()})


def scopes_allow(requested: Iterable[str], allowed: Iterable[str]) -> bool:
    """Are `requested` scopes covered by `allowed`? Admin covers all operator scopes, write read."""
    granted = set(allowed)
    for scope in requested:
        if scope in granted:
            continue
        if SCOPE_ADMIN in granted and scope.startswith("operator."):
            continue
        if scope == SCOPE_READ and SCOPE_WRITE in granted:
            continue
        return False
    return True


def _merge(*groups: Iterable[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group or ():
            if isinstance(item, str) and item.strip():
                seen.setdefault(item.strip(), None)
    return list(seen)


def _strings(value: Any) -> list[str]:
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def _tokens(device: Mapping[str, Any] | None) -> dict[str, Any]:
    tokens = device.get("tokens") if device is not None else None
    return tokens if isinstance(tokens, dict) else {}


def _token_summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in _TOKEN_SUMMARY_KEYS if entry.get(k) is not None}


def public_device_view(device: Mapping[str, Any]) -> dict[str, Any]:
    """A paired device as shown to operators: its tokens replaced by summaries without secrets."""
    view = {k: v for k, v in device.items() if k != "tokens"}
    tokens = device.get("tokens")
    if isinstance(tokens, dict):
        summaries = [_token_summary(t) for t in tokens.values() if isinstance(t, dict)]
        summaries.sort(key=lambda t: str(t.get("role", "")))
        if summaries:
            view["tokens"] = summaries
    return view


class PairingStore:
    """The device pairing state of one gateway; every method is safe from any thread."""

    def __init__(self, devices_dir: Path, *, now_ms: Callable[[], int] = clock_now_ms) -> None:
        self.devices_dir = Path(devices_dir)
        self.paired_path = self.devices_dir / PAIRED_FILE
        self.pending_path = self.devices_dir / PENDING_FILE
        self._now_ms = now_ms
        self._lock = threading.RLock()

    # -- files ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # One writer at a time in this process (RLock) and across processes (flock on POSIX:
        # the CLI may approve a device while the gateway records a new request).
        with self._lock:
            ensure_private_dir(self.devices_dir)
            try:
                import fcntl
            except ImportError:  # Windows: in-process locking only
                yield
                return
            fd = os.open(self.devices_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _read(self, path: Path) -> tuple[dict[str, Any], bool]:
        """(content, usable). A corrupt file reads as empty and is set aside before a rewrite."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, True
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read %s (%s); treating it as empty", path, exc)
            return {}, False
        if not text.strip():
            return {}, True
        try:
            value = json.loads(text)
        except ValueError:
            log.warning("%s is not valid JSON; treating it as empty", path)
            return {}, False
        if not isinstance(value, dict):
            log.warning("%s does not hold a JSON object; treating it as empty", path)
            return {}, False
        return value, True

    def _write(self, path: Path, value: dict[str, Any], usable: bool) -> None:
        if not usable and path.exists():
            aside = path.with_name(f"{path.name}.corrupt-{self._now_ms()}")
            with contextlib.suppress(OSError):
                os.replace(path, aside)
                log.warning("moved the unreadable %s to %s", path, aside)
        atomic_write(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def _paired(self) -> tuple[dict[str, Any], bool]:
        paired, usable = self._read(self.paired_path)
        for device in paired.values():
            if isinstance(device, dict) and isinstance(device.get("tokens"), dict):
                for entry in device["tokens"].values():
                    if isinstance(entry, dict):
                        register_secret(entry.get("token") if isinstance(entry.get("token"), str) else None)
        return paired, usable

    def _pending(self) -> tuple[dict[str, Any], bool, bool]:
        """(pending, usable, pruned): expired and malformed requests are dropped."""
        pending, usable = self._read(self.pending_path)
        cutoff = self._now_ms() - PENDING_TTL_MS
        fresh = {
            rid: req
            for rid, req in pending.items()
            if isinstance(req, dict)
            and isinstance(req.get("deviceId"), str)
            and isinstance(req.get("ts"), (int, float))
            and req["ts"] >= cutoff
        }
        return fresh, usable, len(fresh) != len(pending)

    # -- queries ----------------------------------------------------------------------------

    def _device(self, paired: Mapping[str, Any], device_id: str) -> dict[str, Any] | None:
        device = paired.get(device_id.strip())
        return device if isinstance(device, dict) else None

    def get_paired(self, device_id: str) -> dict[str, Any] | None:
        """The paired device (public view, no token secrets), or None."""
        with self._lock:
            device = self._device(self._paired()[0], device_id)
        return public_device_view(device) if device else None

    def is_paired(self, device_id: str, public_key: str | None = None) -> bool:
        """Is the device paired (and, when given, with this public key)?"""
        with self._lock:
            device = self._device(self._paired()[0], device_id)
        if device is None:
            return False
        return public_key is None or device.get("publicKey") == public_key

    def get_pending(self, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            request = self._pending()[0].get(request_id)
        return dict(request) if request else None

    # -- pairing ----------------------------------------------------------------------------

    def open_request(
        self,
        device: DeviceClaim,
        scopes: Iterable[str],
        remote: str | None,
        *,
        role: str = "operator",
        silent: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Record that `device` asks to pair; (request, created). One pending request per device:
        asking again refreshes the existing request and keeps its id."""
        with self._locked():
            pending, usable, _ = self._pending()
            paired, _ = self._paired()
            existing = next((r for r in pending.values() if r.get("deviceId") == device.device_id), None)
            request: dict[str, Any] = {
                "requestId": existing["requestId"] if existing else str(uuid.uuid4()),
                "deviceId": device.device_id,
                "publicKey": device.public_key,
                "displayName": device.display_name,
                "platform": device.platform,
                "deviceFamily": device.device_family,
                "clientId": device.client_id,
                "clientMode": device.client_mode,
                "role": role,
                "roles": [role],
                "scopes": list(scopes),
                "remoteIp": remote,
                "silent": silent,
                "isRepair": device.device_id in paired,
                "ts": self._now_ms(),
            }
            request = {k: v for k, v in request.items() if v is not None}
            pending[request["requestId"]] = request
            self._write(self.pending_path, pending, usable)
        if existing is None:
            log.info("device %s asks to pair (request %s)", device.device_id, request["requestId"])
        return dict(request), existing is None

    def request(self, device: DeviceClaim, scopes: Iterable[str], remote: str | None, *, role: str = "operator") -> str:
        """Record a pairing request; returns its requestId (the same while one is pending)."""
        return str(self.open_request(device, scopes, remote, role=role)[0]["requestId"])

    def approve(self, request_id: str) -> dict[str, Any]:
        """Pair the requesting device (mints its device token); returns the device's public view."""
        with self._locked():
            pending, pending_usable, _ = self._pending()
            request = pending.get(request_id)
            if request is None:
                raise PairingRequestNotFound(request_id)
            paired, paired_usable = self._paired()
            now = self._now_ms()
            existing = self._device(paired, request["deviceId"]) or {}
            role = request.get("role") if isinstance(request.get("role"), str) else "operator"
            requested = _strings(request.get("scopes"))
            tokens = dict(_tokens(existing))
            previous = tokens.get(role) if isinstance(tokens.get(role), dict) else None
            tokens[role] = self._new_token(role, normalize_scopes(requested), previous, now)
            device: dict[str, Any] = {
                "deviceId": request["deviceId"],
                "publicKey": request.get("publicKey"),
                "displayName": request.get("displayName"),
                "platform": request.get("platform"),
                "deviceFamily": request.get("deviceFamily"),
                "clientId": request.get("clientId"),
                "clientMode": request.get("clientMode"),
                "role": role,
                "roles": _merge(_strings(existing.get("roles")), [existing.get("role", "")], [role]),
                "scopes": _merge(_strings(existing.get("scopes")), requested),
                "approvedScopes": _merge(
                    _strings(existing.get("approvedScopes")), _strings(existing.get("scopes")), requested
                ),
                "remoteIp": request.get("remoteIp"),
                "tokens": tokens,
                "createdAtMs": existing.get("createdAtMs", now),
                "approvedAtMs": now,
            }
            device = {k: v for k, v in device.items() if v is not None}
            paired[device["deviceId"]] = device
            del pending[request_id]
            self._write(self.paired_path, paired, paired_usable)
            self._write(self.pending_path, pending, pending_usable)
        log.info("device %s paired (request %s)", device["deviceId"], request_id)
        return public_device_view(device)

    def reject(self, request_id: str) -> dict[str, Any]:
        """Drop a pending request; returns `{requestId, deviceId}`."""
        with self._locked():
            pending, usable, _ = self._pending()
            request = pending.pop(request_id, None)
            if request is None:
                raise PairingRequestNotFound(request_id)
            self._write(self.pending_path, pending, usable)
        log.info("pairing request %s of device %s rejected", request_id, request["deviceId"])
        return {"requestId": request_id, "deviceId": request["deviceId"]}

    def remove(self, device_id: str) -> bool:
        """Unpair a device (its tokens stop working). False when it was not paired."""
        with self._locked():
            paired, usable = self._paired()
            if self._device(paired, device_id) is None:
                return False
            del paired[device_id.strip()]
            self._write(self.paired_path, paired, usable)
        log.info("device %s unpaired", device_id)
        return True

    # -- device tokens ----------------------------------------------------------------------

    def _new_token(self, role: str, scopes: list[str], previous: Mapping[str, Any] | None, now: int) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        register_secret(token)
        entry: dict[str, Any] = {"token": token, "role": role, "scopes": scopes, "createdAtMs": now}
        if previous is not None:
            entry["createdAtMs"] = previous.get("createdAtMs", now)
            entry["rotatedAtMs"] = now
            if previous.get("lastUsedAtMs") is not None:
                entry["lastUsedAtMs"] = previous["lastUsedAtMs"]
        return entry

    def ensure_token(self, device_id: str, role: str, scopes: Iterable[str]) -> tuple[str, int, list[str]] | None:
        """The device's live token for `role` covering `scopes` (minted when missing or too
        narrow): (token, issuedAtMs, token scopes). None when the device is not paired."""
        wanted = normalize_scopes(scopes)
        with self._locked():
            paired, usable = self._paired()
            device = self._device(paired, device_id)
            if device is None:
                return None
            tokens = _tokens(device)
            entry = tokens.get(role) if isinstance(tokens.get(role), dict) else None
            if (
                entry is None
                or entry.get("revokedAtMs")
                or not isinstance(entry.get("token"), str)
                or not scopes_allow(wanted, _strings(entry.get("scopes")))
            ):
                entry = self._new_token(role, wanted, entry, self._now_ms())
                device["tokens"] = {**tokens, role: entry}
                self._write(self.paired_path, paired, usable)
        issued = entry.get("rotatedAtMs") or entry.get("createdAtMs") or 0
        return str(entry["token"]), int(issued), _strings(entry.get("scopes"))

    def issue_token(self, device_id: str, role: str = "operator", scopes: Iterable[str] | None = None) -> str:
        """Mint a fresh device token (rotation); KeyError when the device is not paired."""
        with self._locked():
            paired, usable = self._paired()
            device = self._device(paired, device_id)
            if device is None:
                raise KeyError(device_id)
            tokens = _tokens(device)
            previous = tokens.get(role) if isinstance(tokens.get(role), dict) else None
            granted = normalize_scopes(scopes if scopes is not None else _strings(device.get("scopes")))
            entry = self._new_token(role, granted, previous, self._now_ms())
            device["tokens"] = {**tokens, role: entry}
            self._write(self.paired_path, paired, usable)
        return str(entry["token"])

    def revoke_token(self, device_id: str, role: str = "operator") -> bool:
        with self._locked():
            paired, usable = self._paired()
            device = self._device(paired, device_id)
            tokens = _tokens(device)
            if not isinstance(tokens.get(role), dict):
                return False
            tokens[role] = {**tokens[role], "revokedAtMs": self._now_ms()}
            self._write(self.paired_path, paired, usable)
        return True

    def check_device_token(
        self,
        token: str,
        device_id: str | None = None,
        role: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> dict[str, Any] | None:
        """The paired device (public view) holding this live token, or None.

        With `device_id`/`role` the token must belong to that device/role; with `scopes` the
        token's scopes must cover them. Comparison is constant-time.
        """
        if not isinstance(token, str) or not token:
            return None
        candidate = token.encode("utf-8", "surrogatepass")
        match: dict[str, Any] | None = None
        with self._lock:
            paired = self._paired()[0]
        for key, device in paired.items():
            if not isinstance(device, dict) or not isinstance(device.get("tokens"), dict):
                continue
            if device_id is not None and key != device_id.strip():
                continue
            for token_role, entry in device["tokens"].items():
                if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
                    continue
                same = hmac.compare_digest(entry["token"].encode("utf-8", "surrogatepass"), candidate)
                if not same or entry.get("revokedAtMs") or (role is not None and token_role != role):
                    continue
                if scopes is not None and not scopes_allow(normalize_scopes(scopes), _strings(entry.get("scopes"))):
                    continue
                match = device
        return public_device_view(match) if match else None

    # Defined last: inside the class body, the name `list` would otherwise shadow the builtin.
    def list(self) -> dict[str, list[dict[str, Any]]]:
        """`{"pending": [...], "paired": [...]}`, newest first, without token secrets."""
        with self._lock:
            pending = list(self._pending()[0].values())
            paired = [d for d in self._paired()[0].values() if isinstance(d, dict)]
        pending.sort(key=lambda r: r.get("ts", 0), reverse=True)
        paired.sort(key=lambda d: d.get("approvedAtMs", 0) if isinstance(d.get("approvedAtMs"), int) else 0,
                    reverse=True)
        return {"pending": [dict(r) for r in pending], "paired": [public_device_view(d) for d in paired]}
