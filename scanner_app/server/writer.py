"""Group commit for the hub's hot writes (scans, batches).

Under load, one durable commit per scan costs an fsync plus, worse, a wait for the GIL
before the writer lock is released: with dozens of request threads that wait is the
switch interval (5 ms), so the hub managed ~200 scans/s. Here one thread runs queued
units of work back to back inside a single transaction, each in its own SAVEPOINT (a
failing unit rolls back alone), and commits once for the group. Every unit is answered
only after that commit, so a verdict still never precedes its durable row (DESIGN.md §5).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from scanner_app.core.db import Database

log = logging.getLogger("scanner_app.server")
T = TypeVar("T")
MAX_GROUP = 256
_STOP = object()


class GroupWriter:
    """Runs `work(conn)` units on one writer thread, many per transaction."""

    def __init__(
        self,
        db: Database,
        after_commit: Callable[[], None] | None = None,
        max_group: int = MAX_GROUP,
    ) -> None:
        self.db = db
        self.after_commit = after_commit
        self.max_group = max_group
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0
        self.units = 0

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._ensure_started()
        self._queue.put((work, future))
        return future

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Submit and wait (for callers on ordinary threads)."""
        return self.submit(work).result()

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="hub-writer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish every unit already queued, then stop the thread."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            group = [item]
            stopping = False
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
            self._run_group(group)
            if stopping:
                return

    def _run_group(self, group: list[tuple[Callable[[sqlite3.Connection], Any], Future]]) -> None:
        outcomes: list[tuple[Future, BaseException | None, Any]] = []
        try:
            with self.db.write() as conn:
                for work, future in group:
                    if not future.set_running_or_notify_cancel():
                        continue
                    conn.execute("SAVEPOINT unit")
                    try:
                        value = work(conn)
                    except Exception as exc:  # this unit only; the rest of the group commits
                        conn.execute("ROLLBACK TO unit")
                        conn.execute("RELEASE unit")
                        outcomes.append((future, exc, None))
                    else:
                        conn.execute("RELEASE unit")
                        outcomes.append((future, None, value))
        except Exception as exc:  # the commit failed (disk full...): nothing here is stored
            log.exception("group commit of %d units failed", len(group))
            for _work, future in group:
                if not future.done():
                    if future.running() or future.set_running_or_notify_cancel():
                        future.set_exception(exc)
            return
        self.groups += 1
        self.units += len(outcomes)
        for future, error, value in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
        if self.after_commit is not None:
            try:
                self.after_commit()
            except Exception:
                log.exception("after-commit hook failed")
