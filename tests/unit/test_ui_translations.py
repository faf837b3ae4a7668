"""The UI's Qt catalogs: every tr() text of ui/ is in the .ts files, translated, and compiled.

`scripts/ui_translations.py --check` runs pyside6-lupdate into a temp copy and compares, runs
lrelease and compares the .qm bytes, and checks that no translation is missing or lost a
placeholder. Then the compiled catalogs are loaded for real and give Chinese and Japanese text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from molt_desktop.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]


def test_catalogs_are_complete_and_compiled() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "ui_translations.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_language_has_a_catalog() -> None:
    for lang in LANGUAGES:
        if lang == "en":
            continue  # the source texts
        assert (ROOT / "resources" / "translations" / f"molt_desktop_{lang}.ts").is_file()
        assert (ROOT / "resources" / "translations" / f"molt_desktop_{lang}.qm").is_file()


def test_compiled_catalogs_translate() -> None:
    code = (
        "import os; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "app = QCoreApplication([])\n"
        "from molt_desktop.ui.i18n import UiLanguage, tr\n"
        "lang = UiLanguage()\n"
        "out = []\n"
        "for code in ('zh_CN', 'ja', 'en'):\n"
        "    lang.apply(code); out.append(tr('Quit'))\n"
        "print('|'.join(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    zh, ja, en = result.stdout.strip().split("|")
    assert en == "Quit" and zh != "Quit" and ja != "Quit" and zh != ja
