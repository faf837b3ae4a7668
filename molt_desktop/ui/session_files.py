"""Export and import for the session list: the menus, the file dialogs and the flows behind them.

What lives here: `SessionFiles`, owned by a SessionListWidget. Export writes Markdown, JSON or a
JSONL transcript (session_export.py) for one session (a save dialog) or many (a folder, one file
each). Import brings in a JSONL transcript (`importer.import_transcript`) or a whole Clawdbot /
Moltbot / OpenClaw state dir (`importer.import_state_dir`), both in a worker thread, into the
state dir of the local gateway (the one in hello-ok's snapshot); the gateway's store sees the new
sessions on its next read. The dialog methods (`ask_*`) are what tests replace.
What does not: the list itself (session_list.py), file formats (session_export.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDir, QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMenu

from molt_desktop.config.load import ConfigError
from molt_desktop.importer import (
    ImportFailed,
    TranscriptImportError,
    import_state_dir,
    import_transcript,
)
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.session_export import EXTENSIONS, export_sessions, file_name
from molt_desktop.ui.style import themed_icon

if TYPE_CHECKING:
    from molt_desktop.ui.session_list import SessionListWidget

STATE_DIR_NAMES = (".openclaw", ".moltbot", ".clawdbot")


def format_names() -> dict[str, str]:
    return {"markdown": tr("Markdown (readable)…"), "json": tr("JSON (chat history)…"),
            "jsonl": tr("JSONL transcript (OpenClaw)…")}


def _filter(fmt: str) -> str:
    label = {"markdown": tr("Markdown"), "json": tr("JSON"), "jsonl": tr("OpenClaw transcript")}[fmt]
    return f"{label} (*.{EXTENSIONS[fmt]})"


def transcript_error_text(exc: TranscriptImportError, name: str) -> str:
    if exc.reason == "torn":
        return tr("{name} ends in an unfinished line; it may have been copied while it was being written. "
                  "Nothing was imported.").format(name=name)
    if exc.reason == "bad_line":
        return tr("Line {line} of {name} is not valid JSON. Nothing was imported.").format(line=exc.line, name=name)
    if exc.reason == "no_header":
        return tr("{name} is not an OpenClaw transcript: its first line is not a session header. "
                  "Nothing was imported.").format(name=name)
    if exc.reason == "empty":
        return tr("{name} is empty. Nothing was imported.").format(name=name)
    if exc.reason == "not_utf8":
        return tr("{name} is not a text file. Nothing was imported.").format(name=name)
    return tr("{name} could not be read: {error}").format(name=name, error=str(exc))


class SessionFiles:
    def __init__(self, owner: SessionListWidget) -> None:
        self.owner = owner

    # --- menus --------------------------------------------------------------------------------

    def build_context_menu(self, keys: list[str]) -> QMenu:
        owner = self.owner
        menu = QMenu(owner)
        if len(keys) == 1:
            menu.addAction(owner.menu_actions["rename"])
        pinned = all((owner.row(k) or {}).get("pinned") for k in keys)
        menu.addAction(owner.menu_actions["unpin" if pinned else "pin"])
        self.add_export_menu(menu, keys)
        if any(k != owner.main_key() for k in keys):
            menu.addSeparator()
            menu.addAction(owner.menu_actions["delete"])
        return menu

    def context_menu(self, pos: QPoint) -> None:
        """The list's right-click menu, for the selection (or the row clicked, when it was not
        part of the selection)."""
        view = self.owner.list
        item = view.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            view.setCurrentItem(item)
        menu = self.build_context_menu(self.owner.selected_keys())
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(view.viewport().mapToGlobal(pos))

    def fill_tools_menu(self, menu: QMenu) -> None:
        menu.clear()
        self.add_import_actions(menu)
        keys = self.owner.selected_keys()
        if keys:
            menu.addSeparator()
            self.add_export_menu(menu, keys)

    def add_export_menu(self, menu: QMenu, keys: list[str]) -> None:
        title = tr("Export…") if len(keys) == 1 else tr("Export %n sessions…", None, len(keys))
        sub = menu.addMenu(themed_icon("export"), title)
        for fmt, label in format_names().items():
            sub.addAction(label).triggered.connect(
                lambda _=False, f=fmt, k=list(keys): self.owner._spawn(self.export(k, f)))

    def add_import_actions(self, menu: QMenu) -> None:
        menu.addAction(themed_icon("import"), tr("Import a transcript (JSONL)…")).triggered.connect(
            lambda: self.owner._spawn(self.import_transcript()))
        menu.addAction(themed_icon("import"), tr("Import from OpenClaw / Clawdbot folder…")).triggered.connect(
            lambda: self.owner._spawn(self.import_state_dir()))

    # --- dialogs (tests replace these) --------------------------------------------------------

    async def ask_save_file(self, suggested: str, fmt: str) -> Path | None:
        dialog = QFileDialog(self.owner, tr("Export session"), str(Path.home() / suggested), _filter(fmt))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(EXTENSIONS[fmt])
        return self._chosen(dialog, await show_dialog(dialog))

    async def ask_folder(self, title: str) -> Path | None:
        dialog = QFileDialog(self.owner, title, str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        return self._chosen(dialog, await show_dialog(dialog))

    async def ask_transcript_file(self) -> Path | None:
        dialog = QFileDialog(self.owner, tr("Import a transcript"), str(Path.home()),
                             f"{_filter('jsonl')};;{tr('All files')} (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        return self._chosen(dialog, await show_dialog(dialog))

    async def ask_state_dir(self) -> Path | None:
        start = next((Path.home() / n for n in STATE_DIR_NAMES if (Path.home() / n).is_dir()), Path.home())
        dialog = QFileDialog(self.owner, tr("Import from an OpenClaw / Clawdbot folder"), str(start))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        # ~/.openclaw and friends are hidden folders: list them (Qt's own dialog hides them).
        dialog.setFilter(QDir.Filter.AllDirs | QDir.Filter.Hidden | QDir.Filter.NoDotAndDotDot)
        return self._chosen(dialog, await show_dialog(dialog))

    @staticmethod
    def _chosen(dialog: QFileDialog, code: int) -> Path | None:
        files = dialog.selectedFiles()
        return Path(files[0]) if code == QFileDialog.DialogCode.Accepted and files else None

    # --- export -------------------------------------------------------------------------------

    async def export(self, keys: list[str], fmt: str) -> list[Path]:
        """Ask where, then write; returns the files written (a notice says what happened)."""
        rows = [self.owner.row(k) or {"key": k} for k in keys]
        if not rows:
            return []
        if len(rows) == 1:
            file = await self.ask_save_file(file_name(rows[0], fmt), fmt)
            if file is None:
                return []
            result = await export_sessions(self.owner.bridge, rows, fmt, file=file)
        else:
            folder = await self.ask_folder(tr("Export %n sessions into a folder", None, len(rows)))
            if folder is None:
                return []
            result = await export_sessions(self.owner.bridge, rows, fmt, folder=folder)
        lines: list[str] = []
        if len(result.written) == 1:
            lines.append(tr("Exported to {path}.").format(path=result.written[0]))
        elif result.written:
            lines.append(tr("Exported %n sessions to {folder}.", None, len(result.written)).format(
                folder=result.written[0].parent))
        for title, reason in result.failed:
            lines.append(tr("“{title}” was not exported: {reason}").format(title=title, reason=reason))
        for title in result.truncated:
            lines.append(tr("“{title}” is long: only its latest 1000 messages were exported.").format(title=title))
        self.owner.show_notice("\n".join(lines), error=bool(result.failed))
        return result.written

    # --- import -------------------------------------------------------------------------------

    def _local_state_dir(self) -> Path | None:
        status = self.owner.bridge.status
        snapshot = (status.hello or {}).get("snapshot") if isinstance(status.hello, dict) else None
        state = snapshot.get("stateDir") if isinstance(snapshot, dict) else None
        if status.kind != "local" or not state:
            self.owner.show_notice(tr("Importing works with this computer's own gateway only. Switch to the "
                                      "local gateway, then try again."), error=True)
            return None
        return Path(state)

    async def import_transcript(self, source: Path | None = None) -> str | None:
        """Import one JSONL transcript as a new session; returns its key (None: nothing imported)."""
        state = self._local_state_dir()
        if state is None:
            return None
        source = source or await self.ask_transcript_file()
        if source is None:
            return None
        try:
            imported = await asyncio.to_thread(import_transcript, source, state)
        except TranscriptImportError as exc:
            self.owner.show_notice(transcript_error_text(exc, source.name), error=True)
            return None
        except (OSError, ValueError) as exc:
            self.owner.show_notice(tr("The transcript could not be imported: {error}. Nothing was changed.")
                                   .format(error=exc), error=True)
            return None
        self.owner.select(imported.key)
        await self.owner.refresh()
        self.owner.show_notice(tr("Imported {name} as a new session.")
                               .format(name=source.name))
        return imported.key

    async def import_state_dir(self, source: Path | None = None) -> int | None:
        """Import the sessions (and settings) of a Clawdbot / OpenClaw state dir; returns how many
        sessions were added (None: the import failed or was cancelled)."""
        state = self._local_state_dir()
        if state is None:
            return None
        source = source or await self.ask_state_dir()
        if source is None:
            return None
        try:
            report = await asyncio.to_thread(import_state_dir, source, state)
        except (ImportFailed, ConfigError, OSError, ValueError) as exc:
            self.owner.show_notice(tr("{folder} could not be imported: {error}").format(folder=source, error=exc),
                                   error=True)
            return None
        await self.owner.refresh()
        # English has no plural forms without a translator: the singular is its own sentence.
        count = report.sessions_imported
        lines = [(tr("Imported one session from {folder}.") if count == 1 else
                  tr("Imported %n sessions from {folder}.", None, count)).format(folder=source)]
        if report.sessions_skipped:
            skipped = len(report.sessions_skipped)
            lines.append(tr("One session was already here and was left as it is.") if skipped == 1 else
                         tr("%n sessions were already here and were left as they are.", None, skipped))
        lines += report.warnings
        self.owner.show_notice("\n".join(lines), error=False)
        return report.sessions_imported
