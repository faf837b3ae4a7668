"""The Windows installer run for real, under Wine: what it writes, keeps and removes.

The installer (installers/windows/molt-desktop.nsi, compiled here as a 64-bit installer so that
Debian's wine64 runs it) installs a stand-in bundle into a fresh Wine prefix, silently, as a
scripted roll-out does. Its `MoltDesktop.exe` is a real Windows program (Wine's ping.exe), so
a "running app" is a real process holding its executable open. The checks read the prefix's
files and its registry (`reg query`) as Windows keeps them:
- the files in %LOCALAPPDATA%\\Programs\\MoltDesktop, the preset next to the executable, the
  Start-menu and desktop shortcuts, the login item, the Add/Remove Programs entry;
- an upgrade keeps the shortcut and login choices, replaces the bundle as a whole, and honours
  /DESKTOP= and /AUTOSTART=;
- a running app that cannot be closed stops a silent upgrade with exit code 2 and the installed
  version untouched;
- a /PRESET= file that does not exist fails the install before anything is written;
- the installer speaks the user's language (Chinese, Japanese), and remembers it;
- the uninstaller removes what it installed and keeps the user's data and any file the user put
  in the folder, unless /REMOVEDATA is given.
Not covered here: the graceful `molt-desktop --quit` (tests/e2e/test_quit.py and test_frozen.py
run it with the real app), and the pages themselves (silent mode shows none).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from molt_desktop.version import __version__
from tests.e2e.test_installer import compile_installer, stand_in_dist

WINE_PATHS = ("/usr/lib/wine/wine64",)  # Debian's wine64 package keeps it out of PATH
WINE_BUILTINS = Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows")
RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
UNINSTALL_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\MoltDesktop"
SETTINGS_KEY = r"HKCU\Software\MoltDesktop"
PRESET = """{
  remotes: [{ id: "server", url: "ws://192.168.1.10:18789" }],
  sync: { enabled: true, backend: "smb", host: "192.168.1.10", share: "backup" },
}
"""


def wine_binary() -> str:
    found = shutil.which("wine64") or next((p for p in WINE_PATHS if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.fail("wine64 is not installed: install the `wine64` package (scripts/system-deps.sh)")
    return found


@dataclass
class Wine:
    binary: str
    prefix: Path
    home: Path
    installer: Path
    locales: Path  # the Unix locales Wine takes the user's language from (compiled by the fixture)

    @property
    def user_dir(self) -> Path:
        (user,) = [p for p in (self.prefix / "drive_c" / "users").iterdir() if p.name != "Public"]
        return user

    @property
    def instdir(self) -> Path:
        return self.user_dir / "AppData" / "Local" / "Programs" / "MoltDesktop"

    @property
    def data_dir(self) -> Path:
        return self.user_dir / "AppData" / "Roaming" / "MoltDesktop"

    @property
    def start_menu_link(self) -> Path:
        return self.user_dir / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / \
            "Molt Desktop.lnk"

    @property
    def desktop_link(self) -> Path:
        return self.user_dir / "Desktop" / "Molt Desktop.lnk"

    def env(self, lang: str = "C.UTF-8") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY") and not k.startswith("LC_")}
        env.update({"WINEPREFIX": str(self.prefix), "HOME": str(self.home), "WINEDEBUG": "-all", "LANG": lang,
                    "LOCPATH": str(self.locales),
                    # No Mono/Gecko download prompts, no menu entries in the Unix desktop.
                    "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d"})
        return env

    def run(self, *args: str, lang: str = "C.UTF-8", timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, *args], env=self.env(lang), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def server(self, *args: str, timeout: float = 60) -> None:
        """Run the prefix's wineserver (Debian's wine64 keeps it next to wine64)."""
        server = Path(self.binary).with_name("wineserver64")
        subprocess.run([str(server) if server.exists() else "wineserver", *args], env=self.env(), timeout=timeout,
                       check=False)

    def settle(self, timeout: float = 60) -> None:
        """Wait until every program of the prefix has ended (the uninstaller runs a copy of
        itself from %TEMP% and returns at once)."""
        self.server("-w", timeout=timeout)

    def install(self, *options: str, lang: str = "C.UTF-8") -> int:
        done = self.run(str(self.installer), "/S", *options, lang=lang)
        self.settle()
        return done.returncode

    def uninstall(self, *options: str) -> int:
        done = self.run(str(self.instdir / "uninstall.exe"), "/S", *options)
        self.settle()
        return done.returncode

    def reg_value(self, key: str, name: str) -> str | None:
        done = self.run("reg", "query", key, "/v", name)
        if done.returncode != 0:
            return None
        for line in done.stdout.splitlines():
            parts = line.strip().split(None, 2)
            if len(parts) == 3 and parts[0] == name:
                return parts[2]
        return None

    def windows_path(self, path: Path) -> str:
        """A path in the prefix's C: drive as the Windows side names it."""
        return "C:\\" + str(path.relative_to(self.prefix / "drive_c")).replace("/", "\\")

    @staticmethod
    def unix_path(path: Path) -> str:
        """Any Unix path as the Windows side names it (Wine's Z: drive is /)."""
        return "Z:" + str(path).replace("/", "\\")


def link_target(link: Path) -> str:
    """The target path in a .lnk file (Windows keeps it as ANSI and as UTF-16 text)."""
    data = link.read_bytes()
    return data.decode("utf-16-le", errors="ignore") + data.decode("latin-1")


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    binary = wine_binary()
    root = tmp_path_factory.mktemp("wine")
    dist = stand_in_dist(root)
    # The app: a real Windows program that keeps running (and its executable locked) for a while.
    shutil.copy2(WINE_BUILTINS / "ping.exe", dist / "MoltDesktop.exe")
    build = compile_installer(dist, root / "out" / f"MoltDesktop-{__version__}-setup.exe",
                              extra_defines=["-DTARGET=amd64-unicode"])
    home = root / "home"
    home.mkdir()
    locales = root / "locales"
    locales.mkdir()
    for locale in ("zh_CN", "ja_JP"):
        made = subprocess.run(["localedef", "-i", locale, "-f", "UTF-8", str(locales / f"{locale}.UTF-8")],
                              capture_output=True, text=True, timeout=120)
        assert (locales / f"{locale}.UTF-8").is_dir(), f"localedef {locale}: {made.stderr[-1000:]}"
    wine = Wine(binary, root / "prefix", home, build.installer, locales)
    started = time.monotonic()
    boot = wine.run("wineboot", "--init", timeout=300)
    wine.settle(120)
    assert boot.returncode == 0, boot.stderr[-2000:]
    print(f"\nwine prefix ready in {time.monotonic() - started:.1f} s")
    yield wine
    wine.server("-k", timeout=30)


@pytest.fixture
def clean(wine: Wine) -> Iterator[Wine]:
    """Each test starts with nothing installed and no user data, and leaves it so."""
    yield wine
    if (wine.instdir / "uninstall.exe").exists():
        wine.uninstall("/REMOVEDATA")
    shutil.rmtree(wine.instdir, ignore_errors=True)
    shutil.rmtree(wine.data_dir, ignore_errors=True)
    for key in (UNINSTALL_KEY, SETTINGS_KEY):
        wine.run("reg", "delete", key, "/f")
    wine.run("reg", "delete", RUN_KEY, "/v", "MoltDesktop", "/f")


def test_silent_install_and_uninstall(clean: Wine, tmp_path: Path) -> None:
    wine = clean
    preset = tmp_path / "laptop.json5"
    preset.write_text(PRESET, encoding="utf-8")
    assert wine.install("/DESKTOP=1", "/AUTOSTART=1", f"/PRESET={wine.unix_path(preset)}") == 0

    app = wine.instdir / "MoltDesktop.exe"
    for name in ("MoltDesktop.exe", "molt-desktop.exe", "uninstall.exe", "_internal/base_library.zip",
                 "_internal/resources/icons/molt-desktop.svg"):
        assert (wine.instdir / name).is_file(), name
    assert (wine.instdir / "preset.json5").read_text(encoding="utf-8") == PRESET
    assert "MoltDesktop.exe" in link_target(wine.start_menu_link)
    assert "MoltDesktop.exe" in link_target(wine.desktop_link)
    assert wine.reg_value(RUN_KEY, "MoltDesktop") == f'"{wine.windows_path(app)}"'
    assert wine.reg_value(UNINSTALL_KEY, "DisplayName") == "Molt Desktop"
    assert wine.reg_value(UNINSTALL_KEY, "DisplayVersion") == __version__
    assert wine.reg_value(UNINSTALL_KEY, "QuietUninstallString") == \
        f'"{wine.windows_path(wine.instdir / "uninstall.exe")}" /S'
    assert wine.reg_value(SETTINGS_KEY, "InstallDir") == wine.windows_path(wine.instdir)

    # What the app and the user made: kept by a plain uninstall.
    (wine.data_dir / "agents").mkdir(parents=True)
    (wine.data_dir / "moltbot.json").write_text("{}", encoding="utf-8")
    (wine.instdir / "my-notes.txt").write_text("mine", encoding="utf-8")
    assert wine.uninstall() == 0
    assert sorted(p.name for p in wine.instdir.iterdir()) == ["my-notes.txt"]
    assert not wine.start_menu_link.exists() and not wine.desktop_link.exists()
    assert wine.reg_value(RUN_KEY, "MoltDesktop") is None
    assert wine.reg_value(UNINSTALL_KEY, "DisplayName") is None
    assert wine.reg_value(SETTINGS_KEY, "InstallDir") is None
    assert (wine.data_dir / "moltbot.json").read_text(encoding="utf-8") == "{}"


def test_upgrade_keeps_the_choices_and_replaces_the_bundle(clean: Wine) -> None:
    wine = clean
    assert wine.install("/DESKTOP=0", "/AUTOSTART=1") == 0
    assert not wine.desktop_link.exists() and wine.reg_value(RUN_KEY, "MoltDesktop") is not None
    stale = wine.instdir / "_internal" / "module-of-the-old-version.pyd"
    stale.write_bytes(b"old")

    assert wine.install() == 0  # no options: as it was
    assert not stale.exists()
    assert (wine.instdir / "_internal" / "base_library.zip").is_file()
    assert not wine.desktop_link.exists() and wine.reg_value(RUN_KEY, "MoltDesktop") is not None

    assert wine.install("/DESKTOP=1", "/AUTOSTART=0") == 0
    assert wine.desktop_link.exists() and wine.reg_value(RUN_KEY, "MoltDesktop") is None

    (wine.data_dir / "logs").mkdir(parents=True)
    (wine.data_dir / "moltbot.json").write_text("{}", encoding="utf-8")
    assert wine.uninstall("/REMOVEDATA") == 0
    assert not wine.data_dir.exists() and not wine.instdir.exists()


def test_an_app_that_cannot_be_closed_stops_a_silent_upgrade(clean: Wine) -> None:
    wine = clean
    assert wine.install() == 0
    marker = wine.instdir / "_internal" / "installed-version-marker"
    marker.write_bytes(b"v1")
    app = subprocess.Popen([wine.binary, str(wine.instdir / "MoltDesktop.exe"), "-n", "120", "127.0.0.1"],
                           env=wine.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        assert app.poll() is None
        # Wine's taskkill has no /FI, so nothing ends this process: the installer must give up cleanly.
        started = time.monotonic()
        done = wine.run(str(wine.installer), "/S")
        assert done.returncode == 2
        assert time.monotonic() - started < 60
        assert marker.read_bytes() == b"v1"  # nothing was replaced or removed
        assert app.poll() is None
    finally:
        app.kill()
        app.wait(10)
        wine.run("taskkill", "/f", "/im", "MoltDesktop.exe")
        wine.settle()
    assert wine.install() == 0  # closed: the upgrade goes through
    assert not marker.exists()


def test_a_missing_preset_fails_before_anything_is_written(clean: Wine) -> None:
    wine = clean
    assert wine.install(r"/PRESET=C:\nowhere\laptop.json5") == 2
    assert not wine.instdir.exists()
    assert wine.reg_value(UNINSTALL_KEY, "DisplayName") is None


@pytest.mark.parametrize(("lang", "langid"), [("zh_CN.UTF-8", "2052"), ("ja_JP.UTF-8", "1041")])
def test_the_installer_speaks_the_users_language(clean: Wine, lang: str, langid: str) -> None:
    wine = clean
    assert wine.install(lang=lang) == 0
    # Kept for upgrades and the uninstaller (the LANGID; 1033 is English).
    assert wine.reg_value(SETTINGS_KEY, "InstallerLanguage") == langid


def test_the_installer_speaks_english_elsewhere(clean: Wine) -> None:
    assert clean.install() == 0
    assert clean.reg_value(SETTINGS_KEY, "InstallerLanguage") == "1033"
