"""`molt-desktop doctor`: checks the setup and says, for each problem, how to fix it.

Checks: the config is valid; auth mode `none` (error); a gateway password under 12 or a token
under 32 characters (warning); secrets typed into the config file (suggest the keyring); the
gateway port already in use; low memory or disk; a keyring backend present; each configured
model provider reachable; when sync is on, the sync server reachable with the saved settings and the
age of the last good sync. Exit code 1 when any check is an error.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
import aiohttp
import psutil

from molt_desktop import paths
from molt_desktop.config.load import ConfigError, LoadedConfig, find_plaintext_secrets, load_config
from molt_desktop.config.secrets import SecretStoreUnavailable, keyring_status, resolve_secret
from molt_desktop.gateway.tokens import GatewayAuthResolver
from molt_desktop.i18n import _

MIN_PASSWORD = 12
MIN_TOKEN = 32
LOW_MEMORY_RATIO = 0.10
LOW_DISK_BYTES = 1 * 1024**3
PROVIDER_TIMEOUT_S = 5.0


@dataclass
class Finding:
    check: str
    level: str  # "ok" | "warning" | "error"
    message: str
    fix: str = ""


def _config_findings(state: Path) -> tuple[list[Finding], LoadedConfig | None]:
    path = paths.config_path(state)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        return [Finding("config", "error", _("The config is invalid: {error}").format(error=exc),
                        _("Edit {path} and fix the key named above (the running gateway keeps its last good config).")
                        .format(path=path))], None
    if not loaded.exists:
        return [Finding("config", "ok", _("No config file yet ({path}); defaults are used.").format(path=path))], loaded
    findings = [Finding("config", "ok", _("The config is valid ({path}).").format(path=path))]
    for key_path in find_plaintext_secrets(loaded.parsed):
        findings.append(Finding(
            "secrets", "warning",
            _("{key} holds a secret in plain text in {file}.").format(key=key_path, file=path.name),
            _("Move it to the OS keyring: store it under a name (e.g. with the settings dialog) and set "
              "{key} to \"keyring:<name>\".").format(key=key_path)))
    return findings, loaded


def _auth_findings(loaded: LoadedConfig) -> list[Finding]:
    from molt_desktop.config.manager import ConfigManager

    auth_cfg = loaded.config.gateway.auth
    mode = str(auth_cfg.mode or "token")
    if mode == "none":
        return [Finding("auth", "error",
                        _("gateway.auth.mode is \"none\": anyone who reaches the port controls the gateway."),
                        _("Set gateway.auth.mode to \"token\" (a token is generated for you) or \"password\"."))]
    auth = GatewayAuthResolver(ConfigManager(loaded.path), generate=False).resolve()
    if mode == "password":
        if not auth.password:
            return [Finding("auth", "error", _("gateway.auth.mode is \"password\" but no password is set."),
                            _("Set gateway.auth.password (preferably \"keyring:gateway.password\")."))]
        if len(auth.password) < MIN_PASSWORD:
            return [Finding("auth", "warning", _("The gateway password is short ({length} characters).").format(
                                length=len(auth.password)),
                            _("Use a password of at least {minimum} characters.").format(minimum=MIN_PASSWORD))]
        return [Finding("auth", "ok", _("Password authentication is configured."))]
    if not auth.token:
        return [Finding("auth", "warning", _("No gateway token yet."),
                        _("Start the gateway once (it generates one and keeps it in the keyring), "
                          "or set gateway.auth.token."))]
    if len(auth.token) < MIN_TOKEN:
        return [Finding("auth", "warning", _("The gateway token is short ({length} characters).").format(
                            length=len(auth.token)),
                        _("Use a random token of at least {minimum} characters, e.g. from {command}.").format(
                            minimum=MIN_TOKEN,
                            command="`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`"))]
    return [Finding("auth", "ok", _("Token authentication is configured."))]


def _port_finding(loaded: LoadedConfig) -> Finding:
    port = int(loaded.config.gateway.port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        in_use = sock.connect_ex(("127.0.0.1", port)) == 0
    if in_use:
        return Finding("port", "warning",
                       _("Port {port} is in use (a gateway may already be running).").format(port=port),
                       _("If it is not this app's gateway, stop the other program or change gateway.port."))
    return Finding("port", "ok", _("Port {port} is free.").format(port=port))


def _resource_findings(state: Path) -> list[Finding]:
    findings: list[Finding] = []
    memory = psutil.virtual_memory()
    if memory.total and memory.available / memory.total < LOW_MEMORY_RATIO:
        findings.append(Finding("memory", "warning",
                                _("Low memory: {free} MB free of {total} MB.").format(
                                    free=memory.available // 2**20, total=memory.total // 2**20),
                                _("Close other programs or add memory; the gateway needs about 100 MB.")))
    else:
        findings.append(Finding("memory", "ok", _("{free} MB of memory available.").format(
            free=memory.available // 2**20)))
    probe = state if state.exists() else state.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < LOW_DISK_BYTES:
        findings.append(Finding("disk", "warning", _("Low disk space: {free} MB free for {path}.").format(
                                    free=free // 2**20, path=state),
                                _("Free some space: transcripts are appended to and need room to grow.")))
    else:
        findings.append(Finding("disk", "ok", _("{free} GB free for the state dir.").format(free=free // 2**30)))
    return findings


def _keyring_finding() -> Finding:
    status = keyring_status()
    if not status.available:
        return Finding("keyring", "warning", _("No OS keyring backend: {reason}").format(reason=status.message),
                       _("Install and unlock a keyring (Windows Credential Manager, macOS Keychain, Secret Service on "
                         "Linux), or give secrets through the config file or environment variables."))
    if not status.secure:
        return Finding("keyring", "warning", _("The keyring backend {backend} is not encrypted.").format(
                           backend=status.backend),
                       _("Use a secure keyring backend for API keys and tokens."))
    return Finding("keyring", "ok", _("Keyring backend: {backend}.").format(backend=status.backend))


async def _provider_findings(loaded: LoadedConfig) -> list[Finding]:
    providers = loaded.config.models.providers or {}
    if not providers:
        return [Finding("providers", "warning", _("No model provider is configured; chats cannot get replies."),
                        _("Add one under models.providers (Anthropic, or an OpenAI-compatible endpoint) and set "
                          "agents.defaults.model.primary."))]
    timeout = aiohttp.ClientTimeout(total=PROVIDER_TIMEOUT_S)
    findings: list[Finding] = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for name, provider in providers.items():
            base = str(provider.baseUrl or "").rstrip("/")
            if not base:
                findings.append(Finding(f"provider:{name}", "ok",
                                        _("Provider {name} uses its default endpoint.").format(name=name)))
                continue
            try:
                key = resolve_secret(provider.apiKey) if provider.apiKey else None
            except SecretStoreUnavailable:
                key = None
            if not key:
                findings.append(Finding(f"provider:{name}", "warning",
                                        _("Provider {name} has no API key.").format(name=name),
                                        _("Set models.providers.{name}.apiKey (e.g. \"keyring:provider.{name}\").")
                                        .format(name=name)))
            try:
                async with session.get(base + "/models", allow_redirects=False) as response:
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                findings.append(Finding(f"provider:{name}", "error",
                                        _("Provider {name} at {url} is not reachable: {error}.").format(
                                            name=name, url=base, error=exc.__class__.__name__),
                                        _("Check the network, the proxy settings and models.providers.{name}.baseUrl.")
                                        .format(name=name)))
                continue
            findings.append(Finding(f"provider:{name}", "ok", _("Provider {name} at {url} answers (HTTP {status}).")
                                    .format(name=name, url=base, status=status)))
    return findings


async def _sync_findings(state: Path, loaded: LoadedConfig) -> list[Finding]:
    cfg = loaded.config.sync
    if not cfg.enabled:
        return []
    from molt_desktop.monitor.texts import duration
    from molt_desktop.sync.service import read_status_file
    from molt_desktop.sync.settings import describe, test_settings

    result = await test_settings(state, cfg)
    where = describe(cfg)
    if not result.ok:
        return [Finding("sync", "error", _("Sync cannot reach {where}: {error}").format(where=where, error=result.message),
                        _("Check the server, the login and the folder in Settings > Sync, then run "
                          "`molt-desktop sync test`."))]
    findings = [Finding("sync", "ok", _("The sync server {where} answers.").format(where=where))]
    last = read_status_file(state).get("lastGoodAt")
    if not isinstance(last, (int, float)):
        findings.append(Finding("sync", "warning", _("No sync has succeeded yet."),
                                _("Run `molt-desktop sync now` (or Sync now in the tray).")))
    elif time.time() - last > 3 * cfg.intervalSeconds:
        findings.append(Finding("sync", "warning", _("The last good sync was {age} ago.").format(
                                    age=duration(time.time() - last)),
                                _("Run `molt-desktop sync now` and read its error.")))
    return findings


async def collect(state: Path) -> list[Finding]:
    findings, loaded = _config_findings(state)
    if loaded is not None:
        findings.extend(_auth_findings(loaded))
        findings.append(_port_finding(loaded))
    findings.extend(_resource_findings(state))
    findings.append(_keyring_finding())
    if loaded is not None:
        findings.extend(await _provider_findings(loaded))
        findings.extend(await _sync_findings(state, loaded))
    return findings


def run_doctor(state: Path, *, as_json: bool = False) -> int:
    findings = asyncio.run(collect(state))
    failed = any(f.level == "error" for f in findings)
    if as_json:
        print(json.dumps({"ok": not failed, "findings": [asdict(f) for f in findings]}, indent=2, ensure_ascii=False))
    else:
        marks = {"ok": _("ok  "), "warning": _("WARN"), "error": _("FAIL")}
        for f in findings:
            print(f"[{marks.get(f.level, f.level)}] {f.message}")
            if f.fix and f.level != "ok":
                print("       " + _("fix: {fix}").format(fix=f.fix))
        print("\n" + (_("All good.") if not failed else _("Some checks failed; see the fixes above.")), file=sys.stderr)
    return 1 if failed else 0
