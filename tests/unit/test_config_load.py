"""The config loader: JSON5, ${VAR}, errors that name file/key/problem, merge patch, redaction."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from molt_desktop import logs, paths
from molt_desktop.config.load import (
    REDACTED,
    ConfigError,
    load_config,
    merge_patch,
    read_snapshot,
    redact_config,
    redact_raw,
    restore_redacted,
    write_config,
)
from molt_desktop.config.secrets import find_plaintext_secrets

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config"


def _frames(name: str) -> list[dict[str, Any]]:
    return [json.loads(line)["frame"] for line in (FIXTURES / name).read_text().splitlines()]


@pytest.fixture
def cfg_path(state_home: Path) -> Path:
    return paths.config_path(state_home)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults(cfg_path: Path) -> None:
    loaded = load_config(cfg_path)
    assert loaded.exists is False
    assert loaded.raw == ""
    assert loaded.parsed == {} and loaded.resolved == {}
    assert loaded.config.gateway.port == 18789
    assert loaded.hash == hashlib.sha256(b"").hexdigest()
    assert cfg_path.name == "moltbot.json"


def test_json5_comments_unquoted_keys_trailing_commas(cfg_path: Path) -> None:
    raw = "{\n  // the port\n  gateway: { port: 19001, bind: 'loopback', },\n  /* block */ ui: { language: 'ja' },\n}\n"
    loaded = load_config(_write(cfg_path, raw))
    assert loaded.exists and loaded.raw == raw
    assert loaded.parsed == {"gateway": {"port": 19001, "bind": "loopback"}, "ui": {"language": "ja"}}
    assert loaded.config.gateway.port == 19001 and loaded.config.ui.language == "ja"
    assert loaded.hash == hashlib.sha256(raw.encode()).hexdigest()


def test_hash_is_the_same_as_openclaw_2026_1_29(cfg_path: Path) -> None:
    get_response = _frames("frames-v129-config.jsonl")[1]
    payload = get_response["payload"]
    loaded = load_config(_write(cfg_path, payload["raw"]))
    assert loaded.hash == payload["hash"] == "38cc07bbc639a3fb1a27937e8a74026c5dd1c4330e0e42bf4b5eaa4282227831"
    assert loaded.parsed == payload["parsed"]


def test_the_real_openclaw_state_file_loads(cfg_path: Path) -> None:
    raw = (FIXTURES / "openclaw-2026.1.29.json").read_text()
    loaded = load_config(_write(cfg_path, raw))
    assert loaded.config.gateway.auth.token == "v129-token-789"
    assert loaded.warnings == []


def test_wrong_type_names_file_key_and_value(cfg_path: Path) -> None:
    _write(cfg_path, '{ gateway: { port: "abc" } }')
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    err = info.value
    assert str(err) == f'{cfg_path}: gateway.port: Input should be a valid integer, got "abc"'
    assert err.path == cfg_path and err.key_path == "gateway.port"
    assert err.issues == [{"path": "gateway.port", "message": 'Input should be a valid integer, got "abc"'}]


def test_nested_list_key_paths_and_missing_keys(cfg_path: Path) -> None:
    _write(cfg_path, '{models: {providers: {fake: {models: [{id: "a"}, {name: "no id", contextWindow: -1}]}}}}')
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    paths_ = [issue["path"] for issue in info.value.issues]
    assert "models.providers.fake.models[1].id" in paths_
    assert "models.providers.fake.models[1].contextWindow" in paths_
    assert "(and 1 more problem)" in str(info.value)


def test_provider_names_that_are_not_identifiers_are_quoted(cfg_path: Path) -> None:
    _write(cfg_path, '{models: {providers: {"my.provider": {models: [{}]}}}}')
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    assert info.value.key_path == 'models.providers["my.provider"].models[0].id'
    assert info.value.problem == "Field required"


def test_syntax_error_names_line_and_column(cfg_path: Path) -> None:
    _write(cfg_path, "{\n  gateway: { port: 1 }\n  ui: {}\n}\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    err = info.value
    assert (err.line, err.column) == (3, 3)
    assert str(err) == f'{cfg_path}: JSON5 syntax error at line 3, column 3: Unexpected "u"'


def test_top_level_must_be_an_object(cfg_path: Path) -> None:
    _write(cfg_path, "[1, 2]")
    with pytest.raises(ConfigError, match="top level must be an object"):
        load_config(cfg_path)


def test_bom_and_empty_files(cfg_path: Path) -> None:
    assert load_config(_write(cfg_path, "\ufeff{gateway: {port: 20000}}")).config.gateway.port == 20000
    empty = load_config(_write(cfg_path, "  \n"))
    assert empty.exists and empty.parsed == {} and empty.config.gateway.port == 18789


def test_not_utf8_is_a_clear_error(cfg_path: Path) -> None:
    cfg_path.write_bytes(b'{ui: {language: "\xff"}}')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(cfg_path)


def test_env_expansion(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLT_TEST_HOST", "api.example.com")
    monkeypatch.setenv("MOLT_TEST_KEY", "sk-from-env-123456")
    _write(
        cfg_path,
        '{models: {providers: {x: {baseUrl: "https://${MOLT_TEST_HOST}/v1", apiKey: "${MOLT_TEST_KEY}",'
        ' headers: {"X-Literal": "$${MOLT_TEST_HOST}", "x-lower": "${lower_case}"}}}}}',
    )
    loaded = load_config(cfg_path)
    provider = loaded.config.models.providers["x"]
    assert provider.baseUrl == "https://api.example.com/v1"
    assert provider.apiKey == "sk-from-env-123456"
    assert provider.headers == {"X-Literal": "${MOLT_TEST_HOST}", "x-lower": "${lower_case}"}
    assert loaded.parsed["models"]["providers"]["x"]["apiKey"] == "${MOLT_TEST_KEY}"  # the file as written
    assert loaded.resolved["models"]["providers"]["x"]["apiKey"] == "sk-from-env-123456"
    assert logs.redact("key=sk-from-env-123456") == "key=***"  # env secrets never reach a log line


def test_undefined_env_var_names_key_path_and_variable(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOLT_TEST_MISSING", raising=False)
    _write(cfg_path, '{remotes: [{id: "s", url: "wss://h", token: "${MOLT_TEST_MISSING}"}]}')
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    assert info.value.key_path == "remotes[0].token"
    assert "MOLT_TEST_MISSING is not set" in str(info.value)
    assert str(info.value).startswith(f"{cfg_path}: remotes[0].token: ")


def test_keyring_values_stay_as_they_are(cfg_path: Path) -> None:
    _write(cfg_path, '{gateway: {auth: {token: "keyring:gateway.token"}}}')
    assert load_config(cfg_path).config.gateway.auth.token == "keyring:gateway.token"


def test_plaintext_secrets_are_accepted_registered_and_found(cfg_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(
        cfg_path,
        '{gateway: {auth: {token: "plain-token-abcdef"}}, sync: {password: "keyring:sync.password"},'
        ' models: {providers: {a: {apiKey: "${MOLT_X}"}, b: {apiKey: "sk-plain-b"}}},'
        ' remotes: [{id: "r", url: "ws://h", token: "remote-plain"}]}',
    )
    monkeypatch.setenv("MOLT_X", "v")
    loaded = load_config(cfg_path)
    assert loaded.config.gateway.auth.token == "plain-token-abcdef"
    assert logs.redact("plain-token-abcdef") == "***"
    assert find_plaintext_secrets(loaded.parsed) == [
        "gateway.auth.token",
        "models.providers.b.apiKey",
        "remotes[0].token",
    ]


def test_a_wrong_secret_value_is_not_echoed_in_the_error(cfg_path: Path) -> None:
    _write(cfg_path, "{gateway: {auth: {token: 123456789}}}")
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    assert "123456789" not in str(info.value)
    assert info.value.key_path == "gateway.auth.token"


def test_warnings_for_typos_in_molt_sections_and_unsupported_apis(cfg_path: Path) -> None:
    _write(
        cfg_path,
        '{sync: {intervalSecond: 5}, remotes: [{id: "a", url: "ws://x", tokne: "t"}],'
        ' models: {providers: {g: {api: "google-generative-ai"}}}, gateway: {whatever: 1}}',
    )
    warnings = load_config(cfg_path).warnings
    assert any(w.startswith("sync.intervalSecond: not a molt_desktop setting") for w in warnings)
    assert any(w.startswith("remotes[0].tokne:") for w in warnings)
    assert any("models.providers.g.api" in w and "not supported" in w for w in warnings)
    assert not any("whatever" in w for w in warnings)  # OpenClaw sections are open


def test_snapshot_of_an_invalid_file_keeps_raw_and_hash(cfg_path: Path) -> None:
    raw = "{gateway: {port: 'x'}}"
    snapshot = read_snapshot(_write(cfg_path, raw))
    assert snapshot.exists and snapshot.raw == raw
    assert snapshot.hash == hashlib.sha256(raw.encode()).hexdigest()
    assert snapshot.parsed == {"gateway": {"port": "x"}}
    assert snapshot.loaded is None and snapshot.error is not None


# --- merge patch -------------------------------------------------------------------------

RFC7386_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("base", "patch", "expected"), RFC7386_EXAMPLES)
def test_merge_patch_rfc7386(base: Any, patch: Any, expected: Any) -> None:
    before = json.dumps(base)
    assert merge_patch(base, patch) == expected
    assert json.dumps(base) == before  # the input is not modified


# --- redaction ---------------------------------------------------------------------------


def test_redact_config() -> None:
    config: dict[str, Any] = {
        "gateway": {"auth": {"mode": "token", "token": "t0ken-value", "password": "pw-value"}},
        "models": {"providers": {"a": {"apiKey": "sk-1", "models": [{"id": "m", "maxTokens": 100}]},
                                 "b": {"apiKey": "keyring:provider.b"}, "c": {"apiKey": "${C_KEY}"}}},
        "sync": {"keyFile": "~/.ssh/id", "password": ""},
        "channels": {"telegram": {"botToken": "123:abc", "privateKey": "pk", "clientSecret": "cs"}},
        "alerts": {"webhook": {"url": "https://oapi.dingtalk.com/robot/send?access_token=abc123&x=1", "secret": "s"}},
    }
    red = redact_config(config)
    assert red["gateway"]["auth"] == {"mode": "token", "token": REDACTED, "password": REDACTED}
    assert red["models"]["providers"]["a"]["apiKey"] == REDACTED
    assert red["models"]["providers"]["a"]["models"] == [{"id": "m", "maxTokens": 100}]
    assert red["models"]["providers"]["b"]["apiKey"] == "keyring:provider.b"
    assert red["models"]["providers"]["c"]["apiKey"] == "${C_KEY}"
    assert red["sync"] == {"keyFile": "~/.ssh/id", "password": ""}
    assert red["channels"]["telegram"] == {"botToken": REDACTED, "privateKey": REDACTED, "clientSecret": REDACTED}
    assert red["alerts"]["webhook"]["url"] == f"https://oapi.dingtalk.com/robot/send?access_token={REDACTED}&x=1"
    assert red["alerts"]["webhook"]["secret"] == REDACTED
    assert config["gateway"]["auth"]["token"] == "t0ken-value"  # not modified


def test_redact_raw_keeps_layout_and_matches_openclaw() -> None:
    raw = _frames("frames-v129-config.jsonl")[1]["payload"]["raw"]
    expected = raw.replace('"v129-token-789"', f'"{REDACTED}"').replace('"fake-key"', f'"{REDACTED}"')
    assert redact_raw(raw) == expected
    # the protocol-4 gateway shows its raw text exactly in this form
    p4_raw = _frames("frames-p4-config.jsonl")[1]["payload"]["raw"]
    assert 'token: "__OPENCLAW_REDACTED__"' in p4_raw and redact_raw(p4_raw) == p4_raw


def test_redact_raw_json5_details() -> None:
    raw = (
        "{\n  // token: 'in a comment'\n  'gateway': {auth: {token: 'single-quoted', password: \"keyring:pw\"}},\n"
        '  "sync": {password: "a\\"quote"},\n  note: "plain-secret-xyz",\n}\n'
    )
    out = redact_raw(raw, {"note": "x", "gateway": {"auth": {"token": "plain-secret-xyz"}}})
    assert "// token: 'in a comment'" in out
    assert f"token: '{REDACTED}'" in out
    assert 'password: "keyring:pw"' in out
    assert f'"sync": {{password: "{REDACTED}"}}' in out
    assert f'note: "{REDACTED}"' in out  # a known secret value is redacted wherever it is


def test_redact_raw_of_a_broken_file_still_hides_secrets() -> None:
    out = redact_raw('{gateway: {auth: {token: "leaky-token-1"}} oops')
    assert "leaky-token-1" not in out and REDACTED in out


def test_restore_redacted() -> None:
    old = {"gateway": {"auth": {"token": "real"}}, "remotes": [{"id": "a", "token": "ta"}, {"id": "b", "token": "tb"}],
           "alerts": {"webhook": {"url": "https://x/send?access_token=abc"}}}
    new = {"gateway": {"auth": {"token": REDACTED}}, "remotes": [{"id": "b", "token": REDACTED}],
           "alerts": {"webhook": {"url": f"https://x/send?access_token={REDACTED}"}}}
    assert restore_redacted(new, old) == {
        "gateway": {"auth": {"token": "real"}},
        "remotes": [{"id": "b", "token": "tb"}],
        "alerts": {"webhook": {"url": "https://x/send?access_token=abc"}},
    }
    with pytest.raises(ValueError, match=r"gateway\.auth\.password: the value is __OPENCLAW_REDACTED__"):
        restore_redacted({"gateway": {"auth": {"password": REDACTED}}}, old)


# --- writing -----------------------------------------------------------------------------


def test_write_config_is_private_json_that_loads_back(cfg_path: Path) -> None:
    parsed = {"gateway": {"port": 19999}, "ui": {"language": "zh_CN"}, "note": "中文"}
    text = write_config(cfg_path, parsed)
    assert json.loads(text) == parsed
    assert cfg_path.read_text(encoding="utf-8") == text
    if os.name == "posix":
        assert stat.S_IMODE(cfg_path.stat().st_mode) == 0o600
    loaded = load_config(cfg_path)
    assert loaded.parsed == parsed and loaded.hash == hashlib.sha256(text.encode()).hexdigest()
