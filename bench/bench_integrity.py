"""The start check of a node's database (issue 16 item 2; budget < 0.5 s at 100,000 tickets).

A node with N tickets (manifest rows, indexed for search) and M check-ins is built, then,
each in a fresh connection (as a starting node has), best of 3:

- door check: `integrity.door_check`, what every start runs (every b-tree walked, each
  index compared with its table);
- baseline: `PRAGMA quick_check` of the same file, in the same run;
- for reference: `PRAGMA integrity_check` (`tickitz-scanner doctor`) and the whole of
  `Node.open` (connect, check, migrations, device id).

Exit status 1 when the door check misses its budget.

    .venv/bin/python bench/bench_integrity.py [--tickets 100000] [--checkins 100000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner_app.core.integrity import door_check  # noqa: E402
from scanner_app.core.node import DB_FILENAME, Node  # noqa: E402

BUDGET_S = 0.5
ROUNDS = 3
NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "José Núñez", "Zoë Müller")


def build(home: Path, tickets: int, checkins: int) -> None:
    with Node.open(home) as node:
        event_id = node.events.create({"title": "Big", "tiers": [{"name": "GA"}]})["id"]
        node.tickets.import_manifest(
            event_id,
            (
                {
                    "id": f"tkt_{i:012d}",
                    "tierName": "GA",
                    "status": "valid",
                    "attendeeName": f"{NAMES[i % len(NAMES)]} {i}",
                    "bookingId": f"bkg_{i // 3:08d}",
                    "updatedAt": "2026-07-15T18:00:00.000Z",
                }  # fmt: skip
                for i in range(tickets)
            ),
        )
        with node.db.write() as conn:
            conn.executemany(
                "INSERT INTO checkins (id, event_id, ticket_id, device_id, gate, scanned_at,"
                " observed_at, direction, success, reason, received_at, pushed_at)"
                " VALUES (?, ?, ?, ?, 'g1', ?, ?, 'in', 1, NULL, ?, ?)",
                (
                    (
                        str(uuid.uuid4()),
                        event_id,
                        f"tkt_{i % max(tickets, 1):012d}",
                        node.device_id,
                        f"2026-07-15T19:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}Z",
                        "2026-07-15T19:00:00.000Z",
                        "2026-07-15T19:00:00.000Z",
                        None if i % 10 == 0 else "2026-07-15T19:00:01.000Z",
                    )  # fmt: skip
                    for i in range(checkins)
                ),
            )


def best_of(func) -> tuple[float, object]:
    best, answer = float("inf"), None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        answer = func()
        best = min(best, time.perf_counter() - start)
    return best, answer


def fresh(path: Path, sql: str):
    def run():
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--checkins", type=int, default=100_000)
    args = parser.parse_args()
    print(f"bench_integrity: SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-integrity-") as tmp:
        home = Path(tmp) / "node"
        started = time.perf_counter()
        build(home, args.tickets, args.checkins)
        path = home / DB_FILENAME
        size = path.stat().st_size / 2**20
        print(f"  node: {args.tickets:,} tickets, {args.checkins:,} check-ins, {size:.0f} MiB"
              f" (built in {time.perf_counter() - started:.1f} s)")  # fmt: skip

        def door():
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                return door_check(conn)
            finally:
                conn.close()

        def open_node():
            with Node.open(home) as node:
                return node.device_id

        door_s, problems = best_of(door)
        quick_s, quick = best_of(fresh(path, "PRAGMA quick_check"))
        full_s, full = best_of(fresh(path, "PRAGMA integrity_check"))
        open_s, _ = best_of(open_node)
    ok = door_s < BUDGET_S and problems == []
    print(f"  door check (every start)  {door_s * 1000:7.0f} ms  {problems or 'sound'}"
          f"   budget < {BUDGET_S * 1000:.0f} ms: {'ok' if ok else 'MISSED'}")  # fmt: skip
    print(f"  baseline quick_check      {quick_s * 1000:7.0f} ms  {quick[0][0]}"
          f"   ratio door/quick {door_s / quick_s:4.2f}x")  # fmt: skip
    print(f"  integrity_check (doctor)  {full_s * 1000:7.0f} ms  {full[0][0]}")
    print(f"  Node.open (whole start)   {open_s * 1000:7.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
