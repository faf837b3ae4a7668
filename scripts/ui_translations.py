#!/usr/bin/env python3
"""Update, check and compile the Qt translations of the UI (resources/translations/).

    python scripts/ui_translations.py            # lupdate the .ts files, then lrelease the .qm files
    python scripts/ui_translations.py --check    # write nothing; exit 1 if a .ts or .qm is out of date

The sources are the `tr(...)` calls in molt_desktop/ui/ (see molt_desktop/ui/i18n.py).
`pyside6-lupdate` keeps the existing translations and drops strings no longer in the code
(`-no-obsolete`); `-locations none` keeps the files free of line numbers, so a change in the
code shows in the .ts only when a text changed. A message counts as translated when it is not
`unfinished` and keeps the source's `{placeholders}` and `%n`.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "molt_desktop" / "ui"
TRANSLATIONS = ROOT / "resources" / "translations"
LANGUAGES = ("zh_CN", "ja")
CATALOG = "molt_desktop"
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n")


def tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6-Essentials in this environment")
    return found


def sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in UI.glob("*.py"))


def ts_path(lang: str, base: Path = TRANSLATIONS) -> Path:
    return base / f"{CATALOG}_{lang}.ts"


def lupdate(target_dir: Path) -> None:
    for lang in LANGUAGES:
        ts = ts_path(lang, target_dir)
        subprocess.run([tool("pyside6-lupdate"), *sources(), "-no-obsolete", "-locations", "none",
                        "-target-language", lang, "-ts", str(ts)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)


def lrelease(ts_dir: Path, qm_dir: Path) -> None:
    for lang in LANGUAGES:
        subprocess.run([tool("pyside6-lrelease"), str(ts_path(lang, ts_dir)), "-qm",
                        str(qm_dir / f"{CATALOG}_{lang}.qm")], check=True, stdout=subprocess.DEVNULL)


def problems(ts: Path) -> list[str]:
    """Untranslated messages and translations that lost a placeholder."""
    found: list[str] = []
    for message in ET.parse(ts).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        if translation is None:
            continue
        forms = [f.text or "" for f in translation.findall("numerusform")] or [translation.text or ""]
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not all(forms):
            found.append(f"{ts.name}: not translated: {source!r}")
            continue
        want = sorted(PLACEHOLDER.findall(source))
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != want:
                found.append(f"{ts.name}: placeholders differ in {source!r}: {form!r}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when anything is out of date")
    args = parser.parse_args()
    if args.check:
        failures: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for lang in LANGUAGES:
                if ts_path(lang).exists():
                    shutil.copy(ts_path(lang), ts_path(lang, work))
            lupdate(work)
            for lang in LANGUAGES:
                if not ts_path(lang).exists() or ts_path(lang).read_bytes() != ts_path(lang, work).read_bytes():
                    failures.append(f"{ts_path(lang).name} is out of date: run scripts/ui_translations.py")
            lrelease(TRANSLATIONS, work)
            for lang in LANGUAGES:
                qm = TRANSLATIONS / f"{CATALOG}_{lang}.qm"
                if not qm.exists() or not filecmp.cmp(qm, work / qm.name, shallow=False):
                    failures.append(f"{qm.name} is out of date: run scripts/ui_translations.py")
        for lang in LANGUAGES:
            if ts_path(lang).exists():
                failures.extend(problems(ts_path(lang)))
        for failure in failures:
            print(failure, file=sys.stderr)
        return 1 if failures else 0
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    lupdate(TRANSLATIONS)
    lrelease(TRANSLATIONS, TRANSLATIONS)
    gaps = [p for lang in LANGUAGES for p in problems(ts_path(lang))]
    for gap in gaps:
        print(gap, file=sys.stderr)
    print(f"{len(gaps)} message(s) need a translation" if gaps else "all UI messages are translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
