"""The first-run dialog: shown when no provider is configured, saving a preset provider makes
chat work through the real gateway, Skip writes nothing, and the Test button."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pytestqt.qtbot import QtBot

from molt_desktop.config.secrets import SERVICE
from molt_desktop.ui.first_run import FirstRunDialog, needs_first_run
from tests.conftest import MemoryKeyring
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until

KEY = "sk-first-run-key-0123"


async def remove_providers(desktop: Desktop) -> None:
    """The config of a new user: no provider, no default model."""
    current = await desktop.bridge.call("config.get")
    await desktop.bridge.call("config.patch", {"raw": '{"models": {"providers": {"fake": null}}, "agents": null}',
                                               "baseHash": current["hash"]})


async def wait_until_async(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def config_text(desktop: Desktop) -> str:
    return (desktop.state / "moltbot.json").read_text(encoding="utf-8")


async def test_needed_only_without_a_usable_provider(desktop: Desktop) -> None:
    assert not await needs_first_run(desktop.bridge)
    await remove_providers(desktop)
    assert await needs_first_run(desktop.bridge)


async def test_saving_a_provider_makes_chat_possible(desktop: Desktop, qtbot: QtBot,
                                                     memory_keyring: MemoryKeyring) -> None:
    await remove_providers(desktop)
    dialog = FirstRunDialog(desktop.bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.choose_preset("deepseek")
    assert dialog.base_url.text() == "https://api.deepseek.com"
    assert dialog.model.currentText() == "deepseek-chat"
    dialog.base_url.setText(desktop.fake.base_url)
    dialog.key.edit.setText(KEY)
    desktop.fake.behavior.api_key = KEY
    dialog.test_button.click()
    await wait_until(lambda: dialog.result.text().startswith("OK, answered in"), what="test passed")
    save_screenshot(dialog, "first-run")

    finished = wait_signal(dialog.finished)
    dialog.save_button.click()
    assert (await finished)[0] == dialog.DialogCode.Accepted
    text = config_text(desktop)
    assert KEY not in text and "keyring:models.deepseek.apiKey" in text
    assert memory_keyring.items[(SERVICE, "models.deepseek.apiKey")] == KEY
    assert not await needs_first_run(desktop.bridge)

    # The config file watcher may still apply the file as it was a moment before the patch (it
    # reads on the loop while config.patch writes in a worker thread); the gateway's model list
    # says when the new provider is the one in force.
    async def listed() -> bool:
        models = await desktop.bridge.call("models.list")
        return any(m["provider"] == "deepseek" for m in models["models"])

    await wait_until_async(listed)
    key = f"agent:main:desktop-{uuid.uuid4().hex[:8]}"
    final = wait_signal(desktop.bridge.chatEvent, check=lambda p: p.get("sessionKey") == key
                        and p.get("state") in ("final", "error"))
    await desktop.bridge.call("chat.send", {"sessionKey": key, "message": "Hello", "idempotencyKey": uuid.uuid4().hex})
    (payload,) = await final
    assert payload["state"] == "final", payload
    assert desktop.fake.requests[-1].body["model"] == "deepseek-chat"


async def test_skip_leaves_the_config_unchanged(desktop: Desktop, qtbot: QtBot) -> None:
    await remove_providers(desktop)
    before = config_text(desktop)
    dialog = FirstRunDialog(desktop.bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.key.edit.setText("typed but skipped")
    finished = wait_signal(dialog.finished)
    dialog.skip_button.click()
    assert (await finished)[0] == dialog.DialogCode.Rejected
    assert config_text(desktop) == before
    assert await needs_first_run(desktop.bridge)


async def test_missing_key_and_a_rejected_key_are_explained(desktop: Desktop, qtbot: QtBot) -> None:
    before = config_text(desktop)
    dialog = FirstRunDialog(desktop.bridge)
    qtbot.addWidget(dialog)
    dialog.choose_preset("anthropic")
    assert not await dialog.save()
    assert "API key" in dialog.result.text()
    assert config_text(desktop) == before
    dialog.choose_preset("ollama")
    assert not dialog.key.isEnabled()  # a local Ollama needs no key
    dialog.choose_preset("qwen")
    dialog.base_url.setText(desktop.fake.base_url)
    dialog.key.edit.setText("wrong")
    desktop.fake.behavior.api_key = "right"
    dialog.run_test()
    await wait_until(lambda: "refused the API key" in dialog.result.text(), what="401 explained")
