"""Hot reload of moltbot.json in a running `molt-desktop gateway` process.

A valid edit applies to the next chat turn without a restart. An invalid edit (a syntax error,
a value of the wrong type) keeps the running config: the next turn still works, one error line
naming the file and the key is logged, `/readyz` shows it as a warning and `health`/`status` carry
it in their `config` entry; fixing the file clears all of that.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.client.connection import GatewayConnection
from tests.e2e.conftest import (
    TOKEN,
    Events,
    GatewayProcess,
    Processes,
    assert_no_secret,
    chat_text,
    gateway_client,
    log_lines,
    wait_terminal,
    write_config,
)
from tests.fakes.common import DEFAULT_TEXT

pytestmark = pytest.mark.slow


def save(home: Path, text: str, *, atomic: bool = True) -> str:
    """Write the config as an editor does (temp file + rename) or in place; its sha256."""
    path = home / "moltbot.json"
    if atomic:
        temp = path.with_name(".moltbot.json.swp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    else:
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_config(home: Path, config: dict[str, Any], *, atomic: bool = True) -> str:
    return save(home, json.dumps(config, indent=2), atomic=atomic)


async def config_entry(conn: GatewayConnection) -> dict[str, Any]:
    return dict((await conn.call("health"))["config"])


async def wait_applied(conn: GatewayConnection, digest: str) -> None:
    async def applied() -> bool:
        entry = await config_entry(conn)
        return entry["hash"] == digest and entry["valid"]

    await poll(applied, "the edited config to be applied")


async def poll(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Await `check()` until it is true; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def turn(conn: GatewayConnection, events: Events, key: str, message: str) -> dict[str, Any]:
    """One chat turn; returns the assistant message stored in the history."""
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": message, "idempotencyKey": run_id})
    terminal = await wait_terminal(events, run_id)
    assert terminal["state"] == "final", terminal
    assert chat_text(terminal) == DEFAULT_TEXT
    history = await conn.call("chat.history", {"sessionKey": key})
    last = history["messages"][-1]
    assert last["role"] == "assistant"
    return dict(last)


def config_errors(home: Path) -> list[dict[str, Any]]:
    return [line for line in log_lines(home) if line.get("level") == "error" and line.get("subsystem") == "config"]


async def test_valid_edits_apply_to_the_next_turn_without_restart(procs: Processes, home: Path) -> None:
    first, second = procs.fake(), procs.fake()
    config = write_config(home, {"one": first.base_url, "two": second.base_url})
    gw = procs.gateway(home)
    key = "agent:main:reload"
    async with gateway_client(gw.url) as (conn, events):
        reply = await turn(conn, events, key, "first question")
        assert (reply["provider"], reply["model"]) == ("one", "one-model")
        assert (first.request_count(), second.request_count()) == (1, 0)

        # switch the primary model to the second provider
        edited = copy.deepcopy(config)
        edited["agents"]["defaults"]["model"]["primary"] = "two/two-model"
        await wait_applied(conn, save_config(home, edited))
        models = await conn.call("models.list")
        assert {"two-model", "one-model"} <= {m["id"] for m in models["models"]}
        reply = await turn(conn, events, key, "second question")
        assert (reply["provider"], reply["model"]) == ("two", "two-model")
        assert (first.request_count(), second.request_count()) == (1, 1)
        assert second.stats()["requests"][-1]["model"] == "two-model"

        # point provider "two" at the first fake (an in-place write this time)
        edited["models"]["providers"]["two"]["baseUrl"] = first.base_url
        await wait_applied(conn, save_config(home, edited, atomic=False))
        reply = await turn(conn, events, key, "third question")
        assert reply["provider"] == "two"
        assert (first.request_count(), second.request_count()) == (2, 1)
        assert first.stats()["requests"][-1]["model"] == "two-model"

        assert (await config_entry(conn))["valid"] is True
    assert gw.alive(), "the gateway restarted"
    assert gw.stop() == 0
    messages = [line["message"] for line in log_lines(home)]
    assert sum("config reloaded from" in m for m in messages) >= 2
    assert config_errors(home) == []
    assert_no_secret([TOKEN, config["models"]["providers"]["one"]["apiKey"]], home, gw.stderr())


def broken(config: dict[str, Any], kind: str) -> tuple[str, str]:
    """(file text, what the error must name) for an invalid edit of `config`."""
    if kind == "syntax":
        text = json.dumps(config, indent=2)
        return text[: len(text) // 2], "syntax error at line"
    edited = copy.deepcopy(config)
    if kind == "wrong-type":
        edited["agents"]["defaults"]["maxConcurrent"] = "four"
        return json.dumps(edited, indent=2), "agents.defaults.maxConcurrent"
    edited["models"]["providers"]["fake"]["models"] = "fake-1"
    return json.dumps(edited, indent=2), "models.providers.fake.models"


async def readiness(gw: GatewayProcess) -> tuple[int, dict[str, Any]]:
    return await asyncio.to_thread(gw.get_json, "/readyz")


@pytest.mark.parametrize("kind", ["syntax", "wrong-type", "wrong-shape"])
async def test_invalid_edit_keeps_the_running_config_until_fixed(procs: Processes, home: Path, kind: str) -> None:
    fake = procs.fake()
    config = write_config(home, {"fake": fake.base_url})
    gw = procs.gateway(home)
    path = home / "moltbot.json"
    key = "agent:main:invalid-edit"
    async with gateway_client(gw.url) as (conn, events):
        await turn(conn, events, key, "before the edit")
        good_hash = (await config_entry(conn))["hash"]
        status, body = await readiness(gw)
        assert status == 200 and body["ready"] is True and "warnings" not in body

        text, names = broken(config, kind)
        save(home, text)

        async def rejected() -> bool:
            return not (await config_entry(conn))["valid"]

        await poll(rejected, "the invalid edit to be noticed")
        entry = await config_entry(conn)
        assert entry["hash"] == good_hash  # the running config is the last good one
        assert str(path) in entry["error"] and names in entry["error"]
        assert entry["fix"]
        status_entry = (await conn.call("status"))["config"]
        assert status_entry["valid"] is False and names in status_entry["error"]

        status, body = await readiness(gw)
        assert status == 200 and body["ready"] is True and body["failing"] == []
        [warning] = body["warnings"]
        assert str(path) in warning and names in warning

        # the next turn still works with the running config
        reply = await turn(conn, events, key, "after the bad edit")
        assert reply["provider"] == "fake"
        # the same broken text saved again is not a new error
        save(home, text)
        await turn(conn, events, key, "after saving it again")

        errors = config_errors(home)
        assert len(errors) == 1, errors
        assert str(path) in errors[0]["message"] and names in errors[0]["message"]
        assert "keeping the running config" in errors[0]["message"]

        # fixing the file clears the warning
        fixed = copy.deepcopy(config)
        fixed["agents"]["defaults"]["maxConcurrent"] = 2
        await wait_applied(conn, save_config(home, fixed))
        status, body = await readiness(gw)
        assert status == 200 and "warnings" not in body
        assert "error" not in await config_entry(conn)
        assert (await conn.call("status"))["config"]["valid"] is True
        await turn(conn, events, key, "after the fix")
    assert gw.stop() == 0
    messages = [line["message"] for line in log_lines(home)]
    assert any("is valid again" in m for m in messages)
    assert len(config_errors(home)) == 1
    assert_no_secret([TOKEN, config["models"]["providers"]["fake"]["apiKey"]], home, gw.stderr())
