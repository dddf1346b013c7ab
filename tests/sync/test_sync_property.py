"""Property: whatever the gates scan offline and in whatever order they sync, the hub and
every gate end with the same admissions and the same single canonical one per ticket."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import HubServer, engine_for, gate_key, rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner_app.core.door import Door
from scanner_app.core.node import Node

GATES, TICKETS = 3, 3
# An op: scan ticket t at gate g after the shared door clock moved `step` ms (0 = a tie),
# or let gate g sync.
op = st.one_of(
    st.tuples(
        st.just("scan"), st.integers(0, GATES - 1), st.integers(0, TICKETS - 1), st.integers(0, 2)
    ),
    st.tuples(st.just("sync"), st.integers(0, GATES - 1), st.just(0), st.just(0)),
)


@pytest.fixture(scope="module")
def hub():
    with tempfile.TemporaryDirectory() as tmp:
        node = Node.open(Path(tmp) / "hub")
        with HubServer(node) as server:
            yield node, server
        node.close()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=10))
def test_any_schedule_converges_on_one_canonical_admission(hub, ops):
    hub_node, server = hub
    event_id = hub_node.events.create({"title": "P", "tiers": [{"name": "GA"}]})["id"]
    hub_node.events.publish(event_id)
    tickets = hub_node.tickets.issue(event_id, "GA", None, TICKETS)
    # Door times after the tickets were made: the hub refuses earlier ones as implausible.
    now = [datetime.now(UTC)]
    with tempfile.TemporaryDirectory() as tmp:
        gates = [Node.open(Path(tmp) / f"g{i}", clock=lambda: now[0]) for i in range(GATES)]
        engines = [
            engine_for(
                g,
                server.url,
                gate_key(hub_node, event_id, f"d{i}"),
                event_id,
                gate=f"d{i}",
            )
            for i, g in enumerate(gates)
        ]
        for engine in engines:
            assert engine.run_once().ok
        for kind, gate, ticket, step in ops:
            if kind == "scan":
                now[0] += timedelta(milliseconds=step)
                gates[gate].checkin.scan(tickets[ticket]["qrPayload"], Door.of([event_id]))
            else:
                assert engines[gate].run_once().ok
        for _ in range(2):  # everyone uploads, then everyone hears everything
            for engine in engines:
                assert engine.run_once().ok
        views = [_admissions(node, event_id) for node in (hub_node, *gates)]
        for engine, node in zip(engines, gates, strict=True):
            engine.stop()
            node.close()
    assert all(view == views[0] for view in views)
    for ticket_rows in views[0].values():
        canonical = [r for r in ticket_rows if not r[2]]
        assert len(canonical) == 1 and canonical[0] == min(ticket_rows)


def _admissions(node: Node, event_id: str) -> dict[str, list[tuple[str, str, int]]]:
    """ticket -> sorted [(door time, check-in id, conflict)] of its admissions."""
    found: dict[str, list[tuple[str, str, int]]] = {}
    for row in rows(node, event_id):
        if row["success"]:
            found.setdefault(row["ticket_id"], []).append(
                (row["scanned_at"], row["id"], row["conflict"])
            )
    return {ticket: sorted(items) for ticket, items in found.items()}
