"""Hand-built JWS tokens for attack tests: any header, any payload, any signer.

PyJWT refuses to produce most of these (alg none with a kid, HS256 keyed with a PEM, a P-384
signature under ES256), so they are assembled from bytes here, the way an attacker would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def encode_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def forge(header: Any, payload: Any, signer: Signer | None = None) -> str:
    """`b64(header).b64(payload).b64(signer(signing input))`; no signer: empty signature."""
    signing_input = f"{encode_json(header)}.{encode_json(payload)}"
    signature = signer(signing_input.encode("ascii")) if signer else b""
    return f"{signing_input}.{b64url(signature)}"


def eddsa_signer(private: ed25519.Ed25519PrivateKey) -> Signer:
    return private.sign


def ecdsa_signer(
    private: ec.EllipticCurvePrivateKey, hash_alg: hashes.HashAlgorithm | None = None
) -> Signer:
    """JWS-style ECDSA: raw r||s, each as long as the curve's order."""
    size = (private.curve.key_size + 7) // 8

    def sign(data: bytes) -> bytes:
        der = private.sign(data, ec.ECDSA(hash_alg or hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def hmac_signer(secret: bytes) -> Signer:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def ticket_payload(event_id: str, jti: str = "tkt_forged0000000001", **extra: Any) -> dict:
    claims = {"jti": jti, "evt": event_id, "tier": "GA", "name": "Mallory", "iat": 1_780_000_000}
    claims.update(extra)
    return claims
