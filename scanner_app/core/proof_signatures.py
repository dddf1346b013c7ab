"""Signature checks of uploaded proofs (DESIGN.md §10), made before a batch reaches the
hub's single writer, across the machine's cores, each token once.

Profiling a 10,000-admission upload showed a third of the hub's writer time in Ed25519
verifies (~155 us of CPU each on these machines): they held up every gate's scans behind
the batch, and cryptography keeps the GIL while it verifies, so threads cannot spread them.
`SignatureChecks.prepare` verifies a batch's tokens first (in worker processes when there
are enough of them to pay for the trip), with TicketVerifier itself; the writer then only
looks the answers up (`verified` / `failed`) and checks what depends on the row (event,
ticket id, door time).

A token is cached by the SHA-256 of its text together with the key it verified with: a hit
stands only while that very key is still among the event's active keys (a retired or
replaced key is a miss, and the token is verified again). Failures are remembered briefly
(`FAILED_TTL`), so the writer does not verify a forgery a second time; a key that arrives
later is honoured after that.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from scanner_app.core.keys import VerifyKey, parse_jwks
from scanner_app.core.tokens import KeyLookup, TicketClaims, TicketVerifier, TokenRejected

log = logging.getLogger("scanner_app.proofs")
CACHE_SIZE = 65_536  # verified tokens kept (~150 bytes each)
FAILED_TTL = 30.0  # seconds a failed token is not verified again
POOL_FROM = 48  # tokens to verify before worker processes pay for the trip
_CHUNK = 64


@dataclass(frozen=True)
class Verified:
    """A token whose signature verified with `key`, one of event `claims.evt`'s keys."""

    claims: TicketClaims
    key: VerifyKey


def digest(token: str) -> bytes:
    return hashlib.sha256(token.strip().encode("utf-8", "surrogatepass")).digest()


class SignatureChecks:
    """Verified proofs by token digest, and the worker pool that verifies them."""

    def __init__(
        self,
        verifier: TicketVerifier,
        keys_for_event: KeyLookup,
        workers: int | None = None,
        pool_from: int = POOL_FROM,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.verifier = verifier
        self.keys_for_event = keys_for_event
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.pool_from = pool_from
        self.cache_size = cache_size
        self._verified: OrderedDict[bytes, Verified] = OrderedDict()
        self._failed: dict[bytes, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.verified_in_pool = 0  # how many signatures the workers checked (tests, bench)

    # --- the writer's side ------------------------------------------------------------
    def verified(self, token: str) -> Verified | None:
        """The cached verification of `token`, if its key is still active for its event."""
        key = digest(token)
        with self._lock:
            hit = self._verified.get(key)
            if hit is not None:
                self._verified.move_to_end(key)
        if hit is None:
            return None
        active = self.keys_for_event(hit.claims.evt, hit.key.kid)
        if not active or active.get(hit.key.kid) is not hit.key:
            with self._lock:
                self._verified.pop(key, None)
            return None
        return hit

    def failed(self, token: str) -> str | None:
        """The rejection reason of a token that failed lately (see FAILED_TTL)."""
        with self._lock:
            entry = self._failed.get(digest(token))
        if entry is None or time.monotonic() - entry[0] > FAILED_TTL:
            return None
        return entry[1]

    # --- before the writer ------------------------------------------------------------
    def prepare(self, proofs: Iterable[tuple[str, str, datetime]]) -> None:
        """Verify (token, event id, door time) proofs not verified yet; results cached."""
        todo: dict[bytes, tuple[str, str, datetime]] = {}
        for token, event_id, scanned in proofs:
            key = digest(token)
            if key not in todo and self.verified(token) is None and self.failed(token) is None:
                todo[key] = (token, event_id, scanned)
        if not todo:
            return
        items = list(todo.items())
        if self.workers > 1 and len(items) >= self.pool_from:
            try:
                self._prepare_in_pool(items)
                return
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                log.warning("proof workers unavailable, verifying here: %s", exc)
                self._drop_pool()
        for key, (token, _event_id, scanned) in items:
            self._keep(key, self._outcome(token, scanned))

    def _prepare_in_pool(self, items: list[tuple[bytes, tuple[str, str, datetime]]]) -> None:
        # The active keys as they are now, by event: the workers verify with exactly these,
        # and a cached result names the key object it came from (see `verified`).
        snapshot: dict[str, dict[str, VerifyKey]] = {}
        for _key, (_token, event_id, _scanned) in items:
            if event_id not in snapshot:
                snapshot[event_id] = self.keys_for_event(event_id, None) or {}
        jwks = {event: [k.jwk for k in keys.values()] for event, keys in snapshot.items()}
        pool = self._ensure_pool()
        size = max(_CHUNK // 4, min(_CHUNK, -(-len(items) // self.workers)))
        futures = [
            pool.submit(
                _verify_chunk,
                [(token, scanned.timestamp()) for _key, (token, _event, scanned) in chunk],
                jwks,
            )
            for chunk in (items[i : i + size] for i in range(0, len(items), size))
        ]
        outcomes = [outcome for future in futures for outcome in future.result()]
        with self._lock:
            self.verified_in_pool += len(outcomes)
            total = self.verified_in_pool
        log.debug("%d proofs verified in workers (%d since start)", len(outcomes), total)
        for (key, _item), outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, str):
                self._keep(key, outcome)
                continue
            claims, kid = outcome
            known = snapshot.get(claims.evt, {}).get(kid)
            self._keep(key, Verified(claims, known) if known is not None else None)

    def _outcome(self, token: str, scanned: datetime) -> Verified | str | None:
        """Verify in this process: Verified, or the rejection reason (None: not kept)."""
        try:
            claims = self.verifier.verify(token, None, scanned)
        except TokenRejected as rejection:
            if rejection.claims is None:
                return rejection.reason
            claims = rejection.claims  # the signature verified; the door time is the row's
        kid = jwt.get_unverified_header(token.strip()).get("kid")
        keys = self.keys_for_event(claims.evt, kid) if isinstance(kid, str) else None
        key = keys.get(kid) if keys and isinstance(kid, str) else None
        return Verified(claims, key) if key is not None else None

    def _keep(self, key: bytes, outcome: Verified | str | None) -> None:
        if outcome == "unknown_event":
            # The workers hold only the keys of the batch's events: a token of another event
            # is left to the writer, which verifies it with every key this node has.
            return
        with self._lock:
            if isinstance(outcome, Verified):
                self._verified[key] = outcome
                self._verified.move_to_end(key)
                while len(self._verified) > self.cache_size:
                    self._verified.popitem(last=False)
            elif outcome is not None:
                now = time.monotonic()
                if len(self._failed) >= self.cache_size:
                    fresh = {k: v for k, v in self._failed.items() if now - v[0] <= FAILED_TTL}
                    self._failed = fresh if len(fresh) < self.cache_size else {}
                self._failed[key] = (now, outcome)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # spawn, not fork: the hub has threads (a forked child could inherit a lock
                # another thread held), and the workers only need this module.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=context, initializer=_end_with_parent
                )
            return self._pool

    def warm(self) -> None:
        """Start the workers now (a hub's start), not on the first big upload."""
        if self.workers <= 1:
            return
        try:
            pool = self._ensure_pool()
            for future in [pool.submit(_verify_chunk, [], {}) for _ in range(self.workers)]:
                future.result()
        except (BrokenProcessPool, OSError, RuntimeError) as exc:  # closed meanwhile, or none
            log.warning("proof workers did not start: %s", exc)

    def _drop_pool(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# --- in the worker processes -------------------------------------------------------------
_PARSED: dict[str, dict[str, VerifyKey]] = {}


def _end_with_parent() -> None:
    """A worker outlives a killed hub otherwise (it holds its own queue's write end, so it
    never reads an end of file): it exits when the parent's sentinel says the hub is gone.
    Ctrl-C in a terminal reaches the whole process group: the hub stops on it and shuts the
    workers down; a worker killed by it printed a KeyboardInterrupt traceback instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_keys(jwks: dict[str, list[dict[str, Any]]]) -> KeyLookup:
    for event_id, keys in jwks.items():
        known = _PARSED.get(event_id, {})
        wanted = {k["kid"] for k in keys}
        if set(known) != wanted or any(known[k["kid"]].jwk != k for k in keys):
            _PARSED[event_id] = {k.kid: k for k in parse_jwks({"keys": keys})}

    def lookup(event_id: str, _kid: str | None) -> dict[str, VerifyKey] | None:
        return _PARSED.get(event_id) if event_id in jwks else None

    return lookup


def _verify_chunk(
    chunk: list[tuple[str, float]], jwks: dict[str, list[dict[str, Any]]]
) -> list[tuple[TicketClaims, str] | str]:
    """(claims, kid) of each token whose signature verifies, else its rejection reason."""
    verifier = TicketVerifier(_worker_keys(jwks))
    answers: list[tuple[TicketClaims, str] | str] = []
    for token, scanned in chunk:
        try:
            claims = verifier.verify(token, None, datetime.fromtimestamp(scanned, UTC))
        except TokenRejected as rejection:
            if rejection.claims is None:
                answers.append(rejection.reason)
                continue
            claims = rejection.claims
        answers.append((claims, jwt.get_unverified_header(token.strip())["kid"]))
    return answers
