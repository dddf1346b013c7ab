"""SyncEngine: the background loop that keeps a node converged with its upstream.

Push as soon as something is pending (polled cheaply, or `kick()`), pull every
`interval_s`; while the upstream does not answer, probe it every `probe_s`; after an
error it answered, back off exponentially (or as `Retry-After` says).
Cursors, times and the outbox live in the node's store, so a restart resumes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from scanner_app.core.node import Node
from scanner_app.core.privacy import RETENTION_DAYS, RETENTION_SETTING, expire_names, forget_names
from scanner_app.sync.client import MAX_BATCH, TickitzClient
from scanner_app.sync.clock import ClockOffset
from scanner_app.sync.config import SyncConfig, SyncSettingsDamaged
from scanner_app.sync.credentials import KeyStore, KeyUnusable
from scanner_app.sync.errors import (
    ApiError,
    BadResponse,
    Forbidden,
    InternalError,
    NotConfigured,
    RateLimited,
    SettingsDamaged,
    SyncError,
    Unauthorized,
    Unreachable,
    UpstreamReset,
)
from scanner_app.sync.identity import UpstreamIdentity
from scanner_app.sync.push import Pusher
from scanner_app.sync.rounds import Puller, RoundReport
from scanner_app.sync.state import ConnectionState, SyncState, SyncStatus

log = logging.getLogger(__name__)
StatusCallback = Callable[[SyncStatus], None]
PERSIST_EVERY_S = 30.0  # times in sync_state are rewritten at most this often (fsyncs)


class SyncEngine:
    """Push, pull and status for one node and its one upstream (scans: sync/door.py)."""

    def __init__(
        self,
        node: Node,
        config: SyncConfig,
        api_key: str,
        *,
        on_status: StatusCallback | None = None,
        push_only: bool = False,
        timeout_s: float = 10.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        probe_s: float = 1.0,
        poll_s: float = 0.5,
        batch_size: int = MAX_BATCH,
        page_size: int = 1000,
        clock_offset: ClockOffset | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.node = node
        self.config = config
        self.on_status = on_status
        self.push_only = push_only
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.probe_s = probe_s
        self._retries = retries
        self.poll_s = poll_s
        self.state = SyncState(node.db, config.upstream)
        # Learned from the upstream's Date headers; the door's provider reads it (check_provider).
        self.clock = clock_offset or ClockOffset(self.state.get_float("clock_offset_ms") or 0.0)
        self._api_key = api_key
        self._stop = threading.Event()
        common = {
            "clock": node.clock,
            "on_date": self.clock.observe,
            "transport": transport,
            "sleep": self._stop.wait,  # a retry's wait ends at once when stop() is called
            "certificate": config.certificate,  # the pinned hub certificate (DESIGN.md §10)
            "insecure_http": config.insecure_http,
        }
        self._common = common
        self.identity = UpstreamIdentity(self.state)
        self.client = TickitzClient(
            config.url,
            api_key,
            timeout=timeout_s,
            retries=retries,
            backoff_s=min(backoff_s, 0.5),
            max_retry_wait_s=max(backoff_s, 2.0),
            on_node=self.identity.observe,
            **common,
        )
        self.pusher = Pusher(node, self.client, batch_size)
        self.puller = Puller(node, self.client, self.state, page_size, self._on_progress)
        self._lock = threading.Lock()  # guards the status fields below
        self._round_lock = threading.Lock()  # one round at a time (loop, CLI, GUI)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._state, self._reason = ConnectionState.OFFLINE, "not contacted yet"
        self._syncing = False
        self._failures = 0
        self._retry_at = 0.0  # monotonic
        self._next_pull = 0.0  # monotonic
        self._now_asked = False  # "Sync now": the next tick pulls whatever the schedule says
        self._first_sync: dict[str, Any] | None = None
        self._warnings: tuple[str, ...] = ()
        self._pull_warnings: list[str] = []
        self._last_push_at = self.state.get_float("last_push_at")
        self._last_pull_at = self.state.get_float("last_pull_at")

    @classmethod
    def from_node(cls, node: Node, **kwargs: Any) -> SyncEngine:
        """The engine for the upstream saved by `tickitz-scanner connect`."""
        try:
            config = SyncConfig.load(node)
            if config is None:
                raise NotConfigured(
                    "this node has no upstream; run `tickitz-scanner connect` first"
                )
            key, _where = KeyStore(node.data_dir, node.device_id).get()
        except (SyncSettingsDamaged, KeyUnusable) as exc:
            raise SettingsDamaged(str(exc)) from None
        if not key:
            raise NotConfigured("no API key for the upstream; run `connect` or set TICKITZ_API_KEY")
        return cls(node, config, key, **kwargs)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Run in a daemon thread until stop()."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tickitz-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop. If a request is still in flight after `timeout`, the (daemon)
        thread finishes it on its own and closes the clients; what it was sending stays
        pending and is resent next time (uploads are idempotent)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return
        self._close_clients()

    def _close_clients(self) -> None:
        self.client.close()

    def kick(self) -> None:
        """Something was recorded: push now rather than at the next poll."""
        self._wake.set()

    def sync_now(self) -> None:
        """Staff asked ("Sync now"): a whole round at once, whatever the back-off says."""
        with self._lock:
            self._retry_at = 0.0
        self._now_asked = True  # a round running now does not count: it may be past the pull
        self._wake.set()

    def __enter__(self) -> SyncEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def online_client(self, timeout_s: float) -> TickitzClient:
        """A client for strict scans: same upstream and key, one try, a short deadline."""
        return TickitzClient(
            self.config.url, self._api_key, timeout=timeout_s, retries=0, **self._common
        )

    def upstream_unreachable(self) -> bool:
        """The last round could not reach the upstream and the retry is not due yet (a
        strict door then decides locally at once instead of waiting for its deadline)."""
        with self._lock:
            return self._state is ConnectionState.OFFLINE and time.monotonic() < self._retry_at

    # --- rounds ------------------------------------------------------------------------
    def run_once(self, *, push: bool = True, pull: bool = True) -> RoundReport:
        """Push everything pending, then pull; never raises for network trouble."""
        report = RoundReport()
        with self._round_lock:
            self._update(syncing=True)
            try:
                try:
                    self._round(report, push, pull)
                except UpstreamReset as reset:  # nothing from the new database was stored yet
                    requeued = self.identity.adopt(self.node.ledger, reset)
                    self.pusher.refused.clear()
                    report.notes.append(
                        f"upstream was reset (new database): re-sending {requeued} check-ins"
                    )
                    self._round(report, push, True)
                self._succeeded(report)
            except SyncError as exc:
                self._failed(exc, report)
            except Exception as exc:  # a bug or a bad upstream answer must not kill the loop
                log.exception("Sync round failed")
                self._failed(InternalError(f"{type(exc).__name__}: {exc}"), report)
            finally:
                report.pending = self.node.ledger.pending_count()
                report.refused = dict(self.pusher.refused)
                report.set_aside = self.node.ledger.set_aside_summary()[0]
                self._save_clock()
                self._update(syncing=False)
        return report

    def _round(self, report: RoundReport, push: bool, pull: bool) -> None:
        if push:
            self.pusher.push(report)
            if report.pushed:
                self._record_time("last_push_at")
        if pull and not self.push_only:
            self.puller.pull(self.config.event_ids, report)
            self._record_time("last_pull_at")
            self._pull_warnings = list(report.warnings)  # kept until the next pull
        # Names leave this node a while after their event ended (DESIGN.md §10).
        days = float(self.node.setting(RETENTION_SETTING) or RETENTION_DAYS)
        erased = expire_names(self.node.db, self.node.clock(), days)
        if erased:
            report.notes.append(f"erased {erased} attendee names of past events")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # e.g. the disk is full: keep the thread, try again later
                log.exception("Sync loop error")
                self._retry_at = time.monotonic() + self.max_backoff_s
            self._wake.wait(self._sleep_s())
        self._close_clients()  # here, not in stop(): a request may still have been in flight

    def _tick(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        asked, self._now_asked = self._now_asked, False
        pull_due = not self.push_only and (asked or now >= self._next_pull)
        if pull_due or self._wake.is_set() or self._deliverable():
            self._wake.clear()
            report = self.run_once(pull=pull_due)
            if pull_due and report.ok:
                self._next_pull = time.monotonic() + self.config.interval_s

    def _sleep_s(self) -> float:
        now = time.monotonic()
        waits = [self.poll_s]
        if self._retry_at > now:
            waits.append(self._retry_at - now)
        if not self.push_only:
            waits.append(self._next_pull - now)
        return max(0.01, min(waits))

    def _deliverable(self) -> bool:
        return self.node.ledger.pending_count() > 0

    def _succeeded(self, report: RoundReport) -> None:
        # Set-aside check-ins are not a problem of the link: status and export show them.
        warnings = list(self._pull_warnings)
        skew = []  # reported, but the link itself is fine: not a reason to say degraded
        if self.clock.large:
            skew.append(f"clock differs from upstream by {self.clock.offset_ms() / 1000:.1f} s")
        self.client.retries = self._retries  # answered again: retry blips within a round
        with self._lock:
            self._failures = 0
            self._retry_at = 0.0
            self._warnings = tuple(warnings + skew)
            self._state = ConnectionState.PROBLEM if warnings else ConnectionState.ONLINE
            self._reason = "; ".join(warnings) or None

    def _failed(self, exc: SyncError, report: RoundReport) -> None:
        report.error = _describe(exc)
        if isinstance(exc, Unauthorized) and "revoked" in exc.message.lower():
            # The organiser withdrew this device (lost or stolen): its names go at once.
            erased = forget_names(self.node.db)
            log.warning("This device was revoked upstream: erased %d attendee names", erased)
        unreachable = isinstance(exc, Unreachable)
        # No answer at all: probe again soon with one quick request (no retries in it), so
        # a hub that comes back is seen within seconds. Back-off is for answers: a hub
        # that is up but refusing or overloaded must not be hammered.
        self.client.retries = 0 if unreachable else self._retries
        with self._lock:
            self._failures += 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (self._failures - 1))
            if unreachable:
                delay = self.probe_s
            delay *= random.uniform(0.5, 1.0)  # jitter: 100 gates must not retry in step
            if isinstance(exc, Unauthorized | Forbidden):
                delay = self.max_backoff_s  # a wrong key will not fix itself in a second
            delay = max(delay, exc.retry_after or 0.0)
            self._retry_at = time.monotonic() + delay
            self._state = (
                ConnectionState.OFFLINE if isinstance(exc, Unreachable) else ConnectionState.PROBLEM
            )
            self._reason = _describe(exc)
        log.info("Sync failed (%s); next attempt in %.1f s", self._reason, delay)

    def _record_time(self, name: str) -> None:
        now = self.node.clock().timestamp()
        with self._lock:
            setattr(self, f"_{name}", now)
        stored = self.state.get_float(name) or 0.0
        if now - stored >= PERSIST_EVERY_S:
            self.state.set(name, now)

    def _save_clock(self) -> None:
        offset = self.clock.offset_ms()
        stored = self.state.get_float("clock_offset_ms") or 0.0
        if self.clock.learned and abs(offset - stored) >= 50:
            self.state.set("clock_offset_ms", round(offset, 1))

    # --- status ------------------------------------------------------------------------
    def status(self) -> SyncStatus:
        """A consistent snapshot; safe from any thread."""
        now = time.monotonic()
        pending = self.node.ledger.pending_count()
        set_aside, set_aside_reason = self.node.ledger.set_aside_summary()
        pulled = [
            max(
                self.state.get_float(f"revocations_at:{e}") or 0.0,
                self.puller.revocations_at.get(e, 0.0),
            )
            for e in self._event_ids()
        ]
        wall = self.node.clock().timestamp()
        revocation_age = wall - min(pulled) if pulled and min(pulled) > 0 else None
        limit = self.client.rate_limit
        with self._lock:
            return SyncStatus(
                upstream=self.config.upstream,
                state=self._state,
                reason=self._reason,
                syncing=self._syncing,
                pending=pending,
                last_push_at=self._last_push_at,
                last_pull_at=self._last_pull_at,
                revocation_age_s=revocation_age,
                clock_offset_ms=self.clock.offset_ms(),
                clock_skew_large=self.clock.large,
                first_sync=dict(self._first_sync) if self._first_sync else None,
                refused=len(self.pusher.refused),
                set_aside=set_aside,
                set_aside_reason=set_aside_reason,
                next_attempt_in_s=max(0.0, self._retry_at - now) if self._retry_at else None,
                rate_limit=limit.__dict__.copy() if limit else None,
                warnings=self._warnings,
                link=self.client.link,
            )

    def _event_ids(self) -> list[str]:
        if self.config.event_ids:
            return list(self.config.event_ids)
        return [n.split(":", 1)[1] for n in self.state.names("tickets:")]

    def _on_progress(self, progress: dict[str, Any] | None) -> None:
        self._update(first_sync=progress)

    def _update(self, **fields: Any) -> None:
        with self._lock:
            for name, value in fields.items():
                setattr(self, f"_{name}", value)
        if self.on_status is not None:
            try:
                self.on_status(self.status())
            except Exception:  # the GUI's callback must not break syncing
                log.exception("Status callback failed")


def _describe(exc: SyncError) -> str:
    if isinstance(exc, Unreachable):
        return f"upstream unreachable ({exc})"
    if isinstance(exc, RateLimited):
        return f"rate limited by upstream; retry after {exc.retry_after or 0:.0f} s"
    if isinstance(exc, Unauthorized | Forbidden):
        # With the upstream's words: "revoked" (ask for a new setup code) and "invalid"
        # (a mistyped or replaced key) need different fixes at the door.
        return f"API key rejected by upstream ({exc.status} {exc.code}): {exc.message}"
    if isinstance(exc, ApiError):
        return f"upstream error {exc.status} {exc.code}: {exc.message}"
    if isinstance(exc, BadResponse):
        return f"unusable answer from upstream ({exc})"
    if isinstance(exc, InternalError):
        return f"internal error ({exc})"
    return str(exc)
