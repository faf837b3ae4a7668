"""The PyInstaller bundle (build.spec) as a user gets it: built once per session, then run.

`frozen_dist` builds `python -m PyInstaller build.spec` into a temporary dist dir (or takes an
existing bundle from MOLT_DESKTOP_FROZEN_DIST, e.g. the one CI has just built). Then:
- the bundle holds both executables, the icons and every translation; its size is printed and
  under 150 MB;
- its rebuilt ICU data (installers/linux/icu_data.py) is less than half the wheel's and still
  collates Chinese and Japanese and names locales in the app's three languages;
- the frozen `molt-desktop gateway` answers /healthz, and the frozen `molt-desktop chat`
  completes a turn through it against the fake model (a real process);
- the frozen `MoltDesktop` starts under Xvfb with trayer as the tray host and its icon shows
  in the tray (green pixels where the app says the icon is), then quits cleanly when the frozen
  `molt-desktop --quit` asks it to (what the Windows installer does before an upgrade);
- `makensis installers/windows/molt-desktop.nsi`, with no /D, compiles the release installer
  over it in the three languages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import (REPO, GatewayProcess, Processes, clean_env, free_port, log_lines, wait_until,
                                write_config)
from tests.fakes.common import DEFAULT_TEXT
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_tray_xvfb import OK_GREEN, AppLog, icon_pixels
from tests.ui.xdisplay import Window, x_desktop

pytestmark = [pytest.mark.frozen, pytest.mark.slow]

ENV_DIST = "MOLT_DESKTOP_FROZEN_DIST"
BUILD_TIMEOUT = 600
EXECUTABLES = ("MoltDesktop", "molt-desktop")
TARGET_BYTES = 150_000_000


def exe(dist: Path, name: str) -> Path:
    return dist / (f"{name}.exe" if os.name == "nt" else name)


def build_bundle(distpath: Path, workpath: Path) -> Path:
    """`python -m PyInstaller build.spec` into `distpath`; the bundle folder (dist/molt-desktop)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "build.spec", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(distpath), "--workpath", str(workpath)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)})
    assert result.returncode == 0, f"the PyInstaller build failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    print(f"\nPyInstaller build: {time.monotonic() - started:.1f} s")
    return distpath / "molt-desktop"


def bundle_size(dist: Path) -> int:
    """Bytes of every file in the bundle (a symbolic link counts as itself, not its target)."""
    return sum(path.lstat().st_size for path in dist.rglob("*") if path.is_file() or path.is_symlink())


@pytest.fixture(scope="session")
def frozen_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get(ENV_DIST)
    if given:
        dist = Path(given)
        assert exe(dist, "molt-desktop").is_file(), f"{ENV_DIST}={given} holds no molt-desktop executable"
        return dist
    root = tmp_path_factory.mktemp("frozen")
    return build_bundle(root / "dist", root / "work")


def test_the_bundle_holds_both_executables_and_the_resources(frozen_dist: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name in EXECUTABLES:
        assert os.access(exe(frozen_dist, name), os.X_OK), name
    # The uninstaller removes exactly these (installers/windows/molt-desktop.nsi, "-un.files"):
    # a new top-level file in the bundle would be left behind by it.
    assert sorted(p.name for p in frozen_dist.iterdir()) == sorted(["_internal", *(exe(frozen_dist, n).name
                                                                                   for n in EXECUTABLES)])
    internal = frozen_dist / "_internal"
    for icon in ("molt-desktop.svg", "tray-ok.svg", "molt-desktop.ico"):
        assert (internal / "resources" / "icons" / icon).is_file(), icon
    # The Linux menu entry's icon is the app's icon.
    assert (REPO / "installers" / "linux" / "molt-desktop.svg").read_bytes() == \
        (internal / "resources" / "icons" / "molt-desktop.svg").read_bytes()
    for lang in ("zh_CN", "ja"):
        assert (internal / "resources" / "translations" / f"molt_desktop_{lang}.qm").is_file()
        assert (internal / "molt_desktop" / "locale" / f"{lang}.po").is_file()
        assert (internal / "PySide6" / "Qt" / "translations" / f"qtbase_{lang}.qm").is_file()
    for unused in ("QtQml", "QtQuick", "QtWebEngineCore", "QtMultimedia", "QtPdf", "Qt3DCore"):
        assert not list((internal / "PySide6").glob(f"{unused}.*")), f"{unused} was bundled"

    version = subprocess.run([str(exe(frozen_dist, "molt-desktop")), "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("molt-desktop "), version
    # The core's own catalogs load from the bundle: the help text in Chinese.
    helped = subprocess.run([str(exe(frozen_dist, "molt-desktop")), "--help"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "MOLT_DESKTOP_LANG": "zh_CN"})
    assert "桌面" in helped.stdout, helped.stdout

    size = bundle_size(frozen_dist)

    def described(name: str) -> str:
        path = exe(frozen_dist, name)
        return f"{name} -> {os.readlink(path)}" if path.is_symlink() else f"{name} {path.stat().st_size / 1e6:.1f} MB"

    with capsys.disabled():
        print(f"\nfrozen bundle {frozen_dist}: {size / 1e6:.1f} MB in "
              f"{sum(1 for p in frozen_dist.rglob('*') if p.is_file())} files "
              f"(executables {', '.join(described(n) for n in EXECUTABLES)})")
    assert size < TARGET_BYTES, f"the bundle is {size / 1e6:.1f} MB, over {TARGET_BYTES / 1e6:.0f} MB"


# Run in a fresh interpreter: the test process already has PySide6's own ICU (same sonames) loaded.
ICU_PROBE = r"""
import ctypes, json, sys
lib, version = sys.argv[1], sys.argv[2]
ctypes.CDLL(f"{lib}/libicudata.so.{version}", mode=ctypes.RTLD_GLOBAL)
uc = ctypes.CDLL(f"{lib}/libicuuc.so.{version}", mode=ctypes.RTLD_GLOBAL)
i18n = ctypes.CDLL(f"{lib}/libicui18n.so.{version}")
def fn(library, name, restype=ctypes.c_int):
    f = getattr(library, f"{name}_{version}")
    f.restype = restype
    return f
out = {}
for locale in ("zh", "ja", "de"):
    err = ctypes.c_int(0)
    collator = fn(i18n, "ucol_open", ctypes.c_void_p)(locale.encode(), ctypes.byref(err))
    out[f"collator {locale}"] = err.value
    if locale == "zh":
        strcoll = fn(i18n, "ucol_strcoll")
        strcoll.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32]
        a, b = "啊".encode("utf-16-le"), "不".encode("utf-16-le")  # pinyin a < bu; code points say otherwise
        out["zh order"] = strcoll(collator, a, 1, b, 1)
for charset in ("UTF-8", "UTF-16LE", "ISO-8859-1"):
    err = ctypes.c_int(0)
    fn(uc, "ucnv_open", ctypes.c_void_p)(charset.encode(), ctypes.byref(err))
    out[f"converter {charset}"] = err.value
name = (ctypes.c_uint16 * 64)()
for display in ("zh", "ja", "en"):
    err = ctypes.c_int(0)
    n = fn(uc, "uloc_getDisplayName")(b"de_DE", display.encode(), name, 64, ctypes.byref(err))
    out[f"name in {display}"] = bytes(name)[:2 * n].decode("utf-16-le")
print(json.dumps(out, ensure_ascii=False))
"""


def test_the_bundles_icu_data_is_trimmed_and_serves_the_apps_languages(frozen_dist: Path) -> None:
    import PySide6

    lib = frozen_dist / "_internal" / "PySide6" / "Qt" / "lib"
    (data,) = lib.glob("libicudata.so.*")
    (wheel_data,) = (Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*")
    assert data.stat().st_size < wheel_data.stat().st_size * 0.5, (data.stat().st_size, wheel_data.stat().st_size)
    version = data.name.rsplit(".", 1)[1]
    probe = subprocess.run([sys.executable, "-c", ICU_PROBE, str(lib), version], capture_output=True, text=True,
                           timeout=60)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    # Chinese and Japanese collation load their own rules (0: U_ZERO_ERROR); German uses the root
    # rules it is defined by (-127: U_USING_DEFAULT_WARNING, as with the full data).
    assert found["collator zh"] == 0 and found["collator ja"] == 0 and found["collator de"] == -127, found
    assert found["zh order"] < 0, found
    assert {k: v for k, v in found.items() if k.startswith("converter")} == \
        {"converter UTF-8": 0, "converter UTF-16LE": 0, "converter ISO-8859-1": 0}
    assert (found["name in zh"], found["name in ja"], found["name in en"]) == \
        ("德语（德国）", "ドイツ語 (ドイツ)", "German (Germany)"), found


def frozen_gateway(procs: Processes, dist: Path, home: Path) -> GatewayProcess:
    popen, out, err, files = procs._spawn("frozen-gateway", [str(exe(dist, "molt-desktop")), "gateway"],
                                          clean_env(home))
    gw = GatewayProcess(popen, out, err, files, home=home)
    procs.started.append(gw)
    return procs.wait_ready(gw)


def test_the_frozen_gateway_answers_healthz_and_a_chat_turn(frozen_dist: Path, procs: Processes,
                                                            home: Path) -> None:
    fake = procs.fake()
    port = free_port()
    write_config(home, {"fake": fake.base_url}, port=port)
    gw = frozen_gateway(procs, frozen_dist, home)
    assert gw.port == port
    assert gw.get_json("/healthz") == (200, {"ok": True, "status": "live"})

    chat = subprocess.run([str(exe(frozen_dist, "molt-desktop")), "chat", "Say hello"], cwd=REPO,
                          capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL, env=clean_env(home))
    assert chat.returncode == 0, chat.stdout + chat.stderr
    assert chat.stdout == DEFAULT_TEXT + "\n"
    assert f"answered by the local gateway ws://127.0.0.1:{port}" in chat.stderr
    assert fake.request_count() == 1
    assert gw.stop() == 0


def test_the_frozen_app_shows_its_tray_icon(frozen_dist: Path, procs: Processes, home: Path,
                                             tmp_path: Path) -> None:
    fake = procs.fake()
    write_config(home, {"fake": fake.base_url}, port=free_port(), extra={"ui": {"startMinimized": True}})
    with x_desktop() as desktop:
        env = clean_env(home)
        env.update({"DISPLAY": desktop.display, "DBUS_SESSION_BUS_ADDRESS": desktop.dbus_address,
                    "QT_QPA_PLATFORM": "xcb"})
        stderr = tmp_path / "frozen-app.stderr"
        with stderr.open("wb") as err:
            app = subprocess.Popen([str(exe(frozen_dist, "MoltDesktop")), "--verbose"], cwd=tmp_path, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        log = AppLog(home / "logs" / "molt-desktop.log", app, stderr)
        try:
            assert log.wait("tray state ok", 60).startswith("tray state ok: The local gateway is running at")
            position, size = log.wait("tray icon geometry ", 15, new=False).removeprefix(
                "tray icon geometry ").split()
            x, y = (int(v) for v in position.split(","))
            w, h = (int(v) for v in size.split("x"))
            assert w > 0 and h > 0 and y < 30 and x > 1000, (x, y, w, h)  # docked in trayer, top right
            time.sleep(0.5)  # let trayer paint
            shot = desktop.screenshot(SCREENSHOTS / "frozen-tray.png")
            assert icon_pixels(shot, Window(0, x, y, w, h), OK_GREEN) > (w * h) // 8, \
                "no green tray icon where the frozen app says it is"
            # What the Windows installer does before an upgrade: the console executable asks the
            # running app to quit, and returns once it has.
            quit_app = subprocess.run([str(exe(frozen_dist, "molt-desktop")), "--quit"], capture_output=True,
                                      text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
            assert quit_app.returncode == 0 and "molt-desktop has quit." in quit_app.stderr, quit_app.stderr
            assert app.wait(15) == 0, log.tail()
            wait_until(lambda: any(line.get("message") == "stopped" for line in log_lines(home)), 5,
                       "the app's last log line")
        finally:
            if app.poll() is None:
                app.kill()
                app.wait(10)


def test_the_installer_compiles_against_the_bundle(frozen_dist: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # The release's own command over the real PyInstaller output: `makensis
    # installers/windows/molt-desktop.nsi` with no /D at all (lzma, as shipped), in three languages.
    from tests.e2e.test_installer import compile_with_no_defines, repository_layout

    root = repository_layout(tmp_path / "repo")
    (root / "dist").mkdir()
    (root / "dist" / "molt-desktop").symlink_to(frozen_dist, target_is_directory=True)
    build = compile_with_no_defines(root)
    for part in ("Install:", "Uninstall:"):
        line = next(line for line in build.output.splitlines() if line.startswith(part))
        assert "3 language tables" in line, line
    packed = set(build.packed)
    assert {f"{name}.exe" if os.name == "nt" else name for name in EXECUTABLES} <= packed, sorted(packed)[:20]
    with capsys.disabled():
        print(f"\ninstaller over the bundle (no /D, lzma): {build.seconds:.1f} s, "
              f"{build.installer.stat().st_size / 1e6:.1f} MB")
