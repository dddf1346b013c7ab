"""A node: one data directory, one SQLite file, and the services over it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scanner_app.core.checkin import CheckinService
from scanner_app.core.db import Database
from scanner_app.core.events import EventStore
from scanner_app.core.ids import short_id
from scanner_app.core.ledger import Ledger
from scanner_app.core.reports import Reports
from scanner_app.core.tickets import TicketBook
from scanner_app.core.timeutil import Clock, utc_now

DB_FILENAME = "scanner.db"


class Node:
    """Everything a gate or hub needs from its store; open one per data directory."""

    def __init__(
        self,
        db: Database,
        clock: Clock = utc_now,
        leeway_seconds: int = 120,
        clock_offset_ms: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.device_id = self._setting_or_create("device_id", lambda: short_id("dev"))
        self.events = EventStore(db, clock)
        self.tickets = TicketBook(db, self.events, clock)
        self.ledger = Ledger(db, clock, self.device_id)
        self.reports = Reports(db)
        self.checkin = CheckinService(
            db, self.events, self.device_id, clock, leeway_seconds, clock_offset_ms
        )

    @classmethod
    def open(cls, data_dir: Path | str, **kwargs: object) -> Node:
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return cls(Database(path / DB_FILENAME), **kwargs)  # type: ignore[arg-type]

    @property
    def data_dir(self) -> Path:
        return self.db.path.parent

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.query_one("SELECT value FROM node_settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO node_settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _setting_or_create(self, key: str, make: Callable[[], str]) -> str:
        with self.db.write() as conn:
            row = conn.execute("SELECT value FROM node_settings WHERE key = ?", (key,)).fetchone()
            if row:
                return row["value"]
            value = make()
            conn.execute("INSERT INTO node_settings (key, value) VALUES (?, ?)", (key, value))
            return value

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
