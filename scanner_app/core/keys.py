"""Event signing keys and JWKS key sets (Ed25519 / EdDSA and P-256 / ES256 only)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from scanner_app.core.errors import ValidationError

KID_LENGTH = 16
SUPPORTED_ALGS = ("EdDSA", "ES256")
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

_ED25519_P = 2**255 - 19
# The encodings of Ed25519's eight small-order points, sign bit cleared (libsodium's
# `has_small_order` list). With such a public key, R = identity and S = 0 "verifies" any
# message: one imported key would admit forged tickets.
_SMALL_ORDER = frozenset(
    bytes.fromhex(h)
    for h in (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    )
)

# RFC 7638: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict[str, Any], length: int | None = KID_LENGTH) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url; truncated to keep QR codes small."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None:
        raise ValidationError(f"unsupported key type {jwk.get('kty')!r}", field="kty")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())
    return digest[:length] if length else digest


def alg_for_jwk(jwk: dict[str, Any]) -> str:
    """The one algorithm a JWK may verify, decided by its key type, not by its `alg`."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        expected = "EdDSA"
    elif kty == "EC" and crv == "P-256":
        expected = "ES256"
    else:
        raise ValidationError(f"unsupported key: kty={kty!r} crv={crv!r}", field="keys")
    declared = jwk.get("alg")
    if declared is not None and declared != expected:
        raise ValidationError(f"key alg {declared!r} does not match its type", field="alg")
    return expected


def public_jwk(public_key: PublicKey) -> dict[str, Any]:
    """JWK of a public key with its kid (thumbprint) and alg."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        jwk = json.loads(OKPAlgorithm.to_jwk(public_key))
        jwk["alg"] = "EdDSA"
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = json.loads(ECAlgorithm.to_jwk(public_key))
        jwk["alg"] = "ES256"
    else:
        raise ValidationError("unsupported public key type")
    jwk = {k: jwk[k] for k in ("kty", "crv", "x", "y", "alg") if k in jwk}
    jwk["kid"] = jwk_thumbprint(jwk)
    jwk["use"] = "sig"
    return jwk


def _coordinate(jwk: dict[str, Any], member: str, kid: str) -> bytes:
    """A 32-byte base64url member, in its one canonical spelling."""
    value = jwk.get(member)
    if not isinstance(value, str) or len(value) != 43:
        raise ValidationError(
            f"invalid key {kid}: {member} must be 32 bytes, base64url", field="keys"
        )
    try:
        raw = base64.urlsafe_b64decode(value + "=")
    except ValueError:
        raise ValidationError(
            f"invalid key {kid}: {member} is not base64url", field="keys"
        ) from None
    if _b64url(raw) != value:
        raise ValidationError(
            f"invalid key {kid}: {member} is not canonical base64url", field="keys"
        )
    return raw


def _check_ed25519(jwk: dict[str, Any], kid: str) -> None:
    raw = _coordinate(jwk, "x", kid)
    unsigned = raw[:31] + bytes([raw[31] & 0x7F])
    if unsigned in _SMALL_ORDER:
        raise ValidationError(
            f"invalid key {kid}: a small-order Ed25519 point (it would verify forgeries)",
            field="keys",
        )
    if int.from_bytes(unsigned, "little") >= _ED25519_P:
        raise ValidationError(
            f"invalid key {kid}: a non-canonical Ed25519 encoding (y >= 2^255-19)",
            field="keys",
        )


def load_public_jwk(jwk: dict[str, Any]) -> tuple[str, PublicKey]:
    """Parse one JWK into (alg, key). Private members are refused: keys travel public.

    Ed25519 keys that are small-order points or not canonically encoded, and EC keys that
    are not a point of P-256 (the point at infinity has no x/y; (0, 0) and off-curve
    points are refused), fail with a message naming the key.
    """
    if not isinstance(jwk, dict):
        raise ValidationError("each key must be a JSON object", field="keys")
    if "d" in jwk:
        raise ValidationError("a JWKS must not carry private keys", field="keys")
    alg = alg_for_jwk(jwk)
    kid = str(jwk.get("kid"))[:40]
    if alg == "EdDSA":
        _check_ed25519(jwk, kid)
    else:
        for member in ("x", "y"):
            _coordinate(jwk, member, kid)
    try:
        raw = json.dumps(jwk)
        key = OKPAlgorithm.from_jwk(raw) if alg == "EdDSA" else ECAlgorithm.from_jwk(raw)
    except Exception as exc:  # PyJWT raises several types for bad key material
        if alg == "ES256":
            raise ValidationError(
                f"invalid key {kid}: x/y is not a point on P-256 (or is the point at infinity)",
                field="keys",
            ) from exc
        raise ValidationError(f"invalid key material: {exc}", field="keys") from exc
    return alg, key  # type: ignore[return-value]


@dataclass(frozen=True)
class VerifyKey:
    kid: str
    alg: str
    key: PublicKey
    jwk: dict[str, Any]


def parse_jwks(jwks: dict[str, Any]) -> list[VerifyKey]:
    """Validate a JWKS document; every key needs a `kid`."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValidationError('a JWKS must be {"keys": [...]}', field="keys")
    parsed: list[VerifyKey] = []
    for jwk in jwks["keys"]:
        alg, key = load_public_jwk(jwk)
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValidationError("every key needs a kid", field="kid")
        parsed.append(VerifyKey(kid=kid, alg=alg, key=key, jwk=dict(jwk)))
    return parsed


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_pem: str
    jwk: dict[str, Any]

    def private_key(self) -> PrivateKey:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        return key  # type: ignore[return-value]


def generate_signing_key(alg: str = "EdDSA") -> SigningKey:
    """A new event signing key: Ed25519 by default, P-256 for ES256."""
    if alg == "EdDSA":
        private: PrivateKey = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValidationError(f"alg must be one of {SUPPORTED_ALGS}", field="alg")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = public_jwk(private.public_key())
    return SigningKey(kid=jwk["kid"], alg=alg, private_pem=pem, jwk=jwk)
