"""Every reason of DESIGN.md §4's vocabulary, produced by a real scan on a real store."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt_forge import eddsa_signer, forge, ticket_payload
from scan_helpers import check_shape, publish_event, recorded

from scanner_app.core.door import Door
from scanner_app.core.keys import public_jwk
from scanner_app.core.models import REASONS


@pytest.fixture
def ctx(node, other_node, event_id, issue, sign, clock):
    return SimpleNamespace(
        node=node, other=other_node, event_id=event_id, issue=issue, sign=sign, clock=clock
    )


def flip_middle_char(segment: str) -> str:
    middle = len(segment) // 2
    swapped = "A" if segment[middle] != "A" else "B"
    return segment[:middle] + swapped + segment[middle + 1 :]


# Each builder sets the scene and returns (payload, scan keyword arguments).
def _malformed(c):
    return "https://example.com/not-a-ticket", {}


def _bad_signature(c):
    header, payload, signature = c.issue()["qrPayload"].split(".")
    return f"{header}.{payload}.{flip_middle_char(signature)}", {}


def _unknown_key(c):
    stranger = ed25519.Ed25519PrivateKey.generate()
    kid = public_jwk(stranger.public_key())["kid"]
    header = {"alg": "EdDSA", "kid": kid, "typ": "JWT"}
    return forge(header, ticket_payload(c.event_id), eddsa_signer(stranger)), {}


def _unknown_event(c):
    foreign = publish_event(c.other, "Somebody else's gig")
    return c.other.tickets.issue(foreign["id"], "GA", "Eve")[0]["qrPayload"], {}


def _wrong_event(c):
    second = publish_event(c.node, "Matinee")
    token = c.node.tickets.issue(second["id"], "GA", "Bob")[0]["qrPayload"]
    return token, {"event_ids": [c.event_id]}


def _not_yet_valid(c):
    start = int(c.clock().timestamp()) + 3600
    return c.sign(nbf=start), {}


def _expired(c):
    return c.sign(exp=int(c.clock().timestamp()) - 3600), {}


def _revoked(c):
    ticket = c.issue()
    c.node.tickets.cancel(ticket["id"])
    return ticket["qrPayload"], {}


def _event_cancelled(c):
    token = c.issue()["qrPayload"]
    c.node.events.cancel(c.event_id)
    return token, {}


def _tier_not_allowed(c):
    return c.issue("GA")["qrPayload"], {"allowed_tiers": ["VIP"]}


def _already_checked_in(c):
    token = c.issue()["qrPayload"]
    first = c.node.checkin.scan(token, Door.of(event_ids=[c.event_id], gate="north"))
    assert first.success
    c.clock.advance(90)
    return token, {}


def _not_checked_in(c):
    event = publish_event(c.node, "Festival", reentry=True)
    token = c.node.tickets.issue(event["id"], "GA", "Zoe")[0]["qrPayload"]
    return token, {"event_ids": [event["id"]], "direction": "out"}


SCENES = {
    "malformed": _malformed,
    "bad_signature": _bad_signature,
    "unknown_key": _unknown_key,
    "unknown_event": _unknown_event,
    "wrong_event": _wrong_event,
    "not_yet_valid": _not_yet_valid,
    "expired": _expired,
    "revoked": _revoked,
    "event_cancelled": _event_cancelled,
    "tier_not_allowed": _tier_not_allowed,
    "already_checked_in": _already_checked_in,
    "not_checked_in": _not_checked_in,
}


def test_every_reason_of_the_vocabulary_has_a_scene():
    assert set(SCENES) == set(REASONS)


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_comes_from_a_real_scan_and_is_recorded(ctx, reason):
    payload, kwargs = SCENES[reason](ctx)
    kwargs.setdefault("event_ids", [ctx.event_id])
    before = ctx.node.db.query_one("SELECT COUNT(*) FROM checkins")[0]

    result = ctx.node.checkin.scan(payload, Door.of(gate="south", **kwargs))

    wire = check_shape(result, now=ctx.clock())
    assert wire["success"] is False
    assert wire["reason"] == reason
    row = recorded(ctx.node, result)
    assert row["kind"] == "scan" and row["device_id"] == ctx.node.device_id
    after = ctx.node.db.query_one("SELECT COUNT(*) FROM checkins")[0]
    assert after == before + 1, "the rejected scan itself must be the one new row"


def test_rejections_that_verified_say_whose_ticket_it_was(ctx):
    ticket = ctx.issue("GA", "Grace Hopper")
    ctx.node.tickets.cancel(ticket["id"])
    result = ctx.node.checkin.scan(ticket["qrPayload"], Door.of([ctx.event_id]))
    assert (result.reason, result.ticket_id, result.attendee_name, result.tier_name) == (
        "revoked",
        ticket["id"],
        "Grace Hopper",
        "GA",
    )
    forged = ctx.node.checkin.scan(_bad_signature(ctx)[0], Door.of([ctx.event_id]))
    # An unverified token names nobody: its claims are attacker-controlled.
    assert forged.reason == "bad_signature"
    assert (forged.ticket_id, forged.attendee_name, forged.tier_name) == (None, None, None)
    assert forged.event_id == ctx.event_id


def test_admission_shape_and_duplicate_points_at_the_first_admission(ctx):
    ticket = ctx.issue("VIP", "Ada Lovelace")
    first_time = ctx.clock()
    first = ctx.node.checkin.scan(
        ticket["qrPayload"], Door.of(event_ids=[ctx.event_id], gate="north")
    )
    wire = check_shape(first, now=first_time)
    assert wire == {
        **wire,
        "success": True,
        "reason": None,
        "attendeeName": "Ada Lovelace",
        "tierName": "VIP",
        "ticketId": ticket["id"],
        "eventId": ctx.event_id,
        "direction": "in",
        "offline": True,
        "scannedBy": "north",
    }
    assert first.checked_in_at == "2026-07-15T19:00:00.000Z"

    ctx.clock.advance(61.25)
    again = ctx.node.checkin.scan(
        ticket["qrPayload"], Door.of(event_ids=[ctx.event_id], gate="south")
    )
    wire = check_shape(again, now=ctx.clock())
    assert wire["checkedInAt"] == "2026-07-15T19:01:01.250Z"
    assert (wire["success"], wire["alreadyCheckedIn"], wire["reason"]) == (
        False,
        True,
        "already_checked_in",
    )
    assert wire["firstCheckedInAt"] == first.checked_in_at
    assert wire["firstScannedBy"] == "north"
    assert recorded(ctx.node, again)["first_checked_in_at"] == first.checked_in_at


def test_reentry_event_alternates_entry_and_exit(ctx):
    event = publish_event(ctx.node, "Festival", reentry=True)
    token = ctx.node.tickets.issue(event["id"], "GA", "Zoe")[0]["qrPayload"]

    def scan(direction):
        ctx.clock.advance(10)
        result = ctx.node.checkin.scan(token, Door.of(event_ids=[event["id"]], direction=direction))
        check_shape(result, now=ctx.clock())
        recorded(ctx.node, result)
        return result

    assert scan("out").reason == "not_checked_in"
    entry = scan("in")
    assert entry.success and entry.direction == "in"
    inside_again = scan("in")
    assert inside_again.reason == "already_checked_in"
    assert inside_again.first_checked_in_at == entry.checked_in_at
    leave = scan("out")
    assert leave.success and leave.direction == "out" and leave.reason is None
    assert scan("out").reason == "not_checked_in"
    back = scan("in")
    assert back.success
    # While inside, a duplicate points at the current entry, not the first of the day.
    assert scan("in").first_checked_in_at == back.checked_in_at
    assert ctx.node.reports.stats(event["id"])["inside"] == 1


def test_event_without_reentry_admits_once_even_after_an_exit(ctx):
    token = ctx.issue()["qrPayload"]
    first = ctx.node.checkin.scan(token, Door.of([ctx.event_id]))
    assert first.success
    leave = ctx.node.checkin.scan(token, Door.of(event_ids=[ctx.event_id], direction="out"))
    assert leave.success and leave.direction == "out"
    again = ctx.node.checkin.scan(token, Door.of([ctx.event_id]))
    assert again.reason == "already_checked_in"
    assert again.first_checked_in_at == first.checked_in_at


def test_gate_scanning_for_any_event_with_keys_here(ctx):
    token = ctx.issue()["qrPayload"]
    result = ctx.node.checkin.scan(token, Door.of(None))
    assert result.success and result.event_id == ctx.event_id
    junk = ctx.node.checkin.scan("\x00\x01 not a token", Door.of(None))
    # Filed under the node's one event: a row with no event could never be uploaded.
    assert junk.reason == "malformed" and junk.event_id == ctx.event_id
    recorded(ctx.node, junk)
    other = ctx.node.events.create({"title": "B", "tiers": [{"name": "GA", "quantity": 5}]})
    ctx.node.events.publish(other["id"])
    unfiled = ctx.node.checkin.scan("still not a token", Door.of(None))
    assert unfiled.event_id is None  # two events here: which one is not for us to guess


def test_every_scan_is_in_the_audit_trail(ctx):
    results = []
    # Cancelling the event comes last: no tickets can be issued after it.
    for reason in sorted(REASONS, key=lambda r: r == "event_cancelled"):
        payload, kwargs = SCENES[reason](ctx)
        kwargs.setdefault("event_ids", [ctx.event_id])
        results.append(ctx.node.checkin.scan(payload, Door.of(**kwargs)))
    # The already_checked_in scene admits once on the way; the rest are single rejections.
    rows = ctx.node.db.query("SELECT id, success, reason FROM checkins ORDER BY seq")
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == len(REASONS) + 1
    for result in results:
        assert by_id[result.checkin_id]["reason"] == result.reason
    assert {r["reason"] for r in rows if not r["success"]} == set(REASONS)


def test_token_with_surrounding_whitespace_is_the_same_ticket(ctx):
    # USB wedge scanners append CR/LF; the payload is trimmed, not rejected.
    ticket = ctx.issue()
    result = ctx.node.checkin.scan(f"  {ticket['qrPayload']}\r\n", Door.of([ctx.event_id]))
    assert result.success and result.ticket_id == ticket["id"]


def test_signed_claims_reach_the_result_when_the_manifest_lacks_the_ticket(ctx):
    token = ctx.sign(jti="tkt_notinmanifest01", tier="VIP", name="Off Manifest")
    result = ctx.node.checkin.scan(token, Door.of([ctx.event_id]))
    assert result.success
    assert (result.ticket_id, result.tier_name, result.attendee_name) == (
        "tkt_notinmanifest01",
        "VIP",
        "Off Manifest",
    )
