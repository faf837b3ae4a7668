"""Where the gateway's own secret comes from: environment, config, keyring, or a new one.

Order for the token: `MOLT_DESKTOP_GATEWAY_TOKEN` / `OPENCLAW_GATEWAY_TOKEN`, then
`gateway.auth.token` (a `keyring:` reference or a literal), then the keyring entry
`gateway.token`; with none of them a token is generated on first start and kept in the keyring.
Without any keyring backend (a bare server) a generated token lasts for this run only, and the
log says how to set a permanent one.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import TYPE_CHECKING, Any

from molt_desktop.config.secrets import SecretStoreUnavailable, get_secret, resolve_secret, set_secret
from molt_desktop.gateway.auth import AuthConfig
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, register_secret

if TYPE_CHECKING:
    from molt_desktop.config.manager import ConfigManager

log = get_logger("gateway.auth")

TOKEN_ENV = ("MOLT_DESKTOP_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN")
PASSWORD_ENV = ("MOLT_DESKTOP_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PASSWORD")
KEYRING_TOKEN = "gateway.token"
KEYRING_PASSWORD = "gateway.password"
KEYRING_PREFIX = "keyring:"
KEYRING_RECHECK_S = 2.0


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def has_secret(auth: AuthConfig) -> bool:
    if auth.mode == "token":
        return bool(auth.token)
    if auth.mode == "password":
        return bool(auth.password)
    return False


class GatewayAuthResolver:
    """Resolves the gateway's AuthConfig for the current config, re-resolving after edits."""

    def __init__(self, config: ConfigManager, *, generate: bool = True) -> None:
        self.config = config
        self.generate = generate
        self.warnings: list[str] = []
        self._cache: tuple[str, AuthConfig] | None = None
        self._ephemeral: str | None = None
        self._resolved_at = 0.0

    @property
    def ephemeral(self) -> bool:
        """Whether the token in force was generated for this run only (nobody else knows it)."""
        return self._ephemeral is not None and self._cache is not None and self._cache[1].token == self._ephemeral

    def current(self) -> AuthConfig:
        """The auth in force; re-resolved after config edits, and every few seconds when a secret
        lives in the keyring (a token regenerated there leaves the config file unchanged)."""
        loaded = self.config.current
        now = time.monotonic()
        if (self._cache is None or self._cache[0] != loaded.hash
                or (self._keyring_backed(loaded.config.gateway.auth) and now - self._resolved_at > KEYRING_RECHECK_S)):
            self._cache = (loaded.hash, self.resolve())
            self._resolved_at = now
        return self._cache[1]

    @staticmethod
    def _keyring_backed(auth_cfg: Any) -> bool:
        """Whether a secret may come from the keyring: a `keyring:` reference, or no value at all."""
        return any(value is None or str(value).startswith(KEYRING_PREFIX)
                   for value in (auth_cfg.token, auth_cfg.password))

    def resolve(self) -> AuthConfig:
        self.warnings = []
        auth_cfg = self.config.current.config.gateway.auth
        mode = str(auth_cfg.mode or "token")
        token = _env(TOKEN_ENV) or self._lookup(auth_cfg.token, "gateway.auth.token")
        password = _env(PASSWORD_ENV) or self._lookup(auth_cfg.password, "gateway.auth.password")
        if token is None:
            token = self._keyring(KEYRING_TOKEN)
        if password is None:
            password = self._keyring(KEYRING_PASSWORD)
        if mode == "token" and token is None and self.generate:
            token = self._generate_token()
        if mode == "none":
            self.warnings.append(_("gateway.auth.mode is \"none\": anyone who can reach the port can use the gateway."))
        for value in (token, password):
            register_secret(value)
        return AuthConfig(mode=mode, token=token, password=password)  # type: ignore[arg-type]

    def _lookup(self, value: str | None, key: str) -> str | None:
        if not value:
            return None
        try:
            return resolve_secret(value)
        except SecretStoreUnavailable as exc:
            self.warnings.append(f"{key}: {exc}")
            return None

    def _keyring(self, name: str) -> str | None:
        try:
            return get_secret(name)
        except SecretStoreUnavailable:
            return None

    def _generate_token(self) -> str:
        if self._ephemeral is not None:
            return self._ephemeral
        token = secrets.token_urlsafe(32)
        register_secret(token)
        try:
            set_secret(KEYRING_TOKEN, token)
        except SecretStoreUnavailable:
            self._ephemeral = token
            self.warnings.append(_(
                "No OS keyring is available, so the generated gateway token lasts for this run only. "
                "Set gateway.auth.token in the config or MOLT_DESKTOP_GATEWAY_TOKEN to keep one."
            ))
            return token
        log.info("%s", _("generated a gateway token and stored it in the OS keyring (entry {entry})").format(
            entry=KEYRING_TOKEN))
        return token
