"""Key sets refuse small-order and non-canonical Ed25519 keys and P-256 non-points, with a
message naming the key, wherever they enter: import (file/CLI), pull (sync), the store."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt_forge import b64url, forge

from scanner_app.core.door import Door
from scanner_app.core.errors import ValidationError
from scanner_app.core.keys import generate_signing_key, parse_jwks

SMALL_ORDER_HEX = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",  # the identity
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


def okp(raw: bytes, kid: str = "bad") -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "alg": "EdDSA"}


def with_sign_bit(raw: bytes) -> bytes:
    return raw[:31] + bytes([raw[31] | 0x80])


@pytest.mark.parametrize("hexed", SMALL_ORDER_HEX)
@pytest.mark.parametrize("signed", [False, True])
def test_small_order_ed25519_keys_are_refused(hexed, signed):
    raw = bytes.fromhex(hexed)
    with pytest.raises(ValidationError, match="invalid key bad: a small-order Ed25519 point"):
        parse_jwks({"keys": [okp(with_sign_bit(raw) if signed else raw)]})


def test_non_canonical_ed25519_encodings_are_refused():
    p = 2**255 - 19
    for y in (p + 2, p + 5, 2**255 - 1):  # y >= p: another spelling of y - p
        with pytest.raises(ValidationError, match="non-canonical Ed25519 encoding"):
            parse_jwks({"keys": [okp(y.to_bytes(32, "little"))]})
    good = generate_signing_key("EdDSA").jwk
    # Same bytes, sloppy base64url (non-zero padding bits) or padded: one spelling only.
    last = good["x"][-1]
    sloppy = good["x"][:-1] + ("B" if last == "A" else chr(ord(last) + 1))
    for x in (sloppy, good["x"] + "="):
        if x == good["x"]:
            continue
        with pytest.raises(ValidationError, match="invalid key .*: x "):
            parse_jwks({"keys": [{**good, "x": x}]})
    assert parse_jwks({"keys": [good]})[0].kid == good["kid"]


def test_ec_points_off_the_curve_and_at_infinity_are_refused():
    zero = b64url(bytes(32))
    good = generate_signing_key("ES256").jwk
    for x, y in ((zero, zero), (good["x"], zero), (good["y"], good["x"])):
        jwk = {**good, "x": x, "y": y, "kid": "ec1"}
        with pytest.raises(ValidationError, match="invalid key ec1: x/y is not a point on P-256"):
            parse_jwks({"keys": [jwk]})
    with pytest.raises(ValidationError, match="y must be 32 bytes"):
        parse_jwks({"keys": [{**good, "y": b64url(bytes(33))}]})
    assert parse_jwks({"keys": [good]})[0].alg == "ES256"


def identity_forgery(event_id: str, kid: str) -> str:
    """R = identity, S = 0: 'valid' under a small-order key for any message."""
    claims = {"jti": "tkt_forged000001", "evt": event_id, "tier": "GA", "iat": 1784142000}
    header = {"alg": "EdDSA", "kid": kid, "typ": "JWT"}
    return forge(header, claims, lambda _m: bytes([1]) + bytes(63))


def test_the_forgery_such_a_key_would_admit(node, event_id):
    identity = bytes([1]) + bytes(31)
    # What the check prevents: the library itself accepts this signature under this key.
    ed25519.Ed25519PublicKey.from_public_bytes(identity).verify(bytes([1]) + bytes(63), b"x")
    before = node.events.jwks(event_id)
    with pytest.raises(ValidationError, match="small-order"):
        node.events.merge_jwks(event_id, {"keys": [okp(identity, "evil")]})
    with pytest.raises(ValidationError, match="small-order"):
        node.events.import_event(
            node.events.get(event_id), {"keys": [*before["keys"], okp(identity, "evil")]}
        )
    assert node.events.jwks(event_id) == before  # nothing changed
    result = node.checkin.scan(identity_forgery(event_id, "evil"), Door.of([event_id]))
    assert result.reason == "unknown_key"


def test_a_small_order_key_stored_before_the_check_verifies_nothing(node, event_id):
    identity = bytes([1]) + bytes(31)
    with node.db.write() as conn:  # as a database from before this check would hold it
        conn.execute(
            "INSERT INTO event_keys (event_id, kid, alg, public_jwk, created_at)"
            " VALUES (?, 'evil', 'EdDSA', ?, '2026-01-01T00:00:00.000Z')",
            (event_id, json.dumps(okp(identity, "evil"))),
        )
    result = node.checkin.scan(identity_forgery(event_id, "evil"), Door.of([event_id]))
    assert not result.success and result.reason == "unknown_key"
