"""Key sets: JWKS parsing, RFC 7638 thumbprints as kids, rotation, refusals."""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from scan_helpers import publish_event

from scanner_app.core.door import Door
from scanner_app.core.errors import ValidationError
from scanner_app.core.keys import (
    KID_LENGTH,
    generate_signing_key,
    jwk_thumbprint,
    parse_jwks,
    public_jwk,
)
from scanner_app.core.node import Node

# RFC 8037 Appendix A.3: the Ed25519 public key of A.2 and its RFC 7638 thumbprint.
RFC8037_JWK = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def by_hand(canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_okp_thumbprint_matches_rfc8037_vector():
    assert jwk_thumbprint(RFC8037_JWK, length=None) == RFC8037_THUMBPRINT
    # Extra members (alg, kid, use) and member order do not change it.
    noisy = {"use": "sig", "x": RFC8037_JWK["x"], "kid": "whatever", "alg": "EdDSA"}
    noisy.update(kty="OKP", crv="Ed25519")
    assert jwk_thumbprint(noisy, length=None) == RFC8037_THUMBPRINT


def test_okp_thumbprint_is_sha256_of_the_canonical_required_members():
    jwk = public_jwk(ed25519.Ed25519PrivateKey.generate().public_key())
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + jwk["x"] + '"}'
    assert jwk_thumbprint(jwk, length=None) == by_hand(canonical)


def test_ec_thumbprint_is_sha256_of_the_canonical_required_members():
    jwk = public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    canonical = '{"crv":"P-256","kty":"EC","x":"' + jwk["x"] + '","y":"' + jwk["y"] + '"}'
    assert jwk_thumbprint(jwk, length=None) == by_hand(canonical)
    assert len(jwk_thumbprint(jwk, length=None)) == 43  # 256 bits, base64url, no padding


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_kid_is_the_thumbprint_truncated_to_16(alg):
    key = generate_signing_key(alg)
    full = jwk_thumbprint(key.jwk, length=None)
    assert KID_LENGTH == 16
    assert key.kid == key.jwk["kid"] == full[:16]
    assert key.jwk["alg"] == alg
    assert "d" not in key.jwk  # the published JWK is public only
    header = jwt.get_unverified_header(
        jwt.encode({"a": 1}, key.private_key(), algorithm=alg, headers={"kid": key.kid})
    )
    assert header["kid"] == key.kid


def test_generated_key_verifies_with_its_published_jwk():
    for alg in ("EdDSA", "ES256"):
        key = generate_signing_key(alg)
        (verify,) = parse_jwks({"keys": [key.jwk]})
        token = jwt.encode({"x": 1}, key.private_key(), algorithm=alg)
        assert jwt.decode(token, verify.key, algorithms=[alg]) == {"x": 1}


def test_rotation_old_and_new_tickets_both_verify(node, other_node, issued_event):
    event_id = issued_event["id"]
    old = node.tickets.issue(event_id, "GA", "Before Rotation")[0]
    old_kid = node.events.signing_key(event_id).kid
    node.events.rotate_key(event_id)
    new_kid = node.events.signing_key(event_id).kid
    new = node.tickets.issue(event_id, "GA", "After Rotation")[0]
    assert old_kid != new_kid
    assert jwt.get_unverified_header(old["qrPayload"])["kid"] == old_kid
    assert jwt.get_unverified_header(new["qrPayload"])["kid"] == new_kid
    jwks = node.events.jwks(event_id)
    assert sorted(k["kid"] for k in jwks["keys"]) == sorted([old_kid, new_kid])

    # On the issuing node and on a gate that imported the JWKS (public keys only).
    other_node.events.import_event(node.events.get(event_id), jwks)
    for gate in (node, other_node):
        for ticket in (old, new):
            result = gate.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
            assert result.success, (gate.device_id, ticket["attendeeName"], result.reason)
    assert other_node.db.query("SELECT private_pem FROM event_keys") and all(
        row["private_pem"] is None for row in other_node.db.query("SELECT * FROM event_keys")
    )


def test_gate_learns_a_rotated_key_added_by_another_process(node, other_node, tmp_path, clock):
    event = publish_event(node, "Rotating")
    other_node.events.import_event(node.events.get(event["id"]), node.events.jwks(event["id"]))
    node.events.rotate_key(event["id"])
    fresh = node.tickets.issue(event["id"], "GA", "Fresh")[0]["qrPayload"]

    # The gate's verifier has the old set cached.
    assert other_node.checkin.scan(fresh, Door.of([event["id"]])).reason == "unknown_key"
    # A second process (a sync, the CLI) on the same data dir adds the new key ...
    with Node.open(other_node.data_dir, clock=clock) as syncer:
        assert syncer.events.merge_jwks(event["id"], node.events.jwks(event["id"])) == 1
        assert syncer.events.merge_jwks(event["id"], node.events.jwks(event["id"])) == 0
    # ... and the running gate picks it up on the next unknown kid, without a restart.
    assert other_node.checkin.scan(fresh, Door.of([event["id"]])).success


def test_jwks_with_several_keys_of_both_types():
    keys = [generate_signing_key("EdDSA"), generate_signing_key("ES256"), generate_signing_key()]
    parsed = parse_jwks({"keys": [k.jwk for k in keys]})
    assert [(p.kid, p.alg) for p in parsed] == [(k.kid, k.alg) for k in keys]
    assert isinstance(parsed[0].key, ed25519.Ed25519PublicKey)
    assert isinstance(parsed[1].key, ec.EllipticCurvePublicKey)


def private_okp_jwk():
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    jwk = public_jwk(key.public_key())
    jwk["d"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return jwk


def ec_jwk(curve):
    jwk = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(curve).public_key()))
    return {**jwk, "kid": "k1", "alg": "ES256"}


@functools.cache
def bad_jwks_cases():
    ed = generate_signing_key("EdDSA").jwk
    ec_key = generate_signing_key("ES256").jwk
    rsa_jwk = json.loads(
        RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key())
    ) | {"kid": "r1", "alg": "RS256"}
    return {
        "private Ed25519 member d": ({"keys": [private_okp_jwk()]}, "private"),
        "private EC member d": ({"keys": [{**ec_key, "d": "AAAA"}]}, "private"),
        "RSA key": ({"keys": [rsa_jwk]}, "unsupported"),
        "symmetric oct key": (
            {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]},
            "unsupported",
        ),
        "P-384 claiming ES256": ({"keys": [ec_jwk(ec.SECP384R1())]}, "unsupported"),
        "secp256k1 claiming ES256": ({"keys": [ec_jwk(ec.SECP256K1())]}, "unsupported"),
        "X25519 (not a signing key)": (
            {"keys": [{**ed, "crv": "X25519", "alg": "ECDH-ES"}]},
            "unsupported",
        ),
        "EdDSA key declared HS256": ({"keys": [{**ed, "alg": "HS256"}]}, "does not match"),
        "EC key declared EdDSA": ({"keys": [{**ec_key, "alg": "EdDSA"}]}, "does not match"),
        "no kid": ({"keys": [{k: v for k, v in ed.items() if k != "kid"}]}, "kid"),
        "empty kid": ({"keys": [{**ed, "kid": ""}]}, "kid"),
        "numeric kid": ({"keys": [{**ed, "kid": 7}]}, "kid"),
        "point not on the curve": ({"keys": [{**ec_key, "y": ec_key["x"]}]}, "invalid key"),
        "x of the wrong length": ({"keys": [{**ed, "x": "AAAA"}]}, "invalid key"),
        "keys not a list": ({"keys": ed}, "JWKS"),
        "not an object": ([ed], "JWKS"),
        "key not an object": ({"keys": ["eyJ..."]}, "object"),
    }


@pytest.mark.parametrize("case", list(bad_jwks_cases()))
def test_bad_jwks_is_refused_with_a_clear_error(case):
    jwks, words = copy.deepcopy(bad_jwks_cases()[case])
    with pytest.raises(ValidationError) as caught:
        parse_jwks(jwks)
    assert words.lower() in caught.value.message.lower(), caught.value.message


def test_bad_jwks_import_writes_nothing(node, issued_event):
    event = {**node.events.get(issued_event["id"]), "id": "evt_fromcentral0001"}
    before = {
        t: node.db.query_one(f"SELECT COUNT(*) FROM {t}")[0] for t in ("events", "event_keys")
    }
    with pytest.raises(ValidationError):
        node.events.import_event(event, {"keys": [private_okp_jwk()]})
    after = {t: node.db.query_one(f"SELECT COUNT(*) FROM {t}")[0] for t in ("events", "event_keys")}
    assert after == before


def test_thumbprint_of_an_unsupported_key_type_is_refused():
    with pytest.raises(ValidationError, match="unsupported key type"):
        jwk_thumbprint({"kty": "RSA", "n": "AQAB", "e": "AQAB"})
