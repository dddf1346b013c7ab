"""SQLite access: one writer (a lock around one connection), free readers per thread."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from scanner_app.core.errors import TickitzError
from scanner_app.core.integrity import door_check, reindex
from scanner_app.core.migrations import MIGRATIONS
from scanner_app.core.storage import DatabaseDamaged, is_storage_error, storage_error

BUSY_TIMEOUT_MS = 10_000
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it this user's only (DESIGN.md §10: 0700).
    Windows has no modes: the data lives in the user's profile, which is private."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if sys.platform != "win32":
        _narrow(path, PRIVATE_DIR)
    return path


def _narrow(path: Path | str, most: int) -> None:
    """Take away every mode bit beyond ``most``; never add one (a folder or file someone
    made read-only on purpose stays read-only, and says so when written to)."""
    current = os.stat(path, follow_symlinks=False).st_mode & 0o777
    if current & ~most:
        os.chmod(path, current & most)


def narrow_files(folder: Path) -> None:
    """Every file directly in ``folder`` (database, key files, certificates) to 0600 at
    most: an older version, a copy or a restore may have left them readable by others."""
    if sys.platform == "win32":
        return
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            current = entry.stat(follow_symlinks=False).st_mode & 0o777
            if current & ~PRIVATE_FILE:
                with contextlib.suppress(OSError):
                    os.chmod(entry.path, current & PRIVATE_FILE)


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing, and make it 0600 (never wider)."""
    if sys.platform == "win32":
        return
    if path.exists():
        with contextlib.suppress(OSError):  # not ours to change: opening it will say why
            _narrow(path, PRIVATE_FILE)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the umask may have narrowed it further; fine either way
    finally:
        os.close(fd)


def _private_database(path: Path) -> None:
    """The database 0600 before SQLite opens it: SQLite gives its WAL and SHM files the
    database's mode, so they are born 0600 too; ones left by an older version are fixed."""
    private_file(path)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists() and sys.platform != "win32":
            with contextlib.suppress(OSError):  # another user's leftover: SQLite will say
                _narrow(side, PRIVATE_FILE)


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so nothing commits by accident.
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _enable_wal(conn)
    # FULL: a verdict is shown only after its row survives power loss (DESIGN.md §5).
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    """WAL is a property of the file, set by the first opener. SQLite does not wait on its
    busy handler for this switch, so two processes opening a new file together could get
    'database is locked'; retry within the busy timeout instead."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class Database:
    """A node's SQLite file. All writes go through `write()`; reads use `read()`."""

    def __init__(self, path: Path | str, *, check: bool = True) -> None:
        """Open (or create) the file; ``check`` runs the start check (integrity.door_check)
        and refuses a damaged file. Storage failures raise StorageError naming the file."""
        self.path = Path(path)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        try:
            private_dir(self.path.parent)
            _private_database(self.path)
            self._writer = _connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            self._raise_storage(exc)
            raise
        try:
            if check:
                problems = door_check(self._writer)
                if problems:
                    raise DatabaseDamaged(self.path, problems)
            self.schema_version = migrate(self._writer)
        except BaseException as exc:
            self._writer.close()
            if isinstance(exc, sqlite3.Error | OSError):
                self._raise_storage(exc)
            raise

    def _raise_storage(self, exc: BaseException) -> None:
        """Raise the StorageError for a failure of this file; other errors are bugs and are
        left to propagate as they are."""
        if is_storage_error(exc):
            raise storage_error(self.path, exc) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction on the single writer; commits on success, rolls back on
        error. A failed COMMIT (disk full...) is rolled back too: nothing is half-written."""
        with self._write_lock:
            conn = self._writer
            if conn.in_transaction:  # nested use joins the outer transaction
                yield conn
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_storage(exc)
                raise
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:  # SQLite may already have rolled back (full disk)
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    self._raise_storage(exc)
                raise

    def rebuild_indexes(self) -> None:
        """REINDEX (and the full-text indexes) on the single writer, in one transaction."""
        with self._write_lock:
            try:
                reindex(self._writer)
            except sqlite3.Error as exc:
                self._raise_storage(exc)
                raise

    def checkpoint(self) -> None:
        """Copy the WAL into the file and empty it (what it held leaves the disk's WAL)."""
        with self._write_lock:
            try:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                self._raise_storage(exc)
                raise

    def read(self) -> sqlite3.Connection:
        """A connection for this thread; sees every committed write (WAL)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = _connect(self.path)
                conn.execute("PRAGMA query_only = ON")
            except sqlite3.Error as exc:
                self._raise_storage(exc)
                raise
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        try:
            return self.read().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._raise_storage(exc)
            raise

    def query_one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        try:
            return self.read().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            self._raise_storage(exc)
            raise

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()


class SchemaTooNew(TickitzError):
    """The database comes from a newer version of the app."""

    code = "schema_too_new"


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to the newest version; each step in its own transaction.

    Several processes may open the same file at once (GUI, server, CLI), so the version is
    read again inside each step's write transaction: whoever gets the lock first runs the
    step, the others find it done.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        # Writing with an older schema's assumptions could corrupt what the newer app keeps.
        raise SchemaTooNew(
            f"This data was written by a newer Tickitz Scanner (schema {version}; this version"
            f" knows {len(MIGRATIONS)}). Upgrade the app or choose another --data-dir."
        )
    while version < len(MIGRATIONS):
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < len(MIGRATIONS):
                MIGRATIONS[version](sqlite_utils.Database(conn))
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return version
