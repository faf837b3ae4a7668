"""Logging: one logger per subsystem, a JSON-lines log file under `<state>/logs/`, and redaction.

Every secret the app learns (tokens, passwords, API keys) is registered with `register_secret`
and replaced by `***` in every log record, whatever handler writes it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import threading
from pathlib import Path

from molt_desktop.clock import iso_from_ms

ROOT = "molt_desktop"
LOG_FILENAME = "molt-desktop.log"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def get_logger(subsystem: str) -> logging.Logger:
    """The logger of one subsystem, e.g. `get_logger("gateway")`."""
    return logging.getLogger(f"{ROOT}.{subsystem}")


def register_secret(value: str | None) -> None:
    """Never let `value` reach a log line (short values would redact ordinary words)."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `{"time", "level", "subsystem", "message", ...extra}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": iso_from_ms(int(record.created * 1000)),
            "level": record.levelname.lower(),
            "subsystem": record.name.removeprefix(ROOT + ".") if record.name != ROOT else "app",
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_file(logs_dir: Path) -> Path:
    return logs_dir / LOG_FILENAME


def setup_logging(logs_dir: Path | None, *, verbose: bool = False, console: bool = True) -> None:
    """Configure the `molt_desktop` logger tree once per process (idempotent)."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    redactor = RedactingFilter()
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(ConsoleFormatter())
        stream.setLevel(logging.DEBUG if verbose else logging.INFO)
        stream.addFilter(redactor)
        root.addHandler(stream)
    if logs_dir is not None:
        try:
            logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = log_file(logs_dir)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
            )
            if os.name == "posix":
                os.chmod(path, 0o600)
        except OSError as exc:
            root.warning("cannot write the log file in %s: %s; logging to the console only", logs_dir, exc)
        else:
            handler.setFormatter(JsonFormatter())
            handler.addFilter(redactor)
            root.addHandler(handler)
    if not root.handlers:  # quiet on purpose (one-shot commands): not Python's last-resort stderr handler
        root.addHandler(logging.NullHandler())
