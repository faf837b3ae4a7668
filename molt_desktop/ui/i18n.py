"""Qt translations of the UI: `tr()`, and switching the language without a restart.

Write `tr("Open chat")` (or `tr("{n} sessions").format(n=n)`; for plurals `tr("%n sessions", None, n)`).
`pyside6-lupdate` collects every `tr(...)` call of the ui package into
`resources/translations/molt_desktop_<lang>.ts`; `scripts/ui_translations.py` updates, checks and
compiles them to `.qm`. Widgets that show text implement `retranslate()` and call it from
`changeEvent` on `QEvent.LanguageChange`, which Qt sends to every widget when
`UiLanguage.apply()` installs another translator.

The core's own strings (errors from config, the gateway, the CLI) use molt_desktop.i18n (gettext
catalogs); `apply()` switches both.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from molt_desktop import i18n as core_i18n
from molt_desktop.logs import get_logger
from molt_desktop.ui.resources import translations_dir

log = get_logger("ui")

CATALOG = "molt_desktop"
LANGUAGES = core_i18n.LANGUAGES


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """The UI text in the current language (one translation context for the whole app)."""
    return QCoreApplication.translate("", text, disambiguation, n)


def language_name(lang: str) -> str:
    """Each language in its own name, as language menus show them."""
    return {"en": "English", "zh_CN": "简体中文", "ja": "日本語"}.get(lang, lang)


def resolve(setting: str | None) -> str:
    """The language for a `ui.language` value: "auto" follows the system locale."""
    lang = core_i18n.normalize_language(setting) if setting and setting != "auto" else None
    if lang in LANGUAGES:
        return lang
    return core_i18n.detect_language()


class UiLanguage:
    """Installs the translators of one language into the running QCoreApplication."""

    def __init__(self) -> None:
        self.current = "en"
        self._translators: list[QTranslator] = []

    def apply(self, setting: str | None) -> str:
        lang = resolve(setting)
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("UiLanguage.apply() needs a QCoreApplication")
        for old in self._translators:
            app.removeTranslator(old)
        self._translators = []
        core_i18n.set_language(lang)
        if lang != "en":
            ours = QTranslator(app)
            if ours.load(f"{CATALOG}_{lang}", str(translations_dir())):
                self._translators.append(ours)
            else:
                log.warning("no UI translations for %s in %s", lang, translations_dir())
            qt = QTranslator(app)  # Qt's own texts: standard buttons, file dialogs
            if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                self._translators.append(qt)
            for translator in self._translators:
                app.installTranslator(translator)
        QLocale.setDefault(QLocale(lang))
        # installTranslator/removeTranslator make Qt send LanguageChange to every widget.
        self.current = lang
        return lang

