"""The node's database work on its own thread; the GUI talks to it only through signals.

A scan is ~1 ms, but it ends in an fsync (``synchronous=FULL``) and a slow or busy disk
must never freeze the window, so scans, manual check-ins, undo, search and stats all
run on one worker thread, in order. ``NodeThread`` is the GUI-side face of that thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from scanner_app.core.door import CheckProvider, Door
from scanner_app.core.errors import TickitzError
from scanner_app.core.node import Node
from scanner_app.core.storage import StorageError
from scanner_app.sync.door import check_provider

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GateConfig:
    """What this gate admits (its Door) and which event its counters follow; replaced
    wholesale when the settings change."""

    door: Door = Door()
    stats_event: str | None = None  # the event the counters show


class NodeWorker(QObject):
    """Lives on the worker thread; each slot is one request from the GUI."""

    scanned = Signal(object, str, float)  # ScanResult, source, perf_counter at submit
    searched = Signal(str, list)  # query, ticket dicts
    last_checkin = Signal(object)  # dict or None: what "undo last" would undo
    undone = Signal(object)  # UndoResult
    stats = Signal(dict)  # reports.stats(...) plus "pendingUploads" and "eventTitle"
    events = Signal(list)  # the node's events (dicts as events.list() gives them)
    failed = Signal(str, str)  # action, plain-words message
    storage_failed = Signal(str)  # the node's files failed (file: cause); "" once they work

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.config = GateConfig()
        # The door's decision path (sync/door.py chooses it): scans, manual check-ins and
        # undo all go through it. Replaced on this thread (set_provider) when sync restarts.
        self.provider: CheckProvider = check_provider(node, local_only=True)
        self._events: list[dict[str, Any]] = []

    def _fail(self, action: str, exc: Exception) -> None:
        """Domain errors carry plain words; anything else (disk full...) is logged in full."""
        if isinstance(exc, StorageError):  # nothing was stored, so no verdict is shown
            self.storage_failed.emit(exc.message)
        if isinstance(exc, TickitzError):
            self.failed.emit(action, exc.message)
            return
        log.exception("Node worker: %s failed", action)
        self.failed.emit(action, f"{type(exc).__name__}: {exc}")

    @Slot(object)
    def configure(self, config: GateConfig) -> None:
        self.config = config
        self.refresh_events()

    @Slot(object)
    def set_provider(self, provider: CheckProvider | None) -> None:
        """Swap the decision path (None: local, as before sync started); the old one is
        closed here, after every scan queued before the swap has used it."""
        old = self.provider
        self.provider = provider or check_provider(self.node, local_only=True)
        if old is not self.provider:
            old.close()

    @Slot(str, str, float)
    def scan(self, payload: str, source: str, submitted: float) -> None:
        try:
            result = self.provider.scan(payload, self.config.door)
        except Exception as exc:
            self._fail("scan", exc)
            return
        self.storage_failed.emit("")  # stored: whatever failed before works again
        self.scanned.emit(result, source, submitted)
        self.refresh_stats()

    @Slot(str)
    def checkin_ticket(self, ticket_id: str) -> None:
        submitted = time.perf_counter()
        try:
            result = self.provider.check_in_ticket(ticket_id, self.config.door)
        except Exception as exc:
            self._fail("check-in", exc)
            return
        self.scanned.emit(result, "manual", submitted)
        self.refresh_stats()

    @Slot(str)
    def search(self, query: str) -> None:
        events = self.config.door.event_ids
        event = events[0] if len(events) == 1 else None
        try:
            rows = self.node.tickets.search(query, event_id=event, limit=50)
            for row in rows:
                row.update(self._door_state(row))
        except Exception as exc:  # an FTS syntax surprise must not kill the worker
            log.warning("Search %r failed: %s", query, exc)
            rows = []
        self.searched.emit(query, rows)

    def _door_state(self, ticket: dict[str, Any]) -> dict[str, Any]:
        """Whether this attendee is in (staff must see it before a manual check-in)."""
        event = next((e for e in self._events if e["id"] == ticket["eventId"]), None)
        reentry = bool(event and event.get("settings", {}).get("allowReentry"))
        state = self.node.ledger.ticket_state(ticket["eventId"], ticket["id"], reentry)
        return {"inside": state.inside, "firstCheckedInAt": state.first_at,
                "firstScannedBy": state.first_by}  # fmt: skip

    @Slot()
    def find_last_checkin(self) -> None:
        self.last_checkin.emit(self.node.checkin.records.last_checkin(self.config.door.gate))

    @Slot(str)
    def undo(self, checkin_id: str) -> None:
        try:
            answer = self.provider.undo(checkin_id, self.config.door)
        except Exception as exc:
            self._fail("undo", exc)
            return
        self.undone.emit(answer)
        self.refresh_stats()

    @Slot()
    def refresh_events(self) -> None:
        """Re-read the events (a sync may have brought the gate's event), then the stats."""
        try:
            self._events = self.node.events.list()
        except Exception as exc:
            self._fail("read events", exc)
        self.events.emit(list(self._events))
        self.refresh_stats()

    def _stats_event(self) -> dict[str, Any] | None:
        """The gate's event, else the first published one: what the counters follow."""
        wanted = self.config.stats_event
        if wanted:
            return next((e for e in self._events if e["id"] == wanted), {"id": wanted})
        return next((e for e in self._events if e.get("status") == "published"), None)

    @Slot()
    def refresh_stats(self) -> None:
        event = self._stats_event()
        data: dict[str, Any] = {"eventId": event["id"] if event else None}
        if event and "title" in event:
            try:
                data = self.node.reports.stats(event["id"])
            except TickitzError as exc:
                log.warning("Stats for %s failed: %s", event["id"], exc.message)
        data["eventTitle"] = event.get("title") if event else None
        data["pendingUploads"] = self.node.ledger.pending_count()
        self.stats.emit(data)


class NodeThread(QObject):
    """Owns the worker thread. Call its methods from the GUI thread; answers are signals."""

    _configure = Signal(object)
    _provider = Signal(object)
    _scan = Signal(str, str, float)
    _checkin = Signal(str)
    _search = Signal(str)
    _find_last = Signal()
    _undo = Signal(str)
    _stats = Signal()
    _events = Signal()

    def __init__(self, node: Node, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.node = node
        self.thread = QThread()
        self.thread.setObjectName("node-worker")
        self.worker = NodeWorker(node)
        self.worker.moveToThread(self.thread)
        # Cross-thread connections are queued: the slots run on the worker, in order.
        self._configure.connect(self.worker.configure)
        self._provider.connect(self.worker.set_provider)
        self._scan.connect(self.worker.scan)
        self._checkin.connect(self.worker.checkin_ticket)
        self._search.connect(self.worker.search)
        self._find_last.connect(self.worker.find_last_checkin)
        self._undo.connect(self.worker.undo)
        self._stats.connect(self.worker.refresh_stats)
        self._events.connect(self.worker.refresh_events)
        self.thread.start()

    def configure(self, config: GateConfig) -> None:
        self._configure.emit(config)

    def scan(self, payload: str, source: str = "camera", submitted: float | None = None) -> None:
        """Queue a scan; ``submitted`` (perf_counter) is when the payload was seen."""
        self._scan.emit(payload, source, time.perf_counter() if submitted is None else submitted)

    def set_provider(self, provider: CheckProvider | None) -> None:
        """The door's decision path from now on (None: local); queued after earlier scans."""
        self._provider.emit(provider)

    def checkin_ticket(self, ticket_id: str) -> None:
        self._checkin.emit(ticket_id)

    def search(self, query: str) -> None:
        self._search.emit(query)

    def find_last_checkin(self) -> None:
        self._find_last.emit()

    def undo(self, checkin_id: str) -> None:
        self._undo.emit(checkin_id)

    def refresh_stats(self) -> None:
        self._stats.emit()

    def refresh_events(self) -> None:
        """Events and stats again, e.g. after a sync round pulled something new."""
        self._events.emit()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Finish queued work and stop the thread (pending scans still commit)."""
        if self.thread.isRunning():
            self.thread.quit()
            if not self.thread.wait(timeout_ms):
                log.warning("Node worker did not stop within %d ms", timeout_ms)
                return
        self.worker.provider.close()


def gate_config(
    gate: str,
    direction: str,
    event_id: str,
    allowed_tiers: Sequence[str],
    *,
    event_ids: Sequence[str] = (),
) -> GateConfig:
    """Build a GateConfig from settings values; counters follow the gate's event (or,
    with none chosen, the first published event the worker finds). ``event_ids``: every
    event the node's configuration admits (`connect --event A --event B`)."""
    return GateConfig(
        door=Door.of(
            tuple(event_ids) or ((event_id,) if event_id else ()), gate, direction, allowed_tiers
        ),
        stats_event=event_id or None,
    )
