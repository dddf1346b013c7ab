"""One admission per ticket under concurrency, and no printed verdict lost to a SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from scan_helpers import check_shape

from scanner_app.core.door import Door
from scanner_app.core.node import Node

THREADS = 20


def scan_together(scanners, token, event_id):
    """Every thread waits at the barrier, then all scan the same token at once."""
    barrier = threading.Barrier(len(scanners))
    results, errors = [None] * len(scanners), []

    def work(index, scanner):
        try:
            barrier.wait(timeout=10)
            results[index] = scanner.scan(
                token, Door.of(event_ids=[event_id], gate=f"lane-{index}")
            )
        except BaseException as exc:  # surfaced below, with the thread's index
            errors.append((index, exc))

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(scanners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results


def assert_one_admission(node, results, ticket_id):
    admitted = [r for r in results if r.success]
    assert len(admitted) == 1, [r.reason for r in results]
    winner = admitted[0]
    for result in results:
        check_shape(result)
        if result is not winner:
            assert result.reason == "already_checked_in"
            assert result.first_checked_in_at == winner.checked_in_at
            assert result.first_scanned_by == winner.scanned_by
    rows = node.db.query("SELECT success FROM checkins WHERE ticket_id = ?", (ticket_id,))
    assert len(rows) == len(results)
    assert sum(r["success"] for r in rows) == 1


def test_twenty_threads_scanning_one_ticket_admit_exactly_once(node, issue, event_id):
    for _ in range(5):  # several rounds: a race that only sometimes loses still shows
        ticket = issue()
        results = scan_together([node.checkin] * THREADS, ticket["qrPayload"], event_id)
        assert_one_admission(node, results, ticket["id"])


def test_twenty_threads_over_four_connections_admit_exactly_once(node, issue, event_id, clock):
    # Four Node objects on one file behave like four processes: separate SQLite connections.
    nodes = [node] + [Node.open(node.data_dir, clock=clock) for _ in range(3)]
    try:
        for _ in range(3):
            ticket = issue()
            scanners = [nodes[i % len(nodes)].checkin for i in range(THREADS)]
            results = scan_together(scanners, ticket["qrPayload"], event_id)
            assert_one_admission(node, results, ticket["id"])
    finally:
        for extra in nodes[1:]:
            extra.close()


CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 20


def test_sigkill_never_loses_a_printed_admission(tmp_path):
    data_dir = tmp_path / "gate"
    with Node.open(data_dir) as node:
        event = node.events.create({"title": "Crash", "tiers": [{"name": "GA"}]})
        node.events.publish(event["id"])
        payloads = [
            t["qrPayload"]
            for _ in range(4)
            for t in node.tickets.issue(event["id"], "GA", "Crash Test", quantity=1000)
        ]
    payload_file = tmp_path / "payloads.txt"
    payload_file.write_text("\n".join(payloads), encoding="utf-8")

    rng = random.Random(20261201)  # a fixed kill schedule: a failure can be replayed
    printed: list[dict] = []
    killed_while_scanning = 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for run in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir), event["id"], str(payload_file)]
            + [str(rng.randrange(len(payloads)))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        if run % 5 == 4:
            # Now and then, a kill at any moment, startup included.
            time.sleep(rng.uniform(0, 0.4))
            head = b""
        else:
            assert child.stdout.readline() == b"ready\n", child.stderr.read()
            # One verdict first, so a busy machine still kills mid-scan, not mid-start.
            head = child.stdout.readline()
            time.sleep(rng.uniform(0.01, 0.2))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL, err.decode()
        lines = (head + out).decode().split("\n")
        # The last line may be cut mid-write; only whole lines are verdicts that were shown.
        complete = [line for line in lines[:-1] if line and line != "ready"]
        if complete:
            killed_while_scanning += 1
        printed.extend(json.loads(line) for line in complete)

    admissions = [p for p in printed if p["success"]]
    assert killed_while_scanning >= KILLS // 2, "the child was rarely killed mid-scan"
    assert len(admissions) > 100, "too few admissions to prove anything"
    with Node.open(data_dir) as node:
        assert node.db.query_one("PRAGMA integrity_check")[0] == "ok"
        rows = {
            r["id"]: r
            for r in node.db.query("SELECT id, success, ticket_id FROM checkins WHERE success = 1")
        }
        lost = [a for a in admissions if a["id"] not in rows]
        assert lost == [], f"{len(lost)} printed admissions are not in the database"
        for admission in admissions:
            assert rows[admission["id"]]["ticket_id"] == admission["ticketId"]
        twice = node.db.query(
            "SELECT ticket_id FROM checkins WHERE success = 1"
            " GROUP BY ticket_id HAVING COUNT(*) > 1"
        )
        assert twice == [], "a ticket was admitted twice across restarts"
        every_printed = {p["id"] for p in printed}
        stored = {r["id"] for r in node.db.query("SELECT id FROM checkins")}
        assert every_printed <= stored, "a printed rejection is missing from the audit trail"
