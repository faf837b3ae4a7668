"""The settings dialog against the real embedded gateway and the fake model server: providers
from presets with keys in the keyring, settings applied through config.patch, validation before
saving, a stale base hash, the provider Test, the gateway token, and screenshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from pytestqt.qtbot import QtBot

from molt_desktop.config.secrets import SERVICE
from molt_desktop.ui.settings_dialog import PAGE_IDS, SettingsDialog
from molt_desktop.ui.settings_gateway import GatewayPage
from molt_desktop.ui.settings_remotes import RemotesPage
from molt_desktop.ui.settings_general import GeneralPage
from molt_desktop.ui.settings_models import ModelsPage
from molt_desktop.ui.settings_providers import ProvidersPage
from tests.conftest import MemoryKeyring
from tests.ui.conftest import TOKEN, Desktop, save_screenshot, wait_signal, wait_until

KEY = "sk-deepseek-test-0123456789"


def config_text(desktop: Desktop) -> str:
    return (desktop.state / "moltbot.json").read_text(encoding="utf-8")


async def open_dialog(desktop: Desktop, qtbot: QtBot) -> SettingsDialog:
    dialog = SettingsDialog(desktop.bridge, desktop.actions)
    qtbot.addWidget(dialog)
    dialog.show()
    await wait_until(lambda: dialog.payload is not None and dialog.ok_button.isEnabled(), what="config loaded")
    return dialog


def providers(dialog: SettingsDialog) -> ProvidersPage:
    page = dialog.pages["providers"]
    assert isinstance(page, ProvidersPage)
    return page


async def test_pages_and_their_help_come_from_the_schema(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    assert list(dialog.pages) == list(PAGE_IDS)
    for page_id in PAGE_IDS:
        dialog.show_page(page_id)
        assert dialog.current_page() == page_id
        assert dialog.nav.currentItem().text() == dialog.pages[page_id].title()
    gateway = dialog.pages["gateway"]
    assert isinstance(gateway, GatewayPage)
    assert "TCP port of the gateway" in gateway.rows["gateway.port"].help.text()
    assert gateway.port.value() == desktop.services.config.config.gateway.port
    page = providers(dialog)
    assert [e.name for e in page.entries] == ["fake"]
    assert page.url_edit.text() == desktop.fake.base_url
    # A key typed into the file is shown as "saved in the file", never as its value.
    assert page.key_field.text() == "" and "config file" in page.key_field.edit.placeholderText()


async def test_a_provider_from_a_preset_keeps_its_key_in_the_keyring(
        desktop: Desktop, qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    dialog = await open_dialog(desktop, qtbot)
    page = providers(dialog)
    entry = page.add_from_preset("deepseek")
    assert entry.name == "deepseek" and page.api_combo.currentData() == "openai-completions"
    assert page.url_edit.text() == "https://api.deepseek.com"
    page.url_edit.setText(desktop.fake.base_url)
    page.key_field.edit.setText(KEY)
    assert page.key_field.edit.echoMode() == page.key_field.edit.EchoMode.Password
    desktop.fake.behavior.api_key = KEY
    page.run_test()
    await wait_until(lambda: page.test_result.text().startswith("OK, answered in"), what="test result")
    save_screenshot(dialog, "settings-providers")
    assert desktop.fake.requests[-1].body["max_tokens"] == 1

    assert await dialog.save(), dialog.status.text()
    text = config_text(desktop)
    assert KEY not in text
    saved = json.loads(text)["models"]["providers"]["deepseek"]
    assert saved["apiKey"] == "keyring:models.deepseek.apiKey"
    assert saved["baseUrl"] == desktop.fake.base_url and saved["api"] == "openai-completions"
    assert memory_keyring.items[(SERVICE, "models.deepseek.apiKey")] == KEY
    listed = await desktop.bridge.call("models.list")
    assert {"deepseek-chat", "deepseek-reasoner"} <= {m["id"] for m in listed["models"] if m["provider"] == "deepseek"}
    # The first provider is untouched: its key typed into the file stays there, unchanged.
    assert json.loads(text)["models"]["providers"]["fake"]["apiKey"] == "fake-key"
    assert dialog.status.text() == "Saved."
    # The reloaded page shows the stored key (masked) from the keyring.
    await wait_until(lambda: next(e for e in page.entries if e.name == "deepseek").key[1] == KEY)


async def test_secrets_reach_only_the_keyring(desktop: Desktop, qtbot: QtBot, memory_keyring: MemoryKeyring,
                                              monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    dialog = await open_dialog(desktop, qtbot)
    page = providers(dialog)
    page.add_from_preset("anthropic")
    page.key_field.edit.setText("sk-ant-secret-value-42")
    gateway = dialog.pages["gateway"]
    assert isinstance(gateway, GatewayPage)
    await wait_until(lambda: gateway.token.text() == TOKEN, what="the token in force is shown")

    async def yes() -> bool:
        return True

    monkeypatch.setattr(gateway, "confirm_regenerate", yes)
    statuses: list[Any] = []
    desktop.bridge.statusChanged.connect(statuses.append)
    await gateway.regenerate()
    new_token = memory_keyring.items[(SERVICE, "gateway.token")]
    assert new_token != TOKEN and gateway.token.text() == new_token
    assert "Other clients" in gateway.token_status.text()
    await wait_until(lambda: any(s.state == "connected" for s in statuses[1:]), what="reconnected")
    assert (await desktop.bridge.call("status")) is not None  # the app talks with the new token
    await wait_until(lambda: dialog.payload is not None and dialog.payload["hash"] == (
        desktop.services.config.current.hash), what="dialog knows the new file")

    assert await dialog.save(), dialog.status.text()
    text = config_text(desktop)
    parsed = json.loads(text)
    assert parsed["gateway"]["auth"]["token"] == "keyring:gateway.token"
    assert parsed["models"]["providers"]["anthropic"]["apiKey"] == "keyring:models.anthropic.apiKey"
    for secret in (new_token, "sk-ant-secret-value-42"):
        assert secret not in text
        assert secret not in caplog.text
    assert memory_keyring.items[(SERVICE, "models.anthropic.apiKey")] == "sk-ant-secret-value-42"


async def test_a_changed_setting_is_applied(desktop: Desktop, qtbot: QtBot, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    dialog = await open_dialog(desktop, qtbot)
    general = dialog.pages["general"]
    assert isinstance(general, GeneralPage)
    assert general.close_to_tray.isChecked()
    general.close_to_tray.setChecked(False)
    general.autostart.setChecked(True)
    general.language.setCurrentIndex(general.language.findData("ja"))
    models = dialog.pages["models"]
    assert isinstance(models, ModelsPage)
    models.fallback_choice.setEditText("fake/fake-2")
    models.add_fallback()
    dialog.show_page("general")
    save_screenshot(dialog, "settings-general")
    before = json.loads(config_text(desktop))
    languages: list[str] = []
    desktop.actions.setLanguage.connect(languages.append)

    dialog.apply_button.click()
    await wait_until(lambda: dialog.status.text() == "Saved.", what=f"saved, not {dialog.status.text()!r}")
    current = await desktop.bridge.call("config.get")
    assert current["config"]["ui"]["closeToTray"] is False
    assert current["config"]["ui"]["language"] == "ja"
    assert current["config"]["agents"]["defaults"]["model"] == {"primary": "fake/fake-1", "fallbacks": ["fake/fake-2"]}
    assert languages == ["ja"]
    entry = tmp_path / "xdg" / "autostart" / "molt-desktop.desktop"
    assert entry.is_file() and "Exec=" in entry.read_text(encoding="utf-8")
    # Only the changed keys were written: no defaults appeared in the file.
    after = json.loads(config_text(desktop))
    assert after["ui"] == {"closeToTray": False, "language": "ja", "autostart": True}
    assert after["gateway"] == before["gateway"]


async def test_a_login_item_made_by_the_installer_shows_as_on(desktop: Desktop, qtbot: QtBot, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The installer's "start at login" box makes the login item without touching the config.
    from molt_desktop.autostart import set_autostart

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    set_autostart(True)
    dialog = await open_dialog(desktop, qtbot)
    general = dialog.pages["general"]
    assert isinstance(general, GeneralPage)
    assert general.autostart.isChecked()
    assert await dialog.save(), dialog.status.text()
    assert json.loads(config_text(desktop))["ui"]["autostart"] is True
    assert (tmp_path / "xdg" / "autostart" / "molt-desktop.desktop").is_file()


async def test_invalid_values_are_shown_and_nothing_is_written(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    before = config_text(desktop)
    remotes = dialog.pages["remotes"]
    assert isinstance(remotes, RemotesPage)
    remotes.add_remote()
    remotes.url_edit.setText("http://gw.example.com:18789")
    assert not await dialog.save()
    assert config_text(desktop) == before
    assert dialog.current_page() == "remotes"
    assert "ws://" in remotes.rows["url"].error.text() and remotes.rows["url"].error.isVisibleTo(dialog)
    assert "Nothing was saved" in dialog.status.text()

    # A mistake only the schema knows about is shown at its field too.
    remotes.url_edit.setText("wss://gw.example.com:18789")
    remotes.fingerprint.setText("sha256:abc")
    assert not await dialog.save()
    assert "64 hex digits" in remotes.rows["tlsFingerprint"].error.text()
    remotes.remove_current()

    page = providers(dialog)
    page.url_edit.setText("api.deepseek.com")
    dialog.show_page("general")
    assert not await dialog.save()
    assert dialog.current_page() == "providers"
    assert "https://" in page.rows["baseUrl"].error.text()
    gateway = dialog.pages["gateway"]
    assert isinstance(gateway, GatewayPage)
    gateway.port.setValue(70000)
    assert gateway.port.value() == 65535  # the spin box cannot even hold a bad port
    assert config_text(desktop) == before


async def test_a_stale_base_hash_reloads_and_says_so(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    general = dialog.pages["general"]
    assert isinstance(general, GeneralPage)
    assert general.start_minimized.isChecked()
    current = await desktop.bridge.call("config.get")
    await desktop.bridge.call("config.patch", {"raw": '{"ui": {"startMinimized": false}}', "baseHash": current["hash"]})
    general.close_to_tray.setChecked(False)
    assert not await dialog.save()
    assert "changed elsewhere" in dialog.status.text()
    assert "closeToTray" not in config_text(desktop)
    assert not general.start_minimized.isChecked()  # the other client's change is shown now
    general.close_to_tray.setChecked(False)
    assert await dialog.save(), dialog.status.text()
    ui = json.loads(config_text(desktop))["ui"]
    assert ui == {"startMinimized": False, "closeToTray": False}


async def test_provider_test_reports_a_rejected_key(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    page = providers(dialog)
    desktop.fake.behavior.api_key = "fake-key"
    page.run_test()  # the key typed into the file cannot be read back through config.get
    assert "Type it to test" in page.test_result.text()
    page.key_field.edit.setText("wrong-key")
    page.run_test()
    await wait_until(lambda: "refused the API key" in page.test_result.text(), what="401 shown")
    assert "401" in page.test_result.text()
    page.key_field.edit.setText("fake-key")
    page.run_test()
    await wait_until(lambda: page.test_result.text().startswith("OK, answered in"), what="success")


async def test_without_a_keyring_no_secret_is_saved(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    before = config_text(desktop)
    page = providers(dialog)
    page.add_from_preset("qwen")
    page.key_field.edit.setText("sk-qwen-secret")
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert not await dialog.save()
    assert "keyring cannot store secrets" in dialog.status.text()
    assert config_text(desktop) == before


async def test_settings_follow_config_changes_of_the_file(desktop: Desktop, qtbot: QtBot) -> None:
    dialog = await open_dialog(desktop, qtbot)
    dialog.show_page("alerts")
    alerts = dialog.pages["alerts"]
    alerts.webhook_enabled.setChecked(True)  # type: ignore[attr-defined]
    alerts.webhook_url.setText("https://oapi.dingtalk.com/robot/send?access_token=abc")  # type: ignore[attr-defined]
    alerts.webhook_secret.edit.setText("SECdingtalk")  # type: ignore[attr-defined]
    changed = wait_signal(desktop.bridge.configChanged)
    assert await dialog.save(), dialog.status.text()
    await changed
    webhook = json.loads(config_text(desktop))["alerts"]["webhook"]
    assert webhook["secret"] == "keyring:alerts.webhook" and webhook["enabled"] is True
