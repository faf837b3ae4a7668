"""Failover benchmark: a local and a remote `molt-desktop gateway`, the local one killed mid-reply.

Each round sends one message through the endpoint pool (built from the local state dir, as the app
and `molt-desktop chat` build it), kills the local gateway with SIGKILL at a random moment of the
reply, and measures the time from the kill to the reply's next text arriving through the remote.
Then local is restarted on its port, the pool switches back and brings the remote's turn home.
Hung rounds freeze the local gateway with SIGSTOP instead (found by probes).

At the end every message is checked in both transcripts: lost (no final reply, or missing from
the local history) or duplicated (two finals, or the user message twice anywhere) are counted.

    .venv/bin/python bench/failover.py [--kills 100] [--hangs 5] [--probe 0.5] [--json]

Targets: resume after a kill < 2 s; after a hang < failAfter x probeInterval + 2 s; 0 lost, 0 doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.gateway import TOKEN, child_env, free_port, start_gateway, stop_process, wait_for_challenge  # noqa: E402
from bench.gateway import write_config as write_gateway_config  # noqa: E402
from molt_desktop.client.failover import EndpointPool, build_pool  # noqa: E402
from molt_desktop.config.manager import ConfigManager  # noqa: E402
from molt_desktop.sessions.store import SessionStore  # noqa: E402

FAIL_AFTER = 2


def start_fake(port: int, chunks: int, delay: float, text: str) -> Any:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve", "--kind", "openai", "--port", str(port),
                             "--chunks", str(chunks), "--delay", str(delay), "--text", text],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    if "listening" not in proc.stdout.readline().decode():
        raise RuntimeError("the fake model did not start")
    return proc


class Local:
    def __init__(self, state: Path, port: int) -> None:
        self.state, self.port = state, port
        self.proc: Any = None

    async def start(self) -> None:
        self.proc = start_gateway(self.state, self.port)
        await wait_for_challenge(self.port, time.monotonic() + 30)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


async def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def one_round(pool: EndpointPool, local: Local, index: int, hang: bool,
                    events: list[tuple[float, str, dict[str, Any]]]) -> dict[str, Any]:
    await wait_for(lambda: pool.status.kind == "local" and pool.status.connected and not pool.journal.turns,
                   60, "the pool back on local")
    key = f"agent:main:bench-{index}"
    text = f"Message {index}: {uuid.uuid4()}"
    task = asyncio.create_task(pool.chat(key, text, timeout=120))
    await wait_for(lambda: any(p.get("sessionKey") == key and p.get("state") == "delta" for _, e, p in events),
                   30, "the reply to start")
    await asyncio.sleep(random.uniform(0.0, 0.5))
    stopped = time.monotonic()
    if hang:
        os.kill(local.proc.pid, signal.SIGSTOP)
    else:
        local.kill()
    result = await task
    resumed = next((t for t, e, p in events if t > stopped and e == "chat" and p.get("runId") == result.run_id
                    and p.get("state") in ("delta", "final")), None)
    finals = sum(1 for _, e, p in events if e == "chat" and p.get("runId") == result.run_id
                 and p.get("state") == "final")
    if hang:
        os.kill(local.proc.pid, signal.SIGCONT)
        local.kill()
    await local.start()
    return {"key": key, "text": text, "state": result.state, "finals": finals,
            "endpoint": result.endpoint.id if result.endpoint else None,
            "resume_s": (resumed - stopped) if resumed is not None else None}


def count_users(state: Path, key: str, text: str) -> tuple[int, int]:
    store = SessionStore(state)
    try:
        messages = store.history(key, None).messages
    finally:
        store.close()
    users = sum(1 for m in messages if m.get("role") == "user" and text in json.dumps(m, ensure_ascii=False))
    return users, sum(1 for m in messages if m.get("role") == "assistant")


async def bench(kills: int, hangs: int, probe: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="molt-failover-bench-"))
    local_state, remote_state = root / "local", root / "remote"
    local_fake_port, remote_fake_port = free_port(), free_port()
    fakes = [start_fake(local_fake_port, 40, 0.02, "Local reply " * 20),
             start_fake(remote_fake_port, 40, 0.005, "Remote reply " * 20)]
    remote_port, local_port = free_port(), free_port()
    write_gateway_config(remote_state, remote_fake_port, remote_port)
    write_gateway_config(local_state, local_fake_port, local_port)
    config = json.loads((local_state / "moltbot.json").read_text())
    config["remotes"] = [{"id": "server", "url": f"ws://127.0.0.1:{remote_port}", "token": TOKEN}]
    config["failover"] = {"probeIntervalSeconds": probe, "failAfter": FAIL_AFTER, "recoverAfter": 2,
                          "switchBack": True}
    (local_state / "moltbot.json").write_text(json.dumps(config))
    os.environ.update({k: v for k, v in child_env(local_state).items() if k == "PYTHON_KEYRING_BACKEND"})
    remote = start_gateway(remote_state, remote_port)
    local = Local(local_state, local_port)
    manager = ConfigManager(local_state / "moltbot.json")
    pool = build_pool(local_state, manager)
    events: list[tuple[float, str, dict[str, Any]]] = []
    pool.subscribe_events(lambda e, p: events.append((time.monotonic(), e, p)))
    rounds: list[dict[str, Any]] = []
    try:
        await wait_for_challenge(remote_port, time.monotonic() + 30)
        await local.start()
        await pool.start()
        await wait_for(lambda: all(h.state == "up" for h in pool.endpoint_health()), 30, "both gateways up")
        plan = [False] * kills + [True] * hangs
        for index, hang in enumerate(plan):
            rounds.append({**await one_round(pool, local, index, hang, events), "hang": hang})
            print(f"round {index + 1}/{len(plan)} {'hang' if hang else 'kill'}: {rounds[-1]['state']} via "
                  f"{rounds[-1]['endpoint']}, resumed after {rounds[-1]['resume_s']}", file=sys.stderr)
        await wait_for(lambda: not pool.journal.turns, 60, "the last remote turns to come home")
    finally:
        await pool.stop()
        await manager.stop()
        if local.proc is not None:
            stop_process(local.proc)
        stop_process(remote)
        for fake in fakes:
            stop_process(fake)
    lost = doubled = 0
    for r in rounds:
        local_users, local_replies = count_users(local_state, r["key"], r["text"])
        remote_users, _ = count_users(remote_state, r["key"], r["text"])
        if r["state"] != "final" or local_replies < 1 or local_users < 1:
            lost += 1
        if r["finals"] > 1 or local_users > 1 or remote_users > 1 or local_replies > 1:
            doubled += 1

    def summary(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {"p50": round(statistics.median(values), 3), "max": round(values[-1], 3)} if values else {}

    return {
        "kills": kills, "hangs": hangs, "probeIntervalSeconds": probe, "failAfter": FAIL_AFTER,
        "resume_after_kill_s": summary([r["resume_s"] for r in rounds if not r["hang"] and r["resume_s"]]),
        "resume_after_hang_s": summary([r["resume_s"] for r in rounds if r["hang"] and r["resume_s"]]),
        "hang_target_s": FAIL_AFTER * probe + 2,
        "lost": lost, "doubled": doubled,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--hangs", type=int, default=5)
    parser.add_argument("--probe", type=float, default=0.5, help="failover.probeIntervalSeconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(bench(args.kills, args.hangs, args.probe))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0 if result["lost"] == 0 and result["doubled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
