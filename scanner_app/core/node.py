"""A node: one data directory, one SQLite file, and the services over it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from scanner_app.core.atrest import KeySource, RestCipher, file_key_source, seal_existing
from scanner_app.core.checkin import CheckinService
from scanner_app.core.db import Database, narrow_files, private_dir
from scanner_app.core.events import EventStore
from scanner_app.core.ids import short_id
from scanner_app.core.ledger import Ledger
from scanner_app.core.names import NameCipher, seal_existing_names
from scanner_app.core.reports import Reports
from scanner_app.core.storage import StorageError, storage_error
from scanner_app.core.tickets import TicketBook
from scanner_app.core.timeutil import Clock, utc_now

log = logging.getLogger(__name__)
DB_FILENAME = "scanner.db"
# Written beside the database when a node is made (its device id): a folder holding it, or
# any other file a node leaves, is an existing node, so a missing or empty database there
# is a lost file to report, never a new node to start (with a new device id) in its place.
NODE_MARKER = "node.id"
# NodeConfig's keys (node_config.KEYS) for ``private_names``, read here on every scan.
PRIVATE_KEY, KIOSK_KEY = "node.private", "node.kiosk"
PRIVATE_CACHE_S = 1.0
NODE_FILES = (NODE_MARKER, "upstream.key", f"{DB_FILENAME}-wal", f"{DB_FILENAME}-shm")


class Node:
    """Everything a gate or hub needs from its store; open one per data directory."""

    def __init__(
        self,
        db: Database,
        clock: Clock = utc_now,
        leeway_seconds: int = 120,
        clock_offset_ms: Callable[[], float] = lambda: 0.0,
        rest_key_for: Callable[[str], KeySource] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.device_id = self._setting_or_create("device_id", lambda: short_id("dev"))
        self._kiosk_forced = False
        self._private_cache = (False, -PRIVATE_CACHE_S)
        # The key that seals private keys and webhook secrets (DESIGN.md §10 "At rest"):
        # the OS keyring entry of this node when the app or CLI asks for it
        # (sync/restkey.py), else a 0600 file here.
        source = rest_key_for(self.device_id) if rest_key_for else None
        self.cipher = RestCipher(source or file_key_source(db.path.parent))
        self.events = EventStore(db, clock)
        self.events.cipher = self.cipher
        self.names = NameCipher(self.cipher)  # attendee names, sealed with the same key
        with db.write() as conn:  # data from before sealing is converted on first open
            seal_existing(conn, self.cipher)
            names_sealed = seal_existing_names(conn, self.names)
        if names_sealed:
            db.checkpoint()  # the plain names' pages leave the WAL too
            log.info("Sealed %d attendee names stored before names were kept sealed", names_sealed)
        self.tickets = TicketBook(db, self.events, self.names, clock)
        self.ledger = Ledger(db, clock, self.device_id, self.names, self.private_names)
        self.reports = Reports(db, self.names)
        self.checkin = CheckinService(
            db,
            self.events,
            self.device_id,
            clock,
            leeway_seconds,
            clock_offset_ms,
            names=self.names,
            private_names=self.private_names,
        )

    def private_names(self) -> bool:
        """Whether this gate is set to ``private`` (NodeConfig.private_names): it keeps
        names only sealed per ticket and none in its check-in log. Read on every scan, so
        kept for a second (changes made through this node are seen at once)."""
        value, read_at = self._private_cache
        if time.monotonic() - read_at < PRIVATE_CACHE_S:
            return value
        rows = self.db.query(
            "SELECT key, value FROM node_settings WHERE key IN (?, ?)", (PRIVATE_KEY, KIOSK_KEY)
        )
        values = {row["key"]: row["value"] for row in rows}
        private = values.get(PRIVATE_KEY, "auto")
        if private in ("on", "off"):
            value = private == "on"
        else:
            value = self.kiosk_forced or values.get(KIOSK_KEY) == "1"
        self._private_cache = (value, time.monotonic())
        return value

    @classmethod
    def open(cls, data_dir: Path | str, *, check: bool = True, **kwargs: object) -> Node:
        """The node of ``data_dir`` (made if new). ``check``: refuse a damaged database
        (integrity.door_check); only `doctor` opens without it."""
        path = Path(data_dir)
        db_path = path / DB_FILENAME
        refuse_lost_database(path, db_path)
        try:
            private_dir(path)
            narrow_files(path)
        except OSError as exc:
            raise storage_error(path, exc) from exc
        node = cls(Database(db_path, check=check), **kwargs)  # type: ignore[arg-type]
        try:
            node.mark_directory()
        except BaseException:
            node.close()
            raise
        return node

    def mark_directory(self) -> None:
        """Leave the marker of an existing node (a node made before markers gets one now)."""
        marker = self.data_dir / NODE_MARKER
        if marker.exists():
            return
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise storage_error(marker, exc) from exc
        try:
            os.write(fd, (self.device_id + "\n").encode("ascii", "replace"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def data_dir(self) -> Path:
        return self.db.path.parent

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.query_one("SELECT value FROM node_settings WHERE key = ?", (key,))
        return row["value"] if row else default

    @property
    def kiosk_forced(self) -> bool:
        """`--kiosk`: a kiosk for this run without the saved setting (private by default)."""
        return self._kiosk_forced

    @kiosk_forced.setter
    def kiosk_forced(self, value: bool) -> None:
        self._kiosk_forced = value
        self._private_cache = (False, -PRIVATE_CACHE_S)

    def set_setting(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO node_settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        self._private_cache = (False, -PRIVATE_CACHE_S)  # read again once committed

    def settings_with_prefix(self, prefix: str) -> dict[str, str]:
        """Every setting whose key starts with ``prefix`` (one read)."""
        rows = self.db.query(
            "SELECT key, value FROM node_settings WHERE substr(key, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return {row["key"]: row["value"] for row in rows}

    def set_settings(self, values: dict[str, str]) -> None:
        """Several settings in one transaction (a half-saved configuration never shows)."""
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO node_settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )
        self._private_cache = (False, -PRIVATE_CACHE_S)  # read again once committed

    def _setting_or_create(self, key: str, make: Callable[[], str]) -> str:
        with self.db.write() as conn:
            row = conn.execute("SELECT value FROM node_settings WHERE key = ?", (key,)).fetchone()
            if row and str(row["value"]).strip():
                return row["value"]
            value = make()
            if row:  # a blank id names no device: uploads carrying it would be refused for good
                log.warning(
                    "%s: setting %s was empty; this node is now %s", self.db.path, key, value
                )
            conn.execute(
                "INSERT INTO node_settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
            return value

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def refuse_lost_database(data_dir: Path, db_path: Path) -> None:
    """A missing or empty database inside an existing node's folder is an error, not a new
    node: starting afresh would forget every admission and take a new device id."""
    try:
        size = db_path.stat().st_size if db_path.is_file() else None
        if db_path.exists() and size is None:
            return  # not a file (a folder...): opening it gives the precise error
        if size:
            return
        left = [name for name in NODE_FILES if (data_dir / name).exists()]
    except OSError as exc:
        raise storage_error(db_path, exc) from exc
    if not left:
        return
    state = "is missing" if size is None else "is empty (0 bytes)"
    raise StorageError(
        db_path,
        f"{state}, but {data_dir} is a node's folder (it holds {', '.join(left)}): restore"
        f" {DB_FILENAME} from a backup; to start a new node here instead, move the folder aside"
        " first (check-ins it had not uploaded are lost)",
    )
