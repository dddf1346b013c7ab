"""Pinned TLS to a venue hub (DESIGN.md §10): trust one certificate, named by its fingerprint.

`fetch_pinned` reads the certificate the hub presents and keeps it only if its SHA-256 (of
the DER) is the `fp` of the setup code; `pinned_context` then trusts exactly that
certificate (no system CAs, no host name: the pin replaces both), so a different one fails
the handshake and nothing is sent. `PinMismatch` names both fingerprints.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
from urllib.parse import urlsplit


class PinMismatch(Exception):
    def __init__(self, host: str, expected: str, presented: str) -> None:
        super().__init__(
            f"{host} presented a certificate with fingerprint {presented}, but this gate"
            f" expects {expected}: refusing to talk to it (someone may be intercepting the"
            " link, or the hub's certificate was replaced - get a new setup code)."
        )
        self.expected = expected
        self.presented = presented


def normalise_fp(fp: str) -> str:
    text = fp.strip().lower().replace(":", "")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256)")
    return text


def fingerprint_of(cert_pem: str) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem)).hexdigest()


def presented_certificate(url: str, timeout: float = 5.0) -> bytes:
    """The DER certificate the server at `url` presents (nothing is sent but the handshake)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read only: trust is decided by the fingerprint
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{host} presented no certificate")
    return der


def speaks_tls(url: str, timeout: float = 2.0) -> bool:
    """Whether the server at `url` completes a TLS handshake on the port the address names:
    an HTTPS hub behind an http:// address answers plain HTTP by hanging up."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # asks only whether it is TLS: nothing is sent or trusted
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return False


def fetch_pinned(url: str, fp: str, timeout: float = 5.0) -> str:
    """The hub's certificate as PEM, if its fingerprint is `fp`; else PinMismatch."""
    expected = normalise_fp(fp)
    der = presented_certificate(url, timeout)
    presented = hashlib.sha256(der).hexdigest()
    if not hmac.compare_digest(presented, expected):
        raise PinMismatch(urlsplit(url).hostname or url, expected, presented)
    return ssl.DER_cert_to_PEM_cert(der)


def pinned_context(cert_pem: str) -> ssl.SSLContext:
    """Trust exactly this certificate (TLS 1.2+)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # the pin names the certificate; the name adds nothing
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=cert_pem)
    return context


def explain_failure(url: str, expected_fp: str) -> str | None:
    """After a failed handshake to a pinned hub: a message naming both fingerprints, or
    None when the hub presents the pinned certificate after all (another TLS problem)."""
    try:
        presented = hashlib.sha256(presented_certificate(url)).hexdigest()
    except OSError:
        return None
    if presented == expected_fp:
        return None
    return str(PinMismatch(urlsplit(url).hostname or url, expected_fp, presented))
