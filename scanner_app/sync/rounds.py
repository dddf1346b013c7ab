"""One pull from the upstream and the report of a round (the push is in push.py); the engine
schedules them.

Pull: event + key set, ticket manifest changes, other nodes' check-ins; each page is
written in one transaction together with its cursor, so a crash never skips or repeats
more than a page (and repeats are idempotent anyway).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.core.privacy import forget_names
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.errors import ApiError
from scanner_app.sync.state import SyncState

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any] | None], None]
Fetch = Callable[[str, str | None, int], dict[str, Any]]


@dataclass
class RoundReport:
    """What one run_once did; `error` is set when it stopped early."""

    pushed: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    tickets: int = 0
    checkins: int = 0
    keys_added: int = 0
    keys_retired: int = 0  # imported keys the upstream's JWKS no longer lists
    keys_restored: int = 0  # ... and ones it lists again
    events: list[str] = field(default_factory=list)
    skipped_checkins: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth saying, not a problem
    pending: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # set aside by this run: id -> why
    set_aside: int = 0  # every check-in set aside on this node (never uploaded, kept)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The round ran to its end (new scans may have arrived meanwhile)."""
        return self.error is None

    @property
    def complete(self) -> bool:
        """Ran to its end and left nothing to upload: what `sync` exits 0 for."""
        return self.ok and not self.pending

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.complete,  # the same answer as the exit code
            "setAside": self.set_aside,
            "pushed": self.pushed,
            "answers": dict(self.answers),
            "pulledTickets": self.tickets,
            "pulledCheckins": self.checkins,
            "keysAdded": self.keys_added,
            "keysRetired": self.keys_retired,
            "keysRestored": self.keys_restored,
            "events": self.events,
            "pending": self.pending,
            "refused": self.refused,
            "warnings": self.warnings,
            "notes": self.notes,
            "error": self.error,
        }


class Puller:
    """Brings one upstream's view of each event into the node."""

    def __init__(
        self,
        node: Node,
        client: TickitzClient,
        state: SyncState,
        page_size: int = 1000,
        progress: Progress | None = None,
    ) -> None:
        self.node = node
        self.client = client
        self.state = state
        self.page_size = page_size
        self.progress = progress or (lambda _p: None)
        self.revocations_at: dict[str, float] = {}

    def pull(self, event_ids: tuple[str, ...], report: RoundReport) -> None:
        ids = list(event_ids) or [e["id"] for e in self.client.list_events() if "id" in e]
        for event_id in ids:
            if self._event(event_id, report):
                self._tickets(event_id, report)
                self._checkins(event_id, report)
                report.events.append(event_id)

    def _event(self, event_id: str, report: RoundReport) -> bool:
        """Event and key set; False when the upstream lacks the event.

        The upstream's JWKS is authoritative for the keys imported from it: a key it drops
        (retired there) is retired here, one it lists again is active again.
        """
        try:
            event = self.client.get_event(event_id)
            jwks = self.client.get_jwks(event_id)
        except ApiError as exc:
            if exc.status != 404:
                raise
            report.warnings.append(f"{event_id}: not found upstream")
            return False
        digest = hashlib.sha256(json.dumps([event, jwks], sort_keys=True).encode()).hexdigest()
        if digest == self.state.get(f"event:{event_id}:digest"):
            return True  # unchanged: skip the write so scans never wait on it
        # Not one transaction: import_event re-reads the event after committing. A crash in
        # between only means importing the same event again next time.
        imported = self.node.events.import_event(event)
        try:
            changes = self.node.events.apply_upstream_jwks(imported["id"], jwks)
        except ValidationError as exc:
            # A bad answer, not "every key was retired": keep the set this node has. The
            # digest is not stored, so the next round asks again (and warns again).
            report.warnings.append(
                f"{event_id}: the upstream's key set was refused ({exc.message});"
                " keeping the current keys"
            )
            return True
        self.state.set(f"event:{event_id}:digest", digest)
        report.keys_added += changes.added
        report.keys_retired += changes.retired
        report.keys_restored += changes.restored
        if changes.retired:
            report.notes.append(f"{event_id}: {changes.retired} key(s) retired upstream")
        return True

    def _names_mode(self, event_id: str, cursor: str | None) -> tuple[bool, str | None]:
        """(private, cursor): a gate switched to or from ``private`` erases the names it
        has of the event and pulls its manifest again, in the new form (DESIGN.md §10)."""
        private = self.node.private_names()
        mode = "sealed" if private else "plain"
        key = f"tickets:{event_id}:names"
        stored = self.state.get(key)
        if stored == mode:
            return private, cursor
        if cursor is not None and stored != mode and (stored or private):
            forget_names(self.node.db, [event_id])
            cursor = None
        with self.node.db.write() as conn:
            if cursor is None:
                self.state.delete(f"tickets:{event_id}", conn)
            self.state.set(key, mode, conn)
        return private, cursor

    def _tickets(self, event_id: str, report: RoundReport) -> None:
        name = f"tickets:{event_id}"
        private, cursor = self._names_mode(event_id, self.state.get(name))
        first = cursor is None
        estimate = _estimate(self.node, event_id) if first else None
        done = 0
        fetch = partial(_tickets_page, self.client, sealed=private)
        try:
            for page in self._pages(fetch, event_id, cursor):
                if page["data"] or cursor is None:
                    with self.node.db.write() as conn:
                        self.node.tickets.import_manifest(event_id, page["data"], private=private)
                        cursor = str(page.get("nextCursor") or cursor or "")
                        self.state.set(name, cursor, conn)
                done += len(page["data"])
                if first:
                    # The tiers' seats are only a guess of what was sold: the last page says
                    # the real total ("20 / ~500 (4%)" was shown for a 20-ticket event).
                    last = not (page.get("hasMore") and page["data"])
                    total = done if last else (max(estimate, done) if estimate else None)
                    self.progress(
                        {
                            "eventId": event_id,
                            "phase": "tickets",
                            "done": done,
                            "estimatedTotal": total,
                        }
                    )
        finally:
            report.tickets += done
            if first:  # also when the round failed: a stale "40%" would stay on screen
                self.progress(None)
        self.node.tickets.index.follow()  # here, not in the node worker's next search
        # The revocation list is as fresh as this moment (DESIGN.md §6: cancelled = revoked).
        # Kept in memory every pull; written at most once a minute (each write is an fsync).
        now = self.node.clock().timestamp()
        self.revocations_at[event_id] = now
        stored = self.state.get_float(f"revocations_at:{event_id}") or 0.0
        if now - stored >= 60:
            self.state.set(f"revocations_at:{event_id}", now)

    def _checkins(self, event_id: str, report: RoundReport) -> None:
        name = f"checkins:{event_id}"
        cursor = self.state.get(name)
        for page in self._pages(self.client.checkins_page, event_id, cursor):
            if page["data"]:
                with self.node.db.write() as conn:
                    report.skipped_checkins += self._merge(page["data"])
                    cursor = str(page.get("nextCursor") or cursor or "")
                    self.state.set(name, cursor, conn)
            report.checkins += len(page["data"])

    def _pages(self, fetch: Fetch, event_id: str, cursor: str | None) -> Iterator[dict]:
        """Pages from `cursor` on. The next page is fetched while the caller stores this one,
        so the upstream serialises on one core while this node indexes on the other."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tickitz-pull") as pool:
            ahead = pool.submit(fetch, event_id, cursor, self.page_size)
            while True:
                page = ahead.result()
                more = bool(page.get("hasMore") and page["data"])
                if more:
                    ahead = pool.submit(fetch, event_id, str(page["nextCursor"]), self.page_size)
                yield page
                if not more:
                    return

    def _merge(self, items: list[Any]) -> int:
        """Merge a page; a row this node cannot parse is skipped (logged), not a stall."""
        try:
            self.node.ledger.merge(items, source="upstream")
            return 0
        except ValidationError:
            skipped = 0
            for item in items:
                try:
                    self.node.ledger.merge([item], source="upstream")
                except ValidationError as exc:
                    log.warning("Skipping an upstream check-in: %s", exc.message)
                    skipped += 1
            return skipped


def _tickets_page(
    client: TickitzClient, event_id: str, after: str | None, limit: int, *, sealed: bool
) -> dict:
    # Only a private gate asks for sealed names: an upstream from before them is not sent
    # a parameter it may refuse.
    if sealed:
        return client.tickets_page(event_id, after, limit, sealed=True)
    return client.tickets_page(event_id, after, limit)


def _estimate(node: Node, event_id: str) -> int | None:
    """How many tickets a first pull should expect: the tiers' quantities, if known."""
    try:
        event = node.events.get(event_id)
    except Exception:
        return None
    total = sum(t.get("quantity") or 0 for t in event.get("tiers", []))
    return total or event.get("maxCapacity")
