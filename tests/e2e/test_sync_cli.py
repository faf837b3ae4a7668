"""`molt-desktop sync now | status | test` as processes against a real sshd: the JSON report, two devices
seeing each other's sessions, a changed host key refused, a mass delete that needs --yes, and the
messages when sync is not set up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from tests.e2e.conftest import CliResult, run_cli
from tests.sync import conftest as sync_fixtures
from tests.sync.sshd import SshServer, sshd_server

pytestmark = pytest.mark.slow

# The sync tests' fixtures: a running sshd, and an empty folder on it.
sshd = sync_fixtures.sshd
remote = sync_fixtures.remote


def configure(home: Path, sshd: SshServer, remote: Path, device: str, **extra: Any) -> None:
    sync = {"enabled": True, "backend": "sftp", "host": sshd.host, "port": sshd.port, "username": sshd.user,
            "keyFile": str(sshd.client_key), "path": str(remote), "deviceName": device} | extra
    (home / "moltbot.json").write_text(json.dumps({"sync": sync}), encoding="utf-8")


def make_sessions(home: Path, names: list[str]) -> Path:
    folder = home / "agents" / "main" / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name in names:
        line = json.dumps({"type": "session", "version": 3, "id": name})
        (folder / f"{name}.jsonl").write_text(line + "\n" + "x" * 1000 + "\n", encoding="utf-8")
        entries[f"agent:main:{name}"] = {"sessionId": name, "updatedAt": 1_700_000_000_000}
    (folder / "sessions.json").write_text(json.dumps(entries), encoding="utf-8")
    return folder


def sync(home: Path, *args: str) -> CliResult:
    return run_cli(home, "sync", *args, timeout=90)


def fingerprint(public_key: Path) -> str:
    return str(asyncssh.read_public_key(public_key).get_fingerprint("sha256"))


def test_sync_now_reports_and_two_devices_see_each_other(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    laptop, desk = tmp_path / "laptop", tmp_path / "desk"
    for home, device, names in ((laptop, "laptop", ["a1", "a2"]), (desk, "desk", ["b1"])):
        home.mkdir()
        configure(home, sshd, remote, device)
        make_sessions(home, names)

    first = sync(laptop, "now", "--json")
    assert first.code == 0, first.output
    report = first.json()
    assert set(report) >= {"filesSent", "bytesSent", "filesReceived", "bytesReceived", "errors", "device",
                           "fingerprint"}
    assert report["filesSent"] == 3 and report["bytesSent"] > 2000 and report["errors"] == []
    assert report["fingerprint"] == fingerprint(sshd.host_key_public)
    assert report["device"]["name"] == "laptop" and report["device"]["folder"].startswith("laptop-")
    laptop_folder = report["device"]["folder"]

    again = sync(laptop, "now", "--json")
    assert again.code == 0, again.output
    assert again.json()["filesSent"] == 0 and again.json()["filesReceived"] == 0

    text = sync(desk, "now")
    assert text.code == 0, text.output
    assert "Sent 2 files" in text.stdout and "Received 3 files" in text.stdout
    assert "Server host key: SHA256:" in text.stdout
    desk_folder = next(p.name for p in remote.iterdir() if p.name.startswith("desk-"))
    assert (desk / "synced" / laptop_folder / "agents" / "main" / "sessions" / "a2.jsonl").exists()

    back = sync(laptop, "now", "--json")
    assert back.code == 0 and back.json()["filesReceived"] == 2, back.output
    assert (laptop / "synced" / desk_folder / "agents" / "main" / "sessions" / "b1.jsonl").exists()

    status = sync(laptop, "status", "--json")
    assert status.code == 0, status.output
    record = status.json()
    assert record["enabled"] and record["lastGoodAt"] and record["ageSeconds"] >= 0 and record["lastError"] is None
    assert record["fingerprint"] == report["fingerprint"]
    assert "Last good sync:" in sync(laptop, "status").stdout

    listing = sync(laptop, "test", "--json")
    assert listing.code == 0, listing.output
    assert {e["name"] for e in listing.json()["entries"] if e["isDir"]} == {laptop_folder, desk_folder}
    assert listing.json()["fingerprint"] == report["fingerprint"]


def test_a_changed_host_key_is_refused(sshd: SshServer, remote: Path, home: Path) -> None:
    configure(home, sshd, remote, "laptop")
    make_sessions(home, ["a1"])
    assert sync(home, "now").code == 0
    old = fingerprint(sshd.host_key_public)

    sshd.kill()
    sshd.start(new_host_key=True)
    new = fingerprint(sshd.host_key_public)
    refused = sync(home, "now")
    assert refused.code == 1
    assert "has changed" in refused.stderr and old in refused.stderr and new in refused.stderr
    status = sync(home, "status", "--json").json()
    assert "has changed" in status["lastError"] and status["lastGoodAt"]
    tested = sync(home, "test", "--json")
    assert tested.code == 1 and not tested.json()["ok"] and new in tested.json()["message"]


def test_a_mass_delete_needs_yes(sshd: SshServer, remote: Path, home: Path) -> None:
    configure(home, sshd, remote, "laptop")
    folder = make_sessions(home, ["a1", "a2", "a3"])
    assert sync(home, "now").code == 0
    for name in ("a1", "a2", "a3"):
        (folder / f"{name}.jsonl").unlink()
    asked = sync(home, "now", "--json")
    assert asked.code == 1 and "--yes" in asked.stderr
    assert asked.json()["needsConfirmation"] == {"archive": 3, "remote": 4}
    assert sync(home, "status", "--json").json()["pending"] == [3, 4]
    done = sync(home, "now", "--yes", "--json")
    assert done.code == 0, done.output
    assert sync(home, "status", "--json").json()["pending"] is None


def test_not_set_up_or_unreachable_fails_clearly(home: Path, tmp_path: Path) -> None:
    (home / "moltbot.json").write_text(json.dumps({"sync": {"enabled": False}}), encoding="utf-8")
    off = sync(home, "now")
    assert off.code == 1 and "Sync is turned off" in off.stderr

    (home / "moltbot.json").write_text(json.dumps({"sync": {"enabled": True}}), encoding="utf-8")
    no_host = sync(home, "now", "--json")
    assert no_host.code == 1 and "host name" in no_host.stderr and no_host.json()["ok"] is False

    with sshd_server(tmp_path / "gone") as server:
        port = server.port
    (home / "moltbot.json").write_text(json.dumps({"sync": {
        "enabled": True, "host": "127.0.0.1", "port": port, "username": "nobody", "path": "/tmp"}}), encoding="utf-8")
    down = sync(home, "now")
    assert down.code == 1 and "refused" in down.stderr
    assert "refused" in sync(home, "status", "--json").json()["lastError"]
