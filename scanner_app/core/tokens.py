"""Ticket tokens: sign (for events this node issues) and verify locally (DESIGN.md §3)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from scanner_app.core.keys import SigningKey, VerifyKey

MAX_TOKEN_LENGTH = 4096
DEFAULT_LEEWAY_SECONDS = 120
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_ALLOWED_ALGS = frozenset({"EdDSA", "ES256"})


class TokenRejected(Exception):
    """A token that must not admit; `reason` is one word of DESIGN.md §4's vocabulary."""

    def __init__(self, reason: str, detail: str, claims: TicketClaims | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.claims = claims  # set only when the signature verified


@dataclass(frozen=True)
class TicketClaims:
    jti: str
    evt: str
    tier: str
    iat: int
    name: str | None = None
    bkg: str | None = None
    nbf: int | None = None
    exp: int | None = None
    iss: str | None = None

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"jti": self.jti, "evt": self.evt, "tier": self.tier}
        for field in ("name", "bkg"):
            if getattr(self, field) is not None:
                claims[field] = getattr(self, field)
        claims["iat"] = self.iat
        for field in ("nbf", "exp", "iss"):
            if getattr(self, field) is not None:
                claims[field] = getattr(self, field)
        return claims


def sign_ticket(claims: TicketClaims, key: SigningKey) -> str:
    """Compact JWS with only alg, kid and typ in the header."""
    headers = {"kid": key.kid, "typ": "JWT"}
    return jwt.encode(claims.to_claims(), key.private_key(), algorithm=key.alg, headers=headers)


def _optional_int(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected("malformed", f"claim {name} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        # JSON parsers read Infinity / NaN; int() of them raises instead of rejecting.
        raise TokenRejected("malformed", f"claim {name} must be a finite number")
    return int(value)


def _optional_str(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenRejected("malformed", f"claim {name} must be a string")
    return value


def claims_from_payload(payload: dict[str, Any]) -> TicketClaims:
    for name in ("jti", "evt", "tier"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise TokenRejected("malformed", f"claim {name} is required")
    iat = _optional_int(payload, "iat")
    if iat is None:
        raise TokenRejected("malformed", "claim iat is required")
    return TicketClaims(
        jti=payload["jti"],
        evt=payload["evt"],
        tier=payload["tier"],
        iat=iat,
        name=_optional_str(payload, "name"),
        bkg=_optional_str(payload, "bkg"),
        nbf=_optional_int(payload, "nbf"),
        exp=_optional_int(payload, "exp"),
        iss=_optional_str(payload, "iss"),
    )


# (event id, kid) -> that event's keys, or None when the node has none for the event.
KeyLookup = Callable[[str, str | None], dict[str, VerifyKey] | None]


class TicketVerifier:
    """Verifies ticket tokens against cached key sets; never fetches keys from a token."""

    def __init__(
        self, keys_for_event: KeyLookup, leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    ) -> None:
        self._keys_for_event = keys_for_event
        self.leeway_seconds = leeway_seconds

    def verify(self, token: str, event_ids: Collection[str] | None, now: datetime) -> TicketClaims:
        """Verified claims, or TokenRejected with exactly one reason.

        `event_ids` are the events this gate scans for; None accepts any event with keys here.
        """
        if not isinstance(token, str):
            raise TokenRejected("malformed", "payload is not text")
        token = token.strip()
        if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.match(token):
            raise TokenRejected("malformed", "not a ticket token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed", f"undecodable token: {exc}") from exc
        if not isinstance(unverified, dict):
            raise TokenRejected("malformed", "claims are not an object")
        alg = header.get("alg")
        if alg is not None and not isinstance(alg, str):
            # A list or object here would make the set lookup below raise TypeError.
            raise TokenRejected("malformed", "header alg must be a string")
        if alg not in _ALLOWED_ALGS:
            # alg none and HMAC family: a forgery by construction, whatever the key set says.
            raise TokenRejected("bad_signature", f"algorithm {alg!r} is not accepted")
        event_id = unverified.get("evt")
        if not isinstance(event_id, str) or not event_id:
            raise TokenRejected("malformed", "claim evt is required")
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        keys = self._keys_for_event(event_id, kid)
        if not keys:
            raise TokenRejected("unknown_event", f"no keys for event {event_id[:60]}")
        key = keys.get(kid) if kid else None
        if key is None:
            raise TokenRejected("unknown_key", f"key id {str(kid)[:40]!r} is not in the key set")
        if key.alg != alg:
            raise TokenRejected("bad_signature", f"{alg} does not match the key type {key.alg}")
        try:
            payload = jwt.decode(
                token,
                key.key,
                algorithms=[key.alg],
                # The validity window is checked below against the injectable clock.
                options={
                    "verify_iat": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("bad_signature", "signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed", f"invalid token: {exc}") from exc
        claims = claims_from_payload(payload)
        self._check_window(claims, now)
        if event_ids is not None and claims.evt not in event_ids:
            raise TokenRejected("wrong_event", f"ticket is for {claims.evt}", claims)
        return claims

    def _check_window(self, claims: TicketClaims, now: datetime) -> None:
        stamp = now.timestamp()
        if claims.nbf is not None and stamp < claims.nbf - self.leeway_seconds:
            raise TokenRejected("not_yet_valid", "ticket is not valid yet", claims)
        if claims.exp is not None and stamp >= claims.exp + self.leeway_seconds:
            raise TokenRejected("expired", "ticket has expired", claims)
