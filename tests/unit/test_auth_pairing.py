"""gateway/pairing.py: devices/paired.json and pending.json in OpenClaw's format."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from molt_desktop.gateway.pairing import (
    PENDING_TTL_MS,
    DeviceClaim,
    PairingRequestNotFound,
    PairingStore,
    normalize_scopes,
    scopes_allow,
)
from molt_desktop.logs import redact
from molt_desktop.protocol.device import DeviceIdentity

SCOPES = ["operator.read", "operator.write"]


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> PairingStore:
    return PairingStore(tmp_path / "devices", now_ms=clock)


def claim(identity: DeviceIdentity | None = None, platform: str = "linux") -> DeviceClaim:
    identity = identity or DeviceIdentity.generate()
    return DeviceClaim(identity.device_id, identity.public_key_b64url, display_name="laptop", platform=platform,
                       client_id="gateway-client", client_mode="ui")


def test_request_approve_and_files(store: PairingStore, clock: Clock) -> None:
    device = claim()
    request_id = store.request(device, SCOPES, "192.0.2.7")
    assert store.request(device, SCOPES, "192.0.2.7") == request_id  # one pending request per device
    pending = json.loads(store.pending_path.read_text())
    assert list(pending) == [request_id]
    assert pending[request_id]["deviceId"] == device.device_id
    assert pending[request_id]["scopes"] == SCOPES and pending[request_id]["ts"] == clock.ms
    approved = store.approve(request_id)
    assert approved["deviceId"] == device.device_id and "token" not in json.dumps(approved["tokens"][0])
    paired = json.loads(store.paired_path.read_text())
    record = paired[device.device_id]
    assert record["publicKey"] == device.public_key and record["roles"] == ["operator"]
    assert record["scopes"] == SCOPES and record["approvedAtMs"] == clock.ms
    token = record["tokens"]["operator"]
    assert token["scopes"] == sorted(SCOPES) and len(token["token"]) >= 43
    assert json.loads(store.pending_path.read_text()) == {}
    if os.name == "posix":
        for path in (store.paired_path, store.pending_path):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.is_paired(device.device_id, device.public_key)
    assert not store.is_paired(device.device_id, "other-key")


def test_unknown_requests(store: PairingStore) -> None:
    with pytest.raises(PairingRequestNotFound) as info:
        store.approve("nope")
    assert isinstance(info.value, KeyError)
    assert "no pending pairing request nope" in str(info.value)
    with pytest.raises(KeyError):
        store.reject("nope")


def test_pending_requests_expire(store: PairingStore, clock: Clock) -> None:
    request_id = store.request(claim(), SCOPES, None)
    clock.ms += PENDING_TTL_MS + 1
    assert store.list()["pending"] == []
    with pytest.raises(PairingRequestNotFound):
        store.approve(request_id)


def test_reject_and_remove(store: PairingStore) -> None:
    device = claim()
    request_id = store.request(device, SCOPES, None)
    assert store.reject(request_id) == {"requestId": request_id, "deviceId": device.device_id}
    assert not store.is_paired(device.device_id)
    store.approve(store.request(device, SCOPES, None))
    token, _, _ = store.ensure_token(device.device_id, "operator", SCOPES) or ("", 0, [])
    assert store.remove(device.device_id)
    assert not store.remove(device.device_id)
    assert store.check_device_token(token) is None


def test_list_hides_tokens(store: PairingStore, clock: Clock) -> None:
    first, second = claim(), claim()
    store.approve(store.request(first, SCOPES, None))
    clock.ms += 1000
    store.approve(store.request(second, ["operator.admin"], None))
    store.request(claim(), SCOPES, "192.0.2.8")
    tokens = [store.ensure_token(d.device_id, "operator", []) for d in (first, second)]
    listing = store.list()
    assert [d["deviceId"] for d in listing["paired"]] == [second.device_id, first.device_id]  # newest first
    assert len(listing["pending"]) == 1
    text = json.dumps(listing)
    for issued in tokens:
        assert issued is not None and issued[0] not in text
        assert redact(issued[0]) == "***"
    assert listing["paired"][0]["tokens"][0]["role"] == "operator"
    view = store.get_paired(first.device_id)
    assert view is not None and "token" not in view["tokens"][0]


def test_device_tokens(store: PairingStore) -> None:
    device = claim()
    store.approve(store.request(device, SCOPES, None))
    token, issued, scopes = store.ensure_token(device.device_id, "operator", ["operator.read"]) or ("", 0, [])
    assert scopes == sorted(SCOPES)
    assert store.ensure_token(device.device_id, "operator", SCOPES) == (token, issued, scopes)  # reused
    assert store.check_device_token(token, device_id=device.device_id, role="operator")
    assert store.check_device_token(token, role="node") is None
    assert store.check_device_token(token, scopes=["operator.admin"]) is None
    assert store.check_device_token(token + "x") is None
    assert store.check_device_token("") is None
    rotated = store.issue_token(device.device_id)
    assert rotated != token and store.check_device_token(token) is None
    assert store.check_device_token(rotated)
    wider, _, wider_scopes = store.ensure_token(device.device_id, "operator", ["operator.admin"]) or ("", 0, [])
    assert wider != rotated and wider_scopes == ["operator.admin"]
    assert store.ensure_token("unknown", "operator", []) is None
    with pytest.raises(KeyError):
        store.issue_token("unknown")


def test_other_processes_see_changes(store: PairingStore, tmp_path: Path, clock: Clock) -> None:
    other = PairingStore(tmp_path / "devices", now_ms=clock)  # e.g. `molt-desktop devices approve`
    device = claim()
    request_id = store.request(device, SCOPES, None)
    other.approve(request_id)
    assert store.is_paired(device.device_id)


def test_openclaw_written_files_are_read(tmp_path: Path, clock: Clock) -> None:
    devices = tmp_path / "devices"
    devices.mkdir()
    identity = DeviceIdentity.generate()
    (devices / "paired.json").write_text(json.dumps({identity.device_id: {
        "deviceId": identity.device_id, "publicKey": identity.public_key_b64url, "platform": "linux",
        "role": "operator", "roles": ["operator"], "scopes": SCOPES,
        "tokens": {"operator": {"token": "e12b61e9b63b4c0fb86ae9403db6bb12", "role": "operator",
                                "scopes": sorted(SCOPES), "createdAtMs": 5}},
        "createdAtMs": 5, "approvedAtMs": 5}}, indent=2))
    store = PairingStore(devices, now_ms=clock)
    assert store.check_device_token("e12b61e9b63b4c0fb86ae9403db6bb12", device_id=identity.device_id)
    assert store.ensure_token(identity.device_id, "operator", ["operator.read"]) == (
        "e12b61e9b63b4c0fb86ae9403db6bb12", 5, sorted(SCOPES))


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", "\xff"])
def test_corrupt_files_are_set_aside_not_lost(store: PairingStore, garbage: str) -> None:
    store.devices_dir.mkdir(parents=True, exist_ok=True)
    store.paired_path.write_text(garbage, encoding="latin-1")
    assert store.list()["paired"] == []
    device = claim()
    store.approve(store.request(device, SCOPES, None))
    assert store.is_paired(device.device_id)
    aside = list(store.devices_dir.glob("paired.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage.encode("latin-1")


def test_malformed_entries_are_ignored(store: PairingStore) -> None:
    store.devices_dir.mkdir(parents=True, exist_ok=True)
    store.pending_path.write_text(json.dumps({"a": 1, "b": {"deviceId": 5}}))
    store.paired_path.write_text(json.dumps({"x": "y", "z": {"tokens": {"operator": 3}}}))
    assert store.list() == {"pending": [], "paired": [{}]}  # the non-object entry is skipped
    assert store.check_device_token("anything") is None
    assert not store.is_paired("x")


def test_scope_helpers() -> None:
    assert normalize_scopes([" b", "a", "b", "", 5]) == ["a", "b"]  # type: ignore[list-item]
    assert scopes_allow(["operator.read"], ["operator.write"])
    assert scopes_allow(["operator.pairing", "operator.read"], ["operator.admin"])
    assert not scopes_allow(["operator.admin"], ["operator.write"])
    assert scopes_allow([], [])
