"""Strict mode (``OnlineCheckProvider``) and the one place a node's door provider is chosen.

Strict mode asks the upstream's `POST /v1/checkin/scan` first, with a hard deadline. The
check-in id is made before asking and travels with the request. An answer in time is
stored locally as already pushed; otherwise (timeout, dropped connection, 5xx, an answer
that does not name the scanned ticket and event) the local verdict is committed under the
SAME id and uploaded later, and the upstream keeps the gate's version of that id (the
hub's ledger: a late strict request it answered is replaced by the gate's upload).

Over plain HTTP to an address other than loopback anyone on the venue Wi-Fi can rewrite
the answer, so there it is advisory (DESIGN.md §10): the local verdict stands whenever
the two disagree.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt

from scanner_app.core.checkin import Presented
from scanner_app.core.door import CheckProvider, Door, LocalCheckProvider
from scanner_app.core.errors import TickitzError
from scanner_app.core.ids import checkin_id as new_checkin_id
from scanner_app.core.models import ScanResult, UndoResult
from scanner_app.core.node import Node
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.clock import ClockOffset
from scanner_app.sync.config import SyncConfig, SyncSettingsDamaged
from scanner_app.sync.credentials import KeyStore, KeyUnusable
from scanner_app.sync.errors import SyncError
from scanner_app.sync.state import SyncState

if TYPE_CHECKING:
    from scanner_app.sync.engine import SyncEngine

log = logging.getLogger(__name__)
# Verdicts no upstream can change: the token itself is bad for this gate.
LOCAL_FINAL = frozenset({"malformed", "bad_signature", "wrong_event", "not_yet_valid", "expired"})
QUIET_AFTER_MISS_S = 5.0  # after a miss, answer locally at once for a while
STRICT_DEADLINE_S = 0.8


class OnlineCheckProvider:
    """Strict mode: the upstream's verdict when it comes in time and names what was asked,
    else ``fallback``'s under the same check-in id. One token verification per scan."""

    def __init__(
        self,
        fallback: LocalCheckProvider,
        client: TickitzClient,
        deadline_s: float = STRICT_DEADLINE_S,
        *,
        advisory: bool = False,
        unreachable: Callable[[], bool] = lambda: False,
        quiet_s: float = QUIET_AFTER_MISS_S,
    ) -> None:
        self.fallback = fallback
        self.client = client
        self.deadline_s = deadline_s
        self.advisory = advisory  # plain HTTP beyond loopback: the local verdict stands
        self.unreachable = unreachable  # the sync engine knows the link is down: don't ask
        self.quiet_s = quiet_s
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tickitz-strict")
        self._quiet_until = 0.0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def scan(self, payload: str, door: Door, *, checkin_id: str | None = None) -> ScanResult:
        checkin_id = checkin_id or new_checkin_id()
        presented = self.fallback.present(payload, door)
        asked = _what_to_ask(payload, presented, door)
        if asked and not self.unreachable() and time.monotonic() >= self._quiet_until:
            event_id, ticket_id = asked
            theirs = self._ask(payload, door, event_id, checkin_id)
            if theirs is not None and self._usable(theirs, asked, checkin_id, presented, door):
                try:
                    return self.fallback.service.records.record_upstream(
                        theirs, door, checkin_id=checkin_id
                    )
                except (TickitzError, ValueError, TypeError) as exc:
                    log.warning("Unusable strict answer (%s); deciding locally", exc)
        return self.fallback.decide(presented, door, checkin_id)

    def check_in_ticket(self, ticket_id: str, door: Door) -> ScanResult:
        """No token to show the upstream: the local rules, pushed at once (the engine's
        kick) so other doors learn it within a round trip."""
        return self.fallback.check_in_ticket(ticket_id, door)

    def undo(self, checkin_id: str, door: Door) -> UndoResult:
        return self.fallback.undo(checkin_id, door)

    def _ask(self, payload: str, door: Door, event_id: str, checkin_id: str) -> ScanResult | None:
        """The upstream's answer, or None when it did not come within the deadline or is
        not a scan result (one that names no direction answers for the door's)."""
        body: dict[str, Any] = {
            "qrPayload": payload,
            "eventId": event_id,
            "scannedBy": door.gate,
            "id": checkin_id,
            "deviceId": door.device_id or self.fallback.service.device_id,
            "direction": door.direction,
        }
        if door.allowed_tiers:
            body["allowedTiers"] = list(door.allowed_tiers)
        future = self._pool.submit(self.client.scan, body)
        try:
            answer = future.result(timeout=self.deadline_s)
        except FutureTimeout:
            log.info("Strict scan: no answer in %.2f s; deciding locally", self.deadline_s)
        except SyncError as exc:
            log.info("Strict scan: %s; deciding locally", exc)
        else:
            if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
                answer = answer["data"]
            if not isinstance(answer, dict):
                return None
            try:
                return ScanResult.from_wire({"direction": door.direction, **answer})
            except TickitzError as exc:
                log.warning("Unusable strict answer (%s); deciding locally", exc)
                return None
        self._quiet_until = time.monotonic() + self.quiet_s
        return None

    def _usable(
        self,
        theirs: ScanResult,
        asked: tuple[str, str | None],
        checkin_id: str,
        presented: Presented,
        door: Door,
    ) -> bool:
        """DESIGN.md §10: an answer counts only for the ticket, event and id it was asked."""
        event_id, ticket_id = asked
        if theirs.event_id != event_id or ticket_id is None:
            log.warning("Strict answer names another event; deciding locally")
            return False
        if theirs.ticket_id != ticket_id:
            log.warning("Strict answer names another ticket; deciding locally")
            return False
        if theirs.checkin_id not in (None, checkin_id):
            log.warning("Strict answer names another check-in id; deciding locally")
            return False
        if theirs.direction != door.direction:
            return False
        if self.advisory:
            local = self.fallback.service.preview(presented, door)
            theirs_reason = None if theirs.success else theirs.reason
            if theirs_reason != local:
                log.warning(
                    "Strict answer (%s) differs from the local verdict (%s) over plain HTTP;"
                    " the local verdict stands",
                    theirs_reason or "admit",
                    local or "admit",
                )
                return False
        return True


def _what_to_ask(payload: str, presented: Presented, door: Door) -> tuple[str, str | None] | None:
    """(event, ticket) to name upstream, or None when the local verdict is final anyway."""
    if presented.reason is None and presented.claims is not None:
        return presented.claims.evt, presented.claims.jti
    if presented.reason in LOCAL_FINAL:
        return None
    # unknown_key / unknown_event: the upstream may already have a newer key set.
    claims = _unverified_claims(payload)
    evt, jti = claims.get("evt"), claims.get("jti")
    if not isinstance(evt, str) or (door.event_ids and evt not in door.event_ids):
        return None
    return evt, jti if isinstance(jti, str) else None


def _unverified_claims(payload: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(payload.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def plain_http_beyond_loopback(url: str) -> bool:
    """True when an upstream answer can be rewritten on the network (http, not loopback)."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def door_for(config: SyncConfig | None, **changes: Any) -> Door:
    """The Door a node's saved upstream settings describe (its event and gate name)."""
    values: dict[str, Any] = {
        "event_ids": config.event_ids if config else (),
        "gate": config.gate if config else None,
    }
    values.update(changes)
    return Door.of(**values)


def check_provider(
    node: Node,
    engine: SyncEngine | None = None,
    *,
    serving: bool = False,
    local_only: bool = False,
    deadline_s: float = STRICT_DEADLINE_S,
    on_warning: Callable[[str], object] | None = None,
) -> CheckProvider:
    """THE choice of a node's door decision path (GUI worker, CLI `scan`, the hub).

    - ``serving``: the hub answering its gates' online scans - always its own verdict
      (it runs inside the hub's group commit; it never waits on another network hop).
    - ``engine`` (a running SyncEngine): its config decides strict or local; door times
      use its learned clock offset; local commits kick it to push at once.
    - neither (the CLI): the node's saved upstream settings and clock offset; strict mode
      gets its own client for the asks, ``sync`` pushes the rest.
    - ``local_only``: as without an engine, but never strict (a window before its engine
      has started: no key is read on the GUI thread).
    """
    if serving:
        return LocalCheckProvider(node.checkin, offline=False)
    if engine is not None:
        config = engine.config
    else:
        try:
            config = SyncConfig.load(node)
        except SyncSettingsDamaged as exc:  # a door that can decide locally keeps deciding
            if on_warning is not None:
                on_warning(exc.message)
            config = None
    if config is None:
        return LocalCheckProvider(node.checkin)
    if engine is not None:
        offset, kick = engine.clock, engine.kick
    else:
        offset = ClockOffset(SyncState(node.db, config.upstream).get_float("clock_offset_ms") or 0)
        kick = None
    local = LocalCheckProvider(node.checkin.with_clock_offset(offset.offset_ms), on_recorded=kick)
    if not config.strict or local_only:
        return local
    if engine is not None:
        client = engine.online_client(deadline_s)
    else:
        try:
            key, _where = KeyStore(node.data_dir, node.device_id).get()
        except KeyUnusable as exc:  # named, never shown: the local verdict stands
            if on_warning is not None:
                on_warning(f"strict mode is on, but {exc}")
            return local
        if not key:
            if on_warning is not None:
                on_warning("strict mode is on, but there is no API key for the upstream")
            return local
        client = TickitzClient(
            config.url, key, timeout=deadline_s, retries=0, clock=node.clock, on_date=offset.observe
        )
    return OnlineCheckProvider(
        local,
        client,
        deadline_s,
        advisory=plain_http_beyond_loopback(client.base_url),
        unreachable=engine.upstream_unreachable if engine is not None else lambda: False,
    )
