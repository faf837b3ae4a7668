"""Settings > Remote gateways against real gateways: add, save (token in the keyring), and Test.

The Test connects with the real client to a second real gateway ("server"): connected with the
latency and the server's version; a wrong token; a TLS fingerprint mismatch on a gateway serving
wss:// with its generated certificate (both fingerprints, then trusting the server's one after
the confirmation, and connected); PAIRING_REQUIRED for a connection from a non-loopback address
(the gateway's peer check patched as tests/gateway/test_conformance.py does), walked through: the
request id, both approve commands with Copy, then the shown `molt-desktop devices approve <id>`
run for real against the server's state dir, and Check again connects. Screenshot:
settings-remote-pairing.png (and its zh_CN version).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from molt_desktop.gateway import server as gateway_server
from molt_desktop.ui.i18n import UiLanguage
from molt_desktop.ui.remote_probe import RemoteCheck
from molt_desktop.ui.settings_dialog import SettingsDialog
from molt_desktop.ui.settings_remotes import RemotesPage
from tests.conftest import MemoryKeyring
from tests.ui.conftest import TOKEN, Desktop, StartRemote, save_screenshot, wait_signal, wait_until

WRONG_PIN = "sha256:" + "00" * 32


async def open_remotes(desktop: Desktop, qtbot: QtBot) -> tuple[SettingsDialog, RemotesPage]:
    dialog = SettingsDialog(desktop.bridge, desktop.actions, state_dir=desktop.state)
    qtbot.addWidget(dialog)
    dialog.resize(900, 760)
    dialog.show()
    await wait_until(lambda: dialog.payload is not None and dialog.ok_button.isEnabled(), what="config loaded")
    dialog.show_page("remotes")
    page = dialog.pages["remotes"]
    assert isinstance(page, RemotesPage)
    return dialog, page


async def run_test(page: RemotesPage, button: Any = None) -> RemoteCheck:
    waiter = asyncio.ensure_future(wait_signal(page.test_panel.finished, 20))
    await asyncio.sleep(0)
    (button or page.test_panel.test_button).click()
    (result,) = await waiter
    assert isinstance(result, RemoteCheck)
    return result


async def settle(desktop: Desktop) -> None:
    await wait_until(lambda: not desktop.bridge._tasks, what="the page's calls to finish")


async def test_add_a_remote_test_it_and_save_its_token_in_the_keyring(
        desktop: Desktop, qtbot: QtBot, start_remote: StartRemote, memory_keyring: MemoryKeyring) -> None:
    remote = await start_remote("server")
    dialog, page = await open_remotes(desktop, qtbot)
    page.add_remote()
    assert page.id_edit.text() == "server"
    page.url_edit.setText(remote.url)
    page.token_field.edit.setText("not-the-token")

    # A wrong token: said so, in words a person can act on.
    result = await run_test(page)
    assert result.outcome == "auth" and result.code == "AUTH_TOKEN_MISMATCH"
    status = page.test_panel.status.text()
    assert status.startswith("The gateway refused the token: it does not match"), status
    assert not page.test_panel.pairing_box.isVisible() and not page.test_panel.tls_box.isVisible()

    # The right token: connected, with the round trip and the server's version.
    page.token_field.edit.setText(TOKEN)
    result = await run_test(page)
    assert result.ok and result.latency_ms is not None and result.version
    assert result.version == remote.services.gateway.state.version  # type: ignore[union-attr]
    assert page.test_panel.status.text() == (f"Connected: the gateway answered in {result.latency_ms} ms "
                                             f"(version {result.version}).")
    save_screenshot(dialog, "settings-remote-ok")

    # Saved: the token sits in the keyring under the remote's name, the file holds the reference.
    assert await dialog.save()
    saved = json.loads((desktop.state / "moltbot.json").read_text(encoding="utf-8"))
    assert saved["remotes"] == [{"id": "server", "url": remote.url, "token": "keyring:remote.server.token"}]
    assert TOKEN not in json.dumps(saved["remotes"])
    assert [v for (_s, k), v in memory_keyring.items.items() if k == "remote.server.token"] == [TOKEN]

    # Renamed: the token moves to the new name with it.
    page.id_edit.setText("office")
    page._store_current()
    await wait_until(lambda: page.current is not None and page.current.token[1] == TOKEN, what="the stored token")
    assert await dialog.save()
    saved = json.loads((desktop.state / "moltbot.json").read_text(encoding="utf-8"))
    assert saved["remotes"][0]["token"] == "keyring:remote.office.token"
    assert [v for (_s, k), v in memory_keyring.items.items() if k == "remote.office.token"] == [TOKEN]
    page.remove_current()
    assert page.entries == [] and not page.editor.isEnabled()
    await settle(desktop)


async def test_a_tls_fingerprint_mismatch_shows_both_and_the_server_one_can_be_trusted(
        desktop: Desktop, qtbot: QtBot, start_remote: StartRemote, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = await start_remote("tls", tls=True)
    actual = remote.services.tls_fingerprint
    assert remote.url.startswith("wss://") and actual
    dialog, page = await open_remotes(desktop, qtbot)
    page.add_remote()
    page.url_edit.setText(remote.url)
    page.token_field.edit.setText(TOKEN)
    page.fingerprint.setText(WRONG_PIN)
    result = await run_test(page)
    assert result.outcome == "tls" and result.expected == WRONG_PIN and result.actual == actual
    panel = page.test_panel
    assert panel.status.text() == "The server's certificate does not match the pinned fingerprint."
    assert panel.tls_box.isVisible()
    assert (panel.pinned_value.text(), panel.server_value.text()) == (WRONG_PIN, actual)
    save_screenshot(dialog, "settings-remote-tls")

    # Trusting asks first; "Cancel" changes nothing.
    asked: list[str] = []

    async def refuse(fingerprint: str) -> bool:
        asked.append(fingerprint)
        return False

    monkeypatch.setattr(panel, "confirm_trust", refuse)
    await panel.trust()
    assert asked == [actual] and page.fingerprint.text() == WRONG_PIN

    async def accept(fingerprint: str) -> bool:
        return True

    monkeypatch.setattr(panel, "confirm_trust", accept)
    waiter = asyncio.ensure_future(wait_signal(panel.finished, 20))
    await asyncio.sleep(0)
    await panel.trust()
    (result,) = await waiter
    assert page.fingerprint.text() == actual and result.ok, result
    assert not panel.tls_box.isVisible() and panel.status.text().startswith("Connected: ")
    await settle(desktop)


async def test_pairing_required_is_walked_through(desktop: Desktop, qtbot: QtBot, start_remote: StartRemote,
                                                 english: UiLanguage, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = await start_remote("server")
    dialog, page = await open_remotes(desktop, qtbot)
    page.add_remote()
    page.url_edit.setText(remote.url)
    page.token_field.edit.setText(TOKEN)
    # Connections arrive as from another computer: a new device needs its owner's approval there.
    monkeypatch.setattr(gateway_server, "is_loopback_address", lambda host: False)
    result = await run_test(page)
    assert result.outcome == "pairing" and result.request_id and result.code == "PAIRING_REQUIRED"
    panel = page.test_panel
    assert panel.pairing_box.isVisible() and not panel.tls_box.isVisible()
    assert panel.status.text() == "The gateway answered, but this computer is not approved there yet."
    assert panel.request_label.text() == f"Pairing request: {result.request_id}"
    commands = [row.command for row in panel.command_rows]
    assert commands == [f"openclaw devices approve {result.request_id}",
                        f"molt-desktop devices approve {result.request_id}"]
    assert panel.openclaw_label.text() == "On an OpenClaw gateway:"
    panel.command_rows[1].copy_button.click()
    assert QGuiApplication.clipboard().text() == commands[1]
    dialog.resize(900, 920)
    save_screenshot(dialog, "settings-remote-pairing")
    english.apply("zh_CN")
    await wait_until(lambda: page.heading.text() not in ("", "Remote gateways"), what="the page in Chinese")
    save_screenshot(dialog, "settings-remote-pairing-zh_CN")
    english.apply("en")
    await wait_until(lambda: page.heading.text() == "Remote gateways", what="the page in English again")

    # Not approved yet: Check again says the same.
    again = await run_test(page, panel.check_again)
    assert again.outcome == "pairing" and again.request_id == result.request_id

    # The owner runs the command shown, on the server.
    program = [sys.executable, "-m", "molt_desktop", *commands[1].split()[1:]]
    process = await asyncio.create_subprocess_exec(*program, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE,
                                                   env={**os.environ, "MOLT_DESKTOP_HOME": str(remote.state)})
    out, err = await process.communicate()
    assert process.returncode == 0, (out, err)
    approved = await run_test(page, panel.check_again)
    assert approved.ok, approved
    assert not panel.pairing_box.isVisible() and panel.status.text().startswith("Connected: ")
    await settle(desktop)


async def test_no_address_and_an_unreachable_gateway(desktop: Desktop, qtbot: QtBot) -> None:
    dialog, page = await open_remotes(desktop, qtbot)
    page.add_remote()
    page.test_panel.test_button.click()
    assert page.test_panel.status.text() == "Enter a ws:// or wss:// address first."
    page.url_edit.setText("ws://127.0.0.1:9")  # discard port: nothing listens
    result = await run_test(page)
    assert result.outcome == "unreachable"
    assert page.test_panel.status.text().startswith("The gateway cannot be reached: ")
    await settle(desktop)
