"""Secrets: the OS keyring (service `molt-desktop`) and which config keys hold secrets.

A config value `"keyring:<name>"` names an entry of the OS keyring; `resolve_secret` turns it
into the secret. Without any keyring backend (a bare server: `keyring.errors.NoKeyringError`)
nothing here raises on reads — they give None — and writes raise `SecretStoreUnavailable`,
whose message tells the user what to do instead. Every secret read or written is registered
with `logs.register_secret`, so it never reaches a log line.

The keyring cannot list a service's entries on every system, so the names this installation
stored are kept in one more entry, `molt-desktop.names` (a JSON list of names, never values):
`molt-desktop secrets list` shows them and `secrets forget` (the uninstaller's "Remove my data")
removes them all.

Keyring calls can block (D-Bus, Windows Credential Manager): call them from a worker thread
(`asyncio.to_thread`) when on the event loop. Loading the config file is load.py's job.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets as _random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keyring
import keyring.backend
import keyring.errors

from molt_desktop.logs import get_logger, register_secret

if TYPE_CHECKING:
    from molt_desktop.config.schema import MoltConfig

SERVICE = "molt-desktop"
KEYRING_PREFIX = "keyring:"
GATEWAY_TOKEN_NAME = "gateway.token"
NAMES_ENTRY = "molt-desktop.names"
# Entries some versions stored before the names were kept (checked by `stored_secret_names`).
WELL_KNOWN_NAMES = (GATEWAY_TOKEN_NAME, "device.identity")

# Keys whose string values are secrets, by name (see also the patterns below).
SECRET_KEYS = frozenset({"token", "password", "apiKey", "secret"})
NOT_SECRET_KEYS = frozenset({"keyFile"})
_ENV_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*\}$")

_NO_BACKEND_HELP = (
    "No OS keyring is available on this computer, so secrets cannot be stored there. "
    "Start a Secret Service provider (GNOME Keyring or KWallet) in the desktop session, or set "
    "PYTHON_KEYRING_BACKEND to a keyring backend you trust; or put the secret into moltbot.json "
    "directly or as ${VARIABLE} read from the environment."
)

log = get_logger("config")


class SecretStoreUnavailable(RuntimeError):
    """The OS keyring cannot store secrets; the message says what the user can do."""


@dataclass(frozen=True)
class KeyringStatus:
    available: bool
    backend: str
    secure: bool
    message: str


# The patterns OpenClaw redacts (its sensitive-paths rules), so config.get hides exactly what
# the real gateway hides: `*token`, `*password*`, `*secret*`, `*apiKey*`, encryption and private
# keys, service accounts; never token counts or a password *file* path.
_SECRET_PATTERN = re.compile(
    r"(token$|password|secret|api.?key|encrypt.?key|private.?key|serviceaccount(?:ref)?$)", re.IGNORECASE
)
_NOT_SECRET_PATTERN = re.compile(r"(maxtokens|contexttokens|totaltokens|passwordfile)$", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """Whether values under `key` are secrets (token, password, apiKey, secret, ...)."""
    if key in NOT_SECRET_KEYS or _NOT_SECRET_PATTERN.search(key):
        return False
    return key in SECRET_KEYS or bool(_SECRET_PATTERN.search(key))


def keyring_name(value: object) -> str | None:
    """`"keyring:gateway.token"` -> `"gateway.token"`; anything else -> None."""
    if isinstance(value, str) and value.startswith(KEYRING_PREFIX):
        name = value[len(KEYRING_PREFIX) :].strip()
        return name or None
    return None


def is_reference(value: object) -> bool:
    """True for `keyring:<name>` and whole-value `${VAR}`: they name a secret, they are not one."""
    return isinstance(value, str) and (keyring_name(value) is not None or bool(_ENV_REFERENCE.match(value)))


def find_plaintext_secrets(parsed: Any, prefix: str = "") -> list[str]:
    """Key paths of secrets typed into the config as they are (for `doctor` to suggest the keyring)."""
    found: list[str] = []
    if isinstance(parsed, dict):
        for key, value in parsed.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, str) and is_secret_key(str(key)):
                if value and not is_reference(value):
                    found.append(path)
            else:
                found.extend(find_plaintext_secrets(value, path))
    elif isinstance(parsed, list):
        for index, item in enumerate(parsed):
            found.extend(find_plaintext_secrets(item, f"{prefix}[{index}]"))
    return found


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _backend_usable(backend: keyring.backend.KeyringBackend) -> bool:
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return False
    children = getattr(backend, "backends", None)
    if module == "keyring.backends.chainer" and not children:
        return False
    return True


def keyring_status() -> KeyringStatus:
    """What the settings dialog and `doctor` tell the user about secret storage."""
    backend = keyring.get_keyring()
    name = _backend_name(backend)
    if not _backend_usable(backend):
        return KeyringStatus(False, name, False, _NO_BACKEND_HELP)
    if "plaintext" in name.lower():
        return KeyringStatus(
            True,
            name,
            False,
            f"Secrets are stored by {name}, which keeps them unencrypted on disk. "
            "Use the system keyring (GNOME Keyring, KWallet, Windows Credential Manager, macOS Keychain) if you can.",
        )
    return KeyringStatus(True, name, True, f"Secrets are stored in the OS keyring ({name}).")


def get_secret(name: str) -> str | None:
    """The secret stored under `name`, or None (also when there is no keyring at all)."""
    try:
        value = keyring.get_password(SERVICE, name)
    except keyring.errors.NoKeyringError:
        return None
    except Exception as exc:  # a locked or broken backend must not take the app down
        log.warning("cannot read %r from the keyring: %s", name, exc)
        return None
    register_secret(value)
    return value


def set_secret(name: str, value: str) -> None:
    """Store a secret; `SecretStoreUnavailable` when the keyring cannot take it."""
    register_secret(value)
    if not _backend_usable(keyring.get_keyring()):
        raise SecretStoreUnavailable(_NO_BACKEND_HELP)
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.NoKeyringError:
        raise SecretStoreUnavailable(_NO_BACKEND_HELP) from None
    except Exception as exc:
        raise SecretStoreUnavailable(
            f"The OS keyring refused to store {name!r}: {exc}. Unlock the keyring and try again, "
            "or put the secret into moltbot.json as ${VARIABLE} read from the environment."
        ) from exc
    _update_names(add=name)


def delete_secret(name: str) -> bool:
    """Remove a secret; False when there was none (or no keyring)."""
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.NoKeyringError:
        return False
    except Exception as exc:
        log.warning("cannot delete %r from the keyring: %s", name, exc)
        return False
    _update_names(remove=name)
    return True


def _read_names() -> set[str]:
    try:
        raw = keyring.get_password(SERVICE, NAMES_ENTRY)
        listed = json.loads(raw) if raw else []
    except Exception:  # no keyring, or an entry that is not a list of names: start afresh
        return set()
    return {name for name in listed if isinstance(name, str)} if isinstance(listed, list) else set()


def _update_names(*, add: str | None = None, remove: str | None = None) -> None:
    """Keep `molt-desktop.names` in step with a write or a delete (never fails the caller)."""
    names = _read_names()
    updated = (names | {add} if add else names) - ({remove} if remove else set())
    if updated == names:
        return
    try:
        if updated:
            keyring.set_password(SERVICE, NAMES_ENTRY, json.dumps(sorted(updated)))
        else:
            keyring.delete_password(SERVICE, NAMES_ENTRY)
    except Exception as exc:
        log.warning("cannot update the list of keyring entries: %s", exc)


def stored_secret_names() -> list[str]:
    """Names of this installation's keyring entries that hold a secret now."""
    candidates = _read_names() | set(WELL_KNOWN_NAMES)
    found = []
    for name in sorted(candidates):
        try:
            present = keyring.get_password(SERVICE, name) is not None
        except Exception:
            present = False
        if present:
            found.append(name)
    return found


def forget_secrets(names: list[str] | None = None) -> list[str]:
    """Delete `names` (default: every entry this installation stored); the names deleted."""
    targets = stored_secret_names() if names is None else names
    deleted = [name for name in targets if delete_secret(name)]
    if names is None and len(deleted) == len(targets):
        # Names listed but no longer present (removed by hand) leave the list behind otherwise.
        with contextlib.suppress(Exception):
            keyring.delete_password(SERVICE, NAMES_ENTRY)
    return deleted


def resolve_secret(value: str | None) -> str | None:
    """A config value as the secret it stands for: `keyring:<name>` is looked up, others pass through.

    `${VAR}` references are already expanded by the loader. A missing keyring entry gives None.
    """
    if value is None:
        return None
    name = keyring_name(value)
    if name is None:
        register_secret(value)
        return value
    return get_secret(name)


def ensure_gateway_token(config: MoltConfig) -> str | None:
    """The gateway token to require, generated and stored in the keyring on first start.

    Only for `gateway.auth.mode == "token"` (None otherwise). A configured plain or `${VAR}`
    token wins; `keyring:<name>` (or no token at all: `keyring:gateway.token`) is read from the
    keyring and, if missing there, generated and stored. With no keyring backend the result is
    None when nothing is configured: the caller decides (e.g. refuse to listen beyond loopback).
    """
    auth = config.gateway.auth
    if auth.mode != "token":
        return None
    configured = auth.token
    name = keyring_name(configured) if configured else GATEWAY_TOKEN_NAME
    if name is None:
        return resolve_secret(configured)
    existing = get_secret(name)
    if existing:
        return existing
    token = _random.token_urlsafe(32)
    try:
        set_secret(name, token)
    except SecretStoreUnavailable as exc:
        log.warning("no gateway token configured and none can be kept in the keyring: %s", exc)
        return None
    log.info("generated a new gateway token and stored it in the keyring as %r", name)
    return token
