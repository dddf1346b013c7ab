"""A pulled key set with a small-order Ed25519 key is refused whole, with the reason, and the
gate keeps the keys it had (real hub, real engine, real files)."""

from __future__ import annotations

import base64
import json

from harness import HubServer, engine_for, gate_key, issuer_with_event

from scanner_app.core.door import Door
from scanner_app.core.node import Node


def test_a_small_order_key_upstream_is_refused_and_the_gate_keeps_its_keys(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=2)
    gate = Node.open(tmp_path / "gate")
    identity = base64.urlsafe_b64encode(bytes([1]) + bytes(31)).rstrip(b"=").decode()
    evil = {"kty": "OKP", "crv": "Ed25519", "x": identity, "kid": "evil", "alg": "EdDSA"}
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, gate_key(hub, event_id, "a"), event_id)
        assert engine.run_once().ok
        held = gate.events.jwks(event_id)
        with hub.db.write() as conn:  # a compromised or buggy upstream serves it
            conn.execute(
                "INSERT INTO event_keys (event_id, kid, alg, public_jwk, created_at)"
                " VALUES (?, 'evil', 'EdDSA', ?, '2026-01-01T00:00:00.000Z')",
                (event_id, json.dumps(evil)),
            )
        report = engine.run_once()
        engine.stop()
    assert any(
        "key set was refused (invalid key evil: a small-order Ed25519 point" in w
        for w in report.warnings
    ), report.warnings
    assert gate.events.jwks(event_id) == held
    assert gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id])).success
    gate.close()
