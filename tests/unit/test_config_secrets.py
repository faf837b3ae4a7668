"""Secrets in the OS keyring, and what happens when there is no keyring at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from molt_desktop import logs
from molt_desktop.config import secrets
from molt_desktop.config.schema import MoltConfig
from molt_desktop.config.secrets import (
    SERVICE,
    SecretStoreUnavailable,
    delete_secret,
    ensure_gateway_token,
    get_secret,
    is_secret_key,
    keyring_status,
    resolve_secret,
    set_secret,
)
from tests.conftest import MemoryKeyring


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A bare server: keyring finds no backend (the conftest fixture restores the previous one)."""
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    yield


def _token_config(token: str | None = None, mode: str = "token") -> MoltConfig:
    auth: dict[str, str] = {"mode": mode}
    if token is not None:
        auth["token"] = token
    return MoltConfig.model_validate({"gateway": {"auth": auth}})


def test_set_get_delete_use_the_molt_desktop_service(memory_keyring: object) -> None:
    set_secret("provider.zhipu.apiKey", "sk-zhipu-123456")
    assert memory_keyring.items[(SERVICE, "provider.zhipu.apiKey")] == "sk-zhipu-123456"  # type: ignore[attr-defined]
    assert get_secret("provider.zhipu.apiKey") == "sk-zhipu-123456"
    assert delete_secret("provider.zhipu.apiKey") is True
    assert get_secret("provider.zhipu.apiKey") is None
    assert delete_secret("provider.zhipu.apiKey") is False


def test_resolve_secret() -> None:
    set_secret("remote.server.token", "remote-token-abcdef")
    assert resolve_secret("keyring:remote.server.token") == "remote-token-abcdef"
    assert resolve_secret("keyring:not.there") is None
    assert resolve_secret("plain-value") == "plain-value"
    assert resolve_secret(None) is None


def test_every_secret_read_or_written_is_kept_out_of_logs(memory_keyring: object) -> None:
    set_secret("a", "written-secret-111")
    memory_keyring.items[(SERVICE, "b")] = "read-secret-222"  # type: ignore[attr-defined]
    assert get_secret("b") == "read-secret-222"
    assert resolve_secret("plain-secret-333") == "plain-secret-333"
    line = logs.redact("written-secret-111 read-secret-222 plain-secret-333")
    assert line == "*** *** ***"


def test_status_with_a_keyring() -> None:
    status = keyring_status()
    assert status.available is True and status.secure is True
    assert "MemoryKeyring" in status.backend


def test_no_keyring_backend_never_crashes(no_keyring: None) -> None:
    assert get_secret("gateway.token") is None
    assert resolve_secret("keyring:gateway.token") is None
    assert delete_secret("gateway.token") is False
    with pytest.raises(SecretStoreUnavailable) as info:
        set_secret("gateway.token", "value-123456")
    message = str(info.value)
    assert "No OS keyring is available" in message
    assert "GNOME Keyring" in message and "${VARIABLE}" in message  # says what to do
    status = keyring_status()
    assert status.available is False and status.secure is False
    assert status.backend == "keyring.backends.fail.Keyring"
    assert status.message == message


def test_plaintext_backend_is_reported_as_not_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    keyring.set_keyring(PlaintextKeyring())
    status = keyring_status()
    assert status.available is True and status.secure is False
    assert "unencrypted" in status.message


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that fails like a locked Secret Service does."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("dbus went away")


def test_a_failing_backend_gives_none_and_a_clear_error() -> None:
    keyring.set_keyring(BrokenKeyring())
    assert get_secret("x") is None
    assert delete_secret("x") is False
    with pytest.raises(SecretStoreUnavailable, match="refused to store 'x'.*Unlock the keyring"):
        set_secret("x", "value-123456")


def test_ensure_gateway_token_generates_once_and_keeps_it(memory_keyring: object) -> None:
    config = _token_config()
    token = ensure_gateway_token(config)
    assert token and len(token) >= 40
    assert memory_keyring.items[(SERVICE, "gateway.token")] == token  # type: ignore[attr-defined]
    assert ensure_gateway_token(config) == token  # the next start reads it back
    assert logs.redact(f"token={token}") == "token=***"


def test_ensure_gateway_token_respects_the_config() -> None:
    assert ensure_gateway_token(_token_config("plain-configured-token")) == "plain-configured-token"
    assert ensure_gateway_token(_token_config(mode="password")) is None
    assert ensure_gateway_token(_token_config(mode="none")) is None
    generated = ensure_gateway_token(_token_config("keyring:my.gateway"))
    assert generated and get_secret("my.gateway") == generated
    assert get_secret("gateway.token") is None


def test_ensure_gateway_token_without_keyring(no_keyring: None) -> None:
    assert ensure_gateway_token(_token_config()) is None  # the caller decides what to do
    assert ensure_gateway_token(_token_config("plain-configured-token")) == "plain-configured-token"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("token", True), ("password", True), ("apiKey", True), ("secret", True), ("botToken", True),
        ("appPassword", True), ("privateKey", True), ("clientSecret", True), ("keyFile", False),
        ("maxTokens", False), ("contextTokens", False), ("key", False), ("tlsFingerprint", False),
        ("username", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_module_constants() -> None:
    assert secrets.SERVICE == "molt-desktop"
    assert secrets.KEYRING_PREFIX == "keyring:"


# --- the names of the stored entries (secrets list / forget) --------------------------------------


def test_the_names_of_stored_secrets_are_kept_and_forgotten(memory_keyring: keyring.backend.KeyringBackend) -> None:
    items = memory_keyring.items  # type: ignore[attr-defined]
    set_secret("remote.server.token", "remote-secret-1")
    set_secret("sync.password", "sync-secret-2")
    assert json.loads(items[(SERVICE, secrets.NAMES_ENTRY)]) == ["remote.server.token", "sync.password"]
    assert secrets.stored_secret_names() == ["remote.server.token", "sync.password"]
    # Only names are listed: no value is in the list entry.
    assert "secret-1" not in items[(SERVICE, secrets.NAMES_ENTRY)]

    assert delete_secret("sync.password")
    assert secrets.stored_secret_names() == ["remote.server.token"]
    items[(SERVICE, "gateway.token")] = "stored-before-names-were-kept"
    assert secrets.stored_secret_names() == ["gateway.token", "remote.server.token"]

    assert secrets.forget_secrets() == ["gateway.token", "remote.server.token"]
    assert items == {}


def test_forgetting_named_secrets(memory_keyring: keyring.backend.KeyringBackend) -> None:
    set_secret("a.token", "value-a-123")
    set_secret("b.token", "value-b-456")
    assert secrets.forget_secrets(["a.token", "missing"]) == ["a.token"]
    assert secrets.stored_secret_names() == ["b.token"]


def test_a_broken_names_entry_is_started_afresh(memory_keyring: keyring.backend.KeyringBackend) -> None:
    items = memory_keyring.items  # type: ignore[attr-defined]
    for broken in ("{not json", '{"a": 1}', "[1, 2]"):
        items[(SERVICE, secrets.NAMES_ENTRY)] = broken
        assert secrets.stored_secret_names() == []
    set_secret("c.token", "value-c-789")
    assert json.loads(items[(SERVICE, secrets.NAMES_ENTRY)]) == ["c.token"]


class NamesRefused(MemoryKeyring):
    """A keyring that stores secrets but refuses the names entry (e.g. over a size limit)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if username == secrets.NAMES_ENTRY:
            raise keyring.errors.PasswordSetError("the blob is too large")
        super().set_password(service, username, password)


def test_a_names_entry_the_keyring_refuses_does_not_fail_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    backend = NamesRefused()
    keyring.set_keyring(backend)
    set_secret("d.token", "value-d-000")
    assert backend.items == {(SERVICE, "d.token"): "value-d-000"}
    assert "cannot update the list of keyring entries" in caplog.text


def test_listing_and_forgetting_without_a_keyring(no_keyring: None) -> None:
    assert secrets.stored_secret_names() == []
    assert secrets.forget_secrets() == []
