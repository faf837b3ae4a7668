"""Deployment presets (preset.py): the laptop setup of the seeds applied on first start, secrets left
out and named in the log, applied once, and never over a config the user already has."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from molt_desktop import paths, preset
from molt_desktop.app import Services
from molt_desktop.config.load import load_config
from molt_desktop.preset import (
    ENV_PRESET,
    MARKER_FILENAME,
    apply_first_start_preset,
    filter_preset,
    parse_preset,
    preset_path,
)

REMOTE_TOKEN = "plain-remote-token-5f0c2e"
SYNC_PASSWORD = "plain-sync-password-91ab"
WEBHOOK_TOKEN = "d1n6t4lk-access-token-77c3"
API_KEY = "sk-plain-provider-key-0042"
EMAIL_PASSWORD = "plain-smtp-password-6e1d"
SECRETS = (REMOTE_TOKEN, SYNC_PASSWORD, WEBHOOK_TOKEN, API_KEY, EMAIL_PASSWORD)

# The seeds' laptop: the server's gateway on 18789 as the remote, sessions synced over SFTP to
# /opt/moltbot-backup, alerts to a DingTalk webhook; some secrets typed in as they are.
LAPTOP = f"""// notebook-setup for the two laptops
{{
  gateway: {{ port: 18790, bind: "lan", auth: {{ mode: "token", token: "{REMOTE_TOKEN}" }} }},
  remotes: [
    {{ id: "server", url: "ws://192.168.1.10:18789", token: "{REMOTE_TOKEN}" }},
    {{ id: "backup", url: "wss://gw.example.com:18789", token: "keyring:remote.backup.token" }},
  ],
  failover: {{ switchBack: true, failAfter: 3 }},
  sync: {{
    enabled: true, backend: "sftp", host: "192.168.1.10", port: 22, username: "molt",
    keyFile: "~/.ssh/id_ed25519", password: "{SYNC_PASSWORD}", path: "/opt/moltbot-backup",
    intervalSeconds: 300,
  }},
  alerts: {{
    desktop: {{ enabled: true }},
    email: {{ enabled: true, smtp: "smtp.example.com:587", from: "moltbot@example.com",
              to: ["admin@example.com"], username: "moltbot", password: "{EMAIL_PASSWORD}" }},
    webhook: {{ enabled: true, kind: "dingtalk",
                url: "https://oapi.dingtalk.com/robot/send?access_token={WEBHOOK_TOKEN}",
                secret: "${{DINGTALK_SECRET}}" }},
  }},
  ui: {{ language: "zh_CN", startMinimized: true }},
  models: {{ providers: {{ deepseek: {{ baseUrl: "https://api.deepseek.com/v1", apiKey: "{API_KEY}" }} }} }},
}}
"""

DROPPED = ["remotes[0].token", "sync.password", "alerts.email.password", "alerts.webhook.url"]


@pytest.fixture(autouse=True)
def _no_preset_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_PRESET, raising=False)
    monkeypatch.setenv("DINGTALK_SECRET", "signing-secret-for-the-tests")


def _write(tmp_path: Path, text: str = LAPTOP, name: str = "laptop.json5") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_laptop_preset_becomes_the_config_without_its_secrets(
        tmp_path: Path, state_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = _write(tmp_path)
    with caplog.at_level(logging.INFO, logger="molt_desktop"):
        applied = apply_first_start_preset(state_home, source)
    assert applied is not None
    assert applied.dropped == DROPPED
    assert sorted(applied.ignored) == ["gateway.auth", "gateway.bind", "models"]

    loaded = load_config(paths.config_path(state_home))
    assert sorted(loaded.parsed) == ["alerts", "failover", "gateway", "remotes", "sync", "ui"]
    config = loaded.config
    assert config.gateway.port == 18790 and config.gateway.bind == "loopback"
    assert [(r.id, r.url, r.token) for r in config.remotes] == [
        ("server", "ws://192.168.1.10:18789", None),
        ("backup", "wss://gw.example.com:18789", "keyring:remote.backup.token"),
    ]
    assert config.failover.failAfter == 3
    sync = config.sync
    assert (sync.enabled, sync.backend, sync.host, sync.username, sync.path, sync.keyFile, sync.password) == (
        True, "sftp", "192.168.1.10", "molt", "/opt/moltbot-backup", "~/.ssh/id_ed25519", None)
    assert config.alerts.email.sender == "moltbot@example.com" and config.alerts.email.password is None
    assert config.alerts.webhook.kind == "dingtalk" and config.alerts.webhook.url is None
    assert loaded.parsed["alerts"]["webhook"]["secret"] == "${DINGTALK_SECRET}"  # a reference, kept as written
    assert config.ui.language == "zh_CN"
    assert config.models.providers == {}

    written = paths.config_path(state_home).read_text(encoding="utf-8")
    marker = json.loads((state_home / MARKER_FILENAME).read_text(encoding="utf-8"))
    assert marker["applied"] is True and marker["dropped"] == DROPPED and marker["source"] == str(source)
    for secret in SECRETS:
        assert secret not in written
        assert secret not in caplog.text
        assert secret not in json.dumps(marker)
    dropped_lines = [r.getMessage() for r in caplog.records if "left out the secrets" in r.getMessage()]
    assert len(dropped_lines) == 1 and all(p in dropped_lines[0] for p in DROPPED)
    assert any("applied to" in r.getMessage() for r in caplog.records)


def test_the_preset_is_applied_once(tmp_path: Path, state_home: Path) -> None:
    source = _write(tmp_path)
    assert apply_first_start_preset(state_home, source) is not None
    config = paths.config_path(state_home)
    config.write_text('{ ui: { language: "ja" } }', encoding="utf-8")  # the user changes a setting
    assert apply_first_start_preset(state_home, source) is None
    assert load_config(config).config.ui.language == "ja"
    config.unlink()  # a reset: the preset already served, the app starts with defaults
    assert apply_first_start_preset(state_home, source) is None
    assert not config.exists()
    # A new preset (an upgrade rolled out with other settings) counts as new.
    _write(tmp_path, '{ remotes: [{ id: "server", url: "ws://10.0.0.2:18789" }] }')
    assert apply_first_start_preset(state_home, source) is not None
    assert [r.url for r in load_config(config).config.remotes] == ["ws://10.0.0.2:18789"]


def test_a_config_the_user_has_is_left_alone(tmp_path: Path, state_home: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    config = paths.config_path(state_home)
    config.write_text('{ gateway: { port: 19000 } }', encoding="utf-8")
    source = _write(tmp_path)
    with caplog.at_level(logging.INFO, logger="molt_desktop"):
        assert apply_first_start_preset(state_home, source) is None
        assert apply_first_start_preset(state_home, source) is None
    assert config.read_text(encoding="utf-8") == '{ gateway: { port: 19000 } }'
    assert json.loads((state_home / MARKER_FILENAME).read_text(encoding="utf-8"))["applied"] is False
    assert sum("not applied" in r.getMessage() for r in caplog.records) == 1  # said once, not at every start


@pytest.mark.parametrize(("text", "problem"), [
    ('{ remotes: [{ id: "server", url: "ws://x:18789" }', "JSON5 syntax error"),
    ('{ remotes: [{ id: "server", url: "http://x:18789" }] }', "ws:// or wss://"),
    ('{ remotes: [{ id: "server", url: "ws://x:1", token: "${MOLT_PRESET_UNSET}" }] }', "MOLT_PRESET_UNSET"),
])
def test_a_bad_preset_writes_nothing_and_says_why(tmp_path: Path, state_home: Path, text: str, problem: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    source = _write(tmp_path, text)
    with caplog.at_level(logging.INFO, logger="molt_desktop"):
        assert apply_first_start_preset(state_home, source) is None
    assert not paths.config_path(state_home).exists()
    assert not (state_home / MARKER_FILENAME).exists()  # fixed later, it is applied then
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and problem in errors[0] and str(source) in errors[0]


def test_openclaw_laptop_setup_gives_a_remote(tmp_path: Path, state_home: Path) -> None:
    """A moltbot.json written for OpenClaw's remote mode names the server under gateway.remote."""
    text = json.dumps({"gateway": {"mode": "remote", "remote": {"url": "ws://192.168.1.10:18789",
                                                                "token": REMOTE_TOKEN}},
                       "agents": {"defaults": {"model": {"primary": "deepseek/deepseek-chat"}}}})
    parsed = parse_preset(text)
    assert parsed.config == {"remotes": [{"id": "server", "url": "ws://192.168.1.10:18789"}]}
    assert parsed.dropped == ["gateway.remote.token"]
    assert sorted(parsed.ignored) == ["agents", "gateway.mode"]
    kept = filter_preset({"gateway": {"remote": {"url": "ws://a:1", "token": "keyring:remote.server.token"}}})
    assert kept.config["remotes"][0]["token"] == "keyring:remote.server.token" and not kept.dropped


def test_a_webhook_url_naming_its_token_by_reference_is_kept() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=${DINGTALK_TOKEN}"
    kept = filter_preset({"alerts": {"webhook": {"url": url, "secret": "keyring:alerts.webhook"}}})
    assert kept.config["alerts"]["webhook"] == {"url": url, "secret": "keyring:alerts.webhook"} and not kept.dropped


def test_where_the_preset_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert preset_path({}) is None  # from source, without the variable: no preset
    assert preset_path({ENV_PRESET: str(tmp_path / "p.json5")}) == tmp_path / "p.json5"
    exe = tmp_path / "MoltDesktop" / "MoltDesktop.exe"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert preset_path({}) == tmp_path / "MoltDesktop" / "preset.json5"
    assert preset_path({ENV_PRESET: str(tmp_path / "p.json5")}) == tmp_path / "p.json5"


def test_a_missing_preset_named_by_the_variable_is_logged(tmp_path: Path, state_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(ENV_PRESET, str(tmp_path / "absent.json5"))
    with caplog.at_level(logging.INFO, logger="molt_desktop"):
        assert apply_first_start_preset(state_home) is None
    assert "absent.json5" in caplog.text and not paths.config_path(state_home).exists()


def test_the_app_applies_the_preset_before_it_reads_its_config(tmp_path: Path, state_home: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PRESET, str(_write(tmp_path)))
    services = Services(state_home)
    assert [r.id for r in services.config.current.config.remotes] == ["server", "backup"]
    assert services.config.current.config.sync.path == "/opt/moltbot-backup"
    assert services._port() == 18790
    assert preset.MARKER_FILENAME in {p.name for p in state_home.iterdir()}
