"""ConfigManager: config.get / config.patch as OpenClaw does them, and hot reload of the running config."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop import paths
from molt_desktop.config.load import REDACTED, ConfigError, LoadedConfig, load_config, merge_patch, redact_config
from molt_desktop.config.manager import (
    BASE_HASH_REQUIRED,
    BASE_HASH_STALE,
    PATCH_NOT_OBJECT,
    ConfigManager,
    ConfigPatchError,
    config_changed_payload,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config"
TIMEOUT = 10.0


def _frames(name: str) -> list[dict[str, Any]]:
    return [json.loads(line)["frame"] for line in (FIXTURES / name).read_text().splitlines()]


V129 = _frames("frames-v129-config.jsonl")  # get req, get res, patch req (no hash), error, patch req, res
V129_RAW: str = V129[1]["payload"]["raw"]


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    logger = logging.getLogger("molt_desktop.config")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def cfg_path(state_home: Path) -> Path:
    path = paths.config_path(state_home)
    path.write_text(V129_RAW, encoding="utf-8")
    return path


@pytest.fixture
def manager(cfg_path: Path) -> ConfigManager:
    return ConfigManager(cfg_path)


class Changes:
    def __init__(self, manager: ConfigManager) -> None:
        self.loaded: list[LoadedConfig] = []
        self.errors: list[ConfigError | None] = []
        self.threads: list[int] = []
        self.event = asyncio.Event()
        manager.subscribe(self._on_change)
        manager.subscribe_errors(self._on_error)

    def _on_change(self, loaded: LoadedConfig) -> None:
        self.loaded.append(loaded)
        self.threads.append(threading.get_ident())
        self.event.set()

    def _on_error(self, error: ConfigError | None) -> None:
        self.errors.append(error)
        self.event.set()

    async def wait(self, condition: Any) -> None:
        while not condition():
            await asyncio.wait_for(self.event.wait(), TIMEOUT)
            self.event.clear()


@pytest.fixture
async def started(manager: ConfigManager) -> AsyncIterator[ConfigManager]:
    await manager.start()
    yield manager
    await manager.stop()


# --- config.get --------------------------------------------------------------------------


def test_default_path_is_in_the_state_dir(state_home: Path) -> None:
    manager = ConfigManager()
    assert manager.path == state_home / "moltbot.json"
    assert manager.current.exists is False


def test_get_payload_like_openclaw(manager: ConfigManager, cfg_path: Path) -> None:
    payload = manager.get_payload()
    captured = V129[1]["payload"]
    assert payload["path"] == str(cfg_path)
    assert payload["exists"] is True and payload["valid"] is True
    assert payload["hash"] == captured["hash"]
    assert payload["issues"] == [] and payload["warnings"] == []
    expected_raw = V129_RAW.replace('"v129-token-789"', f'"{REDACTED}"').replace('"fake-key"', f'"{REDACTED}"')
    assert payload["raw"] == expected_raw
    assert payload["parsed"] == redact_config(captured["parsed"])
    config = payload["config"]
    assert config["gateway"]["auth"]["token"] == REDACTED
    assert config["models"]["providers"]["fake"]["apiKey"] == REDACTED
    assert config["gateway"]["maxPayload"] == 26_214_400  # defaults filled in
    assert config["agents"]["defaults"]["maxConcurrent"] == 4
    assert set(payload) >= {"path", "exists", "raw", "parsed", "valid", "config", "hash", "issues", "warnings"}
    assert "v129-token-789" not in json.dumps(payload) and "fake-key" not in json.dumps(payload)


def test_get_payload_without_a_file(state_home: Path) -> None:
    payload = ConfigManager(paths.config_path(state_home)).get_payload()
    assert payload["exists"] is False and payload["valid"] is True and payload["raw"] is None
    assert payload["parsed"] == {} and payload["hash"] == hashlib.sha256(b"").hexdigest()
    assert payload["config"]["gateway"]["port"] == 18789


def test_get_payload_of_a_broken_file(manager: ConfigManager, cfg_path: Path) -> None:
    cfg_path.write_text('{gateway: {port: "x", auth: {token: "secret-broken-1"}}}', encoding="utf-8")
    payload = manager.get_payload()
    assert payload["valid"] is False
    assert payload["issues"] == [{"path": "gateway.port", "message": 'Input should be a valid integer, got "x"'}]
    assert "secret-broken-1" not in json.dumps(payload)
    assert payload["config"]["gateway"]["port"] == 18798  # the running config


# --- config.patch ------------------------------------------------------------------------


def test_patch_replays_the_openclaw_capture(manager: ConfigManager, cfg_path: Path) -> None:
    no_hash, no_hash_error, with_hash = V129[2], V129[3], V129[4]
    with pytest.raises(ConfigPatchError) as info:
        manager.patch(no_hash["params"]["raw"], no_hash["params"].get("baseHash"))
    assert str(info.value) == no_hash_error["error"]["message"] == BASE_HASH_REQUIRED
    assert info.value.code == "INVALID_REQUEST"

    result = manager.patch(with_hash["params"]["raw"], with_hash["params"]["baseHash"])
    expected = merge_patch(V129[1]["payload"]["parsed"], json.loads(with_hash["params"]["raw"]))
    assert result["ok"] is True and result["path"] == str(cfg_path)
    assert result["config"] == redact_config(expected)
    text = cfg_path.read_text(encoding="utf-8")
    assert result["hash"] == hashlib.sha256(text.encode()).hexdigest() == manager.current.hash
    assert load_config(cfg_path).parsed == expected  # the file written still loads
    assert manager.get_payload()["hash"] == result["hash"]


def test_stale_hash_is_refused(manager: ConfigManager, cfg_path: Path) -> None:
    old_hash = manager.get_payload()["hash"]
    cfg_path.write_text(V129_RAW.replace("18798", "18799"), encoding="utf-8")
    with pytest.raises(ConfigPatchError) as info:
        manager.patch('{ui: {language: "ja"}}', old_hash)
    assert str(info.value) == BASE_HASH_STALE == "config changed since last load; re-run config.get and retry"
    assert "ja" not in cfg_path.read_text(encoding="utf-8")


def test_patch_writes_atomically_with_mode_0600_and_notifies(manager: ConfigManager, cfg_path: Path) -> None:
    seen: list[LoadedConfig] = []
    manager.subscribe(seen.append)
    result = manager.patch('{gateway: {port: 19100}, ui: {language: "zh_CN"}}', manager.get_payload()["hash"])
    if os.name == "posix":
        assert stat.S_IMODE(cfg_path.stat().st_mode) == 0o600
    assert [c.config.gateway.port for c in seen] == [19100]
    assert manager.config.ui.language == "zh_CN"
    assert result["hash"] == seen[0].hash
    payload = config_changed_payload(seen[0])
    assert payload["path"] == str(cfg_path) and payload["hash"] == result["hash"] and payload["ts"] > 0
    assert [p.name for p in cfg_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_redacted_values_keep_the_stored_secret(manager: ConfigManager, cfg_path: Path) -> None:
    got = manager.get_payload()
    patch = {"gateway": {"port": 19200, "auth": got["parsed"]["gateway"]["auth"]},
             "models": got["parsed"]["models"]}
    assert patch["gateway"]["auth"]["token"] == REDACTED
    manager.patch(json.dumps(patch), got["hash"])
    written = json.loads(cfg_path.read_text(encoding="utf-8"))
    assert written["gateway"]["auth"]["token"] == "v129-token-789"
    assert written["models"]["providers"]["fake"]["apiKey"] == "fake-key"
    assert written["gateway"]["port"] == 19200


def test_redacted_value_without_a_stored_secret_is_refused(manager: ConfigManager) -> None:
    with pytest.raises(ConfigPatchError, match="gateway.auth.password: the value is __OPENCLAW_REDACTED__"):
        manager.patch(json.dumps({"gateway": {"auth": {"password": REDACTED}}}), manager.current.hash)


def test_null_deletes_and_unknown_keys_survive(manager: ConfigManager, cfg_path: Path) -> None:
    cfg_path.write_text((FIXTURES / "openclaw-2026.1.29.json").read_text(), encoding="utf-8")
    manager.reload()
    manager.patch('{session: {reset: null}, messages: {extra: 1}}', manager.current.hash)
    written = json.loads(cfg_path.read_text(encoding="utf-8"))
    assert "reset" not in written["session"]
    assert written["messages"] == {"ackReactionScope": "group-mentions", "extra": 1}
    assert written["meta"]["lastTouchedVersion"] == "2026.1.29"
    assert written["commands"] == {"native": "auto", "nativeSkills": "auto"}
    assert written["agents"]["defaults"]["subagents"] == {"maxConcurrent": 8}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1, 2]", PATCH_NOT_OBJECT),
        ('"text"', PATCH_NOT_OBJECT),
        ("{gateway: ", "invalid config.patch raw: JSON5 syntax error at line 1, column"),
        ('{gateway: {port: "abc"}}', 'invalid config: gateway.port: Input should be a valid integer, got "abc"'),
        ('{remotes: [{id: "x", url: "http://h"}]}', "invalid config: remotes[0].url: expected a ws:// or wss:// URL"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(
    manager: ConfigManager, cfg_path: Path, raw: str, message: str
) -> None:
    with pytest.raises(ConfigPatchError) as info:
        manager.patch(raw, manager.current.hash)
    assert str(info.value).startswith(message)
    assert cfg_path.read_text(encoding="utf-8") == V129_RAW


def test_invalid_patch_carries_the_issues(manager: ConfigManager) -> None:
    with pytest.raises(ConfigPatchError) as info:
        manager.patch('{gateway: {port: "abc"}}', manager.current.hash)
    issue = {"path": "gateway.port", "message": 'Input should be a valid integer, got "abc"'}
    assert info.value.details == {"issues": [issue]}


def test_patch_of_a_broken_file_is_refused(manager: ConfigManager, cfg_path: Path) -> None:
    cfg_path.write_text("{gateway: ", encoding="utf-8")
    raw_hash = hashlib.sha256(b"{gateway: ").hexdigest()
    with pytest.raises(ConfigPatchError, match="^invalid config; fix before patching: .*JSON5 syntax error"):
        manager.patch("{ui: {autostart: true}}", raw_hash)


def test_patch_without_a_file_needs_no_hash_and_creates_it(state_home: Path) -> None:
    path = paths.config_path(state_home)
    manager = ConfigManager(path)
    result = manager.patch("{gateway: {port: 19300}}", None)
    assert result["ok"] and path.exists()
    assert manager.current.exists and manager.config.gateway.port == 19300
    assert json.loads(path.read_text(encoding="utf-8")) == {"gateway": {"port": 19300}}


def test_a_patch_that_changes_nothing_is_a_noop(manager: ConfigManager, cfg_path: Path) -> None:
    seen: list[LoadedConfig] = []
    manager.subscribe(seen.append)
    result = manager.patch('{gateway: {port: 18798}}', manager.current.hash)
    assert result["noop"] is True and result["hash"] == manager.current.hash
    assert cfg_path.read_text(encoding="utf-8") == V129_RAW and seen == []


def test_unsubscribe(manager: ConfigManager) -> None:
    seen: list[LoadedConfig] = []
    unsubscribe = manager.subscribe(seen.append)
    unsubscribe()
    unsubscribe()
    manager.patch("{gateway: {port: 19400}}", manager.current.hash)
    assert seen == []


def test_a_failing_subscriber_does_not_stop_the_others(manager: ConfigManager) -> None:
    seen: list[int] = []

    def broken(_: LoadedConfig) -> None:
        raise RuntimeError("boom")

    manager.subscribe(broken)
    manager.subscribe(lambda loaded: seen.append(loaded.config.gateway.port))
    manager.patch("{gateway: {port: 19500}}", manager.current.hash)
    assert seen == [19500]


# --- startup and reload ------------------------------------------------------------------


def test_strict_startup_refuses_an_invalid_file(cfg_path: Path) -> None:
    cfg_path.write_text("{gateway: {port: -1}}", encoding="utf-8")
    with pytest.raises(ConfigError, match="gateway.port"):
        ConfigManager(cfg_path)


def test_lenient_startup_runs_on_defaults_and_keeps_the_error(cfg_path: Path, log_lines: LogLines) -> None:
    cfg_path.write_text("{gateway: {port: -1}}", encoding="utf-8")
    manager = ConfigManager(cfg_path, strict=False)
    assert manager.config.gateway.port == 18789
    assert manager.last_error is not None and manager.last_error.key_path == "gateway.port"
    assert len(log_lines.at(logging.ERROR)) == 1


def test_reload_applies_valid_edits_and_keeps_the_running_config_on_invalid_ones(
    manager: ConfigManager, cfg_path: Path, log_lines: LogLines
) -> None:
    assert manager.reload() is False  # nothing changed
    cfg_path.write_text("{gateway: {port: 'abc', auth: {token: 'tok-abcdef-1'}}}", encoding="utf-8")
    assert manager.reload() is False
    assert manager.reload() is False
    assert manager.config.gateway.port == 18798
    assert manager.last_error is not None
    errors = log_lines.at(logging.ERROR)
    assert len(errors) == 1  # one clear line, not one per event
    assert errors[0] == (
        f"config not applied, keeping the running config: {cfg_path}: gateway.port: "
        'Input should be a valid integer, got "abc"'
    )
    cfg_path.write_text("{gateway: {port: 18900}}", encoding="utf-8")
    assert manager.reload() is True
    assert manager.config.gateway.port == 18900 and manager.last_error is None


def test_a_removed_file_keeps_the_running_config(manager: ConfigManager, cfg_path: Path, log_lines: LogLines) -> None:
    cfg_path.unlink()
    assert manager.reload() is False
    assert manager.current.exists and manager.config.gateway.port == 18798
    assert any("was removed" in line for line in log_lines.at(logging.WARNING))


async def test_hot_reload_applies_an_edit_without_restart(started: ConfigManager, cfg_path: Path) -> None:
    changes = Changes(started)
    temp = cfg_path.with_name("moltbot.json.tmp-editor")
    temp.write_text(V129_RAW.replace("18798", "18811"), encoding="utf-8")
    os.replace(temp, cfg_path)  # how editors save
    await changes.wait(lambda: started.config.gateway.port == 18811)
    assert changes.loaded[-1].config.gateway.port == 18811
    assert changes.threads[-1] == threading.get_ident()


async def test_hot_reload_of_an_invalid_edit_keeps_running(
    started: ConfigManager, cfg_path: Path, log_lines: LogLines
) -> None:
    changes = Changes(started)
    cfg_path.write_text("{gateway: {port: 18812,}", encoding="utf-8")
    await changes.wait(lambda: started.last_error is not None)
    assert started.config.gateway.port == 18798
    assert "JSON5 syntax error at line 1" in str(started.last_error)
    assert len(log_lines.at(logging.ERROR)) == 1
    assert isinstance(changes.errors[0], ConfigError)
    cfg_path.write_text("{gateway: {port: 18812}}", encoding="utf-8")
    await changes.wait(lambda: started.config.gateway.port == 18812)
    assert started.last_error is None and changes.errors[-1] is None


async def test_patch_from_a_worker_thread_notifies_on_the_loop(started: ConfigManager, cfg_path: Path) -> None:
    changes = Changes(started)
    result = await asyncio.to_thread(started.patch, "{gateway: {port: 18813}}", started.current.hash)
    await changes.wait(lambda: bool(changes.loaded))
    assert changes.threads == [threading.get_ident()]  # subscribers run on the loop's thread
    assert changes.loaded[0].hash == result["hash"]
    # the watcher sees our own write too, but the hash is unchanged: no second notification
    cfg_path.write_text(cfg_path.read_text(encoding="utf-8").replace("18813", "18814"), encoding="utf-8")
    await changes.wait(lambda: started.config.gateway.port == 18814)
    assert [c.config.gateway.port for c in changes.loaded] == [18813, 18814]


async def test_stop_is_idempotent(manager: ConfigManager) -> None:
    await manager.start()
    await manager.stop()
    await manager.stop()
