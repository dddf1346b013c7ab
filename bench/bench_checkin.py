"""Check-in budgets of DESIGN.md §7, each beside bare `jwt.decode` measured in the same run.

- verify only: tokens/s for ES256 and EdDSA on one core, one thread, distinct tokens
  (budget >= 5,000/s);
- scan -> committed verdict (verify + rules + durable commit to a real SQLite file with WAL and
  synchronous=FULL): p50 and p99 over 5,000 scans of distinct tickets (budget p99 <= 15 ms).

Exit status 1 when a budget is missed.

    .venv/bin/python bench/bench_checkin.py [--tokens 5000] [--scans 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner_app.core.door import Door
from scanner_app.core.node import Node  # noqa: E402

VERIFY_BUDGET = 5_000  # tokens/s, one core
SCAN_P99_BUDGET_MS = 15.0
ALGS = ("ES256", "EdDSA")
ROUNDS = 5


def make_event(node: Node, alg: str, count: int) -> tuple[str, list[str], object]:
    event = node.events.create({"title": f"Bench {alg}", "tiers": [{"name": "GA"}]}, alg=alg)
    node.events.publish(event["id"])
    tokens: list[str] = []
    while len(tokens) < count:
        batch = min(1000, count - len(tokens))
        tokens += [
            t["qrPayload"]
            for t in node.tickets.issue(event["id"], "GA", "Bench Attendee", quantity=batch)
        ]
    (key,) = node.events.verify_keys(event["id"]).values()
    return event["id"], tokens, key.key


def rates(funcs: dict[str, object], tokens: list[str]) -> dict[str, tuple[float, float]]:
    """name -> (tokens per CPU-second, tokens per wall-second), best of ROUNDS passes.

    The functions take turns pass by pass, so a burst of load from other processes hits
    both alike; CPU time (this thread's) is what "on one core" means and is what other
    processes on a busy 2-core machine disturb least.
    """
    best = {name: (float("inf"), float("inf")) for name in funcs}
    for _ in range(ROUNDS):
        for name, func in funcs.items():
            cpu, wall = time.thread_time(), time.perf_counter()
            for token in tokens:
                func(token)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return {name: (len(tokens) / cpu, len(tokens) / wall) for name, (cpu, wall) in best.items()}


def latencies_ms(func, tokens: list[str]) -> list[float]:
    times = []
    for token in tokens:
        start = time.perf_counter()
        func(token)
        times.append((time.perf_counter() - start) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=5000, help="distinct tokens per algorithm")
    parser.add_argument("--scans", type=int, default=5000, help="scans per algorithm")
    args = parser.parse_args()

    print(f"bench_checkin: Python {sys.version.split()[0]}, PyJWT {jwt.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    missed = []
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as tmp:
        node = Node.open(Path(tmp) / "node")
        now = datetime.now(UTC)
        print(f"  database: {node.db.path} (WAL, synchronous=FULL)")
        print()
        print(f"verify only (one thread, distinct tokens, best of {ROUNDS} alternating passes;"
              " per CPU-second, wall-clock in brackets)")  # fmt: skip
        scan_sets = {}
        for alg in ALGS:
            event_id, tokens, key = make_event(node, alg, args.tokens + args.scans)
            verify_tokens, scan_tokens = tokens[: args.tokens], tokens[args.tokens :]
            scan_sets[alg] = (event_id, scan_tokens, key)
            verifier = node.checkin.verifier
            events = [event_id]

            def bare(token: str, key=key, alg=alg) -> object:
                return jwt.decode(token, key, algorithms=[alg])

            def ours(token: str, events=events, verifier=verifier) -> object:
                return verifier.verify(token, events, now)

            bare(verify_tokens[0]), ours(verify_tokens[0])  # warm caches (key set, imports)
            measured = rates({"bare": bare, "ours": ours}, verify_tokens)
            (our_rate, our_wall), (bare_rate, bare_wall) = measured["ours"], measured["bare"]
            ok = our_rate >= VERIFY_BUDGET
            missed += [] if ok else [f"verify {alg}"]
            print(
                f"  {alg:5}  TicketVerifier.verify {our_rate:7,.0f}/s ({our_wall:7,.0f})"
                f"   bare jwt.decode {bare_rate:7,.0f}/s ({bare_wall:7,.0f})"
                f"   ratio {our_rate / bare_rate:4.2f}x"
                f"   budget >= {VERIFY_BUDGET:,}/s {'OK' if ok else 'MISSED'}"
            )

        print()
        print(f"scan -> committed verdict ({args.scans:,} scans of distinct tickets, file DB)")
        for alg in ALGS:
            event_id, scan_tokens, key = scan_sets[alg]
            door = Door.of([event_id])  # built once, as a door's settings are
            bare_ms = latencies_ms(lambda t, k=key, a=alg: jwt.decode(t, k, algorithms=[a]),
                                   scan_tokens)  # fmt: skip
            results = []

            def scan(token: str, door=door, results=results) -> None:
                results.append(node.checkin.scan(token, door))

            scan_ms = latencies_ms(scan, scan_tokens)
            admitted = sum(r.success for r in results)
            assert admitted == len(scan_tokens), f"only {admitted} of {len(scan_tokens)} admitted"
            p50, p99 = percentile(scan_ms, 50), percentile(scan_ms, 99)
            b50, b99 = percentile(bare_ms, 50), percentile(bare_ms, 99)
            ok = p99 <= SCAN_P99_BUDGET_MS
            missed += [] if ok else [f"scan p99 {alg}"]
            print(
                f"  {alg:5}  scan p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  max {max(scan_ms):6.2f} ms"
                f"   bare jwt.decode p50 {b50:6.3f} ms  p99 {b99:6.3f} ms"
                f"   ratio p50 {p50 / b50:4.1f}x  p99 {p99 / b99:4.1f}x"
                f"   budget p99 <= {SCAN_P99_BUDGET_MS:g} ms {'OK' if ok else 'MISSED'}"
            )
        node.close()
    print()
    if missed:
        print("MISSED budgets: " + ", ".join(missed))
        return 1
    print("all check-in budgets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
