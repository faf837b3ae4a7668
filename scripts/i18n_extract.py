#!/usr/bin/env python3
"""Extract the translatable strings of molt_desktop and check the translations.

    python scripts/i18n_extract.py            # rewrite molt_desktop/locale/molt_desktop.pot, report gaps
    python scripts/i18n_extract.py --check    # write nothing; exit 1 if the .pot or any .po has gaps
    python scripts/i18n_extract.py --update   # also append missing msgids (empty msgstr) to every .po
    python scripts/i18n_extract.py --init fr  # start molt_desktop/locale/fr.po from the template

Strings are found with `ast` (no gettext tools needed): every call of `_`, `gettext`, `N_` or
`ngettext` imported from `molt_desktop.i18n`, in every module of the package. Arguments must be
string literals (adjacent literals are joined); anything else is reported as an error, since it
could never be translated. A .po entry counts as translated when it is not fuzzy, every msgstr is
non-empty, and it keeps the msgid's `{placeholders}` (names, conversions and format specs) and
`%` signs.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from molt_desktop.i18n import PoEntry, PoError, parse_po  # noqa: E402

PACKAGE = ROOT / "molt_desktop"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "molt_desktop.pot"
SINGULAR = {"_", "gettext", "N_"}
PLURAL = {"ngettext"}
PLURAL_FORMS = {  # for --init; other languages: see "Plural forms" in the GNU gettext manual
    "zh_CN": "nplurals=1; plural=0;", "zh_TW": "nplurals=1; plural=0;", "ja": "nplurals=1; plural=0;",
    "ko": "nplurals=1; plural=0;", "fr": "nplurals=2; plural=(n > 1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}
DEFAULT_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


@dataclass
class Message:
    msgid: str
    msgid_plural: str | None = None
    refs: list[str] = field(default_factory=list)  # "molt_desktop/doctor.py:47"


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _i18n_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Names bound to i18n functions ({local: function}) and names bound to the i18n module."""
    functions: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module == "molt_desktop.i18n" or (node.level and module == "i18n"):
                for alias in node.names:
                    if alias.name in SINGULAR | PLURAL:
                        functions[alias.asname or alias.name] = alias.name
            elif module == "molt_desktop" or (node.level and not module):
                modules |= {alias.asname or alias.name for alias in node.names if alias.name == "i18n"}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "molt_desktop.i18n" and alias.asname:
                    modules.add(alias.asname)
    return functions, modules


def extract_file(path: Path, relative: str) -> tuple[list[Message], list[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    functions, modules = _i18n_names(tree)
    if not functions and not modules:
        return [], []
    found: list[Message] = []
    errors: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in functions:
            name = functions[func.id]
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules
              and func.attr in SINGULAR | PLURAL):
            name = func.attr
        else:
            continue
        where = f"{relative}:{node.lineno}"
        wanted = 2 if name in PLURAL else 1
        texts = [_literal(arg) for arg in node.args[:wanted]]
        if len(node.args) < wanted or any(t is None for t in texts) or node.keywords:
            errors.append(f"{where}: {name}() needs string literal arguments (not f-strings or variables)")
            continue
        found.append(Message(texts[0], texts[1] if wanted == 2 else None, [where]))  # type: ignore[arg-type]
    found.sort(key=lambda m: int(m.refs[0].rsplit(":", 1)[1]))
    return found, errors


def extract(package: Path = PACKAGE) -> tuple[dict[str, Message], list[str]]:
    """Every translatable message of the package, in file and line order, and the errors."""
    messages: dict[str, Message] = {}
    errors: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        found, bad = extract_file(path, relative)
        errors += bad
        for message in found:
            if not message.msgid:
                errors.append(f"{message.refs[0]}: an empty msgid")
            elif message.msgid in messages:
                known = messages[message.msgid]
                known.refs += message.refs
                if known.msgid_plural != message.msgid_plural:
                    errors.append(f"{message.refs[0]}: {message.msgid!r} is used with two different plurals")
            else:
                messages[message.msgid] = message
    return messages, errors


# --- .po text ------------------------------------------------------------------------------


def po_quote(text: str) -> str:
    """A .po string value: one quoted line, or `""` and one line per `\\n` for multi-line text."""
    def quote(part: str) -> str:
        escaped = (part.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\t", "\\t").replace("\r", "\\r"))
        return f'"{escaped}"'

    lines = text.splitlines(keepends=True)
    if len(lines) <= 1:
        return quote(text)
    return '""\n' + "\n".join(quote(line) for line in lines)


def render_entry(message: Message, msgstr: list[str] | None = None, *, refs: bool = True,
                 nplurals: int = 2) -> str:
    out: list[str] = []
    if refs and message.refs:
        out.append("#: " + " ".join(message.refs))
    if "{" in message.msgid:
        out.append("#, python-brace-format")
    out.append("msgid " + po_quote(message.msgid))
    if message.msgid_plural is None:
        out.append("msgstr " + po_quote((msgstr or [""])[0]))
    else:
        out.append("msgid_plural " + po_quote(message.msgid_plural))
        forms = msgstr or [""] * nplurals
        out += [f"msgstr[{i}] " + po_quote(form) for i, form in enumerate(forms)]
    return "\n".join(out) + "\n"


def render_header(language: str, plural_forms: str, title: str) -> str:
    fields = ["Project-Id-Version: molt-desktop", f"Language: {language}", "MIME-Version: 1.0",
              "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit",
              f"Plural-Forms: {plural_forms}"]
    body = "\n".join(po_quote(f + "\n") for f in fields)
    return f"# {title}\n" + 'msgid ""\nmsgstr ""\n' + body + "\n"


def render_pot(messages: dict[str, Message]) -> str:
    header = render_header("", "nplurals=INTEGER; plural=EXPRESSION;",
                           "Template of molt_desktop's translations; regenerate with scripts/i18n_extract.py.")
    return header + "".join("\n" + render_entry(m) for m in messages.values())


def render_po(language: str, messages: dict[str, Message], translations: dict[str, list[str]]) -> str:
    plural_forms = PLURAL_FORMS.get(language, DEFAULT_PLURAL_FORMS)
    nplurals = int(plural_forms.split("nplurals=")[1].split(";")[0])
    header = render_header(language, plural_forms, f"{language} translations of molt_desktop.")
    return header + "".join("\n" + render_entry(m, translations.get(m.msgid), refs=False, nplurals=nplurals)
                            for m in messages.values())


# --- checks --------------------------------------------------------------------------------


def placeholders(text: str) -> Counter[tuple[str, str, str]]:
    """The `{name!conv:spec}` fields of a format string (raises ValueError if it is malformed)."""
    return Counter((name, spec or "", conv or "") for _, name, spec, conv in Formatter().parse(text)
                   if name is not None)


def entry_problems(message: Message, entry: PoEntry | None) -> list[str]:
    if entry is None:
        return ["missing"]
    problems = []
    if entry.fuzzy:
        problems.append("fuzzy")
    if not entry.msgstr or not all(entry.msgstr):
        problems.append("not translated")
    if (entry.msgid_plural is None) != (message.msgid_plural is None):
        problems.append("plural/singular mismatch")
    sources = [message.msgid] + ([message.msgid_plural] if message.msgid_plural else [])
    try:
        wanted = placeholders(message.msgid)
    except ValueError as exc:
        return problems + [f"malformed msgid: {exc}"]
    for text in entry.msgstr:
        if not text:
            continue
        try:
            got = placeholders(text)
        except ValueError as exc:
            problems.append(f"malformed placeholders: {exc}")
            continue
        if got != wanted:
            problems.append(f"placeholders differ: {sorted(got)} instead of {sorted(wanted)}")
        if text.count("%") != max(s.count("%") for s in sources):
            problems.append("different number of % signs")
    return problems


def check_po(path: Path, messages: dict[str, Message]) -> tuple[dict[str, list[str]], list[str]]:
    """({msgid: problems}, [obsolete msgids]) for one .po file."""
    entries = {e.msgid: e for e in parse_po(path.read_text(encoding="utf-8")) if e.msgid and e.msgctxt is None}
    problems = {msgid: p for msgid, m in messages.items() if (p := entry_problems(m, entries.get(msgid)))}
    obsolete = [msgid for msgid in entries if msgid not in messages]
    return problems, obsolete


def po_files() -> list[Path]:
    return sorted(LOCALE.glob("*.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="write nothing; exit 1 on any gap")
    action.add_argument("--update", action="store_true", help="append missing msgids to every .po")
    action.add_argument("--init", metavar="LANG", help="create locale/LANG.po from the template")
    args = parser.parse_args(argv)

    messages, errors = extract()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    failed = bool(errors)
    pot_text = render_pot(messages)
    if args.check:
        if not POT.exists() or POT.read_text(encoding="utf-8") != pot_text:
            print(f"{POT.relative_to(ROOT)} is out of date: run scripts/i18n_extract.py", file=sys.stderr)
            failed = True
    else:
        LOCALE.mkdir(exist_ok=True)
        POT.write_text(pot_text, encoding="utf-8")
        print(f"wrote {POT.relative_to(ROOT)}: {len(messages)} messages")
    if args.init:
        target = LOCALE / f"{args.init}.po"
        if target.exists():
            print(f"{target.relative_to(ROOT)} exists already", file=sys.stderr)
            return 1
        target.write_text(render_po(args.init, messages, {}), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}: translate every msgstr, then run with --check")
        return 0
    for path in po_files():
        try:
            problems, obsolete = check_po(path, messages)
        except PoError as exc:
            print(f"{path.name}: cannot read: {exc}", file=sys.stderr)
            failed = True
            continue
        missing = [msgid for msgid, p in problems.items() if p == ["missing"]]
        if args.update and missing:
            nplurals = int(PLURAL_FORMS.get(path.stem, DEFAULT_PLURAL_FORMS).split("nplurals=")[1].split(";")[0])
            with path.open("a", encoding="utf-8") as out:
                for msgid in missing:
                    out.write("\n" + render_entry(messages[msgid], refs=False, nplurals=nplurals))
            print(f"{path.name}: appended {len(missing)} missing msgids")
        print(f"{path.name}: {len(messages) - len(problems)}/{len(messages)} translated"
              + (f", {len(obsolete)} obsolete" if obsolete else ""))
        for msgid, why in problems.items():
            print(f"  {'; '.join(why)}: {msgid!r}")
        for msgid in obsolete:
            print(f"  obsolete (no longer in the code): {msgid!r}")
        failed = failed or bool(problems)
    return 1 if failed and (args.check or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
