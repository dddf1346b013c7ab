"""The process's logging: a rotating file a person can send, stderr, and the last problems.

``configure(log_dir, verbose=...)`` is called once by the command line. The file keeps INFO
(DEBUG with ``--verbose``) in ``tickitz-scanner.log`` with 3 older copies of 1 MiB each; the
terminal shows ``terminal_level`` and above (DEBUG when verbose). The last warnings and
errors stay in memory for the app's "Copy diagnostics", scrubbed of anything shaped like a
key or a ticket token.
"""

from __future__ import annotations

import collections
import logging
import logging.handlers
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOG_FILENAME = "tickitz-scanner.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
RECENT = 20
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Secrets that could reach a message despite the rule not to log them: API keys, bearer
# headers, JWTs (ticket tokens carry attendee names), setup codes, passwords in URLs.
_SECRETS = [
    (re.compile(r"tk_[A-Za-z]+_[A-Za-z0-9_\-]{8,}"), "tk_***"),
    (re.compile(r"(?i)bearer\s+\S+"), "Bearer ***"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "<token>"),
    (re.compile(r"tickitz-setup:\S+"), "tickitz-setup:***"),
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), "***@"),
]


def scrub(text: str) -> str:
    """``text`` without keys, tokens, setup codes or URL passwords."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RecentProblems(logging.Handler):
    """Keeps the last WARNING-and-above records as scrubbed one-line strings."""

    def __init__(self, size: int = RECENT) -> None:
        super().__init__(logging.WARNING)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            message = record.getMessage().splitlines()[0] if record.getMessage() else ""
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__})"
            self.lines.append(scrub(f"{when} {record.levelname} {record.name}: {message}"))
        except Exception:  # logging must never break the caller
            self.handleError(record)


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Every file it opens (the first and each after a rotation) is 0600: logs name gates,
    events and hosts, so only the owner reads them."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a file made by an older version, or by hand
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


class _Terminal(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it per test)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _Scrubbing(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


_recent = RecentProblems()
_log_file: Path | None = None


def configure(
    log_dir: Path | None, *, verbose: bool = False, terminal_level: int = logging.INFO
) -> Path | None:
    """Set up the root logger (again: a second call replaces the first); returns the log
    file, None when the folder cannot be made (the terminal still gets the messages, and
    one warning says why). ``verbose`` means DEBUG on the terminal and in the file."""
    global _log_file
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_tickitz", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    terminal = _Terminal()
    terminal.setLevel(logging.DEBUG if verbose else terminal_level)
    terminal.setFormatter(_Scrubbing("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [terminal, _recent]
    problem = None
    _log_file = None
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = log_dir / LOG_FILENAME
            file_handler = _PrivateRotatingFile(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
            file_handler.setFormatter(_Scrubbing(FORMAT))
            handlers.append(file_handler)
            _log_file = path
        except OSError as exc:
            problem = f"cannot write logs to {log_dir}: {exc}"
    for handler in handlers:
        handler._tickitz = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if problem:
        logging.getLogger(__name__).warning("%s", problem)
    return _log_file


def log_file() -> Path | None:
    """The file ``configure`` opened, if any."""
    return _log_file


def recent_problems() -> list[str]:
    """The last warnings and errors of this process, oldest first, scrubbed."""
    return list(_recent.lines)
