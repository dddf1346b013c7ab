"""Noticing that the upstream now answers from a different database.

A venue hub that was reinstalled, or whose data folder was swapped, keeps its address but
not its data: the cursors this node holds point past everything it has, and the check-ins
it acknowledged are gone. Every hub response names its node (`X-Tickitz-Node`); when that
changes, this node re-sends what it recorded and re-reads the upstream from the start.
"""

from __future__ import annotations

import logging
import threading

from scanner_app.core.ledger import Ledger
from scanner_app.sync.errors import UpstreamReset
from scanner_app.sync.state import SyncState

log = logging.getLogger(__name__)
_STATE_NAME = "upstream_node"
# Cursors and digests into the old database; clock offset and revocation times stay.
_FORGOTTEN = ("tickets:", "checkins:", "event:")


class UpstreamIdentity:
    """Remembers which upstream node answered; thread-safe (pages are fetched ahead)."""

    def __init__(self, state: SyncState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._known = state.get(_STATE_NAME)

    def observe(self, node_id: str) -> None:
        """Called for every response naming its node; raises UpstreamReset on a change."""
        with self._lock:
            known = self._known
            if known == node_id:
                return
            if known is not None:
                raise UpstreamReset(known, node_id)
            self._known = node_id
        self.state.set(_STATE_NAME, node_id)  # first contact

    def adopt(self, ledger: Ledger, reset: UpstreamReset) -> int:
        """Re-queue this node's check-ins and drop the cursors, in one transaction.

        Returns how many check-ins will be sent again (uploads are idempotent by id, so
        any the new upstream does have are answered `duplicate`, not doubled).
        """
        with ledger.db.write() as conn:
            requeued = ledger.requeue_all(conn)
            for prefix in _FORGOTTEN:
                self.state.forget(prefix, conn)
            self.state.set(_STATE_NAME, reset.seen, conn)
        with self._lock:
            self._known = reset.seen
        log.warning(
            "Upstream %s now answers from another database (%s, was %s): re-sending %d"
            " check-ins and re-reading it from the start",
            self.state.upstream,
            reset.seen,
            reset.known,
            requeued,
        )
        return requeued
