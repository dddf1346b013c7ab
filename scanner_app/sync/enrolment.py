"""A gate joins a hub with a v2 setup code: pin the hub's certificate, redeem the code."""

from __future__ import annotations

import time
from dataclasses import dataclass

from scanner_app.core.node import Node
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.config import SetupPayload
from scanner_app.sync.errors import ApiError, SyncError, Untrusted
from scanner_app.sync.tls import PinMismatch, fetch_pinned


class EnrolmentFailed(Exception):
    """One line saying why the gate could not join (nothing was saved)."""


@dataclass(frozen=True)
class Enrolled:
    key: str
    certificate: str | None  # the pinned PEM, None for a plain-HTTP loopback hub
    event_id: str | None
    gate: str | None


def enrol(
    node: Node, offer: SetupPayload, *, insecure_http: bool = False, timeout: float = 5.0
) -> Enrolled:
    """Exchange `offer` for this device's key over a link to exactly the hub it names."""
    if offer.exp is not None and offer.exp <= time.time():
        raise EnrolmentFailed(
            "This setup code has expired (they last 15 minutes); make a new one on the hub."
        )
    certificate = None
    try:
        if offer.fp is not None:
            certificate = fetch_pinned(offer.url, offer.fp)
        with TickitzClient(
            offer.url,
            None,  # type: ignore[arg-type] - no key yet: the code is the credential
            timeout=timeout,
            retries=0,
            clock=node.clock,
            certificate=certificate,
            insecure_http=insecure_http,
        ) as client:
            answer = client.enrol(offer.enrol)
    except PinMismatch as exc:
        raise EnrolmentFailed(str(exc)) from exc
    except Untrusted as exc:
        raise EnrolmentFailed(str(exc)) from exc
    except ApiError as exc:
        raise EnrolmentFailed(f"The hub refused the setup code: {exc.message}") from exc
    except (SyncError, OSError) as exc:
        raise EnrolmentFailed(f"Cannot reach the hub at {offer.url}: {exc}") from exc
    key = answer.get("key") if isinstance(answer, dict) else None
    if not isinstance(key, str) or not key.strip():
        raise EnrolmentFailed("The hub's enrolment answer carries no key.")
    return Enrolled(key.strip(), certificate, answer.get("eventId"), answer.get("gate"))
