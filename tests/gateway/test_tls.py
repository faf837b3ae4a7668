"""`gateway.tls`: the gateway serves WSS/HTTPS with the configured certificate, and says clearly
when the certificate cannot be used."""

from __future__ import annotations

import datetime
import json
import ssl
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from molt_desktop.app import GatewayOptions, Services, StartupError
from molt_desktop.client.connection import ClientOptions, GatewayConnection
from tests.gateway.conftest import TOKEN, write_config


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


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
