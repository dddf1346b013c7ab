"""A demo event with tickets that exercise every verdict (the terminal and desktop demos)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from scanner_app.core.keys import generate_signing_key
from scanner_app.core.node import Node
from scanner_app.core.timeutil import iso_ms
from scanner_app.core.tokens import TicketClaims, sign_ticket

DEMO_NAMES = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Linus Torvalds",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Radia Perlman",
    "Barbara Liskov",
    "Ken Thompson",
    "Frances Allen",
    "Edsger Dijkstra",
    "Hedy Lamarr",
    "Tim Berners-Lee",
    "Sophie Wilson",
    "José Martínez",
    "Zoë Nguyen",
    "Søren Kierkegaard",
    "Amélie Dupont",
    "Chidi Okafor",
)


@dataclass
class DemoSample:
    label: str  # what the sample shows, e.g. "valid", "duplicate", "forged"
    payload: str
    expected: str  # "admit" or a reason of the vocabulary


@dataclass
class DemoScenario:
    event_id: str
    other_event_id: str
    ticket_payloads: list[str] = field(default_factory=list)
    samples: list[DemoSample] = field(default_factory=list)


def build_demo(node: Node, tickets: int = 200) -> DemoScenario:
    """Create the demo events and tickets on `node`; returns payloads for every verdict."""
    starts = node.clock() - timedelta(hours=1)
    event = node.events.create(
        {
            "title": "Neon Nights (demo)",
            "description": "A demo event: every ticket here is generated on this machine.",
            "startsAt": iso_ms(starts),
            "endsAt": iso_ms(starts + timedelta(hours=6)),
            "venue": {"name": "Riverside Amphitheatre", "address": "123 River Rd"},
            "tiers": [
                {"name": "General Admission", "price": 4999, "quantity": 500},
                {"name": "VIP", "price": 14999, "quantity": 50},
            ],
        }
    )
    event_id = event["id"]
    node.events.publish(event_id)
    other = node.events.create(
        {"title": "Jazz Brunch (another event)", "tiers": [{"name": "Brunch", "quantity": 10}]}
    )
    node.events.publish(other["id"])

    payloads: list[str] = []
    for index in range(tickets):
        tier = "VIP" if index % 10 == 0 else "General Admission"
        name = f"{DEMO_NAMES[index % len(DEMO_NAMES)]}"
        payloads.extend(t["qrPayload"] for t in node.tickets.issue(event_id, tier, name))
    cancelled = node.tickets.issue(event_id, "General Admission", "Cancelled Carl")[0]
    node.tickets.cancel(cancelled["id"])
    wrong = node.tickets.issue(other["id"], "Brunch", "Wanda Wrongevent")[0]

    key = node.events.signing_key(event_id)
    now = int(node.clock().timestamp())
    expired = sign_ticket(
        TicketClaims(
            jti="tkt_demoexpired0001",
            evt=event_id,
            tier="General Admission",
            iat=now - 90_000,
            exp=now - 3_600,
            name="Eddie Expired",
        ),
        key,
    )
    # Forged: a real-looking ticket signed by a key the venue never issued, under the real kid.
    forged_key = replace(generate_signing_key(key.alg), kid=key.kid)
    forged = sign_ticket(
        TicketClaims(
            jti="tkt_demoforged00001", evt=event_id, tier="VIP", iat=now, name="Mallory Forger"
        ),
        forged_key,
    )
    scenario = DemoScenario(event_id=event_id, other_event_id=other["id"], ticket_payloads=payloads)
    scenario.samples = [
        DemoSample("valid ticket", payloads[1], "admit"),
        DemoSample("valid VIP ticket", payloads[0], "admit"),
        DemoSample("the same ticket again", payloads[1], "already_checked_in"),
        DemoSample("forged ticket", forged, "bad_signature"),
        DemoSample("expired ticket", expired, "expired"),
        DemoSample("cancelled ticket", cancelled["qrPayload"], "revoked"),
        DemoSample("ticket for another event", wrong["qrPayload"], "wrong_event"),
        DemoSample("not a ticket", "https://example.com/not-a-ticket", "malformed"),
        DemoSample("valid ticket", payloads[2], "admit"),
    ]
    return scenario
