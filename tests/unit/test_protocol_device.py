"""protocol/device.py: Ed25519 identity, device ids and the v2/v3 signed connect payloads."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.protocol.device import (
    DeviceIdentity,
    DeviceIdentityError,
    b64url_decode,
    b64url_encode,
    build_auth_payload,
    device_id_from_public_key,
    normalize_public_key,
    signature_version,
    verify_device_signature,
)

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
DEVICE_CAPTURES = ["device", "devtoken", "remote-device", "remote-device2", "v129-device"]


def recorded_connect(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(challenge payload, connect params) of a capture."""
    records = [json.loads(line) for line in (CAPTURES / f"frames-{name}.jsonl").read_text().splitlines()]
    challenge = next(r["frame"]["payload"] for r in records if r["frame"].get("event") == "connect.challenge")
    params = next(r["frame"]["params"] for r in records if r["frame"].get("method") == "connect")
    return challenge, params


def recorded_payload(params: dict[str, Any], version: str = "v2") -> str:
    device = params["device"]
    return build_auth_payload(
        version,  # type: ignore[arg-type]
        device["id"], params["client"]["id"], params["client"]["mode"], params["role"], params["scopes"],
        device["signedAt"], params["auth"].get("token"), device["nonce"],
        platform=params["client"].get("platform"), device_family=params["client"].get("deviceFamily"),
    )


@pytest.mark.parametrize("name", DEVICE_CAPTURES)
def test_recorded_signatures_verify(name: str) -> None:
    challenge, params = recorded_connect(name)
    device = params["device"]
    assert device_id_from_public_key(device["publicKey"]) == device["id"]
    assert device["nonce"] == challenge["nonce"]
    assert verify_device_signature(device["publicKey"], recorded_payload(params), device["signature"])
    # the auth token is part of what was signed: the device token in frames-devtoken
    assert recorded_payload(params).split("|")[7] == params["auth"]["token"]


@pytest.mark.parametrize("name", DEVICE_CAPTURES)
def test_tampered_recorded_signatures_fail(name: str) -> None:
    _, params = recorded_connect(name)
    device = params["device"]
    payload = recorded_payload(params)
    assert not verify_device_signature(device["publicKey"], payload.replace("operator.admin", "operator.pairing"),
                                       device["signature"])
    assert not verify_device_signature(device["publicKey"], payload + "x", device["signature"])
    flipped = bytearray(b64url_decode(device["signature"]))
    flipped[0] ^= 1
    assert not verify_device_signature(device["publicKey"], payload, b64url_encode(bytes(flipped)))
    other = DeviceIdentity.generate()
    assert not verify_device_signature(other.public_key_b64url, payload, device["signature"])


def test_payload_formats() -> None:
    v2 = build_auth_payload("v2", "id", "cli", "cli", "operator", ["a", "b"], 5, None, "n")
    assert v2 == "v2|id|cli|cli|operator|a,b|5||n"
    v3 = build_auth_payload("v3", "id", "cli", "cli", "operator", [], 5, "tok", "n", platform=" MacOS ",
                            device_family="iPhÖNE")
    assert v3 == "v3|id|cli|cli|operator||5|tok|n|macos|iphÖne"  # only ASCII A-Z is lowercased, like OpenClaw
    with pytest.raises(ValueError):
        build_auth_payload("v9", "id", "c", "m", "r", [], 1, None, "n")  # type: ignore[arg-type]


def test_v3_and_v2_signatures_are_told_apart() -> None:
    identity = DeviceIdentity.generate()
    fields: dict[str, Any] = dict(device_id=identity.device_id, client_id="gateway-client", client_mode="ui",
                                  role="operator", scopes=["operator.read"], signed_at=1000, token="t", nonce="n")
    v3 = identity.sign(build_auth_payload("v3", platform="Linux", device_family=None, **fields))
    v2 = identity.sign(build_auth_payload("v2", **fields))
    check = dict(public_key=identity.public_key_b64url, platform="linux", device_family=None, **fields)
    assert signature_version(signature=v3, **check) == "v3"
    assert signature_version(signature=v2, **check) == "v2"
    assert signature_version(signature=v3, **{**check, "platform": "windows"}) is None
    assert signature_version(signature="garbage!", **check) is None


def test_identity_round_trip_in_openclaw_format(tmp_path: Path) -> None:
    identity = DeviceIdentity.generate()
    path = tmp_path / "identity" / "device.json"
    identity.save(path)
    stored = json.loads(path.read_text())
    assert stored["version"] == 1 and stored["deviceId"] == identity.device_id
    assert stored["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert stored["privateKeyPem"].startswith("-----BEGIN PRIVATE KEY-----")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = DeviceIdentity.load(path)
    assert loaded.device_id == identity.device_id
    assert loaded.created_at_ms == identity.created_at_ms
    assert verify_device_signature(identity.public_key_b64url, "hello", loaded.sign("hello"))
    # a PEM public key works wherever base64url does (OpenClaw accepts both)
    assert device_id_from_public_key(identity.public_key_pem) == identity.device_id
    assert normalize_public_key(identity.public_key_pem) == identity.public_key_b64url
    assert DeviceIdentity.load_or_create(path).device_id == identity.device_id
    assert DeviceIdentity.load_or_create(tmp_path / "new.json").device_id != identity.device_id


@pytest.mark.parametrize("content", ["", "{", "[]", '{"version": 2}', '{"version": 1, "privateKeyPem": "nope"}'])
def test_bad_identity_files_are_reported(tmp_path: Path, content: str) -> None:
    path = tmp_path / "device.json"
    path.write_text(content)
    with pytest.raises(DeviceIdentityError):
        DeviceIdentity.load(path)
    with pytest.raises(DeviceIdentityError, match="cannot read"):
        DeviceIdentity.load(tmp_path / "missing.json")


@pytest.mark.parametrize("key", ["", "!!!", "AAAA", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----"])
def test_bad_public_keys_never_verify(key: str) -> None:
    assert normalize_public_key(key) is None
    assert not verify_device_signature(key, "p", "AAAA")


def test_b64url_accepts_padding_and_standard_alphabet() -> None:
    raw = bytes(range(250, 256))
    assert b64url_decode(b64url_encode(raw)) == raw
    assert b64url_decode("+v7/") == b64url_decode("-v7_") == b64url_decode("-v7_====")
    with pytest.raises(ValueError):
        b64url_decode("é")
