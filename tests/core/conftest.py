"""Core fixtures: issuing tickets and signing custom claims with the event's real key."""

from __future__ import annotations

import pytest

from scanner_app.core.node import Node
from scanner_app.core.tokens import TicketClaims, sign_ticket


@pytest.fixture
def event_id(issued_event):
    return issued_event["id"]


@pytest.fixture
def issue(node, event_id):
    """issue(tier="GA", name=None) -> the ticket dict (with qrPayload) of one new ticket."""

    def _issue(tier: str = "GA", name: str | None = "Ada Lovelace", event: str | None = None):
        return node.tickets.issue(event or event_id, tier, name)[0]

    return _issue


@pytest.fixture
def sign(node, event_id, clock):
    """sign(jti=..., **claims) -> a token signed with the event's real private key."""
    counter = iter(range(1, 10**6))

    def _sign(event: str | None = None, **fields):
        evt = event or event_id
        fields.setdefault("jti", f"tkt_custom{next(counter):010d}")
        fields.setdefault("tier", "GA")
        fields.setdefault("iat", int(clock().timestamp()))
        return sign_ticket(TicketClaims(evt=evt, **fields), node.events.signing_key(evt))

    return _sign


@pytest.fixture
def other_node(tmp_path, clock):
    """A second node on its own SQLite file (another issuer, another gate)."""
    with Node.open(tmp_path / "other", clock=clock) as opened:
        yield opened
