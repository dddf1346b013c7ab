"""Storage failures in words: which file, what went wrong, what to do next.

SQLite and the OS report a full disk, a read-only file or a damaged page as codes and
errno values; a door operator needs one line naming the file and the way forward.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scanner_app.core.errors import TickitzError

REBUILD_ADVICE = (
    "restore scanner.db from a backup, or move the data folder aside and connect this node"
    " to its hub again to rebuild from the hub"
)
REINDEX_ADVICE = (
    "`tickitz-scanner doctor --reindex` rebuilds the indexes from the tables; if the tables"
    f" themselves are damaged, {REBUILD_ADVICE}"
)
DAMAGE_ADVICE = (
    "scanning is stopped so no ticket is admitted twice. `tickitz-scanner doctor` lists the"
    f" damage; {REINDEX_ADVICE}"
)
# SQLite's primary result codes (the low byte of the extended code) that mean the file or
# the disk failed, not the SQL: anything else is a bug and keeps its own exception.
_FULL, _CANTOPEN, _NOTADB, _CORRUPT = 13, 14, 26, 11
_READONLY, _IOERR, _PERM, _BUSY, _LOCKED, _NOLFS = 8, 10, 3, 5, 6, 22
STORAGE_CODES = {_FULL, _CANTOPEN, _NOTADB, _CORRUPT, _READONLY, _IOERR, _PERM, _BUSY, _LOCKED,
                 _NOLFS}  # fmt: skip


class StorageError(TickitzError):
    """The node's files cannot be read or written; nothing was half-written."""

    code = "storage_error"
    status = 503

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = Path(path)
        self.cause = cause


class DatabaseDamaged(StorageError):
    """The database file is damaged: deciding from it could admit a ticket twice."""

    code = "database_damaged"

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" * (len(problems) > 3))
        super().__init__(path, f"the database is damaged ({shown}): {DAMAGE_ADVICE}")
        self.problems = problems


def is_storage_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # raised by the sqlite3 module itself, e.g. a closed connection
        return isinstance(exc, sqlite3.OperationalError) and "disk" in str(exc)
    return code & 0xFF in STORAGE_CODES


def storage_error(path: Path, exc: BaseException) -> StorageError:
    """The StorageError for ``exc`` raised while using the database at ``path``."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError):
        return StorageError(exc.filename or path, _os_cause(exc))
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _CORRUPT:
        return DatabaseDamaged(path, [str(exc)])
    return StorageError(path, _sqlite_cause(path, code, exc))


def _os_cause(exc: OSError) -> str:
    words = {
        errno.ENOSPC: "the disk is full; free some space and try again",
        errno.EDQUOT: "the disk quota is used up; free some space and try again",
        errno.EFBIG: "the file has reached the size limit; free some space and try again",
        errno.EROFS: "the disk is mounted read-only",
        errno.EACCES: "permission denied (check the owner and mode of the file and its folder)",
        errno.EPERM: "permission denied (check the owner and mode of the file and its folder)",
        errno.EISDIR: "is a folder, not a file",
        errno.ENOTDIR: "a file is in the way where a folder should be",
    }
    return words.get(exc.errno or 0, exc.strerror or str(exc))


def _sqlite_cause(path: Path, code: int, exc: BaseException) -> str:
    if code == _FULL:
        return "the disk is full (nothing was written; free some space and try again)"
    if code == _NOTADB:
        return "not a Tickitz Scanner database (the file is not SQLite: truncated or overwritten?)"
    if code == _READONLY:
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return (
                "cannot write the database: its folder is not writable (check its owner and mode)"
            )
        return (
            "the database is read-only (check the owner and mode of the file, its -wal and -shm"
            " files and its folder, and that the disk is not mounted read-only)"
        )
    if code == _CANTOPEN:
        if path.is_dir():
            return "is a folder, not a database file"
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return "cannot open the database: its folder is not writable"
        return "cannot open the database file"
    if code in (_BUSY, _LOCKED):
        return "the database is locked by another program (still busy after 10 s)"
    if code in (_IOERR, _NOLFS):
        return f"the disk failed to read or write the database ({exc}); is it full or removed?"
    return f"{exc} (permission or storage problem)"


@contextmanager
def secure_delete(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside: what deleted or replaced values leave behind (freed cells, overflow pages)
    is overwritten, so sealed or erased data leaves no plain copy in the file. The
    connection's own setting comes back after."""
    before = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(before)}")
