"""Ed25519 device identity: keys, device ids, and the signed `connect` payloads (v2 and v3).

A device proves who it is by signing
`v2|<deviceId>|<clientId>|<clientMode>|<role>|<scopes,>|<signedAt>|<token>|<nonce>`
(or v3, which appends `|<platform>|<deviceFamily>` lowercased) with its Ed25519 key; the
device id is the lowercase hex SHA-256 of the raw 32-byte public key, sent base64url (no padding).
The identity file is OpenClaw's `identity/device.json` format (version 1, PEM keys).
Here: `DeviceIdentity`, `build_auth_payload`, `verify_device_signature`, `signature_version`.
Not here: the checks of a connect request (gateway/auth.py). Imports nothing else of molt_desktop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PayloadVersion = Literal["v2", "v3"]

# DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class DeviceIdentityError(ValueError):
    """An identity file is missing, unreadable or not a valid Ed25519 identity."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Decode base64url (or standard base64), with or without padding; ValueError if invalid."""
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    if not cleaned.isascii():
        raise ValueError("not base64url")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def _raw_public_key(public_key: str) -> bytes:
    """Raw key bytes from base64url or a PEM SubjectPublicKeyInfo (as OpenClaw accepts both)."""
    if "BEGIN" in public_key:
        try:
            key = serialization.load_pem_public_key(public_key.encode("utf-8"))
        except Exception as exc:  # any unreadable PEM (bad base64, unsupported algorithm) is invalid
            raise ValueError("not a PEM public key") from exc
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if der.startswith(_ED25519_SPKI_PREFIX) and len(der) == len(_ED25519_SPKI_PREFIX) + 32:
            return der[len(_ED25519_SPKI_PREFIX):]
        return der
    return b64url_decode(public_key)


def device_id_from_public_key(public_key: str) -> str:
    """Lowercase hex SHA-256 of the raw public key (base64url or PEM); ValueError if undecodable."""
    return hashlib.sha256(_raw_public_key(public_key)).hexdigest()


def normalize_public_key(public_key: str) -> str | None:
    """The canonical base64url form of a public key, or None when it is not a valid Ed25519 key."""
    try:
        raw = _raw_public_key(public_key)
    except ValueError:
        return None
    if len(raw) != 32:
        return None
    return b64url_encode(raw)


def normalize_device_metadata(value: str | None) -> str:
    """Trimmed, ASCII A-Z lowercased (exactly OpenClaw's rule for platform/deviceFamily)."""
    if not isinstance(value, str):
        return ""
    trimmed = value.strip()
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in trimmed)


def build_auth_payload(
    version: PayloadVersion,
    device_id: str,
    client_id: str,
    client_mode: str,
    role: str,
    scopes: Sequence[str],
    signed_at: int,
    token: str | None,
    nonce: str,
    platform: str | None = None,
    device_family: str | None = None,
) -> str:
    """The UTF-8 string a device signs in `connect` (v2, or v3 with platform and device family)."""
    fields = [
        version,
        device_id,
        client_id,
        client_mode,
        role,
        ",".join(scopes),
        str(signed_at),
        token or "",
        nonce,
    ]
    if version == "v3":
        fields += [normalize_device_metadata(platform), normalize_device_metadata(device_family)]
    elif version != "v2":
        raise ValueError(f"unknown device auth payload version: {version}")
    return "|".join(fields)


def verify_device_signature(public_key: str, payload: str, signature: str) -> bool:
    """True when `signature` (base64url) is the Ed25519 signature of `payload` by `public_key`."""
    try:
        raw = _raw_public_key(public_key)
        if len(raw) != 32:
            return False
        key = Ed25519PublicKey.from_public_bytes(raw)
        key.verify(b64url_decode(signature), payload.encode("utf-8"))
    except (InvalidSignature, ValueError, TypeError, UnicodeEncodeError):
        return False
    return True


def signature_version(
    *,
    public_key: str,
    signature: str,
    device_id: str,
    client_id: str,
    client_mode: str,
    role: str,
    scopes: Sequence[str],
    signed_at: int,
    token: str | None,
    nonce: str,
    platform: str | None = None,
    device_family: str | None = None,
) -> PayloadVersion | None:
    """Which payload the signature covers: "v3" (tried first), "v2", or None (invalid)."""
    common: dict[str, Any] = dict(
        device_id=device_id, client_id=client_id, client_mode=client_mode, role=role,
        scopes=scopes, signed_at=signed_at, token=token, nonce=nonce,
    )
    v3 = build_auth_payload("v3", platform=platform, device_family=device_family, **common)
    if verify_device_signature(public_key, v3, signature):
        return "v3"
    if verify_device_signature(public_key, build_auth_payload("v2", **common), signature):
        return "v2"
    return None


class DeviceIdentity:
    """This installation's Ed25519 key pair, as a client presents it to a gateway."""

    def __init__(self, private_key: Ed25519PrivateKey, created_at_ms: int | None = None) -> None:
        self._private_key = private_key
        self.created_at_ms = created_at_ms if created_at_ms is not None else time.time_ns() // 1_000_000
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._public_raw = raw

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(Ed25519PrivateKey.generate())

    @property
    def device_id(self) -> str:
        return hashlib.sha256(self._public_raw).hexdigest()

    @property
    def public_key_b64url(self) -> str:
        return b64url_encode(self._public_raw)

    @property
    def public_key_pem(self) -> str:
        return (
            self._private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, payload: str) -> str:
        """Base64url Ed25519 signature of the UTF-8 payload."""
        return b64url_encode(self._private_key.sign(payload.encode("utf-8")))

    def to_json(self) -> str:
        """OpenClaw's `identity/device.json` content (holds the private key: write it 0600)."""
        private_pem = self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        stored = {
            "version": 1,
            "deviceId": self.device_id,
            "publicKeyPem": self.public_key_pem,
            "privateKeyPem": private_pem,
            "createdAtMs": self.created_at_ms,
        }
        return json.dumps(stored, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DeviceIdentity:
        try:
            stored = json.loads(text)
        except ValueError as exc:
            raise DeviceIdentityError("the device identity file is not valid JSON") from exc
        if not isinstance(stored, dict) or stored.get("version") != 1 or not isinstance(
            stored.get("privateKeyPem"), str
        ):
            raise DeviceIdentityError("the device identity file is not a version-1 OpenClaw identity")
        try:
            key = serialization.load_pem_private_key(stored["privateKeyPem"].encode("utf-8"), password=None)
        except (ValueError, TypeError) as exc:
            raise DeviceIdentityError("the device identity file holds no readable private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise DeviceIdentityError("the device identity key is not an Ed25519 key")
        created = stored.get("createdAtMs")
        return cls(key, created if isinstance(created, int) and not isinstance(created, bool) else None)

    @classmethod
    def load(cls, path: Path) -> DeviceIdentity:
        """Read an identity file; DeviceIdentityError says what is wrong with it."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise DeviceIdentityError(f"cannot read the device identity {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise DeviceIdentityError(f"the device identity {path} is not text") from exc
        return cls.from_json(text)

    def save(self, path: Path) -> None:
        """Write the identity atomically with mode 0600.

        protocol/ may not import molt_desktop.fileio, so this is a minimal copy of its
        temp-file-and-rename; code outside protocol/ may use `fileio.atomic_write(path, to_json())`.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                if os.name == "posix":
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(self.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    @classmethod
    def load_or_create(cls, path: Path) -> DeviceIdentity:
        """The identity at `path`; a new one is generated and saved when there is none yet."""
        if Path(path).exists():
            return cls.load(path)
        identity = cls.generate()
        identity.save(path)
        return identity
