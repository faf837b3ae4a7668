"""The project's own rules (DESIGN.md), checked: dependency directions, no Qt outside the UI,
and mypy --strict on everything outside ui/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "molt_desktop"

# package -> packages of the project it must not import
FORBIDDEN = {
    "protocol": {"agent", "app", "cli", "client", "config", "gateway", "monitor", "sessions", "sync", "ui"},
    "sessions": {"agent", "app", "client", "gateway", "ui", "sync", "monitor"},
    "agent/providers": {"gateway", "app", "client", "ui", "sync", "monitor"},
    "gateway": {"client", "ui", "sync"},
    "config": {"gateway", "agent", "client", "ui", "sync", "monitor", "sessions"},
}
QT = ("PySide6", "qasync", "PyQt5", "PyQt6")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(under: str = "") -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependency_directions(package: str) -> None:
    offences = []
    for path in _modules(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "molt_desktop" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not offences


def test_protocol_imports_nothing_else_of_the_project() -> None:
    for path in _modules("protocol"):
        for name in _imports(path):
            assert not name.startswith("molt_desktop.") or name.startswith("molt_desktop.protocol"), (path, name)


def test_qt_only_in_ui_and_app() -> None:
    offences = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("ui/") or rel == "app.py":
            continue
        offences += [f"{rel}: {n}" for n in _imports(path) if n.split(".")[0] in QT]
    assert not offences


def test_every_package_but_ui_imports_with_qt_blocked() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {QT!r}: raise ImportError('Qt is blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import molt_desktop\n"
        "for info in pkgutil.walk_packages(molt_desktop.__path__, 'molt_desktop.'):\n"
        "    if info.name.startswith('molt_desktop.ui') or info.name == 'molt_desktop.__main__': continue\n"
        "    importlib.import_module(info.name)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_mypy_strict_outside_ui() -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extras")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--exclude", "molt_desktop/ui/", "molt_desktop"],
        capture_output=True, text=True, timeout=600, cwd=PACKAGE.parent,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_module_docstrings() -> None:
    missing = [p.relative_to(PACKAGE).as_posix() for p in _modules()
               if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None]
    assert not missing




def test_no_unused_imports_or_undefined_names() -> None:
    pytest.importorskip("ruff", reason="ruff is in the test extras")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F", "--output-format", "concise",
                             "molt_desktop", "tests", "bench", "scripts"],
                            capture_output=True, text=True, timeout=300, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stdout[-4000:]
