"""The Windows installer script (installers/windows/molt-desktop.nsi) compiled for real with makensis.

Also the other half of a deployment preset: the preset the installer copies next to the executable
is the config of a fresh install after the first start of the gateway (a real process).

`compile_installer(dist, outfile)` compiles it against any bundle folder (the frozen test calls it
with the PyInstaller build); the tests here use a stand-in folder with the two executables' names,
and a copy of the repository layout where `makensis installers/windows/molt-desktop.nsi` runs with
no /D at all, as after `python -m PyInstaller build.spec`. Warnings count as errors (-WX): a
LangString missing in one of the three languages is one.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from molt_desktop.version import __version__
from tests.e2e.conftest import Processes, assert_no_secret, clean_env, free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT_DIR = REPO / "installers" / "windows"
SCRIPT = SCRIPT_DIR / "molt-desktop.nsi"
LANGUAGES = ("ENGLISH", "SIMPCHINESE", "JAPANESE")
EXECUTABLES = ("MoltDesktop.exe", "molt-desktop.exe")


@dataclass
class InstallerBuild:
    installer: Path
    output: str  # makensis's output at -V4: every file packed, the version and folders it used
    seconds: float

    @property
    def packed(self) -> list[str]:
        """Names of the files packed from the bundle (plugins of NSIS itself left out)."""
        return [m.group(1) for m in re.finditer(r'^File: "([^"]+)" ', self.output, re.MULTILINE)
                if not m.group(1).endswith(".dll")]


def makensis() -> str:
    path = shutil.which("makensis")
    if path is None:
        pytest.fail("makensis is not installed: install the `nsis` package (scripts/system-deps.sh)")
    return path


def run_makensis(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run([makensis(), "-V4", "-WX", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    return result, time.monotonic() - started


def compile_installer(dist: Path, outfile: Path, *, compressor: str | None = "off", script: Path = SCRIPT,
                      extra_defines: list[str] | None = None) -> InstallerBuild:
    """Compile the installer of the bundle in `dist` into `outfile`; AssertionError with makensis's
    output when it fails. Uncompressed by default: the real bundle compiles in seconds then, and in
    about a minute and a half with the release's lzma (`compressor=None`)."""
    outfile.parent.mkdir(parents=True, exist_ok=True)
    defines = [f"-DDIST={dist}", f"-DOUTFILE={outfile}"] + ([f"-DCOMPRESSOR={compressor}"] if compressor else []) + \
        (extra_defines or [])
    result, seconds = run_makensis([*defines, str(script)], script.parent)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"makensis failed ({result.returncode}):\n{output[-4000:]}"
    assert outfile.is_file(), output[-2000:]
    return InstallerBuild(outfile, output, seconds)


def stand_in_dist(root: Path) -> Path:
    """A bundle folder shaped like PyInstaller's onedir output, with dummy files."""
    dist = root / "dist" / "molt-desktop"
    (dist / "_internal" / "resources" / "icons").mkdir(parents=True)
    for name in EXECUTABLES:
        (dist / name).write_bytes(b"MZ stand-in for " + name.encode())
    (dist / "_internal" / "base_library.zip").write_bytes(b"PK")
    (dist / "_internal" / "resources" / "icons" / "molt-desktop.svg").write_text("<svg/>", encoding="utf-8")
    return dist


def test_installer_compiles_against_a_stand_in_bundle(tmp_path: Path) -> None:
    dist = stand_in_dist(tmp_path)
    build = compile_installer(dist, tmp_path / "out" / "MoltDesktop-setup.exe")
    assert sorted(build.packed) == sorted([*EXECUTABLES, "base_library.zip", "molt-desktop.svg"])
    assert f"molt-desktop {__version__}: {dist}" in build.output
    for part in ("Install:", "Uninstall:"):
        line = next(line for line in build.output.splitlines() if line.startswith(part))
        assert "3 language tables" in line, line
    assert build.installer.read_bytes()[:2] == b"MZ"
    print(f"makensis: {build.seconds:.2f} s, installer {build.installer.stat().st_size / 1024:.0f} KiB")


def repository_layout(root: Path) -> Path:
    """What makensis reads from the repository (the script, version.py, the icon), copied into
    `root`; the bundle goes into `root/dist/molt-desktop`, as after `python -m PyInstaller build.spec`."""
    shutil.copytree(SCRIPT_DIR, root / "installers" / "windows")
    (root / "molt_desktop").mkdir()
    shutil.copy2(REPO / "molt_desktop" / "version.py", root / "molt_desktop" / "version.py")
    (root / "resources" / "icons").mkdir(parents=True)
    shutil.copy2(REPO / "resources" / "icons" / "molt-desktop.ico", root / "resources" / "icons")
    return root


def compile_with_no_defines(root: Path) -> InstallerBuild:
    """`makensis installers/windows/molt-desktop.nsi` in `root`, nothing else: version and bundle
    folder come from molt_desktop/version.py and dist/molt-desktop."""
    result, seconds = run_makensis(["installers/windows/molt-desktop.nsi"], root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    installer = root / "dist" / f"MoltDesktop-{__version__}-setup.exe"
    assert installer.is_file(), output[-2000:]
    return InstallerBuild(installer, output, seconds)


def test_installer_compiles_with_no_defines_after_the_build(tmp_path: Path) -> None:
    root = repository_layout(tmp_path / "repo")
    stand_in_dist(root)
    compile_with_no_defines(root)


def file_version(exe: Path) -> tuple[int, int, int, int]:
    """The numeric version in an executable's VS_FIXEDFILEINFO (what Windows shows in Properties)."""
    data = exe.read_bytes()
    start = data.find("VS_VERSION_INFO".encode("utf-16-le"))
    fixed = data.find(b"\xbd\x04\xef\xfe", start)  # the structure's signature
    assert start > 0 and fixed > 0, "no version resource"
    ms, ls = struct.unpack("<II", data[fixed + 8:fixed + 16])
    return ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF


@pytest.mark.parametrize(("version", "numeric"), [
    ("0.1.0", (0, 1, 0, 0)), ("0.2.0rc1", (0, 2, 0, 0)), ("1.3b2", (1, 3, 0, 0)), ("1.0.0.dev4", (1, 0, 0, 0)),
    ("2.1.0+local.7", (2, 1, 0, 0)), ("1.10.20a1", (1, 10, 20, 0)), ("3", (3, 0, 0, 0)),
])
def test_any_release_version_makes_a_windows_file_version(tmp_path: Path, version: str,
                                                           numeric: tuple[int, int, int, int]) -> None:
    installer = tmp_path / "MoltDesktop-setup.exe"
    result, _seconds = run_makensis([f"-DVERSION={version}", f"-DDIST={stand_in_dist(tmp_path)}",
                                     f"-DOUTFILE={installer}", "-DCOMPRESSOR=off", str(SCRIPT)], SCRIPT_DIR)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert file_version(installer) == numeric


def test_installer_without_a_bundle_says_so(tmp_path: Path) -> None:
    result, _seconds = run_makensis([f"-DDIST={tmp_path / 'nothing'}", f"-DOUTFILE={tmp_path / 'x-setup.exe'}",
                                     str(SCRIPT)], SCRIPT_DIR)
    assert result.returncode != 0
    assert "nothing" in result.stdout + result.stderr


def test_every_installer_string_is_in_the_three_languages() -> None:
    text = SCRIPT.read_text(encoding="utf-8") + (SCRIPT_DIR / "strings.nsh").read_text(encoding="utf-8-sig")
    defined: dict[str, set[str]] = {}
    for name, language in re.findall(r"^LangString (\w+) \$\{LANG_(\w+)\}", text, re.MULTILINE):
        defined.setdefault(name, set()).add(language)
    assert defined and all(languages == set(LANGUAGES) for languages in defined.values()), defined
    used = set(re.findall(r"\$\((\w+)\)", text))
    assert used <= set(defined), used - set(defined)


def test_a_fresh_install_starts_with_the_preset(tmp_path: Path, procs: Processes) -> None:
    """The seeds' laptop: the server's gateway on 18789 as the remote, sync over SFTP to
    /opt/moltbot-backup, alerts to a webhook; the secrets typed into the preset stay out."""
    token, webhook_token = "preset-remote-token-3c9d41", "preset-webhook-token-b7e2a0"
    server = f"ws://127.0.0.1:{free_port()}"
    preset = tmp_path / "install" / "preset.json5"
    preset.parent.mkdir()
    preset.write_text(f"""{{
      remotes: [{{ id: "server", url: "{server}", token: "{token}" }}],
      sync: {{ enabled: false, backend: "sftp", host: "127.0.0.1", port: 22, username: "molt",
               keyFile: "~/.ssh/id_ed25519", path: "/opt/moltbot-backup" }},
      alerts: {{ webhook: {{ enabled: true, kind: "json",
                            url: "https://hooks.example.com/alert?access_token={webhook_token}" }} }},
      ui: {{ language: "zh_CN" }},
    }}""", encoding="utf-8")
    home = tmp_path / "home"
    env = clean_env(home, MOLT_DESKTOP_PRESET=str(preset))
    gateway = procs.gateway(home, env=env)
    assert gateway.get_json("/healthz")[0] == 200
    config = json.loads((home / "moltbot.json").read_text(encoding="utf-8"))
    assert config["remotes"] == [{"id": "server", "url": server}]
    assert config["sync"]["path"] == "/opt/moltbot-backup" and config["sync"]["keyFile"] == "~/.ssh/id_ed25519"
    assert "url" not in config["alerts"]["webhook"] and config["ui"] == {"language": "zh_CN"}
    gateway.stop()
    output = gateway.stdout() + gateway.stderr()
    assert "remotes[0].token" in output and "alerts.webhook.url" in output
    assert_no_secret([token, webhook_token], home, output, json.dumps(config))

    # The next start leaves the config alone, even one the user has changed since.
    (home / "moltbot.json").write_text('{ ui: { language: "ja" } }', encoding="utf-8")
    procs.gateway(home, env=env).stop()
    assert (home / "moltbot.json").read_text(encoding="utf-8") == '{ ui: { language: "ja" } }'
