"""Translations: every `_()` string translated into zh_CN and ja, the .po reader, the language choice,
and `molt-desktop doctor` speaking the user's language."""

from __future__ import annotations

import gettext
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from molt_desktop import i18n
from molt_desktop.i18n import Catalog, PoError, compile_plural, detect_language, normalize_language, parse_po

REPO = Path(__file__).resolve().parents[2]
LOCALE = REPO / "molt_desktop" / "locale"
TRANSLATED = ("zh_CN", "ja")


def _load_extractor():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("i18n_extract", REPO / "scripts" / "i18n_extract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


extractor = _load_extractor()


@pytest.fixture(autouse=True)
def restore_language() -> Iterator[None]:
    saved = (i18n._choice, i18n._language)
    yield
    i18n._choice, i18n._language = saved


# --- the catalogs --------------------------------------------------------------------------


def test_every_msgid_in_the_package_is_translated_in_every_language() -> None:
    messages, errors = extractor.extract()
    assert not errors
    assert len(messages) > 100
    for lang in TRANSLATED:
        problems, _obsolete = extractor.check_po(LOCALE / f"{lang}.po", messages)
        assert not problems, f"{lang}.po: run scripts/i18n_extract.py --update and translate: {problems}"


def _without_locations(pot: str) -> str:
    """A template without its `#:` source references, which move whenever code moves."""
    return "\n".join(line for line in pot.splitlines() if not line.startswith("#: "))


def test_the_template_is_up_to_date() -> None:
    messages, _errors = extractor.extract()
    written = (LOCALE / "molt_desktop.pot").read_text(encoding="utf-8")
    assert _without_locations(written) == _without_locations(extractor.render_pot(messages)), (
        "run scripts/i18n_extract.py")


def test_extractor_rejects_strings_that_could_never_be_translated(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text('from molt_desktop.i18n import _, ngettext\nname = "x"\n'
                      '_("fine {a}").format(a=1)\n_(f"bad {name}")\n_("a " + name)\n'
                      'ngettext("{n} file", "{n} files", 2)\n_("joined " "literals")\n', encoding="utf-8")
    found, errors = extractor.extract_file(source, "mod.py")
    assert [(m.msgid, m.msgid_plural) for m in found] == [
        ("fine {a}", None), ("{n} file", "{n} files"), ("joined literals", None)]
    assert [e.split(":")[1] for e in errors] == ["4", "5"]
    other = tmp_path / "other.py"
    other.write_text('_ = str\n_("not ours")\n', encoding="utf-8")
    assert extractor.extract_file(other, "other.py") == ([], [])


def test_placeholder_check_catches_translator_mistakes() -> None:
    message = extractor.Message("Port {port} on {host} ({n:>3})")
    entry = parse_po('msgid "Port {port} on {host} ({n:>3})"\nmsgstr "{host} 的端口 {prot}（{n:>3}）"\n')[0]
    assert any("placeholders differ" in p for p in extractor.entry_problems(message, entry))
    reordered = parse_po('msgid "Port {port} on {host} ({n:>3})"\nmsgstr "{host} 上的端口 {port}（{n:>3}）"\n')[0]
    assert extractor.entry_problems(message, reordered) == []
    assert extractor.entry_problems(message, None) == ["missing"]


# --- the .po reader ------------------------------------------------------------------------

SAMPLE = r'''# A translator comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
"n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

#: molt_desktop/x.py:1
#, python-brace-format
msgid ""
"First line\n"
"second line with a \"quote\", a tab\t and a backslash \\"
msgstr ""
"Erste Zeile\n"
"zweite mit \"Zitat\", Tab\t und Backslash \\"

msgid "octal and hex"
msgstr "caf\303\251 \x41\101"

msgctxt "menu"
msgid "Open"
msgstr "Öffnen (Menü)"

msgid "Open"
msgstr "Öffnen"

#, fuzzy
msgid "Fuzzy one"
msgstr "Unsicher"

msgid "Untranslated"
msgstr ""

#~ msgid "Obsolete"
#~ msgstr "Veraltet"

msgid "{n} file"
msgid_plural "{n} files"
msgstr[0] "{n} файл"
msgstr[1] "{n} файла"
msgstr[2] "{n} файлов"
'''


def test_reader_handles_multiline_escapes_context_fuzzy_and_plurals() -> None:
    entries = {(e.msgctxt, e.msgid): e for e in parse_po(SAMPLE)}
    assert len(entries) == 8  # header, 2 Open, fuzzy, untranslated, plural, multiline, octal
    multi = entries[(None, 'First line\nsecond line with a "quote", a tab\t and a backslash \\')]
    assert multi.msgstr == ['Erste Zeile\nzweite mit "Zitat", Tab\t und Backslash \\']
    assert "python-brace-format" in multi.flags and multi.line == 10
    assert entries[(None, "octal and hex")].msgstr == ["café AA"]
    assert entries[(None, "Fuzzy one")].fuzzy and not entries[(None, "Fuzzy one")].translated

    catalog = Catalog.from_po(SAMPLE)
    assert catalog.gettext("Open") == "Öffnen"
    assert catalog.messages["menu\x04Open"] == ["Öffnen (Menü)"]
    assert catalog.gettext("Fuzzy one") == "Fuzzy one"  # fuzzy entries are skipped
    assert catalog.gettext("Untranslated") == "Untranslated"
    assert catalog.gettext("Obsolete") == "Obsolete"
    assert catalog.gettext("") == ""  # never the header
    forms = [catalog.ngettext("{n} file", "{n} files", n).format(n=n) for n in (1, 3, 5, 21, 111)]
    assert forms == ["1 файл", "3 файла", "5 файлов", "21 файл", "111 файлов"]
    assert Catalog.from_po("").ngettext("{n} file", "{n} files", 2) == "{n} files"


@pytest.mark.parametrize("text", [
    'msgid "unterminated\nmsgstr ""\n',
    'msgstr "no msgid"\n',
    'msgid "a"\nmsgstr "x"\n\nmsgid "a"\nmsgstr "y"\n',
    'msgid "a"\n',
    'msgid "a"\nmsgstr "bad \\q escape"\n',
    'msgid "a"\nmsgid_plural "as"\nmsgstr[1] "x"\n',
    '"floating string"\n',
])
def test_reader_rejects_malformed_files(text: str) -> None:
    with pytest.raises(PoError, match="line"):
        parse_po(text)


@pytest.mark.parametrize(("expression", "expected"), [
    ("0", [0, 0, 0, 0]),
    ("(n != 1)", [1, 0, 1, 1]),
    ("n > 1", [0, 0, 1, 1]),
    ("n==1 ? 0 : n==2 ? 1 : 2", [2, 0, 1, 2]),
    ("(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)", [0, 1, 2, 3]),
    ("!(n == 1) && -1 < n / 2 * 2 - n % 2 + 1", [1, 0, 1, 1]),
])
def test_plural_expressions(expression: str, expected: list[int]) -> None:
    assert [compile_plural(expression)(n) for n in (0, 1, 2, 5)] == expected


def test_plural_expressions_are_parsed_not_evaluated() -> None:
    for bad in ("__import__('os')", "n ==", "(n", "n ? 1", "1 2"):
        with pytest.raises(PoError):
            compile_plural(bad)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_reader_agrees_with_gnu_msgfmt(tmp_path: Path) -> None:
    for name, text in [("sample", SAMPLE)] + [(lang, (LOCALE / f"{lang}.po").read_text("utf-8")) for lang in TRANSLATED]:
        po, mo = tmp_path / f"{name}.po", tmp_path / f"{name}.mo"
        po.write_text(text, encoding="utf-8")
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
        with mo.open("rb") as fp:
            gnu = gettext.GNUTranslations(fp)
        ours = Catalog.from_po(text)
        for entry in parse_po(text):
            if not entry.msgid or entry.msgctxt:
                continue
            if entry.msgid_plural:
                for n in range(30):
                    assert ours.ngettext(entry.msgid, entry.msgid_plural, n) == gnu.ngettext(
                        entry.msgid, entry.msgid_plural, n)
            else:
                assert ours.gettext(entry.msgid) == gnu.gettext(entry.msgid)


# --- the language choice -------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [
    ({"MOLT_DESKTOP_LANG": "zh_CN", "LANG": "ja_JP.UTF-8"}, "zh_CN"),
    ({"MOLT_DESKTOP_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"MOLT_DESKTOP_LANG": "auto", "LANG": "ja_JP.UTF-8"}, "ja"),
    ({"MOLT_DESKTOP_LANG": "xx", "LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_SG.UTF-8"}, "zh_CN"),
    ({"LANG": "zh-Hans"}, "zh_CN"),
    ({"LANG": "zh_Hans_CN"}, "zh_CN"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),
    ({"LANG": "ja_JP.eucJP"}, "ja"),
    ({"LANG": "ja"}, "ja"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX", "LANGUAGE": "zh_CN"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "ja_JP.UTF-8", "LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "zh_CN"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "fr:ja:en"}, "ja"),
    ({}, "en"),
])
def test_language_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert detect_language(env, os_fallback=False) == expected


def test_language_from_the_os_when_the_environment_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n.sys, "platform", "linux")
    monkeypatch.setattr(i18n.locale, "getlocale", lambda *a: ("ja_JP", "UTF-8"))
    assert detect_language({}) == "ja"
    monkeypatch.setattr(i18n.locale, "getlocale", lambda *a: (None, None))
    assert detect_language({}) == "en"


@pytest.mark.parametrize(("tag", "expected"), [
    ("Chinese (Simplified)_China", "zh_CN"), ("Chinese (Traditional)_Taiwan", None),
    ("Japanese_Japan", "ja"), ("English_United States", "en"), ("zh_CN.GB18030", "zh_CN"),
    ("zh_HK", None), ("de_DE", None), ("", None), (None, None),
])
def test_normalize_language(tag: str | None, expected: str | None) -> None:
    assert normalize_language(tag) == expected


def test_set_language_and_fallback_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.set_language("zh_CN")
    assert i18n.current_language() == "zh_CN"
    assert i18n._("No sessions.") == "没有会话。"
    assert i18n._("Port {port} is free.").format(port=18789) == "端口 18789 可用。"
    assert i18n._("a string nobody translated") == "a string nobody translated"
    assert i18n.ngettext("{n} thing", "{n} things", 2) == "{n} things"
    i18n.set_language("ja")
    assert i18n._("No sessions.") == "セッションはありません。"
    i18n.set_language("en")
    assert i18n._("No sessions.") == "No sessions."
    with pytest.raises(ValueError, match="unsupported language"):
        i18n.set_language("fr")
    monkeypatch.setenv("MOLT_DESKTOP_LANG", "ja")
    i18n.set_language("auto")
    assert i18n.current_language() == "ja"


def test_the_config_file_choice_beats_the_environment(state_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLT_DESKTOP_LANG", "zh_CN")
    (state_home / "moltbot.json").write_text('// comments are fine\n{ui: {language: "ja"}}\n', encoding="utf-8")
    i18n._choice, i18n._language = i18n._UNSET, None
    assert i18n.current_language() == "ja"
    (state_home / "moltbot.json").write_text('{ui: {language: "auto"}}', encoding="utf-8")
    i18n._language = None
    assert i18n.current_language() == "zh_CN"
    (state_home / "moltbot.json").write_text('{ui: {language: "ja"', encoding="utf-8")  # broken: ignored
    i18n._language = None
    assert i18n.current_language() == "zh_CN"
    i18n.set_language(None)  # an explicit "auto" also ignores the file
    (state_home / "moltbot.json").write_text('{ui: {language: "ja"}}', encoding="utf-8")
    assert i18n.current_language() == "zh_CN"


# --- the command line speaks the user's language -------------------------------------------


def _doctor(tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MOLT_DESKTOP_", "LC_", "PYTHON_KEYRING")) and k not in ("LANG", "LANGUAGE")}
    env.update({"MOLT_DESKTOP_HOME": str(tmp_path / "home"), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", **env_extra})
    return subprocess.run([sys.executable, "-m", "molt_desktop", "doctor", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def test_doctor_speaks_chinese(tmp_path: Path) -> None:
    result = _doctor(tmp_path, MOLT_DESKTOP_LANG="zh_CN")
    assert result.returncode == 0, result.stderr
    assert "[正常] 尚无配置文件" in result.stdout and "[警告] 尚无网关令牌。" in result.stdout
    assert "修复：" in result.stdout and "gateway.auth.token" in result.stdout
    assert "No config file yet" not in result.stdout and "一切正常。" in result.stderr

    as_json = json.loads(_doctor(tmp_path, "--json", MOLT_DESKTOP_LANG="zh_CN").stdout)
    first = as_json["findings"][0]
    assert set(first) == {"check", "level", "message", "fix"}
    assert (first["check"], first["level"]) == ("config", "ok") and first["message"].startswith("尚无配置文件")


def test_doctor_speaks_japanese(tmp_path: Path) -> None:
    result = _doctor(tmp_path, MOLT_DESKTOP_LANG="ja")
    assert result.returncode == 0, result.stderr
    assert "[正常] 設定ファイルはまだありません" in result.stdout and "対処: " in result.stdout
    assert "すべて正常です。" in result.stderr


def test_doctor_speaks_english_by_default(tmp_path: Path) -> None:
    result = _doctor(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[ok  ] No config file yet" in result.stdout and "[WARN] No gateway token yet." in result.stdout
    assert "       fix: " in result.stdout and "All good." in result.stderr
    zh = _doctor(tmp_path, LANG="zh_CN.UTF-8")
    assert "尚无配置文件" in zh.stdout
