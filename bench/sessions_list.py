"""Session listing benchmark: `SessionStore(...).entries()` + the 200 most recent of 10,000 sessions.

Builds a state dir with N sessions (sessions.json entries shaped like OpenClaw 2026.1.29's, and a
small transcript for each, which listing must not read), then prints:
  cold  - a fresh process: new SessionStore, first entries() (parses sessions.json), sort to 200
  warm  - the same store again (cached; only a stat of sessions.json)
and, for context, one update() (first save encodes every entry, later saves re-encode one) and
search() (first call builds the index from every transcript, later calls only stat them).

    .venv/bin/python bench/sessions_list.py [--sessions 10000] [--skills] [--keep DIR] [--json]

`--skills` gives every entry the 8 KB skillsSnapshot real OpenClaw entries carry.
"""

from __future__ import annotations

import argparse
import heapq
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.store import SessionStore

TOP = 200
SKILLS = {
    "prompt": "\n\nThe following skills provide specialized instructions for specific tasks.\n" * 20,
    "skills": [{"name": f"skill-{i}"} for i in range(5)],
    "resolvedSkills": [
        {"name": f"skill-{i}", "description": "d" * 120, "filePath": f"/opt/skills/{i}/SKILL.md",
         "baseDir": f"/opt/skills/{i}", "source": "openclaw-bundled"} for i in range(5)
    ],
    "version": 0,
}


def build(state: Path, count: int, skills: bool) -> None:
    sessions = paths.sessions_dir(state)
    sessions.mkdir(parents=True, exist_ok=True)
    store: dict[str, Any] = {}
    base = 1_795_268_000_000
    for i in range(count):
        session_id = str(uuid.uuid4())
        entry: dict[str, Any] = {
            "sessionId": session_id, "updatedAt": base + (i * 7919) % count * 1000,
            "systemSent": True, "abortedLastRun": False, "chatType": "direct",
            "deliveryContext": {"channel": "webchat"}, "lastChannel": "webchat",
            "origin": {"provider": "webchat", "surface": "webchat", "chatType": "direct"},
            "sessionFile": str(sessions / f"{session_id}.jsonl"), "compactionCount": 0,
            "inputTokens": 1200 + i, "outputTokens": 300, "totalTokens": 1500 + i,
            "modelProvider": "anthropic", "model": "claude-sonnet-4-5", "contextTokens": 200000,
            "label": f"Session {i}",
        }
        if skills:
            entry["skillsSnapshot"] = SKILLS
        store[f"agent:main:s{i}"] = entry
        lines = [
            tx.session_header(session_id, str(state / "workspace")),
            tx.message_entry({"role": "user", "content": [{"type": "text", "text": f"hello {i}"}],
                              "timestamp": base}, parent_id=None),
        ]
        (sessions / f"{session_id}.jsonl").write_bytes(b"".join(tx.encode_line(e) for e in lines))
    (sessions / "sessions.json").write_text(json.dumps(store, indent=2, ensure_ascii=False))


def list_recent(store: SessionStore) -> list[str]:
    entries = store.entries()
    return heapq.nlargest(TOP, entries, key=lambda k: entries[k].get("updatedAt") or 0)


def measure_cold(state: Path) -> float:
    """entries() + sort in a fresh interpreter, so nothing is cached in-process."""
    code = (
        "import sys, time, heapq\nfrom pathlib import Path\n"
        "from molt_desktop.sessions.store import SessionStore\n"
        "t = time.perf_counter()\ns = SessionStore(Path(sys.argv[1]))\ne = s.entries()\n"
        f"top = heapq.nlargest({TOP}, e, key=lambda k: e[k].get('updatedAt') or 0)\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(state)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip())


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--skills", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the state dir here and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="molt-bench-sessions-")
    state = args.keep or Path(tmp.name) / "state"
    started = time.perf_counter()
    build(state, args.sessions, args.skills)
    built = time.perf_counter() - started
    size = paths.sessions_dir(state).joinpath("sessions.json").stat().st_size

    cold = [measure_cold(state) for _ in range(5)]
    store = SessionStore(state)
    try:
        first = timed(lambda: list_recent(store))
        warm = [timed(lambda: list_recent(store)) for _ in range(20)]
        warm_entries = [timed(store.entries) for _ in range(20)]
        assert len(list_recent(store)) == min(TOP, args.sessions)
        update_first = timed(lambda: store.update("agent:main:s1", {"label": "renamed"}))
        update_next = statistics.median(
            timed(lambda: store.update("agent:main:s2", {"inputTokens": n})) for n in range(5)
        )
        search_first = timed(lambda: store.search("hello 42"))
        search_next = statistics.median(timed(lambda: store.search("hello 42")) for _ in range(3))
    finally:
        store.close()
        tmp.cleanup()

    figures = {
        "sessions": args.sessions, "sessions_json_bytes": size, "build_s": round(built, 2),
        "cold_list_ms_median": round(statistics.median(cold) * 1000, 1),
        "cold_list_ms_max": round(max(cold) * 1000, 1),
        "first_list_in_process_ms": round(first * 1000, 1),
        "warm_list_ms_median": round(statistics.median(warm) * 1000, 2),
        "warm_list_ms_max": round(max(warm) * 1000, 2),
        "warm_entries_only_ms_median": round(statistics.median(warm_entries) * 1000, 3),
        "update_first_ms": round(update_first * 1000, 1),
        "update_next_ms_median": round(update_next * 1000, 1),
        "search_first_ms": round(search_first * 1000, 1),
        "search_next_ms_median": round(search_next * 1000, 1),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{args.sessions} sessions, sessions.json {size / 1e6:.1f} MB (built in {built:.1f} s)")
    print(f"cold  entries()+top {TOP}: median {figures['cold_list_ms_median']} ms, "
          f"max {figures['cold_list_ms_max']} ms (fresh process, 5 runs)")
    print(f"warm  entries()+top {TOP}: median {figures['warm_list_ms_median']} ms, "
          f"max {figures['warm_list_ms_max']} ms (20 runs; entries() alone "
          f"{figures['warm_entries_only_ms_median']} ms, the rest is the sort)")
    print(f"update(): first {figures['update_first_ms']} ms, then {figures['update_next_ms_median']} ms")
    print(f"search(): first {figures['search_first_ms']} ms (builds the index), "
          f"then {figures['search_next_ms_median']} ms")


if __name__ == "__main__":
    main()
