"""The known JWT attacks against a real node: each is refused with the right reason, is
recorded, and admits nobody (DESIGN.md §3)."""

from __future__ import annotations

import json
import math
import socket
from datetime import UTC, datetime
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt_forge import (
    b64url,
    b64url_decode,
    ecdsa_signer,
    eddsa_signer,
    encode_json,
    forge,
    hmac_signer,
    ticket_payload,
)
from scan_helpers import check_shape, publish_event, recorded

from scanner_app.core.door import Door
from scanner_app.core.keys import public_jwk
from scanner_app.core.node import Node
from scanner_app.core.tokens import MAX_TOKEN_LENGTH


@pytest.fixture(params=["EdDSA", "ES256"])
def target(request, node):
    """A published event signed with one algorithm, its real key pair and a scan helper."""
    event = publish_event(node, f"{request.param} night", alg=request.param)
    signing = node.events.signing_key(event["id"])

    def scan(token, **kwargs):
        result = node.checkin.scan(token, Door.of([event["id"]], **kwargs))
        check_shape(result)
        recorded(node, result)
        return result

    yield SimpleNamespace(
        alg=request.param,
        event_id=event["id"],
        kid=signing.kid,
        jwk=signing.jwk,
        private=signing.private_key(),
        scan=scan,
        node=node,
    )
    admitted = node.db.query("SELECT id FROM checkins WHERE success = 1")
    if not getattr(request.node, "expects_admission", False):
        assert admitted == [], "an attack test admitted someone"


def real_signer(target):
    return eddsa_signer(target.private) if target.alg == "EdDSA" else ecdsa_signer(target.private)


def real_header(target, **changes):
    header = {"alg": target.alg, "kid": target.kid, "typ": "JWT"}
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None}


def genuine(target, **claims):
    """A token the issuer really signed (through the node's own issuing path)."""
    return target.node.tickets.issue(target.event_id, "GA", claims.get("name", "Ada"))[0][
        "qrPayload"
    ]


def test_control_a_genuine_ticket_is_admitted(target, request):
    request.node.expects_admission = True
    result = target.scan(genuine(target))
    assert result.success, "the attack fixtures are only meaningful if real tickets pass"


# --- alg none and HMAC ------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None])
def test_alg_none_is_refused(target, alg):
    header = real_header(target, alg=alg)
    unsigned = forge(header, ticket_payload(target.event_id))
    assert target.scan(unsigned).reason == "bad_signature"
    # ... and with a genuine signature left on after swapping the header.
    signature = genuine(target).split(".")[2]
    swapped = unsigned + signature
    assert target.scan(swapped).reason == "bad_signature"


def public_key_materials(target):
    public = target.private.public_key()
    if target.alg == "EdDSA":
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "raw x bytes": raw,
        "x member bytes": b64url_decode(target.jwk["x"]),
        "PEM text": pem,
        "PEM text without trailing newline": pem.strip(),
        "JWK JSON text": json.dumps(target.jwk).encode(),
        "JWKS JSON text": json.dumps({"keys": [target.jwk]}).encode(),
    }


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_the_public_key_is_refused(target, alg):
    for name, secret in public_key_materials(target).items():
        token = forge(
            real_header(target, alg=alg), ticket_payload(target.event_id), hmac_signer(secret)
        )
        result = target.scan(token)
        assert result.reason == "bad_signature", name


# --- kid ------------------------------------------------------------------------------


def test_unknown_or_missing_kid_even_with_the_real_signature(target):
    payload = ticket_payload(target.event_id)
    for kid in ("nope", target.kid[:-1], target.kid + "x", target.kid.upper(), "", None):
        token = forge(real_header(target, kid=kid), payload, real_signer(target))
        assert target.scan(token).reason == "unknown_key", kid


def test_key_of_another_event_does_not_sign_for_this_one(target, node):
    other = publish_event(node, "Other event, other key", alg=target.alg)
    other_key = node.events.signing_key(other["id"])
    signer = (
        eddsa_signer(other_key.private_key())
        if target.alg == "EdDSA"
        else ecdsa_signer(other_key.private_key())
    )
    token = forge(real_header(target, kid=other_key.kid), ticket_payload(target.event_id), signer)
    assert target.scan(token).reason == "unknown_key"


HOSTILE_KIDS = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/dev/zero",
    "file:///etc/shadow",
    "' OR '1'='1' --",
    "x'; DROP TABLE checkins; --",
    '"); DELETE FROM event_keys; --',
    "\u0000",
    "%00",
    "$(reboot)",
    "k\nid",
    "\U0001f600" * 40,
]


@pytest.mark.parametrize("kid", HOSTILE_KIDS)
def test_hostile_kid_strings_are_unknown_keys_and_harm_nothing(target, node, kid):
    keys_before = node.db.query_one("SELECT COUNT(*) FROM event_keys")[0]
    token = forge(
        real_header(target, kid=kid), ticket_payload(target.event_id), real_signer(target)
    )
    assert target.scan(token).reason == "unknown_key"
    assert node.db.query_one("SELECT COUNT(*) FROM event_keys")[0] == keys_before
    assert node.db.query_one("PRAGMA integrity_check")[0] == "ok"


def test_ten_kilobyte_kid_is_refused_before_any_work(target):
    token = forge(real_header(target, kid="k" * 10_240), ticket_payload(target.event_id))
    assert len(token) > MAX_TOKEN_LENGTH
    assert target.scan(token).reason == "malformed"


@pytest.mark.parametrize("kid", [1, 0, True, ["kid"], {"kid": "x"}, 1.5])
def test_non_string_kid_is_malformed(target, kid):
    token = forge(
        real_header(target, kid=kid), ticket_payload(target.event_id), real_signer(target)
    )
    assert target.scan(token).reason == "malformed"


def test_null_kid_is_malformed(target):
    header = {"alg": target.alg, "kid": None, "typ": "JWT"}
    assert target.scan(forge(header, ticket_payload(target.event_id))).reason == "malformed"


# --- keys offered by the token itself ---------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) any outgoing connection: a verifier must never fetch a key."""
    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("network access during verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_embedded_and_remote_keys_are_never_trusted(target, node, no_network):
    attacker = ed25519.Ed25519PrivateKey.generate()
    attacker_jwk = public_jwk(attacker.public_key())
    keys_before = node.db.query_one("SELECT COUNT(*) FROM event_keys")[0]
    pointers = {
        "jwk": attacker_jwk,
        "jku": "http://127.0.0.1:9/.well-known/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBfake"],
    }
    payload = ticket_payload(target.event_id)
    for name, value in pointers.items():
        # The attacker's own kid, their key offered in (or behind) the header.
        header = {"alg": "EdDSA", "kid": attacker_jwk["kid"], name: value}
        assert target.scan(forge(header, payload, eddsa_signer(attacker))).reason == "unknown_key"
        # Our kid, their signature: verified against our key, so it fails.
        header = {"alg": target.alg, "kid": target.kid, name: value}
        wrong = (
            eddsa_signer(attacker)
            if target.alg == "EdDSA"
            else ecdsa_signer(ec.generate_private_key(ec.SECP256R1()))
        )
        assert target.scan(forge(header, payload, wrong)).reason == "bad_signature", name
    everything = {"alg": "EdDSA", "kid": attacker_jwk["kid"], **pointers}
    assert target.scan(forge(everything, payload, eddsa_signer(attacker))).reason == "unknown_key"
    assert no_network == []
    assert node.db.query_one("SELECT COUNT(*) FROM event_keys")[0] == keys_before


# --- wrong curve and algorithm confusion -------------------------------------------------


def test_wrong_curve_claiming_es256(node):
    event = publish_event(node, "EC event", alg="ES256")
    kid = node.events.signing_key(event["id"]).kid
    payload = ticket_payload(event["id"])
    forgeries = {
        "P-384 / SHA-384": ecdsa_signer(ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()),
        "P-384 / SHA-256": ecdsa_signer(ec.generate_private_key(ec.SECP384R1())),
        "secp256k1": ecdsa_signer(ec.generate_private_key(ec.SECP256K1())),
        "another P-256": ecdsa_signer(ec.generate_private_key(ec.SECP256R1())),
    }
    for name, signer in forgeries.items():
        token = forge({"alg": "ES256", "kid": kid, "typ": "JWT"}, payload, signer)
        result = node.checkin.scan(token, Door.of([event["id"]]))
        assert result.reason == "bad_signature", name
    assert node.db.query("SELECT 1 FROM checkins WHERE success = 1") == []


def test_eddsa_token_under_an_es256_header_and_vice_versa(node):
    ed_event = publish_event(node, "Ed event", alg="EdDSA")
    ec_event = publish_event(node, "EC event", alg="ES256")
    ed_key = node.events.signing_key(ed_event["id"])
    ec_key = node.events.signing_key(ec_event["id"])
    cases = [
        # A genuine Ed25519 signature, the header claiming ES256.
        (ed_event, {"alg": "ES256", "kid": ed_key.kid}, eddsa_signer(ed_key.private_key())),
        # A genuine P-256 signature, the header claiming EdDSA.
        (ec_event, {"alg": "EdDSA", "kid": ec_key.kid}, ecdsa_signer(ec_key.private_key())),
        # The attacker's Ed25519 key under our EC kid.
        (
            ec_event,
            {"alg": "EdDSA", "kid": ec_key.kid},
            eddsa_signer(ed25519.Ed25519PrivateKey.generate()),
        ),
        # ES384 / ES512 / RS256 / PS256 with a real kid.
        (ec_event, {"alg": "ES384", "kid": ec_key.kid}, ecdsa_signer(ec_key.private_key())),
        (ec_event, {"alg": "ES512", "kid": ec_key.kid}, ecdsa_signer(ec_key.private_key())),
        (ec_event, {"alg": "RS256", "kid": ec_key.kid}, ecdsa_signer(ec_key.private_key())),
        (ed_event, {"alg": "Ed25519", "kid": ed_key.kid}, eddsa_signer(ed_key.private_key())),
        (ed_event, {"alg": "PS256", "kid": ed_key.kid}, eddsa_signer(ed_key.private_key())),
    ]
    for event, header, signer in cases:
        token = forge(header, ticket_payload(event["id"]), signer)
        result = node.checkin.scan(token, Door.of([event["id"]]))
        assert result.reason == "bad_signature", header
    assert node.db.query("SELECT 1 FROM checkins WHERE success = 1") == []


@pytest.mark.parametrize("alg", [["ES256"], {"alg": "ES256"}, 256, True])
def test_non_string_alg_is_refused_not_crashed(target, alg):
    token = forge(
        real_header(target, alg=alg), ticket_payload(target.event_id), real_signer(target)
    )
    assert target.scan(token).reason == "malformed"


# --- tampering and truncation ----------------------------------------------------------


def resegment(token, index, new_segment):
    parts = token.split(".")
    parts[index] = new_segment
    return ".".join(parts)


def test_tampered_header_is_refused(target):
    token = genuine(target)
    header = json.loads(b64url_decode(token.split(".")[0]))
    for change in ({"typ": "JOSE"}, {"cty": "JWT"}, {"extra": 1}, {"typ": None}):
        tampered = {**header, **change}
        tampered = {k: v for k, v in tampered.items() if v is not None}
        assert target.scan(resegment(token, 0, encode_json(tampered))).reason == "bad_signature"
    # The same header re-serialised with different whitespace: not the signed bytes.
    spaced = b64url(json.dumps(header, indent=1).encode())
    assert target.scan(resegment(token, 0, spaced)).reason == "bad_signature"


def test_tampered_payload_is_refused(target):
    token = genuine(target)
    claims = json.loads(b64url_decode(token.split(".")[1]))
    other_jti = "tkt_" + ("0" if claims["jti"][4] != "0" else "1") + claims["jti"][5:]
    for change in (
        {"tier": "VIP"},
        {"jti": other_jti},
        {"name": "Somebody Else"},
        {"exp": 4_102_444_800},
    ):
        tampered = encode_json({**claims, **change})
        assert target.scan(resegment(token, 1, tampered)).reason == "bad_signature", change
    # The very same claims re-serialised with other whitespace: not the signed bytes.
    spaced = b64url(json.dumps(claims, indent=2).encode())
    assert target.scan(resegment(token, 1, spaced)).reason == "bad_signature"


def test_tampered_signature_is_refused(target):
    token = genuine(target)
    signature = b64url_decode(token.split(".")[2])
    for position in range(0, len(signature), 7):
        flipped = bytearray(signature)
        flipped[position] ^= 0x01
        result = target.scan(resegment(token, 2, b64url(bytes(flipped))))
        assert result.reason == "bad_signature", position
    for other in (b"", signature[:-1], signature + b"\x00", bytes(len(signature)), signature * 2):
        assert target.scan(resegment(token, 2, b64url(other))).reason == "bad_signature"


def test_non_canonical_base64_of_the_real_signature_is_refused(target):
    # The last base64url character of a 64-byte signature carries 2 data bits and 4 unused
    # ones; changing only the unused bits decodes to the same bytes. Strict decoding refuses.
    token = genuine(target)
    last = token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(last)
    sibling = alphabet[index ^ 0x01]
    variant = token[:-1] + sibling
    assert b64url_decode(variant.split(".")[2]) == b64url_decode(token.split(".")[2])
    assert target.scan(variant).reason == "malformed"


def test_every_truncation_is_refused(target):
    token = genuine(target)
    header_end = token.index(".")
    payload_end = token.index(".", header_end + 1)
    reasons = set()
    for length in range(len(token)):
        result = target.scan(token[:length])
        reasons.add(result.reason)
        if length <= payload_end:
            assert result.reason == "malformed", length
        else:
            assert result.reason in ("malformed", "bad_signature"), length
    assert "bad_signature" in reasons  # a cut signature that still decodes is not forged-in
    # Dropping segments entirely.
    header, payload, signature = token.split(".")
    for broken in (f"{header}.{payload}", f"{payload}.{signature}", f".{payload}.{signature}"):
        assert target.scan(broken).reason == "malformed"


# --- claims inside a genuine signature ---------------------------------------------------


def signed(target, claims):
    return forge(real_header(target), claims, real_signer(target))


def test_genuinely_signed_but_unusable_claims_are_malformed(target):
    base = ticket_payload(target.event_id)
    bad_claims = [
        {k: v for k, v in base.items() if k != "jti"},
        {k: v for k, v in base.items() if k != "tier"},
        {k: v for k, v in base.items() if k != "iat"},
        {**base, "jti": ""},
        {**base, "jti": 42},
        {**base, "tier": ["GA"]},
        {**base, "iat": "yesterday"},
        {**base, "iat": True},
        {**base, "name": {"first": "A"}},
        {**base, "exp": "never"},
        {**base, "nbf": [1]},
        {**base, "sub": 7},
    ]
    for claims in bad_claims:
        assert target.scan(signed(target, claims)).reason == "malformed", claims
    for not_an_object in ([base], "ticket", 42, None):
        assert target.scan(signed(target, not_an_object)).reason == "malformed"


def test_non_finite_numbers_in_signed_claims_are_malformed(target):
    # json.dumps writes Infinity / NaN and json.loads reads them back; int() of them raises.
    base = ticket_payload(target.event_id)
    for claims in (
        {**base, "iat": math.inf},
        {**base, "exp": math.nan},
        {**base, "nbf": -math.inf},
    ):
        assert target.scan(signed(target, claims)).reason == "malformed", claims


def test_critical_header_extensions_are_refused(target):
    payload = ticket_payload(target.event_id)
    crit = real_header(target, crit=["exp"], exp=1)
    assert target.scan(forge(crit, payload, real_signer(target))).reason == "malformed"
    unencoded = real_header(target, b64=False, crit=["b64"])
    assert target.scan(forge(unencoded, payload, real_signer(target))).reason == "malformed"


def test_event_claim_missing_or_not_text_is_malformed(target):
    for evt in (None, 17, ["evt_x"], ""):
        claims = {**ticket_payload(target.event_id), "evt": evt}
        if evt is None:
            del claims["evt"]
        assert target.scan(signed(target, claims)).reason == "malformed", evt


# --- validity window and leeway ----------------------------------------------------------


def test_leeway_around_nbf_and_exp(node, event_id, sign, clock):
    boundary = int(clock().timestamp()) + 10_000

    def at(offset, **window):
        token = sign(**window)
        clock.now = datetime.fromtimestamp(boundary + offset, UTC)
        return node.checkin.scan(token, Door.of([event_id])).reason

    # Default leeway: 120 s either side.
    assert at(-121, nbf=boundary) == "not_yet_valid"
    assert at(-120.5, nbf=boundary) == "not_yet_valid"
    assert at(-120, nbf=boundary) is None
    assert at(0, nbf=boundary) is None
    assert at(119.999, exp=boundary) is None
    assert at(120, exp=boundary) == "expired"
    assert at(3600, exp=boundary) == "expired"
    assert at(-3600, nbf=boundary - 3700, exp=boundary) is None


def test_leeway_is_configurable(node, event_id, sign, clock):
    strict = Node(node.db, clock=clock, leeway_seconds=0)
    boundary = int(clock().timestamp()) + 500
    early = sign(nbf=boundary)
    late = sign(exp=boundary)
    clock.now = datetime.fromtimestamp(boundary - 1, UTC)
    assert strict.checkin.scan(early, Door.of([event_id])).reason == "not_yet_valid"
    assert node.checkin.scan(early, Door.of([event_id])).success  # default 120 s leeway
    clock.now = datetime.fromtimestamp(boundary, UTC)
    assert strict.checkin.scan(late, Door.of([event_id])).reason == "expired"
    assert node.checkin.scan(late, Door.of([event_id])).success


# --- parity with PyJWT ---------------------------------------------------------------------


def test_accepted_tokens_decode_identically_with_pyjwt(node, clock):
    """The verifier parses tokens itself (once, for speed); PyJWT must agree on every one."""
    for alg in ("EdDSA", "ES256"):
        event = publish_event(node, f"Parity {alg}", alg=alg)
        (key,) = node.events.verify_keys(event["id"]).values()
        tickets = node.tickets.issue(event["id"], "GA", "Zoë «Ünïcode» 名前", quantity=25)
        for ticket in tickets:
            token = ticket["qrPayload"]
            ours = node.checkin.verifier.verify(token, [event["id"]], clock())
            theirs = jwt.decode(token, key.key, algorithms=[alg])
            assert ours.to_claims() == theirs
            assert jwt.get_unverified_header(token) == {"alg": alg, "kid": key.kid, "typ": "JWT"}


def test_pyjwt_refuses_what_the_verifier_refuses_for_encoding_reasons(target):
    """Strict base64url and JSON-object checks match PyJWT's on the same bytes."""
    token = genuine(target)
    header, payload, signature = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(signature[-1]) ^ 0x01]
    broken = [
        f"{header}.{payload}.{signature[:-1]}{sibling}",  # non-canonical last character
        f"{header}.{payload}.{signature + 'A' * ((1 - len(signature)) % 4 or 4)}",  # 4n+1
        f"{encode_json([1])}.{payload}.{signature}",  # header not an object
        f"{header}.{encode_json('text')}.{signature}",  # claims not an object
        f"{b64url(b'{not json')}.{payload}.{signature}",
    ]
    for token in broken:
        assert target.scan(token).reason == "malformed", token
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(token, target.private.public_key(), algorithms=[target.alg])
