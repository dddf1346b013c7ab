"""`event retire-key EVT KID`: the remaining JWKS on stdout, a message on stderr, and a clear
refusal (non-zero exit, nothing changed) for the last signing key or an unknown kid."""

from __future__ import annotations

import json


def test_retire_key_prints_the_remaining_set_and_refuses_the_retired_ticket(cli, published):
    event_id = published["id"]
    (old_ticket,) = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA")
    (old_key,) = cli.json("event", "keys", event_id)["keys"]
    rotated = cli.json("event", "rotate-key", event_id)
    new_key = rotated["keys"][1]

    retired = cli.run("event", "retire-key", event_id, old_key["kid"])

    assert json.loads(retired.stdout) == {"keys": [new_key]}
    assert old_key["kid"] in retired.stderr and "1 key active" in retired.stderr
    assert cli.json("event", "keys", event_id) == {"keys": [new_key]}
    (scan,) = cli.lines("scan", "--event", event_id, old_ticket["qrPayload"])
    assert (scan["success"], scan["reason"]) == (False, "unknown_key")
    (fresh,) = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA")
    (admitted,) = cli.lines("scan", "--event", event_id, fresh["qrPayload"])
    assert admitted["success"]
    # Again: the same answer, exit 0.
    assert cli.json("event", "retire-key", event_id, old_key["kid"]) == {"keys": [new_key]}


def test_retire_key_refuses_bad_input_and_changes_nothing(cli, published, snapshot):
    event_id = published["id"]
    (only,) = cli.json("event", "keys", event_id)["keys"]
    before = snapshot(cli.home)

    last = cli.fail("event", "retire-key", event_id, only["kid"])
    assert "last signing key" in last.stderr and "rotate-key" in last.stderr
    unknown = cli.fail("event", "retire-key", event_id, "kid_nope")
    assert "no key with kid 'kid_nope'" in unknown.stderr
    assert "No event" in cli.fail("event", "retire-key", "evt_nope", only["kid"]).stderr
    for refused in (last, unknown):
        assert refused.stdout == ""
    assert cli.run("event", "retire-key", event_id, ok=False).exit_code == 2  # KID missing
    assert snapshot(cli.home) == before
