"""The interop fixtures work: the real openclaw 2026.9.6 CLI talks to the real 2026.9.6 gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.interop.helpers import V_CURRENT, OpenClawCli, RealGateway, free_port

pytestmark = [pytest.mark.interop, pytest.mark.slow]

TOKEN = "selfcheck-token-1"


@pytest.fixture(scope="module")
def gateway(real_openclaw_gateway: Callable[..., AbstractContextManager[RealGateway]],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGateway]:
    state = tmp_path_factory.mktemp("real-gateway") / "state"
    with real_openclaw_gateway(state, free_port(), TOKEN, V_CURRENT) as gw:
        yield gw


def test_real_cli_health_against_real_gateway(gateway: RealGateway,
                                              openclaw_cli: Callable[[str], OpenClawCli]) -> None:
    code, data, stderr = openclaw_cli(V_CURRENT).call("health", port=gateway.port, token=TOKEN)
    assert code == 0, stderr
    assert data["ok"] is True
    assert data["defaultAgentId"] == "main"
    assert [agent["agentId"] for agent in data["agents"]] == ["main"]


def test_real_cli_reports_token_mismatch_as_json(gateway: RealGateway,
                                                 openclaw_cli: Callable[[str], OpenClawCli]) -> None:
    code, data, _stderr = openclaw_cli(V_CURRENT).call("health", port=gateway.port, token="wrong")
    assert code == 1
    assert data["ok"] is False
    # Direct connection: the connect `res` error wins; if the close frame wins the race the CLI
    # reports a transport error whose reason carries the same message.
    assert "token mismatch" in data["error"]["message"]
