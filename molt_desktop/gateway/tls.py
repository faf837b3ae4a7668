"""TLS for the gateway port: the configured certificate, or a self-signed one made on first start.

`server_tls(tls_config, state_dir)` reads `gateway.tls`:
- `cert` + `key` (or OpenClaw's `certPath` + `keyPath`; `~` expanded): load those PEM files;
- neither, with `autoGenerate`: use `<state>/tls/gateway.crt` + `gateway.key`, making them once
  (EC P-256, 10 years, names: localhost, 127.0.0.1, ::1, this host's name and addresses; the key
  0600, written atomically) and keeping them across restarts, so the fingerprint clients pin as
  `tlsFingerprint` stays the same;
- TLS not configured: None.
The result carries the server SSL context and the certificate's fingerprint
("sha256:<64 lowercase hex>", the SHA-256 of its DER bytes) for the start-up message. Anything
unusable raises `TlsConfigError` naming the config key to fix. Not here: the client side
(client/tls.py) and serving (gateway/server.py).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import psutil
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from molt_desktop import fileio
from molt_desktop.config.schema import GatewayTlsConfig
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger

log = get_logger("gateway")

TLS_DIR = "tls"
CERT_FILE = "gateway.crt"
KEY_FILE = "gateway.key"
VALID_DAYS = 3650


class TlsConfigError(ValueError):
    """`gateway.tls` cannot be used; the message names the key to fix."""


@dataclass(frozen=True)
class ServerTls:
    context: ssl.SSLContext
    fingerprint: str  # "sha256:<hex>"
    cert_path: Path
    generated: bool  # made by this start (False: loaded, including one generated earlier)


def tls_dir(state_dir: Path) -> Path:
    return state_dir / TLS_DIR


def server_tls(tls_config: GatewayTlsConfig, state_dir: Path) -> ServerTls | None:
    """The gateway's TLS setup for `gateway.tls`, or None when TLS is off."""
    cert_file, key_file = tls_config.cert_file, tls_config.key_file
    if bool(cert_file) != bool(key_file):
        # Half a certificate setting means TLS was wanted: serving plain HTTP instead would be a surprise.
        missing = "gateway.tls.key" if cert_file else "gateway.tls.cert"
        raise TlsConfigError(_("{missing} is not set: gateway.tls needs both a certificate (cert) and its private key "
                               "(key) as PEM files, or neither with gateway.tls.autoGenerate.").format(missing=missing))
    if not tls_config.active:
        return None
    if cert_file and key_file:
        return _load(Path(os.path.expanduser(cert_file)), Path(os.path.expanduser(key_file)), generated=False,
                     keys="gateway.tls.cert / gateway.tls.key (certPath / keyPath)")
    if not tls_config.autoGenerate:
        raise TlsConfigError(_("gateway.tls.enabled is true but no certificate is configured: set gateway.tls.cert and "
                               "gateway.tls.key to PEM files, or set gateway.tls.autoGenerate to true, or turn TLS "
                               "off."))
    directory = tls_dir(state_dir)
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    generated = False
    if not (cert_path.exists() and key_path.exists()):
        try:
            generate_self_signed(cert_path, key_path)
        except OSError as exc:
            raise TlsConfigError(_("Cannot write the gateway's self-signed certificate to {dir}: {error}. Free some "
                                   "space or fix the permissions, or set gateway.tls.cert and gateway.tls.key.").format(
                dir=directory, error=exc)) from None
        generated = True
    result = _load(cert_path, key_path, generated=generated, keys=None)
    if generated:
        log.info("made a self-signed TLS certificate for the gateway: %s (fingerprint %s)", cert_path,
                 result.fingerprint)
    return result


def _load(cert_path: Path, key_path: Path, *, generated: bool, keys: str | None) -> ServerTls:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(cert_path), str(key_path))
        fingerprint = certificate_fingerprint(cert_path.read_bytes())
    except (OSError, ssl.SSLError, ValueError) as exc:
        if keys is None:
            raise TlsConfigError(_("The gateway's self-signed certificate in {dir} cannot be used: {error}. Delete "
                                   "{cert} and {key} to make a new one on the next start (clients then pin its new "
                                   "fingerprint), or set gateway.tls.cert and gateway.tls.key.").format(
                dir=cert_path.parent, error=exc, cert=cert_path.name, key=key_path.name)) from None
        raise TlsConfigError(_("Cannot load the TLS certificate ({cert}) and key ({key}): {error}. Check {keys}.").format(
            cert=cert_path, key=key_path, error=exc, keys=keys)) from None
    return ServerTls(context, fingerprint, cert_path, generated)


def certificate_fingerprint(pem: bytes) -> str:
    """"sha256:<hex>" of the first certificate in a PEM file; ValueError if there is none."""
    cert = x509.load_pem_x509_certificate(pem)
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _machine_names() -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """Names and addresses clients may use for this machine (the certificate lists them all)."""
    names = ["localhost"]
    for name in (socket.gethostname(), socket.getfqdn()):
        if name and name not in names and all(part for part in name.split(".")):
            names.append(name)
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ipaddress.ip_address("127.0.0.1"),
                                                                      ipaddress.ip_address("::1")]
    try:
        interfaces = psutil.net_if_addrs()
    except (OSError, RuntimeError) as exc:
        log.warning("cannot list this machine's addresses for the certificate: %s", exc)
        interfaces = {}
    for entries in interfaces.values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                address = ipaddress.ip_address(entry.address.split("%", 1)[0])
            except ValueError:
                continue
            if not address.is_link_local and address not in addresses:
                addresses.append(address)
    return names, addresses


def generate_self_signed(cert_path: Path, key_path: Path) -> None:
    """Write a new EC P-256 key (0600) and a self-signed certificate for this machine (10 years)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names, addresses = _machine_names()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[-1][:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "molt-desktop gateway")])
    now = datetime.datetime.now(datetime.timezone.utc)
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(a) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))  # a client whose clock is a little behind
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    fileio.ensure_private_dir(cert_path.parent)
    # The key first: a certificate on disk always has its key beside it.
    fileio.atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    fileio.atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


__all__ = ["ServerTls", "TlsConfigError", "certificate_fingerprint", "generate_self_signed", "server_tls", "tls_dir"]
