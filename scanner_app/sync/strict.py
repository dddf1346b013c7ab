"""Strict mode: ask the upstream `POST /v1/checkin/scan` first, with a hard deadline.

The check-in id is made here, before asking, and travels with the request. If the
answer comes in time it is stored locally as already pushed; if not (timeout, dropped
connection, 5xx) the local verdict is committed under the SAME id, so when the outbox
later uploads it the upstream's idempotent batch recognises a request that did arrive
and nothing is counted twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import jwt

from scanner_app.core.errors import TickitzError
from scanner_app.core.ids import checkin_id as new_checkin_id
from scanner_app.core.models import ScanResult
from scanner_app.core.node import Node
from scanner_app.core.tokens import TokenRejected
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.errors import SyncError

log = logging.getLogger(__name__)
# Verdicts no upstream can change: the token itself is bad for this gate.
LOCAL_FINAL = frozenset({"malformed", "bad_signature", "wrong_event", "not_yet_valid", "expired"})
QUIET_AFTER_MISS_S = 5.0  # after a miss, answer locally at once for a while


class StrictScanner:
    def __init__(
        self,
        node: Node,
        client: TickitzClient,
        timeout_s: float,
        after_local: Callable[[], None],
        quiet_s: float = QUIET_AFTER_MISS_S,
    ) -> None:
        self.node = node
        self.client = client
        self.timeout_s = timeout_s
        self.after_local = after_local
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tickitz-strict")
        self.quiet_s = quiet_s
        self._quiet_until = 0.0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def scan(
        self,
        payload: str,
        *,
        event_ids: list[str] | None,
        gate: str,
        direction: str,
        allowed_tiers: Collection[str] | None,
        skip_upstream: bool = False,
    ) -> ScanResult:
        checkin_id = new_checkin_id()
        event_id = self._event_to_ask(payload, event_ids)
        if event_id and not skip_upstream and time.monotonic() >= self._quiet_until:
            body = {
                "qrPayload": payload,
                "eventId": event_id,
                "scannedBy": gate,
                "id": checkin_id,
                "deviceId": self.node.device_id,
                "direction": direction,
            }
            if allowed_tiers:
                body["allowedTiers"] = list(allowed_tiers)
            answer = self._ask(body)
            if answer is not None:
                try:
                    return self.node.checkin.record_upstream(
                        answer, checkin_id=checkin_id, gate=gate, direction=direction
                    )
                except (TickitzError, ValueError, TypeError) as exc:
                    log.warning("Unusable strict answer (%s); deciding locally", exc)
        result = self.node.checkin.scan(
            payload,
            event_ids=event_ids,
            gate=gate,
            direction=direction,
            allowed_tiers=allowed_tiers,
            checkin_id=checkin_id,
        )
        self.after_local()
        return result

    def _ask(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The upstream's verdict, or None when it did not come within the deadline."""
        future = self._pool.submit(self.client.scan, body)
        try:
            answer = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            log.info("Strict scan: no answer in %.2f s; deciding locally", self.timeout_s)
        except SyncError as exc:
            log.info("Strict scan: %s; deciding locally", exc)
        else:
            if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
                answer = answer["data"]
            return answer if isinstance(answer, dict) else None
        self._quiet_until = time.monotonic() + self.quiet_s
        return None

    def _event_to_ask(self, payload: str, event_ids: list[str] | None) -> str | None:
        """The event to name upstream, or None when the local verdict is final anyway."""
        try:
            claims = self.node.checkin.verifier.verify(payload, event_ids, self.node.clock())
        except TokenRejected as rejection:
            if rejection.reason in LOCAL_FINAL:
                return None
            # unknown_key / unknown_event: the upstream may already have a newer key set.
            evt = _unverified_event(payload)
            if evt and (event_ids is None or evt in event_ids):
                return evt
            return None
        return claims.evt


def _unverified_event(payload: str) -> str | None:
    try:
        evt = jwt.decode(payload.strip(), options={"verify_signature": False}).get("evt")
    except jwt.PyJWTError:
        return None
    return evt if isinstance(evt, str) else None
