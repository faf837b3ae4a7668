"""Fixtures for the Qt tests: asyncio on the Qt loop, a real embedded gateway, and screenshots.

Every test here runs offscreen (`QT_QPA_PLATFORM=offscreen`) on a `qasync.QEventLoop`, so the
embedded gateway (aiohttp), the endpoint pool and the widgets share one loop exactly as in the
app. `desktop` starts the services of app.py with a fake OpenAI-compatible model server and
connects a GatewayBridge; widgets under test are given `desktop.bridge` and `desktop.actions`.
`start_remote()` starts more gateways (own state dirs, same fake model), e.g. the "server"
gateway the pool fails over to, optionally with TLS (a generated self-signed certificate).

Async tests wait with `wait_until()` / `wait_signal()` (they yield to the loop); qtbot's
blocking waits would nest a Qt event loop inside a running asyncio task. For the same reason
pytest-qt's `processEvents()` between test phases is turned off: it would step asyncio callbacks
while no loop runs (qasync delivers them as Qt events). Qt events still run inside the loop.
Screenshots go to `.cache/screenshots/` (override with MOLT_DESKTOP_SCREENSHOTS).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest  # noqa: E402
import pytestqt.plugin  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtCore import SignalInstance  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from molt_desktop import i18n  # noqa: E402
from molt_desktop.app import GatewayOptions, Services  # noqa: E402
from molt_desktop.ui.actions import DesktopActions  # noqa: E402
from molt_desktop.ui.bridge import GatewayBridge  # noqa: E402
from molt_desktop.ui.i18n import UiLanguage  # noqa: E402
from tests.fakes.common import FakeModelServer  # noqa: E402
from tests.gateway.conftest import TOKEN, write_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MOLT_DESKTOP_SCREENSHOTS") or ROOT / ".cache" / "screenshots")


pytestqt.plugin._process_events = lambda: None  # see the module docstring


def _qapp() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(["molt-desktop-tests"])
        app.setQuitOnLastWindowClosed(False)
    assert isinstance(app, QApplication)
    return app


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    return {"qasync": lambda: qasync.QEventLoop(_qapp())}


@pytest.fixture(scope="session")
def qapp() -> QApplication:  # pytest-qt's fixture, made to create the same app as the loop factory
    return _qapp()


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """As in the app (qt_app.GuiThreadCollector): Python's collector runs only on this thread,
    so a Qt object caught in a reference cycle is never destroyed by a worker thread."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[UiLanguage]:
    """Each test starts in English, the UI's and the core's, and leaves no translator installed."""
    language = UiLanguage()
    language.apply("en")
    i18n.set_language("en")
    yield language
    language.apply("en")
    i18n.set_language("en")


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll `predicate` while the loop runs; its first truthy value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def wait_signal(signal: SignalInstance, timeout: float = 10.0,
                check: Callable[..., bool] | None = None) -> Awaitable[tuple[Any, ...]]:
    """The arguments of the next emission of `signal` (that passes `check`).

    Listening starts at the call, so `waiter = wait_signal(...)`, then the action, then
    `await waiter` catches an emission made by the action itself.
    """
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def slot(*args: Any) -> None:
        if not future.done() and (check is None or check(*args)):
            future.set_result(args)

    signal.connect(slot)

    async def wait() -> tuple[Any, ...]:
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            signal.disconnect(slot)

    return wait()


def save_screenshot(widget: QWidget, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not write {path}"
    return path


@dataclass
class Desktop:
    services: Services
    bridge: GatewayBridge
    actions: DesktopActions
    fake: FakeModelServer
    state: Path

    @property
    def port(self) -> int:
        return self.services.port


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer("openai") as server:
        yield server


@pytest.fixture
async def desktop(state_home: Path, fake_model: FakeModelServer) -> AsyncIterator[Desktop]:
    """The embedded gateway on a free port, with the UI's endpoint pool connected to it."""
    write_config(state_home, fake_model)
    services = Services(state_home, GatewayOptions(port=0), with_client=True)
    await services.start()
    assert services.pool is not None
    bridge = GatewayBridge(services.pool)
    try:
        assert await services.pool.wait_connected(10), services.pool.status.error
        yield Desktop(services, bridge, DesktopActions(), fake_model, state_home)
    finally:
        await bridge.close()
        await services.stop()


@dataclass
class RemoteGateway:
    services: Services
    state: Path

    @property
    def url(self) -> str:
        gateway = self.services.gateway
        assert gateway is not None
        return f"{gateway.scheme}://127.0.0.1:{self.services.port}"


StartRemote = Callable[..., Awaitable[RemoteGateway]]


@pytest.fixture
async def start_remote(tmp_path: Path, fake_model: FakeModelServer) -> AsyncIterator[StartRemote]:
    """`await start_remote(name, tls=False)`: another real gateway on a free port (stopped at the end)."""
    started: list[Services] = []

    async def start(name: str = "server", *, tls: bool = False) -> RemoteGateway:
        state = tmp_path / f"remote-{name}"
        state.mkdir()
        write_config(state, fake_model, **({"tls": {"autoGenerate": True}} if tls else {}))
        services = Services(state, GatewayOptions(port=0))
        await services.start()
        started.append(services)
        return RemoteGateway(services, state)

    try:
        yield start
    finally:
        for services in reversed(started):
            await services.stop()


__all__ = ["Desktop", "RemoteGateway", "StartRemote", "TOKEN", "save_screenshot", "wait_signal", "wait_until"]
