"""Driving the real OpenClaw (npm `openclaw`) gateway and CLI from tests.

Everything here runs Node from the install made by `scripts/install-openclaw.sh`. Facts this relies
on (measured, see the interop findings):

- `openclaw@2026.9.6`'s `gateway call` needs `--token`/`--password` whenever `--url` is given (an
  env token is refused); it connects as `cli`/`cli`, protocol 4 only, without device identity on a
  loopback URL, and prints JSON on stdout with `--json` for success *and* failure (exit 1).
- `openclaw@2026.1.29`'s `gateway call --token` is swallowed by the parent `gateway` command, so
  the token must come from `OPENCLAW_GATEWAY_TOKEN`; it always signs a device identity (v2) whose
  key it keeps in `$HOME/.openclaw/identity/device.json` (not under OPENCLAW_STATE_DIR) and its
  device token in `$OPENCLAW_STATE_DIR/identity/device-auth.json`. Once it holds a device token it
  may send that instead of the shared token, so a wrong-token test needs `cli.fresh()`. On failure
  it prints nothing on stdout, only text on stderr (exit 1).
- Both gateways write outside OPENCLAW_STATE_DIR (`$HOME/.openclaw/canvas`, logs in
  `/tmp/openclaw/`), so every process gets its own HOME.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[3]
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-openclaw.sh"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "openclaw"

V_CURRENT = "2026.9.6"  # protocol 4, SQLite sessions
V_FILE_ERA = "2026.1.29"  # protocol 3, file-based sessions (agents/main/sessions/*.jsonl)
VERSIONS = (V_CURRENT, V_FILE_ERA)

# Env every openclaw process gets (PROTOCOL.md); OPENCLAW_SKIP_CHANNELS only matters for gateways.
BASE_ENV = {
    "OPENCLAW_DISABLE_BONJOUR": "1",
    "OPENCLAW_NO_RESPAWN": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}


@dataclass(frozen=True)
class OpenClawInstall:
    node: Path
    entries: Mapping[str, Path]  # version -> .../node_modules/openclaw/openclaw.mjs
    cache_dir: Path

    def entry(self, version: str) -> Path:
        return self.entries[version]


def install_openclaw(dest: Path = DEFAULT_CACHE_DIR, versions: tuple[str, ...] = VERSIONS) -> OpenClawInstall:
    """Run scripts/install-openclaw.sh for each version (fast when already installed)."""
    node: Path | None = None
    entries: dict[str, Path] = {}
    for version in versions:
        proc = subprocess.run(
            ["bash", str(INSTALL_SCRIPT), str(dest), version],
            capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"install-openclaw.sh {version} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        node = Path(values["NODE"])
        entries[version] = Path(values["OPENCLAW_ENTRY"])
    assert node is not None
    return OpenClawInstall(node=node, entries=entries, cache_dir=dest)


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The test process's env without any OPENCLAW_*/MOLT_* settings, plus BASE_ENV and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_", "CLAWDBOT_", "MOLTBOT_"))}
    env.update(BASE_ENV)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the CLI ---------------------------------------------------------------------------------


@dataclass
class CliResult:
    """`code, data, stderr = result` unpacks; `data` is the parsed stdout JSON or None."""

    code: int
    data: Any
    stderr: str
    stdout: str = ""
    argv: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __iter__(self) -> Iterator[Any]:
        return iter((self.code, self.data, self.stderr))

    @property
    def ok(self) -> bool:
        return self.code == 0


def parse_cli_json(stdout: str) -> Any:
    """stdout of `gateway call --json`: one JSON document (2026.9.6 may log lines before it)."""
    text = stdout.strip()
    if not text:
        return None
    with contextlib.suppress(json.JSONDecodeError):
        return json.loads(text)
    start = re.search(r"^[{\[]", text, re.MULTILINE)  # skip log lines before the document
    if start:
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(text[start.start():])
    return None


@dataclass
class OpenClawCli:
    """The real `openclaw gateway call` of one version, with its own HOME and state dir."""

    install: OpenClawInstall
    version: str
    home: Path

    @property
    def state_dir(self) -> Path:
        return self.home / "cli-state"

    def fresh(self) -> OpenClawCli:
        """The same CLI with a new HOME and state dir: no device key, no stored device token."""
        n = 1
        while (self.home / f"fresh-{n}").exists():
            n += 1
        home = self.home / f"fresh-{n}"
        home.mkdir(parents=True)
        return OpenClawCli(install=self.install, version=self.version, home=home)

    def env(self, token: str | None = None, password: str | None = None) -> dict[str, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        extra = {
            "HOME": str(self.home),
            "OPENCLAW_STATE_DIR": str(self.state_dir),
            "OPENCLAW_CONFIG_PATH": str(self.state_dir / "openclaw.json"),
        }
        if self.version == V_FILE_ERA:  # its `gateway call --token/--password` never reach the client
            if token is not None:
                extra["OPENCLAW_GATEWAY_TOKEN"] = token
            if password is not None:
                extra["OPENCLAW_GATEWAY_PASSWORD"] = password
        return clean_env(extra)

    def argv(self, *args: str) -> list[str]:
        return [str(self.install.node), str(self.install.entry(self.version)), *args]

    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
        port: int | None = None,
        token: str | None = None,
        password: str | None = None,
        timeout_ms: int = 10000,
        expect_final: bool = False,
        extra_args: tuple[str, ...] = (),
    ) -> CliResult:
        if url is None:
            if port is None:
                raise ValueError("url or port is required")
            url = f"ws://127.0.0.1:{port}"
        args = ["gateway", "call", method, "--url", url, "--json", "--timeout", str(timeout_ms)]
        if params is not None:
            args += ["--params", json.dumps(params)]
        if token is not None:
            args += ["--token", token]
        if password is not None:
            args += ["--password", password]
        if expect_final:
            args.append("--expect-final")
        args += list(extra_args)
        return self.run(*args, token=token, password=password, timeout=timeout_ms / 1000 + 60)

    def run(self, *args: str, token: str | None = None, password: str | None = None,
            timeout: float = 120) -> CliResult:
        argv = self.argv(*args)
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env=self.env(token, password), cwd=self.home, check=False)
        return CliResult(code=proc.returncode, data=parse_cli_json(proc.stdout), stderr=proc.stderr,
                         stdout=proc.stdout, argv=argv, seconds=time.monotonic() - started)


# ---- the gateway -----------------------------------------------------------------------------


def fake_provider_config(base_url: str, model_id: str = "fake-1") -> dict[str, Any]:
    """`models` + `agents` config that points OpenClaw at a fake OpenAI-compatible server."""
    return {
        "models": {"mode": "merge", "providers": {"fake": {
            "baseUrl": base_url, "apiKey": "fake-key", "api": "openai-completions",
            "models": [{"id": model_id, "name": "Fake", "reasoning": False, "input": ["text"],
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                        "contextWindow": 32000, "maxTokens": 2048}],
        }}},
        "agents": {"defaults": {"model": {"primary": f"fake/{model_id}"}}},
    }


def prepare_gateway_config(state_dir: Path, port: int, token: str,
                           model_base_url: str | None = None, *, bind: str = "loopback") -> Path:
    """Create or update `<state_dir>/openclaw.json`: `bind` (loopback unless told: "lan" listens
    on 0.0.0.0), `port`, token auth with `token` (and the fake model provider when
    `model_base_url` is given). Other settings are kept."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "openclaw.json"
    config: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if model_base_url is not None:
        provider = fake_provider_config(model_base_url)
        config.setdefault("models", {}).update(provider["models"])
        config.setdefault("agents", {}).setdefault("defaults", {}).update(provider["agents"]["defaults"])
    gateway = config.setdefault("gateway", {})
    gateway.update({"port": port, "mode": "local", "bind": bind, "auth": {"mode": "token", "token": token}})
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def ws_challenge(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """Open a WebSocket to 127.0.0.1:port and return the first frame (the connect.challenge
    event), or None. Stdlib only; closes right away."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request.encode())
            buf = b""
            deadline = time.monotonic() + timeout
            while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                return None
            while time.monotonic() < deadline:
                if len(rest) >= 2:
                    length = rest[1] & 0x7F
                    offset = 2
                    if length == 126:
                        offset = 4
                        length = int.from_bytes(rest[2:4], "big") if len(rest) >= 4 else 1 << 62
                    elif length == 127:
                        offset = 10
                        length = int.from_bytes(rest[2:10], "big") if len(rest) >= 10 else 1 << 62
                    if len(rest) >= offset + length:
                        frame = json.loads(rest[offset:offset + length])
                        return frame if isinstance(frame, dict) else None
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                rest += chunk
    except (OSError, ValueError):
        return None
    return None


@dataclass
class GatewayRun:
    """A gateway process (ours or the real OpenClaw one) on 127.0.0.1, its output in `log_path`."""

    port: int
    token: str
    state_dir: Path
    home: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    startup_seconds: float

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass(kw_only=True)
class RealGateway(GatewayRun):
    version: str


_G = TypeVar("_G", bound=GatewayRun)


def _launch(argv: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session (so its process group can be stopped), output to `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def _sends_challenge(port: int) -> bool:
    frame = ws_challenge(port)
    return frame is not None and frame.get("event") == "connect.challenge"


@contextlib.contextmanager
def _supervised(gateway: _G, started: float, ready: Callable[[_G], bool], *, name: str, not_ready: str,
                startup_timeout: float, interval: float) -> Iterator[_G]:
    """Poll `ready(gateway)` every `interval` seconds until true (fail when the process exits or
    `startup_timeout` passes), yield the gateway, and stop its process group on exit."""
    proc = gateway.process
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{gateway.log_tail()}")
            if ready(gateway):
                break
            if time.monotonic() - started > startup_timeout:
                raise RuntimeError(f"{not_ready} within {startup_timeout:.0f}s:\n{gateway.log_tail()}")
            time.sleep(interval)
        gateway.startup_seconds = time.monotonic() - started
        yield gateway
    finally:
        _stop_process_group(proc)


def _stop_process_group(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # our own session: the gateway and its helper children
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def run_real_gateway(install: OpenClawInstall, version: str, state_dir: Path, port: int, token: str,
                     *, home: Path | None = None, model_base_url: str | None = None,
                     startup_timeout: float = 120.0, bind: str = "loopback") -> Iterator[RealGateway]:
    """Start `openclaw gateway --port P --allow-unconfigured` of `version` on `state_dir` (its
    openclaw.json gets port/token/bind via prepare_gateway_config) and wait until it sends a
    connect.challenge on 127.0.0.1 (also there with bind "lan"). Stops it (SIGTERM to its
    process group, then SIGKILL) on exit."""
    state_dir = Path(state_dir)
    prepare_gateway_config(state_dir, port, token, model_base_url, bind=bind)
    home = Path(home) if home is not None else state_dir.parent / f"home-gateway-{port}"
    home.mkdir(parents=True, exist_ok=True)
    log_path = state_dir.parent / f"gateway-{version}-{port}.log"
    env = clean_env({
        "HOME": str(home),
        "OPENCLAW_STATE_DIR": str(state_dir),
        "OPENCLAW_CONFIG_PATH": str(state_dir / "openclaw.json"),
        "OPENCLAW_SKIP_CHANNELS": "1",
    })
    argv = [str(install.node), str(install.entry(version)), "gateway", "--port", str(port), "--allow-unconfigured"]
    started = time.monotonic()
    proc = _launch(argv, env, home, log_path)
    gateway = RealGateway(version=version, port=port, token=token, state_dir=state_dir, home=home,
                          log_path=log_path, process=proc, startup_seconds=0.0)
    with _supervised(gateway, started, lambda g: _sends_challenge(g.port), name=f"openclaw {version} gateway",
                     not_ready=f"openclaw {version} gateway did not answer on {port}",
                     startup_timeout=startup_timeout, interval=0.25) as ready:
        yield ready


def copy_file_era_state(src: Path, dest: Path) -> Path:
    """Lay out a flat 2026.1.29 state folder (openclaw.json, sessions.json, *.jsonl — like
    shared/openclaw/state-2026.1.29) as `<dest>/openclaw.json` +
    `<dest>/agents/main/sessions/{sessions.json,<id>.jsonl}`, the layout that version reads."""
    sessions = dest / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.name == "openclaw.json":
            (dest / item.name).write_bytes(item.read_bytes())
        elif item.name == "sessions.json" or item.suffix == ".jsonl":
            (sessions / item.name).write_bytes(item.read_bytes())
    return dest


# ---- our gateway (molt-desktop) as a process ---------------------------------------------------

MOLT_CONFIG = "moltbot.json"
_READY = re.compile(r"gateway ready on ws://([0-9.]+|\[[0-9a-f:]+\]|[\w.-]+):(\d+)")


def write_molt_config(state_dir: Path, token: str, model_base_url: str | None = None) -> Path:
    """Create or update `<state_dir>/moltbot.json` (JSON, a subset of JSON5): token auth with
    `token` and, when `model_base_url` is given, the fake OpenAI-compatible model as
    `fake/fake-1` (the same provider block the real gateway gets). Other settings are kept."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / MOLT_CONFIG
    config: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if model_base_url is not None:
        provider = fake_provider_config(model_base_url)
        config.setdefault("models", {}).setdefault("providers", {}).update(provider["models"]["providers"])
        config.setdefault("agents", {}).setdefault("defaults", {}).update(provider["agents"]["defaults"])
    config.setdefault("gateway", {})["auth"] = {"mode": "token", "token": token}
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


@dataclass
class MoltGateway(GatewayRun):
    pass


def _molt_ready(gateway: MoltGateway) -> bool:
    """Our gateway logged "gateway ready on ws://host:port" (that port is then `gateway.port`)
    and sends a connect.challenge there."""
    ready = _READY.search(gateway.log_tail(1 << 20))
    if ready is None:
        return False
    gateway.port = int(ready.group(2))
    return _sends_challenge(gateway.port)


@contextlib.contextmanager
def run_molt_gateway(state_dir: Path, token: str, *, model_base_url: str | None = None,
                     home: Path | None = None, startup_timeout: float = 60.0,
                     port: int = 0) -> Iterator[MoltGateway]:
    """Start `python -m molt_desktop gateway --port 0` (our gateway, as a process) with
    MOLT_DESKTOP_HOME=`state_dir` (its moltbot.json gets the token and fake model via
    write_molt_config), wait for "gateway ready on ws://host:port" and a connect.challenge on that
    port, and stop it (SIGTERM to its process group, then SIGKILL) on exit. A `port` other than 0
    is listened on instead (a gateway started again where its clients expect it)."""
    state_dir = Path(state_dir)
    write_molt_config(state_dir, token, model_base_url)
    home = Path(home) if home is not None else state_dir.parent / "home-molt-gateway"
    home.mkdir(parents=True, exist_ok=True)
    n = 1
    while (log_path := state_dir.parent / f"molt-gateway-{n}.log").exists():
        n += 1
    env = {k: v for k, v in clean_env({}).items() if not k.startswith("MOLT_DESKTOP_")}
    env.update({
        "HOME": str(home),
        "MOLT_DESKTOP_HOME": str(state_dir),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "MOLT_DESKTOP_LANG": "en",
        "PYTHONUNBUFFERED": "1",
    })
    argv = [sys.executable, "-m", "molt_desktop", "gateway", "--port", str(port)]
    started = time.monotonic()
    proc = _launch(argv, env, REPO_ROOT, log_path)
    gateway = MoltGateway(port=0, token=token, state_dir=state_dir, home=home, log_path=log_path,
                          process=proc, startup_seconds=0.0)
    with _supervised(gateway, started, _molt_ready, name="molt-desktop gateway",
                     not_ready="molt-desktop gateway not ready", startup_timeout=startup_timeout,
                     interval=0.1) as ready:
        yield ready


def poll_cli(call: Callable[[], CliResult], done: Callable[[CliResult], bool], *,
             timeout: float = 45.0, interval: float = 0.5) -> CliResult:
    """Repeat a CLI call until `done(result)` or `timeout` seconds passed; returns the last result
    (check it with `done` again: the caller's assertion then shows what the CLI said)."""
    deadline = time.monotonic() + timeout
    while True:
        result = call()
        if done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def assistant_texts(history: Any) -> list[str]:
    """The texts of the assistant messages in a `chat.history` payload."""
    return [message_text(m) for m in (history or {}).get("messages", []) if m.get("role") == "assistant"]


def message_text(message: Mapping[str, Any]) -> str:
    """A transcript message's text: `content` is a string or a list of `{type:"text", text}`."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict)
                   and part.get("type") == "text")


# ---- a non-loopback address on this machine ----------------------------------------------------

# A /32 on a veth pair of our own: the kernel delivers a connection to it locally, and the peer
# (source) address the server sees is that address, not 127.0.0.1, so a gateway judges the client
# "remote". A veth pair rather than a dummy link because containers often lack the dummy module.
HOST_ADDRESS_PREFIX = "10.213"


@dataclass(frozen=True)
class HostAddress:
    address: str
    link: str  # the veth end holding `address`; its peer is `link` + "p"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                          check=False)


@contextlib.contextmanager
def non_loopback_address() -> Iterator[HostAddress]:
    """Add a private address (10.213.x.y/32) on a new veth pair named after this process, yield
    it, and delete the pair (and with it the address) on exit, also after a failure. Needs root
    (CAP_NET_ADMIN) and iproute2; raises RuntimeError saying so when it cannot."""
    pid = os.getpid()
    n = 0
    while True:
        link = f"mlt{pid % 10**8}{n}"[:13]
        if _ip("link", "show", link).returncode != 0:
            break
        n += 1
    try:
        made = _ip("link", "add", link, "type", "veth", "peer", "name", link + "p")
    except FileNotFoundError as exc:
        raise RuntimeError("the `ip` command is missing: install iproute2 (scripts/system-deps.sh)") from exc
    if made.returncode != 0:
        raise RuntimeError(f"cannot create a veth pair for a non-loopback test address (needs root / "
                           f"CAP_NET_ADMIN): ip link add: {made.stderr.strip()}")
    try:
        for attempt in range(256):
            address = f"{HOST_ADDRESS_PREFIX}.{(pid >> 8) % 256}.{(pid + attempt) % 254 + 1}"
            added = _ip("addr", "add", f"{address}/32", "dev", link)
            if added.returncode == 0:
                break
            if "exists" not in added.stderr.lower():
                raise RuntimeError(f"cannot add {address} to {link}: {added.stderr.strip()}")
        else:
            raise RuntimeError(f"no free {HOST_ADDRESS_PREFIX}.x.y address for {link}")
        for end in (link, link + "p"):
            up = _ip("link", "set", end, "up")
            if up.returncode != 0:
                raise RuntimeError(f"cannot bring {end} up: {up.stderr.strip()}")
        yield HostAddress(address=address, link=link)
    finally:
        _ip("link", "del", link)


# ---- a fake model server of a test's own -------------------------------------------------------


@dataclass
class FakeModel:
    """`python -m tests.fakes.serve --kind openai` as a process; `control()` changes its behaviour."""

    port: int
    process: subprocess.Popen[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def control(self, **settings: Any) -> Any:
        """POST /_control (keys as in tests/fakes/common.py: text, chunks, delay, reset, ...)."""
        return self._request("POST", "/_control", settings)

    def stats(self) -> Any:
        return self._request("GET", "/_stats")

    def requests(self) -> list[dict[str, Any]]:
        """GET /_requests: every request so far with its headers and JSON body."""
        return list(self._request("GET", "/_requests")["requests"])

    def reset_requests(self) -> None:
        """POST /_reset: forget the requests recorded so far (the behaviour stays)."""
        self._request("POST", "/_reset", {})


@contextlib.contextmanager
def run_fake_model(*args: str) -> Iterator[FakeModel]:
    """Start a fake OpenAI-compatible model (`args` as for tests.fakes.serve, e.g. "--delay",
    "0.2") and stop it on exit."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve", "--kind", "openai", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            cwd=REPO_ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening "):
            raise RuntimeError(f"fake model server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        yield FakeModel(port=int(line.split()[1]), process=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
