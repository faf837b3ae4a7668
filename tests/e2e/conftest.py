"""Fixtures for end-to-end tests: molt-desktop and the fake model as real processes.

- `procs`: starts processes for one test and always stops them (SIGTERM, then SIGKILL).
  `procs.fake(chunks=..., delay=...)` runs `python -m tests.fakes.serve` and returns a FakeProcess
  (`base_url`, `control(**behaviour)`, `stats()`); `procs.gateway(home, *args)` runs
  `python -m molt_desktop gateway --port 0 ...` with its own MOLT_DESKTOP_HOME and no keyring, and
  returns a GatewayProcess once it logs "gateway ready on ws://...:<port>" (the real port).
- `run_cli(home, *args)`: one `molt-desktop` command as a subprocess -> CliResult(code, stdout, stderr).
- `write_config(home, fakes, ...)`: the moltbot.json these tests use.
- `gateway_client(url)`: a GatewayConnection (the app's own client) collecting events.
- `assert_no_secret(secrets, home, *texts)`: no secret in the given output or any log file.

Waits poll with deadlines; nothing synchronises on a bare sleep.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from molt_desktop.client.connection import ClientOptions, GatewayConnection

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TOKEN = "e2e-gateway-token-0123456789abcdef-0123456789"
NO_KEYRING = "keyring.backends.fail.Keyring"
FILE_KEYRING = "keyrings.alt.file.PlaintextKeyring"
READY = re.compile(r"gateway ready on ws://([^\s:]+):(\d+)")
START_TIMEOUT = 30.0

Events = list[tuple[str, dict[str, Any]]]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


async def async_wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A port the OS says is free now (for configs that must name a port up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(home: Path, *, keyring_backend: str = NO_KEYRING, **extra: str) -> dict[str, str]:
    """The environment of a child: its own state dir and keyring choice, nothing from the user's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MOLT_DESKTOP_", "OPENCLAW_", "PYTHON_KEYRING", "XDG_"))
           and k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    xdg = home.parent / f"{home.name}-xdg"
    env.update({
        "MOLT_DESKTOP_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": keyring_backend,
        "XDG_DATA_HOME": str(xdg / "data"),
        "XDG_CONFIG_HOME": str(xdg / "config"),
        "XDG_CACHE_HOME": str(xdg / "cache"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MOLT_DESKTOP_LANG": "en",  # the tests read English messages, whatever the machine's locale
    })
    env.update(extra)
    return env


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(home: Path, *args: str, keyring_backend: str = NO_KEYRING, timeout: float = 60.0,
            env: dict[str, str] | None = None, script: bool = False) -> CliResult:
    """`molt-desktop <args>` (`python -m molt_desktop`, or the console script with `script=True`)."""
    command = [str(Path(PYTHON).with_name("molt-desktop"))] if script else [PYTHON, "-m", "molt_desktop"]
    completed = subprocess.run([*command, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL,
                               env=env if env is not None else clean_env(home, keyring_backend=keyring_backend))
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def log_lines(home: Path) -> list[dict[str, Any]]:
    """The JSON lines of `<home>/logs/molt-desktop.log` (a line being written is skipped)."""
    path = home / "logs" / "molt-desktop.log"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def assert_no_secret(secrets: list[str], home: Path | None, *texts: str) -> None:
    """None of `secrets` in the given outputs, nor in any file under `<home>/logs`."""
    places = {f"output #{i}": t for i, t in enumerate(texts)}
    if home is not None and (home / "logs").exists():
        for path in (home / "logs").rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    for secret in secrets:
        for where, text in places.items():
            assert secret not in text, f"secret {secret[:4]}… leaked into {where}"


def write_config(home: Path, fakes: dict[str, str] | None = None, *, primary: str | None = None,
                 token: str | None = TOKEN, extra: dict[str, Any] | None = None, **gateway: Any) -> dict[str, Any]:
    """moltbot.json with token auth and one OpenAI-compatible provider per `fakes` entry
    (`name -> baseUrl`, model `<name>-model`); `primary` defaults to the first provider."""
    auth: dict[str, Any] = {"mode": "token"}
    if token is not None:
        auth["token"] = token
    config: dict[str, Any] = {"gateway": {"auth": auth, **gateway}}
    if fakes:
        first = next(iter(fakes))
        config["agents"] = {"defaults": {"model": {"primary": primary or f"{first}/{first}-model"}, "maxConcurrent": 4}}
        config["models"] = {"providers": {name: {
            "baseUrl": url, "apiKey": f"{name}-api-key-e2e", "api": "openai-completions",
            "models": [{"id": f"{name}-model", "name": name.title(), "contextWindow": 32000, "maxTokens": 2048,
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}}]}
            for name, url in fakes.items()}}
    for key, value in (extra or {}).items():
        config[key] = value
    home.mkdir(parents=True, exist_ok=True)
    (home / "moltbot.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    return config


# --- processes ------------------------------------------------------------------------------------


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    files: list[IO[bytes]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL, as a crash: no shutdown code runs."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> int:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        code = self.popen.wait(timeout=10)
        for handle in self.files:
            handle.close()
        self.files.clear()
        return code


@dataclass
class FakeProcess(Proc):
    port: int = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _http(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.origin + path, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def control(self, **behaviour: Any) -> dict[str, Any]:
        """POST /_control, e.g. `control(chunks=400, delay=0.01)` or `control(reset=True)`."""
        return dict(self._http("/_control", behaviour))

    def stats(self) -> dict[str, Any]:
        return dict(self._http("/_stats"))

    def request_count(self) -> int:
        return int(self.stats()["count"])


@dataclass
class GatewayProcess(Proc):
    home: Path = Path()
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    def get_json(self, path: str) -> tuple[int, Any]:
        import urllib.error

        try:
            with urllib.request.urlopen(self.http + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())


class Processes:
    """Every process a test starts; `close()` stops them all."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list[Proc] = []
        self._n = 0

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path, Path,
                                                                              list[IO[bytes]]]:
        self._n += 1
        out_path = self.tmp / f"{self._n:02d}-{name}.stdout"
        err_path = self.tmp / f"{self._n:02d}-{name}.stderr"
        out, err = out_path.open("wb"), err_path.open("wb")
        try:
            popen = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except BaseException:
            out.close()
            err.close()
            raise
        return popen, out_path, err_path, [out, err]

    def fake(self, *, chunks: int | None = None, delay: float = 0.0, text: str | None = None) -> FakeProcess:
        argv = [PYTHON, "-m", "tests.fakes.serve", "--kind", "openai", "--port", "0"]
        if chunks is not None:
            argv += ["--chunks", str(chunks)]
        if delay:
            argv += ["--delay", str(delay)]
        if text is not None:
            argv += ["--text", text]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOLT_DESKTOP_")}
        popen, out, err, files = self._spawn("fake", argv, env)
        fake = FakeProcess(popen, out, err, files)
        self.started.append(fake)

        def listening() -> int | None:
            if not fake.alive():
                raise AssertionError(f"the fake model exited ({popen.returncode}): {fake.stderr()}")
            match = re.search(r"listening (\d+)", fake.stdout())
            return int(match.group(1)) if match else None

        fake.port = wait_until(listening, START_TIMEOUT, "the fake model to listen")
        return fake

    def gateway(self, home: Path, *args: str, port: int | None = 0, keyring_backend: str = NO_KEYRING,
                env: dict[str, str] | None = None, wait: bool = True) -> GatewayProcess:
        """`molt-desktop gateway [--port P] args...`; waits for the ready line unless `wait=False`."""
        argv = [PYTHON, "-m", "molt_desktop", "gateway"]
        if port is not None:
            argv += ["--port", str(port)]
        argv += list(args)
        popen, out, err, files = self._spawn("gateway", argv, env or clean_env(home, keyring_backend=keyring_backend))
        gw = GatewayProcess(popen, out, err, files, home=home)
        self.started.append(gw)
        if wait:
            self.wait_ready(gw)
        return gw

    def wait_ready(self, gw: GatewayProcess) -> GatewayProcess:
        def ready() -> re.Match[str] | None:
            match = READY.search(gw.stderr())
            if match is None and not gw.alive():
                raise AssertionError(f"the gateway exited ({gw.popen.returncode}) before it was ready:\n{gw.stderr()}")
            return match

        match = wait_until(ready, START_TIMEOUT, "the gateway's ready line")
        gw.host, gw.port = match.group(1), int(match.group(2))
        return gw

    def finish(self, proc: Proc, timeout: float = START_TIMEOUT) -> int:
        """Wait for a process expected to exit by itself; its exit code. A gateway that reports
        ready instead fails the test at once."""

        def ended() -> bool:
            if not proc.alive():
                return True
            if isinstance(proc, GatewayProcess) and READY.search(proc.stderr()):
                proc.stop()
                raise AssertionError(f"the gateway started instead of exiting:\n{proc.stderr()}")
            return False

        try:
            wait_until(ended, timeout, "the process to exit")
        except AssertionError:
            proc.stop()
            raise
        return proc.stop()

    def close(self) -> None:
        for proc in reversed(self.started):
            try:
                proc.stop()
            except Exception:  # keep stopping the others
                if proc.alive():
                    proc.popen.kill()
                    proc.popen.wait(timeout=10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    directory = tmp_path / "procs"
    directory.mkdir()
    keeper = Processes(directory)
    try:
        yield keeper
    finally:
        keeper.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The state dir given to the child processes (MOLT_DESKTOP_HOME)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


# --- the app's own client -------------------------------------------------------------------------


@asynccontextmanager
async def gateway_client(url: str, token: str | None = TOKEN, **options: Any) -> AsyncIterator[
        tuple[GatewayConnection, Events]]:
    events: Events = []
    conn = GatewayConnection(ClientOptions(url=url, token=token, **options), lambda e, p: events.append((e, p)))
    await conn.connect()
    try:
        yield conn, events
    finally:
        await conn.close()


def chat_payloads(events: Events, run_id: str, states: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    return [p for e, p in events if e == "chat" and p.get("runId") == run_id
            and (states is None or p.get("state") in states)]


def chat_text(payload: dict[str, Any]) -> str:
    content = (payload.get("message") or {}).get("content") or []
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


async def wait_terminal(events: Events, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
    found = await async_wait_until(lambda: chat_payloads(events, run_id, ("final", "error", "aborted")), timeout,
                                   f"the end of run {run_id}")
    return found[0]


def message_texts(history: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for message in history.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        else:
            text = str(content or "")
        out.append((message.get("role"), text))
    return out
