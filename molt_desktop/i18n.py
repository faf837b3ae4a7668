"""Translations of the app's own (non-Qt) strings: `_()`, `ngettext()`, and the language choice.

Usage: `from molt_desktop.i18n import _` then `_("Port {port} is free.").format(port=port)`.
Placeholders are named `str.format` fields so translators can reorder them; never build a
sentence by concatenating translated pieces.

Catalogs are gettext `.po` files inside the package (`molt_desktop/locale/<lang>.po`), read at
first use by the small reader below (no gettext tools or `.mo` files at run time). An entry
that is missing, empty or marked fuzzy falls back to the English text.

Language, first match wins:
1. `set_language(lang)` (the app calls it with the config's `ui.language`; "auto"/None means
   detect); before any call, `ui.language` is read from the state dir's config file;
2. `MOLT_DESKTOP_LANG`;
3. `LANGUAGE` (GNU list) / `LC_ALL` / `LC_MESSAGES` / `LANG` (zh_CN, zh_SG, zh_Hans -> zh_CN;
   ja* -> ja; any other language, or C/POSIX -> English);
4. the OS: the Windows UI language, macOS AppleLanguages, `locale.getlocale()`;
5. English.

To add a language: add its code to LANGUAGES and `normalize_language`, then
`python scripts/i18n_extract.py --init <code>` and translate the new `.po` file.
"""

from __future__ import annotations

import locale
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources

LANGUAGES = ("en", "zh_CN", "ja")
DEFAULT_LANGUAGE = "en"
ENV_LANG = "MOLT_DESKTOP_LANG"
CONTEXT_SEP = "\x04"

log = logging.getLogger("molt_desktop.i18n")


# --- the .po reader ------------------------------------------------------------------------


class PoError(ValueError):
    """A malformed .po file; the message names the line."""


@dataclass
class PoEntry:
    msgid: str
    msgstr: list[str]  # one string, or one per plural form
    msgid_plural: str | None = None
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}{CONTEXT_SEP}{self.msgid}"

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.msgstr) and all(self.msgstr)


_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b",
            "f": b"\f", "v": b"\v", "'": b"'", "?": b"?"}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def _unquote(text: str, lineno: int) -> str:
    """The value of one quoted .po string, `"..."` with C escapes (octal/hex give bytes)."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise PoError(f"line {lineno}: expected a quoted string, got {text!r}")
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == '"':
            raise PoError(f"line {lineno}: unescaped '\"' inside a string")
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise PoError(f"line {lineno}: the string ends with a lone backslash")
        esc = body[i]
        if esc in _ESCAPES:
            out += _ESCAPES[esc]
            i += 1
        elif esc in _OCTAL:
            j = i
            while j < len(body) and j < i + 3 and body[j] in _OCTAL:
                j += 1
            out.append(int(body[i:j], 8) & 0xFF)
            i = j
        elif esc == "x":
            j = i + 1
            while j < len(body) and j < i + 3 and body[j] in _HEX:
                j += 1
            if j == i + 1:
                raise PoError(f"line {lineno}: \\x without hex digits")
            out.append(int(body[i + 1:j], 16))
            i = j
        else:
            raise PoError(f"line {lineno}: unknown escape \\{esc}")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoError(f"line {lineno}: not UTF-8 ({exc})") from None


_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*)$")


def parse_po(text: str) -> list[PoEntry]:
    """All entries of a .po file, in order (the header `msgid ""` included; obsolete `#~` ones not)."""
    entries: list[PoEntry] = []
    fields: dict[str, str] = {}  # "msgctxt", "msgid", "msgid_plural", "msgstr", "msgstr[0]", ...
    flags: set[str] = set()
    current: str | None = None  # the field that continuation lines extend
    start = 0

    def finish() -> None:
        nonlocal fields, flags, current
        if not fields:
            flags = set()
            return
        if "msgid" not in fields:
            raise PoError(f"line {start}: an entry without msgid")
        plural = fields.get("msgid_plural")
        indexed = sorted((int(k[7:-1]), v) for k, v in fields.items() if k.startswith("msgstr["))
        if plural is None:
            if indexed or "msgstr" not in fields:
                raise PoError(f"line {start}: msgid {fields['msgid']!r} needs exactly one plain msgstr")
            msgstr = [fields["msgstr"]]
        else:
            if "msgstr" in fields or not indexed or [i for i, _ in indexed] != list(range(len(indexed))):
                raise PoError(f"line {start}: msgid_plural needs msgstr[0], msgstr[1], ... in order")
            msgstr = [v for _, v in indexed]
        entries.append(PoEntry(fields["msgid"], msgstr, plural, fields.get("msgctxt"), flags, start))
        fields, flags, current = {}, set(), None

    lines = text.removeprefix("\ufeff").splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if any(k.startswith("msgstr") for k in fields):
                finish()
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue  # translator/extracted/reference/previous (#|) and obsolete (#~) lines
        if line.startswith('"'):
            if current is None:
                raise PoError(f"line {lineno}: a string outside any msgid/msgstr")
            fields[current] += _unquote(line, lineno)
            continue
        match = _KEYWORD.match(line)
        if not match:
            raise PoError(f"line {lineno}: cannot read {line[:40]!r}")
        keyword = match.group(1)
        if keyword in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in fields):
            finish()
        if not fields:
            start = lineno
        if keyword in fields:
            raise PoError(f"line {lineno}: {keyword} given twice in one entry")
        fields[keyword] = _unquote(match.group(3), lineno)
        current = keyword
    finish()
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise PoError(f"line {entry.line}: duplicate msgid {entry.msgid!r}")
        seen.add(entry.key)
    return entries


def parse_header(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


# --- plural forms: a C expression in n (`Plural-Forms: nplurals=3; plural=(n==1 ? 0 : ...);`)


_PLURAL_TOKEN = re.compile(r"\s*(\d+|n|\|\||&&|==|!=|<=|>=|[-+*/%<>!?:()])")
_BINARY: list[dict[str, Callable[[int, int], int]]] = [
    {"||": lambda a, b: int(bool(a or b))},
    {"&&": lambda a, b: int(bool(a and b))},
    {"==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b)},
    {"<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b),
     ">=": lambda a, b: int(a >= b)},
    {"+": lambda a, b: a + b, "-": lambda a, b: a - b},
    {"*": lambda a, b: a * b, "/": lambda a, b: a // b if b else 0, "%": lambda a, b: a % b if b else 0},
]


def compile_plural(expression: str) -> Callable[[int], int]:
    """A function n -> plural form index for a gettext Plural-Forms expression (no eval)."""
    tokens: list[str] = []
    pos, expression = 0, expression.strip().rstrip(";")
    while pos < len(expression):
        match = _PLURAL_TOKEN.match(expression, pos)
        if not match:
            if expression[pos:].strip():
                raise PoError(f"cannot read the plural expression {expression!r}")
            break
        tokens.append(match.group(1))
        pos = match.end()
    index = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal index
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise PoError(f"bad plural expression {expression!r}")
        index += 1
        return token

    def ternary() -> Callable[[int], int]:
        cond = binary(0)
        if peek() != "?":
            return cond
        take("?")
        yes = ternary()
        take(":")
        no = ternary()
        return lambda n: yes(n) if cond(n) else no(n)

    def binary(level: int) -> Callable[[int], int]:
        if level == len(_BINARY):
            return unary()
        left = binary(level + 1)
        while peek() in _BINARY[level]:
            op, right = _BINARY[level][take()], binary(level + 1)
            left = (lambda l, r, f: lambda n: f(l(n), r(n)))(left, right, op)
        return left

    def unary() -> Callable[[int], int]:
        token = take()
        if token == "!":
            inner = unary()
            return lambda n: int(not inner(n))
        if token == "-":
            inner = unary()
            return lambda n: -inner(n)
        if token == "(":
            inner = ternary()
            take(")")
            return inner
        if token == "n":
            return lambda n: n
        if token.isdigit():
            value = int(token)
            return lambda n: value
        raise PoError(f"bad plural expression {expression!r}")

    result = ternary()
    if index != len(tokens):
        raise PoError(f"bad plural expression {expression!r}")
    return result


def _english_plural(n: int) -> int:
    return int(n != 1)


@dataclass
class Catalog:
    messages: dict[str, list[str]]
    plural: Callable[[int], int] = _english_plural
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_po(cls, text: str) -> Catalog:
        messages: dict[str, list[str]] = {}
        headers: dict[str, str] = {}
        for entry in parse_po(text):
            if entry.msgid == "" and entry.msgctxt is None:
                headers = parse_header(entry.msgstr[0])
            elif entry.translated:
                messages[entry.key] = entry.msgstr
        plural: Callable[[int], int] = _english_plural
        match = re.search(r"plural\s*=\s*([^;]+)", headers.get("plural-forms", ""))
        if match:
            plural = compile_plural(match.group(1))
        return cls(messages, plural, headers)

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        return found[0] if found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.messages.get(singular)
        if found and len(found) > 1:
            try:
                return found[self.plural(n)]
            except (IndexError, ArithmeticError):
                pass
        elif found:  # a plural msgid translated with one form
            return found[0]
        return singular if n == 1 else plural


# --- language choice -----------------------------------------------------------------------


def normalize_language(tag: str | None) -> str | None:
    """The supported language for a locale/language tag ("zh_CN.UTF-8", "zh-Hans", "ja_JP"...), or None."""
    if not tag:
        return None
    value = tag.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if value.startswith("chinese"):  # Windows names, e.g. "Chinese (Simplified)_China"
        return "zh_CN" if any(w in value for w in ("simplified", "china", "singapore", "prc")) else None
    if value.startswith("japanese"):
        return "ja"
    if value.startswith("english"):
        return "en"
    parts = value.split("_")
    if parts[0] == "en":
        return "en"
    if parts[0] in ("ja", "jp"):
        return "ja"
    if parts[0] == "zh":
        rest = set(parts[1:])
        if rest & {"hant", "tw", "hk", "mo"}:
            return None  # Traditional Chinese: not translated yet
        return "zh_CN"
    return None


def _is_c_locale(value: str) -> bool:
    return value.split(".")[0].upper() in ("C", "POSIX")


def _posix_env_language(environ: Mapping[str, str]) -> str | None:
    effective = next((environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(k)), None)
    if effective is None:
        return None
    if _is_c_locale(effective):
        return DEFAULT_LANGUAGE
    for item in environ.get("LANGUAGE", "").split(":"):
        found = normalize_language(item)
        if found:
            return found
    return normalize_language(effective) or DEFAULT_LANGUAGE


def _os_language() -> str | None:
    if sys.platform == "win32":
        try:
            import ctypes

            langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
            found = normalize_language(locale.windows_locale.get(int(langid)))
            if found:
                return found
        except Exception:
            pass
    elif sys.platform == "darwin":
        try:
            out = subprocess.run(["defaults", "read", "-g", "AppleLanguages"], capture_output=True,
                                 text=True, timeout=2, check=False).stdout
            first = re.search(r'[A-Za-z][\w-]*', out.replace("(", " "))
            found = normalize_language(first.group(0) if first else None)
            if found:
                return found
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return normalize_language(locale.getlocale()[0])
    except (ValueError, TypeError):
        return None


def detect_language(environ: Mapping[str, str] | None = None, *, os_fallback: bool = True) -> str:
    """The language from the environment and the OS (steps 2-5 above)."""
    env = os.environ if environ is None else environ
    return (normalize_language(env.get(ENV_LANG)) or _posix_env_language(env)
            or (_os_language() if os_fallback else None) or DEFAULT_LANGUAGE)


def _config_language() -> str | None:
    """`ui.language` from the config file, read directly (cheap, never raises)."""
    try:
        import json5

        from molt_desktop import paths

        path = paths.config_path(paths.state_dir())
        if not path.is_file():
            return None
        data = json5.loads(path.read_text(encoding="utf-8").removeprefix("\ufeff") or "{}")
        value = data.get("ui", {}).get("language") if isinstance(data, dict) else None
    except Exception:
        return None
    return normalize_language(value) if isinstance(value, str) else None


_UNSET, _AUTO = "unset", "auto"
_lock = threading.RLock()
_choice: str = _UNSET  # what set_language said: _UNSET, _AUTO or a language
_language: str | None = None  # the resolved language, cached
_catalogs: dict[str, Catalog | None] = {}


def set_language(lang: str | None) -> None:
    """Use `lang` ("en", "zh_CN", "ja", or "auto"/None to detect) from now on."""
    global _choice, _language
    if lang is None or lang.strip().lower() in ("", "auto"):
        choice = _AUTO
    else:
        found = normalize_language(lang)
        if found is None:
            raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)} or auto")
        choice = found
    with _lock:
        _choice, _language = choice, None


def current_language() -> str:
    """The language strings are translated into now: "en", "zh_CN" or "ja"."""
    global _language
    with _lock:
        if _language is None:
            if _choice not in (_UNSET, _AUTO):
                _language = _choice
            else:
                _language = (_config_language() if _choice == _UNSET else None) or detect_language()
        return _language


def load_catalog(lang: str) -> Catalog | None:
    """The parsed catalog of `lang` (None for English or when its file cannot be read)."""
    with _lock:
        if lang not in _catalogs:
            catalog = None
            if lang != DEFAULT_LANGUAGE:
                try:
                    text = resources.files("molt_desktop").joinpath("locale", f"{lang}.po").read_text("utf-8")
                    catalog = Catalog.from_po(text)
                except (OSError, PoError, UnicodeDecodeError) as exc:
                    log.warning("translations for %s not loaded, using English: %s", lang, exc)
            _catalogs[lang] = catalog
        return _catalogs[lang]


def gettext(message: str) -> str:
    """`message` in the current language (the English text when it has no translation)."""
    catalog = load_catalog(current_language())
    return catalog.gettext(message) if catalog is not None else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n`: `ngettext("{n} session", "{n} sessions", n).format(n=n)`."""
    catalog = load_catalog(current_language())
    if catalog is None:
        return singular if n == 1 else plural
    return catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the gettext name
    """Marks a string for extraction without translating it now (translate it later with _())."""
    return message


_ = gettext

__all__ = ["_", "N_", "gettext", "ngettext", "set_language", "current_language", "detect_language",
           "normalize_language", "parse_po", "PoEntry", "PoError", "Catalog", "compile_plural", "LANGUAGES"]
