"""State compatibility with OpenClaw 2026.1.29 (the file era): one state folder, both gateways.

The scenario (run once per module, every test checks one part of it):
1. the real 2026.1.29 state folder (tests/fixtures/state-2026.1.29, laid out as OpenClaw keeps it:
   `openclaw.json` + `agents/main/sessions/{sessions.json, <sessionId>.jsonl}`) is opened by our
   gateway (`molt-desktop gateway` as a process, its own moltbot.json beside openclaw.json); the
   2026.1.29 CLI reads `sessions.list` and both histories, which must leave the files untouched;
2. the same CLI runs a chat turn through our gateway into a new session, then our gateway stops;
3. the real 2026.1.29 gateway is started on that very folder (OPENCLAW_STATE_DIR, its
   openclaw.json pointed at the same fake model) and its CLI reads the sessions and histories:
   our session and messages must be there, and everything must read as our gateway showed it.
The 2026.1.29 CLI (protocol 3, v2 device identity) reads from both gateways, so the answers compare
one to one; the chat turn itself goes through the faster 2026.9.6 CLI. Independent CLI calls run in
parallel, each with a fresh CLI home (the 1.29 CLI costs ~3.5 s of CPU per call, so the number of
calls is what makes this module slow).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.interop.helpers import (
    REPO_ROOT,
    V_CURRENT,
    V_FILE_ERA,
    CliResult,
    MoltGateway,
    OpenClawCli,
    RealGateway,
    assistant_texts,
    copy_file_era_state,
    free_port,
    message_text,
    poll_cli,
)
from tests.fakes.common import DEFAULT_TEXT

pytestmark = [pytest.mark.interop, pytest.mark.slow]

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "state-2026.1.29"
TOKEN = "state-compat-token-81c2e7"
AGENTPROBE = "agent:main:agentprobe"
AGENTPROBE_ID = "5529e951-aeb9-4604-9ac6-f72c2a5ae541"
DESKTOP = "agent:main:desktop-probe"
DESKTOP_ID = "50ed39ff-a605-4609-9e6b-c24211125dfe"
OURS = "agent:main:molt-written"
USER_TEXT = "Written by molt-desktop, read by OpenClaw 2026.1.29"


@dataclass
class Views:
    """What one gateway answered to the 2026.1.29 CLI."""

    listing: dict[str, Any]
    histories: dict[str, dict[str, Any]]

    def entry(self, key: str) -> dict[str, Any]:
        entries = {s["key"]: s for s in self.listing["sessions"]}
        assert key in entries, f"{key} not in {sorted(entries)}"
        return entries[key]


def snapshot(state: Path) -> dict[str, bytes]:
    """The OpenClaw-owned files: openclaw.json and everything under agents/."""
    files = {"openclaw.json": (state / "openclaw.json").read_bytes()}
    for path in sorted((state / "agents").rglob("*")):
        if path.is_file():
            files[str(path.relative_to(state))] = path.read_bytes()
    return files


def ok(result: CliResult) -> Any:
    assert result.code == 0, f"{result.argv[2:]}: exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.data is not None, result.stdout
    return result.data


def read_views(cli: OpenClawCli, port: int, history_keys: list[str]) -> Views:
    """sessions.list and chat.history of each key, in parallel (one fresh CLI home per call: the
    2026.1.29 CLI creates its device key on first use, and parallel first uses would race)."""
    calls: list[tuple[str, dict[str, Any]]] = [("sessions.list", {})]
    calls += [("chat.history", {"sessionKey": key}) for key in history_keys]
    clis = [cli.fresh() for _ in calls]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(c.call, method, params, port=port, token=TOKEN, timeout_ms=30000)
                   for c, (method, params) in zip(clis, calls, strict=True)]
        results = [ok(f.result()) for f in futures]
    return Views(listing=results[0], histories=dict(zip(history_keys, results[1:], strict=True)))


@dataclass
class Scenario:
    state: Path
    files_before: dict[str, bytes]
    files_after_reading: dict[str, bytes]
    ours: Views  # our gateway, before the chat turn
    sent: dict[str, Any]
    ours_after_turn: Views  # our gateway, after it
    molt_exit_code: int | None
    real: Views  # the real 2026.1.29 gateway on the same folder afterwards


@pytest.fixture(scope="module")
def scenario(molt_gateway: Callable[..., AbstractContextManager[MoltGateway]],
             real_openclaw_gateway: Callable[..., AbstractContextManager[RealGateway]],
             openclaw_cli: Callable[[str], OpenClawCli], fake_openai_base_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("state-compat")
    state = copy_file_era_state(FIXTURE, root / "state")
    old_cli, cli = openclaw_cli(V_FILE_ERA), openclaw_cli(V_CURRENT)
    files_before = snapshot(state)

    with molt_gateway(state, TOKEN, model_base_url=fake_openai_base_url) as molt:
        ours = read_views(old_cli, molt.port, [AGENTPROBE, DESKTOP])
        files_after_reading = snapshot(state)

        sent = ok(cli.call("chat.send", {"sessionKey": OURS, "message": USER_TEXT,
                                         "idempotencyKey": f"compat-{uuid.uuid4()}"}, port=molt.port, token=TOKEN))
        replied = poll_cli(lambda: cli.call("chat.history", {"sessionKey": OURS}, port=molt.port, token=TOKEN),
                           lambda r: r.ok and bool(assistant_texts(r.data)), timeout=45)
        assert assistant_texts(ok(replied)), f"no reply within 45 s: {replied.stdout}\n{molt.log_tail()}"
        ours_after_turn = read_views(old_cli, molt.port, [OURS])
    molt_exit_code = molt.process.returncode

    with real_openclaw_gateway(state, free_port(), TOKEN, V_FILE_ERA, model_base_url=fake_openai_base_url) as real:
        real_views = read_views(old_cli, real.port, [OURS, AGENTPROBE, DESKTOP])

    yield Scenario(state=state, files_before=files_before, files_after_reading=files_after_reading, ours=ours,
                   sent=sent, ours_after_turn=ours_after_turn, molt_exit_code=molt_exit_code, real=real_views)


def transcript_messages(session_id: str) -> list[dict[str, Any]]:
    lines = (FIXTURE / f"{session_id}.jsonl").read_text().splitlines()
    return [entry["message"] for entry in map(json.loads, lines) if entry["type"] == "message"]


# ---- 1. the real state folder opens in our gateway unchanged ----------------------------------


def test_our_gateway_lists_both_real_sessions(scenario: Scenario) -> None:
    listing = scenario.ours.listing
    assert [s["key"] for s in listing["sessions"]] == [AGENTPROBE, DESKTOP]  # newest first
    assert listing["count"] == 2
    agentprobe, desktop = scenario.ours.entry(AGENTPROBE), scenario.ours.entry(DESKTOP)
    assert agentprobe["sessionId"] == AGENTPROBE_ID
    assert (agentprobe["inputTokens"], agentprobe["outputTokens"]) == (10, 11)
    assert (agentprobe["modelProvider"], agentprobe["model"]) == ("fake", "fake-1")
    assert desktop["sessionId"] == DESKTOP_ID
    assert desktop["label"] == "Desktop probe"
    assert desktop["origin"] == {"provider": "webchat", "surface": "webchat", "chatType": "direct"}
    stored = json.loads((FIXTURE / "sessions.json").read_text())
    for key in (AGENTPROBE, DESKTOP):
        assert scenario.ours.entry(key)["updatedAt"] == stored[key]["updatedAt"]


def test_our_agentprobe_history_is_exactly_its_two_messages(scenario: Scenario) -> None:
    history = scenario.ours.histories[AGENTPROBE]
    assert history["sessionKey"] == AGENTPROBE
    assert history["sessionId"] == AGENTPROBE_ID
    assert history["messages"] == transcript_messages(AGENTPROBE_ID)
    assert [message_text(m) for m in history["messages"]] == ["Say hi", DEFAULT_TEXT]


def test_our_desktop_probe_history_is_empty(scenario: Scenario) -> None:
    # Its current sessionId has no transcript (1a6474cd....jsonl is left over from before a reset).
    history = scenario.ours.histories[DESKTOP]
    assert history["sessionId"] == DESKTOP_ID
    assert history["messages"] == []


def test_reading_leaves_the_real_files_byte_for_byte(scenario: Scenario) -> None:
    assert scenario.files_after_reading == scenario.files_before


def test_our_chat_turn_keeps_the_real_sessions(scenario: Scenario) -> None:
    assert scenario.sent["status"] == "started"
    sessions = scenario.state / "agents" / "main" / "sessions"
    stored = json.loads((sessions / "sessions.json").read_text())
    original = json.loads((FIXTURE / "sessions.json").read_text())
    assert set(stored) == {AGENTPROBE, DESKTOP, OURS}
    assert {k: stored[k] for k in original} == original
    for name in (f"{AGENTPROBE_ID}.jsonl", "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl"):
        assert (sessions / name).read_bytes() == (FIXTURE / name).read_bytes()
    header = json.loads((sessions / f"{stored[OURS]['sessionId']}.jsonl").read_text().splitlines()[0])
    assert header["type"] == "session" and header["version"] == 3 and header["id"] == stored[OURS]["sessionId"]
    assert scenario.molt_exit_code == 0  # stopped cleanly on SIGTERM


# ---- 2. what our gateway wrote is what the real 2026.1.29 gateway reads ------------------------


def test_real_gateway_lists_our_session(scenario: Scenario) -> None:
    listing = scenario.real.listing
    assert [s["key"] for s in listing["sessions"]] == [OURS, AGENTPROBE, DESKTOP]
    ours = scenario.ours_after_turn.entry(OURS)
    real = scenario.real.entry(OURS)
    assert real["sessionId"] == ours["sessionId"]
    assert real["updatedAt"] == ours["updatedAt"]
    assert (real["modelProvider"], real["model"]) == ("fake", "fake-1")
    assert real == ours  # every field, as our gateway listed it


def test_real_gateway_returns_our_messages(scenario: Scenario) -> None:
    history = scenario.real.histories[OURS]
    assert history["sessionId"] == scenario.ours_after_turn.entry(OURS)["sessionId"]
    messages = history["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert [message_text(m) for m in messages] == [USER_TEXT, DEFAULT_TEXT]
    assert messages[1]["provider"] == "fake" and messages[1]["stopReason"] == "stop"
    assert history == scenario.ours_after_turn.histories[OURS]  # exactly what our gateway returns


def test_real_gateway_reads_the_real_state_as_ours_does(scenario: Scenario) -> None:
    for key in (AGENTPROBE, DESKTOP):
        assert scenario.real.histories[key] == scenario.ours.histories[key]
    # sessions.list: the same fields and values, except the two differences pinned below.
    for key in (AGENTPROBE, DESKTOP):
        ours = {k: v for k, v in scenario.ours.entry(key).items() if k not in ("displayName", "chatType")}
        real = {k: v for k, v in scenario.real.entry(key).items() if k not in ("displayName", "chatType")}
        assert ours == real, key


def test_session_entries_match_the_real_gateway_exactly(scenario: Scenario) -> None:
    for key in (AGENTPROBE, DESKTOP):
        assert scenario.ours.entry(key) == scenario.real.entry(key), key
