"""The device identity and device tokens: in the OS keyring when there is one, else in 0600 files;
an existing identity file keeps working; keys and tokens stay out of logs."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from molt_desktop.client.identity import (
    IDENTITY_SECRET,
    DeviceTokenStore,
    device_file,
    load_device_identity,
)
from molt_desktop.config.secrets import SERVICE
from molt_desktop.protocol.device import DeviceIdentity
from tests.conftest import MemoryKeyring


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A machine without any keyring backend (a bare server)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_identity_made_once_and_kept_in_the_keyring(state_home: Path, memory_keyring: MemoryKeyring,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first = load_device_identity(state_home)
    assert first is not None
    stored = memory_keyring.items[(SERVICE, IDENTITY_SECRET)]
    assert json.loads(stored)["deviceId"] == first.device_id
    assert not device_file(state_home).exists()
    second = load_device_identity(state_home)
    assert second is not None and second.device_id == first.device_id
    assert second.sign("payload") == first.sign("payload")  # the same private key
    private_pem = json.loads(stored)["privateKeyPem"]
    body = "".join(private_pem.splitlines()[1:-1])
    assert body not in caplog.text and "PRIVATE KEY" not in caplog.text


@pytest.mark.usefixtures("no_keyring")
def test_identity_in_a_0600_file_without_keyring(state_home: Path) -> None:
    first = load_device_identity(state_home)
    assert first is not None
    path = device_file(state_home)
    assert path.exists() and mode(path) == 0o600
    second = load_device_identity(state_home)
    assert second is not None and second.device_id == first.device_id


def test_existing_device_json_keeps_working(state_home: Path, memory_keyring: MemoryKeyring) -> None:
    existing = DeviceIdentity.generate()
    existing.save(device_file(state_home))
    loaded = load_device_identity(state_home)
    assert loaded is not None and loaded.device_id == existing.device_id
    assert memory_keyring.items == {}  # nothing new was made


def test_damaged_identities(state_home: Path, memory_keyring: MemoryKeyring) -> None:
    memory_keyring.items[(SERVICE, IDENTITY_SECRET)] = "{not json"
    replaced = load_device_identity(state_home)
    assert replaced is not None
    assert json.loads(memory_keyring.items[(SERVICE, IDENTITY_SECRET)])["deviceId"] == replaced.device_id

    path = device_file(state_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"version": 1, "privateKeyPem": "garbage"}', encoding="utf-8")
    assert load_device_identity(state_home) is None  # said in the log; connects with the token only


def test_device_tokens_in_the_keyring(state_home: Path, memory_keyring: MemoryKeyring,
                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = DeviceTokenStore(state_home)
    url, device = "wss://gw.example.com:18789", "d" * 64
    assert store.get(url, device, "operator") is None
    store.save(url, device, "operator", "device-token-secret-1")
    assert "device-token-secret-1" in memory_keyring.items.values()
    assert not store.path.exists()
    assert DeviceTokenStore(state_home).get(url, device, "operator") == "device-token-secret-1"
    assert DeviceTokenStore(state_home).get("wss://other:18789", device, "operator") is None
    assert DeviceTokenStore(state_home).get(url, "e" * 64, "operator") is None

    # Once known, a token costs no keyring call (connects read it every time).
    calls: list[str] = []
    original = memory_keyring.get_password
    memory_keyring.get_password = lambda service, name: calls.append(name) or original(service, name)  # type: ignore[method-assign]
    assert store.get(url, device, "operator") == "device-token-secret-1"
    assert calls == []

    store.forget(url, device, "operator")
    assert store.get(url, device, "operator") is None
    assert DeviceTokenStore(state_home).get(url, device, "operator") is None
    assert "device-token-secret-1" not in memory_keyring.items.values()
    assert "device-token-secret-1" not in caplog.text


@pytest.mark.usefixtures("no_keyring")
def test_device_tokens_in_a_0600_file_without_keyring(state_home: Path) -> None:
    store = DeviceTokenStore(state_home)
    url, device = "ws://10.0.0.5:18789", "a" * 64
    store.save(url, device, "operator", "device-token-secret-2")
    store.save("ws://10.0.0.6:18789", device, "operator", "device-token-secret-3")
    assert mode(store.path) == 0o600
    assert DeviceTokenStore(state_home).get(url, device, "operator") == "device-token-secret-2"
    store.forget(url, device, "operator")
    reread = DeviceTokenStore(state_home)
    assert reread.get(url, device, "operator") is None
    assert reread.get("ws://10.0.0.6:18789", device, "operator") == "device-token-secret-3"
    assert "device-token-secret-2" not in store.path.read_text(encoding="utf-8")
    store.path.write_text("not json", encoding="utf-8")
    assert DeviceTokenStore(state_home).get(url, device, "operator") is None  # unreadable: no token, no crash
