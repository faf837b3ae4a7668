"""Session sync benchmark over SFTP on loopback, against a real sshd started like the tests' fixture.

Prints (no assertions):
  initial   - the first push of N sessions of ~20 KB each (target < 30 s), files and bytes sent
  append    - bytes sent and received by the push of one appended message with N sessions on the server
  turn      - the same for a whole chat turn: two messages appended and the session's entry in
              sessions.json updated (as the session store writes it), i.e. what a reply really costs
  noop      - bytes of a push with no local change
  watch     - with the SyncService's watch on, the delay from appending a message to its bytes being
              on the server (target < 5 s): median and max over the samples

    .venv/bin/python bench/sync.py [--sessions 1000] [--size 20000] [--samples 10] [--json]

Needs openssh-server (scripts/system-deps.sh). Everything runs in a temp dir and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# The device identity goes to a file in the temp state dir, never to the user's keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from molt_desktop.config.manager import ConfigManager  # noqa: E402
from molt_desktop.sync import settings  # noqa: E402
from molt_desktop.sync.engine import SyncEngine  # noqa: E402
from molt_desktop.sync import store_delta  # noqa: E402
from molt_desktop.sync.service import SyncService  # noqa: E402
from tests.sync.sshd import sshd_server  # noqa: E402


def make_state(state: Path, sessions: int, size: int) -> list[Path]:
    folder = state / "agents" / "main" / "sessions"
    folder.mkdir(parents=True)
    entries: dict[str, Any] = {}
    transcripts = []
    filler = "lorem ipsum dolor sit amet " * 8
    for index in range(sessions):
        sid = str(uuid.UUID(int=index + 1))
        lines = [json.dumps({"type": "session", "version": 3, "id": sid, "timestamp": "2026-01-01T00:00:00Z"})]
        while sum(len(x) + 1 for x in lines) < size:
            lines.append(json.dumps({"type": "message", "id": uuid.uuid4().hex[:8],
                                     "message": {"role": "user", "content": [{"type": "text", "text": filler}]}}))
        path = folder / f"{sid}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        transcripts.append(path)
        entries[f"agent:main:bench-{index}"] = {"sessionId": sid, "updatedAt": 1_700_000_000_000 + index,
                                                "label": f"bench {index}"}
    (folder / "sessions.json").write_bytes(store_delta.render(entries))
    return transcripts


def update_entry(state: Path, index: int) -> None:
    """What the session store does after a turn: the entry's time and usage change, the file is rewritten."""
    path = state / "agents" / "main" / "sessions" / "sessions.json"
    entries = json.loads(path.read_bytes())
    entry = entries[f"agent:main:bench-{index}"]
    entry.update({"updatedAt": int(time.time() * 1000), "inputTokens": random.randint(100, 9000),
                  "outputTokens": random.randint(10, 900)})
    path.write_bytes(store_delta.render(entries))


def append_message(path: Path, text: str) -> bytes:
    line = (json.dumps({"type": "message", "id": uuid.uuid4().hex[:8],
                        "message": {"role": "user", "content": [{"type": "text", "text": text}]}}) + "\n").encode()
    with path.open("ab") as fh:
        fh.write(line)
    return line


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"sessions": args.sessions, "sessionBytes": args.size}
    with sshd_server(work / "sshd") as sshd:
        remote = work / "remote"
        remote.mkdir()
        state = work / "state"
        transcripts = make_state(state, args.sessions, args.size)
        sync = {"enabled": True, "backend": "sftp", "host": sshd.host, "port": sshd.port, "username": sshd.user,
                "keyFile": str(sshd.client_key), "path": str(remote), "deviceName": "bench",
                "intervalSeconds": 3600, "watch": True}
        (state / "moltbot.json").write_text(json.dumps({"sync": sync}), encoding="utf-8")
        cfg = ConfigManager(state / "moltbot.json").current.config.sync
        device_id = await asyncio.to_thread(settings.device_id, state)

        backend = await settings.build_backend(state, cfg)
        engine = SyncEngine(state, backend, settings.device_name(cfg), device_id)
        await backend.connect()
        try:
            started = time.perf_counter()
            report = await engine.push()
            out["initial"] = {"seconds": round(time.perf_counter() - started, 2), "files": report.files_sent,
                              "bytesSent": report.bytes_sent, "bytesReceived": report.bytes_received}
            append_message(random.choice(transcripts), "one more message " * 10)
            report = await engine.push()
            out["append"] = {"files": report.files_sent, "bytesSent": report.bytes_sent,
                             "bytesReceived": report.bytes_received}
            index = random.randrange(len(transcripts))
            append_message(transcripts[index], "a question " * 10)
            append_message(transcripts[index], "the reply " * 40)
            update_entry(state, index)
            report = await engine.push()
            out["turn"] = {"files": report.files_sent, "bytesSent": report.bytes_sent,
                           "bytesReceived": report.bytes_received}
            report = await engine.push()
            out["noop"] = {"bytesSent": report.bytes_sent, "bytesReceived": report.bytes_received}
        finally:
            await backend.close()

        service = SyncService(state, ConfigManager(state / "moltbot.json"))
        await service.start()
        mine = remote / engine.folder
        delays = []
        try:
            await _until(lambda: service.status.state == "idle" and service.status.last_good_at, 120)
            for _ in range(args.samples):
                path = random.choice(transcripts)
                line = append_message(path, f"watched message {uuid.uuid4().hex}")
                target = mine / path.relative_to(state)
                t0 = time.perf_counter()
                await _until(lambda: _ends_with(target, line), 60)
                delays.append(time.perf_counter() - t0)
                await _until(lambda: service.status.state == "idle", 60)
                await asyncio.sleep(0.3)
        finally:
            await service.stop()
        out["watch"] = {"samples": len(delays), "medianSeconds": round(statistics.median(delays), 2),
                        "maxSeconds": round(max(delays), 2)}
    return out


def _ends_with(path: Path, line: bytes) -> bool:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - len(line)))
            return fh.read() == line
    except OSError:
        return False


async def _until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark waited too long")
        await asyncio.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20_000, help="bytes per transcript")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="molt-sync-bench-") as tmp:
        out = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    i, a, t, n, w = out["initial"], out["append"], out["turn"], out["noop"], out["watch"]
    print(f"initial sync of {out['sessions']} sessions of ~{out['sessionBytes']} B: {i['seconds']} s "
          f"({i['files']} files, {i['bytesSent']} B sent, {i['bytesReceived']} B received; target < 30 s)")
    print(f"one appended message with {out['sessions']} sessions: {a['bytesSent']} B sent, "
          f"{a['bytesReceived']} B received ({a['files']} files)")
    print(f"one chat turn (two messages and the sessions.json entry): {t['bytesSent']} B sent, "
          f"{t['bytesReceived']} B received ({t['files']} files)")
    print(f"push with no change: {n['bytesSent']} B sent, {n['bytesReceived']} B received")
    print(f"watch: message to server in median {w['medianSeconds']} s, max {w['maxSeconds']} s "
          f"over {w['samples']} samples (target < 5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
