"""Ticket tokens: sign (for events this node issues) and verify locally (DESIGN.md §3)."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from scanner_app.core.keys import SigningKey, VerifyKey

MAX_TOKEN_LENGTH = 4096
DEFAULT_LEEWAY_SECONDS = 120
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ALLOWED_ALGS = frozenset({"EdDSA", "ES256"})
# Signature checks only; the algorithm is the key's (keys.alg_for_jwk), never the header's.
_VERIFIERS = {"EdDSA": OKPAlgorithm(), "ES256": ECAlgorithm(ECAlgorithm.SHA256)}


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


class _Utf8Encoder(json.JSONEncoder):
    """Claims as UTF-8, not \\uXXXX escapes: "José" costs 5 bytes, not 9, in the QR code."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(**kwargs)


def sign_ticket(claims: TicketClaims, key: SigningKey) -> str:
    """Compact JWS with only alg, kid and typ in the header."""
    headers = {"kid": key.kid, "typ": "JWT"}
    return jwt.encode(
        claims.to_claims(),
        key.private_key(),
        algorithm=key.alg,
        headers=headers,
        json_encoder=_Utf8Encoder,
    )


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


def _b64url_decode(segment: str, name: str) -> bytes:
    """Strict base64url without padding; the shape check already limited the alphabet."""
    if len(segment) % 4 == 1:
        raise TokenRejected("malformed", f"{name} is not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    # Canonical only: unused bits in the last character would give a second spelling.
    if base64.urlsafe_b64encode(data).rstrip(b"=") != segment.encode("ascii"):
        raise TokenRejected("malformed", f"{name} is not canonical base64url")
    return data


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise TokenRejected("malformed", f"{name} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise TokenRejected("malformed", f"{name} is not a JSON object")
    return value


# (event id, kid) -> that event's active keys, or None when the node has none for the event.
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
        if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(token):
            raise TokenRejected("malformed", "not a ticket token")
        # Parsed once, here, rather than by three PyJWT calls: the checks PyJWT made on the
        # way (strict base64url, JSON objects, string kid, no critical extensions) are below.
        signing_input, _, signature_b64 = token.rpartition(".")
        header_b64, _, payload_b64 = signing_input.partition(".")
        header = _json_object(_b64url_decode(header_b64, "header"), "header")
        payload = _json_object(_b64url_decode(payload_b64, "payload"), "claims")
        signature = _b64url_decode(signature_b64, "signature")
        if "crit" in header or header.get("b64", True) is not True:
            # No extension is understood here; b64=false would change what was signed.
            raise TokenRejected("malformed", "critical header extensions are not accepted")
        kid = header.get("kid")
        if "kid" in header and not isinstance(kid, str):
            raise TokenRejected("malformed", "header kid must be a string")
        alg = header.get("alg")
        if alg is not None and not isinstance(alg, str):
            # A list or object here would make the set lookup below raise TypeError.
            raise TokenRejected("malformed", "header alg must be a string")
        if alg not in _ALLOWED_ALGS:
            # alg none and HMAC family: a forgery by construction, whatever the key set says.
            raise TokenRejected("bad_signature", f"algorithm {alg!r} is not accepted")
        event_id = payload.get("evt")
        if not isinstance(event_id, str) or not event_id:
            raise TokenRejected("malformed", "claim evt is required")
        keys = self._keys_for_event(event_id, kid)
        if keys is None:  # {}: the event's keys are all retired, so the kid is unknown_key
            raise TokenRejected("unknown_event", f"no keys for event {event_id[:60]}")
        key = keys.get(kid) if kid else None
        if key is None:
            raise TokenRejected("unknown_key", f"key id {str(kid)[:40]!r} is not in the key set")
        if key.alg != alg:
            raise TokenRejected("bad_signature", f"{alg} does not match the key type {key.alg}")
        # The key's own algorithm (decided by its type when the JWKS was loaded), never the
        # header's; PyJWT's implementation of it, with the key object cached per event.
        if not _VERIFIERS[key.alg].verify(signing_input.encode("ascii"), key.key, signature):
            raise TokenRejected("bad_signature", "signature does not verify")
        for name in ("jti", "sub"):  # PyJWT's claim type checks (the rest are below)
            if name in payload and not isinstance(payload[name], str):
                raise TokenRejected("malformed", f"claim {name} must be a string")
        claims = claims_from_payload(payload)
        self.check_window(claims, now)
        if event_ids is not None and claims.evt not in event_ids:
            raise TokenRejected("wrong_event", f"ticket is for {claims.evt}", claims)
        return claims

    def check_window(self, claims: TicketClaims, now: datetime) -> None:
        """TokenRejected (not_yet_valid / expired) when `now` is outside the claims' window."""
        stamp = now.timestamp()
        if claims.nbf is not None and stamp < claims.nbf - self.leeway_seconds:
            raise TokenRejected("not_yet_valid", "ticket is not valid yet", claims)
        if claims.exp is not None and stamp >= claims.exp + self.leeway_seconds:
            raise TokenRejected("expired", "ticket has expired", claims)
