"""Session search: a SQLite FTS5 index of session keys, labels and message text.

What lives here: `SearchIndex`, a derived, rebuildable database in
`paths.cache_dir(state)/sessions-<agent>.sqlite`. It records, per session key, which transcript
it indexed and that file's size and mtime, so `refresh()` re-reads only transcripts that changed
(and rebuilds everything when the database is missing, damaged or of an older schema). Deleting
the file is always safe. What does not live here: reading sessions.json or deciding where
transcripts are (the store passed in does that), ranking by recency (the store sorts).

Tokenizer: FTS5 `trigram`, so any substring of 3+ characters is found, whatever the language.
Shorter words (Chinese "部署" is two characters) cannot use a trigram index and are matched with a
scan (`instr`), as are all words when this SQLite has no trigram tokenizer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from molt_desktop.logs import get_logger
from molt_desktop.sessions import display
from molt_desktop.sessions import transcript as tx

log = get_logger("sessions.index")

SCHEMA_VERSION = "1"
_SIDE_FILES = ("-journal", "-wal", "-shm")


class StoreView(Protocol):
    """The part of SessionStore the index reads."""

    def entries(self, agent_id: str = ...) -> dict[str, dict[str, Any]]: ...

    def transcript_path(self, entry: dict[str, Any], agent_id: str = ...) -> Path: ...


_Signature = tuple[str, int, int, str]  # transcript path, size, mtime_ns, label text


def _meta_text(key: str, entry: dict[str, Any]) -> str:
    parts = [key]
    for name in ("label", "displayName", "subject"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
    return "\n".join(parts)


def _message_texts(path: Path) -> Iterable[str]:
    for message in display.history_messages(tx.read_transcript(path)):
        text = display.message_text(message) if "__openclaw" not in message else ""
        if text:
            yield text


class SearchIndex:
    """One agent's search index. Thread-safe; every method may raise sqlite3.DatabaseError when
    the file is damaged mid-use (the store then calls `discard()` and searches again)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._trigram = True
        self._needs_rebuild = False

    # --- the database file ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        tx.make_private_dirs(self.db_path.parent)
        conn = self._open()
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            tokenizer = conn.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
            usable = row is not None and row[0] == SCHEMA_VERSION and tokenizer is not None
        except sqlite3.DatabaseError as exc:
            if os.path.getsize(self.db_path):
                log.info("search index %s unusable (%s); rebuilding it", self.db_path, exc)
            usable, tokenizer = False, None
        if not usable:
            conn.close()
            self._delete_files()
            conn = self._open()
            self._trigram = self._create_schema(conn)
            self._needs_rebuild = True
        else:
            self._trigram = tokenizer[0] == "trigram"
        self._conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        if not self.db_path.exists():
            # Created by us first so the file is private (SQLite would use 0644).
            os.close(os.open(self.db_path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(str(self.db_path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> bool:
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(
            "CREATE TABLE sessions (key TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT "
            "NULL, mtime_ns INTEGER NOT NULL, meta TEXT NOT NULL)"
        )
        # docs rowid -> session key; FTS5 cannot look rows up by an unindexed column quickly.
        conn.execute("CREATE TABLE docmap (rowid INTEGER PRIMARY KEY, key TEXT NOT NULL)")
        conn.execute("CREATE INDEX docmap_key ON docmap (key)")
        try:
            conn.execute("CREATE VIRTUAL TABLE docs USING fts5(text, tokenize = 'trigram')")
            tokenizer = "trigram"
        except sqlite3.OperationalError:
            conn.execute("CREATE VIRTUAL TABLE docs USING fts5(text)")
            tokenizer = "unicode61"
            log.info("SQLite %s has no trigram tokenizer; search scans", sqlite3.sqlite_version)
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("schema", SCHEMA_VERSION), ("tokenizer", tokenizer)],
        )
        conn.execute("COMMIT")
        return tokenizer == "trigram"

    def _delete_files(self) -> None:
        for suffix in ("", *_SIDE_FILES):
            try:
                os.unlink(f"{self.db_path}{suffix}")
            except FileNotFoundError:
                pass

    def discard(self) -> None:
        """Throw the database away (damaged); the next refresh rebuilds it from the transcripts."""
        with self._lock:
            self.close()
            self._delete_files()

    def mark_stale(self) -> None:
        with self._lock:
            self._needs_rebuild = True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- writing ----------------------------------------------------------------------------

    def _drop(self, conn: sqlite3.Connection, key: str) -> None:
        conn.execute("DELETE FROM docs WHERE rowid IN (SELECT rowid FROM docmap WHERE key = ?)",
                     (key,))
        conn.execute("DELETE FROM docmap WHERE key = ?", (key,))
        conn.execute("DELETE FROM sessions WHERE key = ?", (key,))

    def _insert(self, conn: sqlite3.Connection, key: str, text: str) -> None:
        cursor = conn.execute("INSERT INTO docs (text) VALUES (?)", (text,))
        conn.execute("INSERT INTO docmap (rowid, key) VALUES (?, ?)", (cursor.lastrowid, key))

    def _index_one(self, conn: sqlite3.Connection, key: str, path: Path | None,
                   sig: _Signature) -> None:
        self._drop(conn, key)
        self._insert(conn, key, sig[3])
        if path is not None and sig[1] > 0:
            try:
                for text in _message_texts(path):
                    self._insert(conn, key, text)
            except OSError as exc:
                log.warning("could not index %s: %s", path, exc)
                sig = (sig[0], -1, -1, sig[3])  # retried at the next refresh
        conn.execute("INSERT INTO sessions (key, path, size, mtime_ns, meta) VALUES (?, ?, ?, ?, ?)",
                     (key, *sig))

    @staticmethod
    def _signature(store: StoreView, agent_id: str, key: str,
                   entry: dict[str, Any]) -> tuple[Path | None, _Signature]:
        meta = _meta_text(key, entry)
        try:
            path = store.transcript_path(entry, agent_id)
        except ValueError:
            return None, ("", -1, -1, meta)
        try:
            st = os.stat(path)
        except OSError:
            return path, (str(path), -1, -1, meta)
        return path, (str(path), st.st_size, st.st_mtime_ns, meta)

    def _transaction(self, conn: sqlite3.Connection, work: list[tuple[str, Any]]) -> None:
        conn.execute("BEGIN")
        try:
            for action, args in work:
                if action == "drop":
                    self._drop(conn, args)
                else:
                    self._index_one(conn, *args)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def rebuild(self, store: StoreView, agent_id: str = "main") -> int:
        """Index every session of `agent_id` from scratch; returns how many."""
        with self._lock:
            conn = self._connect()
            items = [
                (key, *self._signature(store, agent_id, key, entry))
                for key, entry in store.entries(agent_id).items()
            ]
            conn.execute("BEGIN")
            try:
                for table in ("docs", "docmap", "sessions"):
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
                for key, path, sig in items:
                    self._index_one(conn, key, path, sig)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._needs_rebuild = False
            return len(items)

    def refresh(self, store: StoreView, agent_id: str = "main") -> int:
        """Re-index sessions whose transcript, label or key changed, drop deleted ones; rebuild
        when the index is new, damaged or marked stale. Returns how many sessions were indexed."""
        with self._lock:
            conn = self._connect()
            if self._needs_rebuild:
                return self.rebuild(store, agent_id)
            indexed: dict[str, _Signature] = {
                row[0]: (row[1], row[2], row[3], row[4])
                for row in conn.execute("SELECT key, path, size, mtime_ns, meta FROM sessions")
            }
            current = store.entries(agent_id)
            work: list[tuple[str, Any]] = [("drop", key) for key in indexed if key not in current]
            for key, entry in current.items():
                path, sig = self._signature(store, agent_id, key, entry)
                if indexed.get(key) != sig:
                    work.append(("index", (key, path, sig)))
            if work:
                self._transaction(conn, work)
            return sum(1 for action, _ in work if action == "index")

    def add_text(self, key: str, text: str) -> None:
        """Index one more piece of text (a new message) of session `key`."""
        if not text.strip():
            return
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN")
            try:
                self._insert(conn, key, text)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def note_append(self, key: str, path: Path, text: str, before: tuple[int, int],
                    after: tuple[int, int]) -> None:
        """The store appended a message to `path`: if the index was current for that file, add the
        text and record the new size/mtime (no re-read); otherwise leave it for refresh()."""
        with self._lock:
            if self._conn is None or self._needs_rebuild:
                return
            conn = self._conn
            row = conn.execute("SELECT path, size, mtime_ns FROM sessions WHERE key = ?",
                               (key,)).fetchone()
            if row is None or (row[0], row[1], row[2]) != (str(path), *before):
                return
            conn.execute("BEGIN")
            try:
                if text.strip():
                    self._insert(conn, key, text)
                conn.execute("UPDATE sessions SET size = ?, mtime_ns = ? WHERE key = ?",
                             (*after, key))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def remove(self, key: str) -> None:
        with self._lock:
            if self._conn is None:
                return
            self._transaction(self._conn, [("drop", key)])

    # --- reading ----------------------------------------------------------------------------

    def _term_hits(self, conn: sqlite3.Connection, term: str) -> dict[str, int]:
        if self._trigram and len(term) >= 3:
            rows = conn.execute(
                "SELECT m.key, max(m.rowid) FROM docs JOIN docmap m ON m.rowid = docs.rowid "
                "WHERE docs MATCH ? GROUP BY m.key",
                ('"' + term.replace('"', '""') + '"',),
            )
        else:
            # SQLite's lower() folds ASCII only; good enough for these short words.
            rows = conn.execute(
                "SELECT m.key, max(m.rowid) FROM docs JOIN docmap m ON m.rowid = docs.rowid "
                "WHERE instr(lower(docs.text), ?) > 0 GROUP BY m.key",
                (term.lower(),),
            )
        return {key: rowid for key, rowid in rows}

    def search(self, query: str, limit: int | None = None) -> list[str]:
        """Keys of sessions containing every word of `query`, latest match first."""
        terms = [term for term in query.split() if term] if isinstance(query, str) else []
        if not terms:
            return []
        with self._lock:
            conn = self._connect()
            hits = self._term_hits(conn, terms[0])
            for term in terms[1:]:
                if not hits:
                    break
                more = self._term_hits(conn, term)
                hits = {key: rowid for key, rowid in hits.items() if key in more}
        keys = sorted(hits, key=lambda k: hits[k], reverse=True)
        return keys[:limit] if limit is not None else keys


class AgentIndexes:
    """One SearchIndex per agent, opened on first search and kept up to date as the store
    writes; a failing update marks the index stale (it is rebuilt), never fails the write."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._indexes: dict[str, SearchIndex] = {}

    def for_agent(self, agent_id: str) -> SearchIndex:
        with self._lock:
            index = self._indexes.get(agent_id)
            if index is None:
                index = self._indexes[agent_id] = SearchIndex(self.cache_dir / f"sessions-{agent_id}.sqlite")
            return index

    def notify(self, agent_id: str, method: str, *args: Any) -> None:
        """Pass a change on to the agent's index if it is open (else it is refreshed on search)."""
        with self._lock:
            index = self._indexes.get(agent_id)
        if index is None:
            return
        try:
            getattr(index, method)(*args)
        except (sqlite3.Error, OSError) as exc:
            log.warning("search index update failed (it will be rebuilt): %s", exc)
            index.mark_stale()

    def search(self, store: StoreView, agent_id: str, query: str) -> list[str]:
        """Matching keys, refreshing a stale index first and rebuilding a damaged one once."""
        index = self.for_agent(agent_id)
        try:
            index.refresh(store, agent_id)
            return index.search(query)
        except sqlite3.DatabaseError as exc:
            log.warning("search index %s is damaged (%s); rebuilding it", index.db_path, exc)
            index.discard()
        index.refresh(store, agent_id)
        return index.search(query)

    def close(self) -> None:
        with self._lock:
            indexes, self._indexes = list(self._indexes.values()), {}
        for index in indexes:
            index.close()
