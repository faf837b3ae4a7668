"""`gateway.tls`: the gateway serves WSS/HTTPS with the configured certificate or one it made itself,
says clearly when the certificate cannot be used, and clients accept exactly a pinned certificate."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import stat
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from molt_desktop.app import GatewayOptions, Services, StartupError
from molt_desktop.client.connection import (
    ClientOptions,
    GatewayConnection,
    GatewayTlsMismatch,
    GatewayUnreachable,
)
from molt_desktop.config.schema import GatewayTlsConfig
from molt_desktop.gateway.tls import (
    TlsConfigError,
    certificate_fingerprint,
    generate_self_signed,
    server_tls,
)
from tests.certs import self_signed
from tests.gateway.conftest import TOKEN, write_config


async def test_wss_and_https(state_home: Path, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    write_config(state_home, None, tls={"enabled": True, "certPath": str(cert), "keyPath": str(key)})
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{services.port}/healthz", ssl=trust) as response:
                assert json.loads(await response.text()) == {"ok": True, "status": "live"}
            with pytest.raises(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{services.port}/healthz") as response:
                    await response.read()
        conn = GatewayConnection(ClientOptions(url=f"wss://127.0.0.1:{services.port}", token=TOKEN,
                                               ssl_context=trust))
        try:
            hello = await conn.connect()
            assert hello["type"] == "hello-ok"
            assert (await conn.call("health", {}))["ok"] is True
        finally:
            await conn.close()
    finally:
        await services.stop()


@pytest.mark.parametrize("tls", [{"enabled": True}, {"enabled": True, "certPath": "/nope.pem", "keyPath": "/nope.key"}])
async def test_unusable_tls_settings_refuse_to_start(state_home: Path, tls: dict[str, object]) -> None:
    write_config(state_home, None, tls=tls)
    services = Services(state_home, GatewayOptions(port=0))
    with pytest.raises(StartupError, match="gateway.tls"):
        await services.start()
    await services.stop()


# --- certificates made by the gateway (gateway/tls.py) ----------------------------------------------


def test_auto_generated_certificate_is_made_once(tmp_path: Path) -> None:
    first = server_tls(GatewayTlsConfig(autoGenerate=True), tmp_path)
    assert first is not None and first.generated
    assert first.cert_path == tmp_path / "tls" / "gateway.crt"
    key = tmp_path / "tls" / "gateway.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.fingerprint)
    assert first.fingerprint == certificate_fingerprint(first.cert_path.read_bytes())
    cert = x509.load_pem_x509_certificate(first.cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", socket.gethostname()} <= set(san.get_values_for_type(x509.DNSName))
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > datetime.timedelta(days=3600)

    again = server_tls(GatewayTlsConfig(enabled=True, autoGenerate=True), tmp_path)
    assert again is not None and not again.generated and again.fingerprint == first.fingerprint
    assert server_tls(GatewayTlsConfig(), tmp_path) is None


@pytest.mark.parametrize(("tls", "says"), [
    ({"enabled": True}, "gateway.tls.autoGenerate"),
    ({"cert": "/some/cert.pem"}, "gateway.tls.key is not set"),
    ({"keyPath": "/some/key.pem"}, "gateway.tls.cert is not set"),
    ({"cert": "~/no-such-cert.pem", "key": "~/no-such-key.pem"}, "Check gateway.tls.cert / gateway.tls.key"),
])
def test_unusable_tls_config_names_the_key(tmp_path: Path, tls: dict[str, object], says: str) -> None:
    with pytest.raises(TlsConfigError, match=re.escape(says)):
        server_tls(GatewayTlsConfig.model_validate(tls), tmp_path)


def test_a_damaged_generated_certificate_is_not_silently_replaced(tmp_path: Path) -> None:
    made = server_tls(GatewayTlsConfig(autoGenerate=True), tmp_path)
    assert made is not None
    (tmp_path / "tls" / "gateway.key").write_text("damaged", encoding="utf-8")
    with pytest.raises(TlsConfigError, match="Delete gateway.crt and gateway.key"):
        server_tls(GatewayTlsConfig(autoGenerate=True), tmp_path)


# --- a client pinning the gateway's certificate -------------------------------------------------------


async def test_pinned_fingerprint_accepted_and_a_wrong_one_refused(state_home: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "gateway.crt", tmp_path / "gateway.key"
    generate_self_signed(cert, key)
    fingerprint = certificate_fingerprint(cert.read_bytes())
    write_config(state_home, None, tls={"enabled": True, "certPath": str(cert), "keyPath": str(key)})
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    url = f"wss://127.0.0.1:{services.port}"
    try:
        colons = "SHA256:" + ":".join(fingerprint[7:][i:i + 2] for i in range(0, 64, 2)).upper()
        for pin in (fingerprint, colons, fingerprint[7:]):
            async with GatewayConnection(ClientOptions(url=url, token=TOKEN, tls_fingerprint=pin)) as conn:
                assert conn.tls_fingerprint == fingerprint
                assert (await conn.call("health", {}))["ok"] is True

        wrong = "sha256:" + "ab" * 32
        with pytest.raises(GatewayTlsMismatch) as caught:
            await GatewayConnection(ClientOptions(url=url, token=TOKEN, tls_fingerprint=wrong)).connect()
        assert caught.value.expected == wrong and caught.value.actual == fingerprint
        assert wrong in str(caught.value) and fingerprint in str(caught.value)

        # Without a pin the system CA store decides, and it does not know this certificate.
        with pytest.raises(GatewayUnreachable, match="tlsFingerprint"):
            await GatewayConnection(ClientOptions(url=url, token=TOKEN)).connect()
        with pytest.raises(GatewayUnreachable, match="not a SHA-256 fingerprint"):
            await GatewayConnection(ClientOptions(url=url, token=TOKEN, tls_fingerprint="sha256:abc")).connect()
    finally:
        await services.stop()


# --- app.py wiring: autoGenerate and the short cert/key keys through Services -------------------------


async def test_auto_generate_first_start_and_same_fingerprint_on_the_next(state_home: Path) -> None:
    write_config(state_home, None, tls={"autoGenerate": True})
    cert_file = state_home / "tls" / "gateway.crt"
    assert not cert_file.exists()
    fingerprints, certificates = [], []
    for _start in range(2):
        services = Services(state_home, GatewayOptions(port=0))
        await services.start()
        try:
            fingerprint = services.tls_fingerprint
            assert fingerprint == certificate_fingerprint(cert_file.read_bytes())
            fingerprints.append(fingerprint)
            certificates.append(cert_file.read_bytes())
            url = f"wss://127.0.0.1:{services.port}"
            async with GatewayConnection(ClientOptions(url=url, token=TOKEN, tls_fingerprint=fingerprint)) as conn:
                assert (await conn.call("health", {}))["ok"] is True
            # The app's own UI reaches its gateway over wss with the generated certificate too.
            async with GatewayConnection(services._local_client_options()) as conn:
                assert conn.tls_fingerprint == fingerprint
        finally:
            await services.stop()
    assert fingerprints[0] == fingerprints[1] and certificates[0] == certificates[1]


async def test_short_cert_and_key_keys_turn_tls_on(state_home: Path, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    write_config(state_home, None, tls={"cert": str(cert), "key": str(key)})
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        async with GatewayConnection(ClientOptions(url=f"wss://127.0.0.1:{services.port}", token=TOKEN,
                                                   ssl_context=trust)) as conn:
            assert conn.tls_fingerprint == certificate_fingerprint(cert.read_bytes())
    finally:
        await services.stop()
