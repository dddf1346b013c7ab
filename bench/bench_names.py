"""Attendee search with names sealed at rest (DESIGN.md §10, issue 11 item 5), beside the
plain full-text search it replaced, measured in the same run over the same manifest.

- start-up: opening (decrypting) every sealed name, and building the index in memory;
- search: p50/p95 of ``TicketBook.search`` (what the app's search panel calls, 50 rows)
  over a mix of name prefixes, full names, ticket and booking ids (budget p95 < 20 ms),
  and the same queries on a plain copy with the old FTS5 index and query (the baseline).

Exit status 1 when the budget is missed.

    .venv/bin/python bench/bench_names.py [--tickets 100000] [--queries 600]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner_app.core.node import Node  # noqa: E402

SEARCH_P95_BUDGET_MS = 20.0
EVENT = "evt_benchnames"
FIRST = (
    "José Ada Grace Alan Zoë Maria Anna John Peter Lena Omar Yuki Chen Fatima Ivan Sofía "
    "Lukas Amélie Noah Mia Elif Arjun Priya Kwame Aiko Mateo Chloé Björn Ingrid Dmitri"
).split()
LAST = (
    "Álvarez Lovelace Hopper Turing Brontë Smith Jones Müller Kowalski Nguyen García Rossi "
    "Dubois Novak Andersson Yilmaz Okafor Tanaka Kim Silva Haddad O'Brien Schröder Łukasz "
    "Fernández Moreau Jensen Horváth Papadopoulos Ivanova Mendoza Sato Costa Nakamura"
).split()
_WORD = re.compile(r"\w+", re.UNICODE)


def manifest(count: int, rng: random.Random) -> list[dict]:
    entries = []
    for i in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if rng.random() < 0.3:
            name = f"{rng.choice(FIRST)} {name}"
        entries.append(
            {
                "id": f"tkt_{rng.getrandbits(60):015x}",
                "eventId": EVENT,
                "bookingId": f"bkg_{i // 2:09d}",
                "attendeeName": name,
                "tierName": "GA",
                "status": "valid",
                "updatedAt": "2026-07-01T10:00:00.000Z",
            }
        )
    return entries


def queries(entries: list[dict], count: int, rng: random.Random) -> list[str]:
    """What door staff type: name prefixes (2-6 letters), full names, ids, booking ids."""
    out = []
    for _ in range(count):
        entry = rng.choice(entries)
        kind = rng.random()
        words = entry["attendeeName"].split()
        if kind < 0.45:
            word = rng.choice(words)
            out.append(word[: rng.randint(2, 6)])
        elif kind < 0.7:
            out.append(" ".join(w[: rng.randint(3, len(w))] for w in words[-2:]))
        elif kind < 0.85:
            out.append(entry["id"][: rng.randint(6, len(entry["id"]))])
        else:
            out.append(entry["bookingId"])
    return out


def plain_copy(path: Path, entries: list[dict]) -> sqlite3.Connection:
    """The manifest as gates kept it before: names plain, FTS5 over name, id, booking."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE tickets (id TEXT PRIMARY KEY, event_id TEXT NOT NULL, booking_id TEXT,"
        " attendee_name TEXT, tier_name TEXT NOT NULL, status TEXT NOT NULL, qr_payload TEXT,"
        " updated_at TEXT NOT NULL, seq INTEGER NOT NULL)"
    )
    sqlite_utils.Database(conn)["tickets"].enable_fts(
        ["attendee_name", "id", "booking_id"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO tickets VALUES (?,?,?,?,?,?,NULL,?,?)",
        [
            (e["id"], EVENT, e["bookingId"], e["attendeeName"], "GA", "valid", e["updatedAt"], i)
            for i, e in enumerate(entries, start=1)
        ],
    )
    conn.execute("COMMIT")
    return conn


def plain_search(conn: sqlite3.Connection, query: str, limit: int = 50) -> list[dict]:
    """The search of the previous version (tickets.py before names were sealed)."""
    words = _WORD.findall(query)
    if not words:
        return []
    match = " ".join(f'"{w}"*' for w in words[:8])
    sql = (
        "SELECT t.* FROM tickets_fts f JOIN tickets t ON t.rowid = f.rowid"
        " WHERE tickets_fts MATCH ? AND t.event_id = ?"
    )
    hits = conn.execute(
        "SELECT COUNT(*) FROM tickets_fts WHERE tickets_fts MATCH ?", (match,)
    ).fetchone()[0]
    sql += " ORDER BY rank" if hits <= 1000 else " ORDER BY f.rowid"
    rows = conn.execute(sql + " LIMIT ?", (match, EVENT, limit)).fetchall()
    return [dict(r) for r in rows]


def timed(func, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        func(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    args = parser.parse_args()
    rng = random.Random(11)
    entries = manifest(args.tickets, rng)
    asked = queries(entries, args.queries, rng)
    with tempfile.TemporaryDirectory(prefix="bench-names-") as tmp:
        data = Path(tmp) / "gate"
        with Node.open(data) as node:
            start = time.perf_counter()
            for offset in range(0, len(entries), 1000):  # as a pull stores its pages
                node.tickets.import_manifest(EVENT, entries[offset : offset + 1000])
            stored_s = time.perf_counter() - start
        plain = plain_copy(Path(tmp) / "plain.db", entries)

        with Node.open(data) as node:  # a fresh start: nothing opened in memory yet
            rows = node.db.query("SELECT id, attendee_name FROM tickets")
            start = time.perf_counter()
            opened = node.names.open_many([(r["attendee_name"], r["id"]) for r in rows])
            decrypt_s = time.perf_counter() - start
            assert opened[0] == entries[0]["attendeeName"] and len(opened) == len(entries)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start, cpu = time.perf_counter(), time.thread_time()
            node.tickets.index.refresh()  # what the warm-up does at start: open + index
            startup_s, startup_cpu = time.perf_counter() - start, time.thread_time() - cpu
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            for q in asked[:20]:  # both warm (page cache, statement cache)
                node.tickets.search(q, EVENT, 50)
                plain_search(plain, q)
            sealed_ms, plain_ms = [], []
            for i in range(0, len(asked), 50):  # in turns: load from others hits both alike
                chunk = asked[i : i + 50]
                sealed_ms += timed(lambda q: node.tickets.search(q, EVENT, 50), chunk)
                plain_ms += timed(lambda q: plain_search(plain, q), chunk)
            found = sum(bool(node.tickets.search(q, EVENT, 50)) for q in asked)
        plain.close()

    sealed_p95, plain_p95 = p95(sealed_ms), p95(plain_ms)
    print(f"manifest: {len(entries):,} tickets, names sealed on import in {stored_s:.1f} s")
    print(f"start-up: open {len(entries):,} sealed names {decrypt_s * 1000:.0f} ms;"
          f" open + build the index {startup_s * 1000:.0f} ms"
          f" ({startup_cpu * 1000:.0f} ms CPU);"
          f" peak RSS +{(rss_after - rss_before) / 1024:.0f} MB")  # fmt: skip
    print(f"search ({len(asked)} queries, {found} with hits, 50 rows each):")
    print(f"  sealed names, in memory: p50 {statistics.median(sealed_ms):.2f} ms,"
          f" p95 {sealed_p95:.2f} ms, max {max(sealed_ms):.2f} ms")  # fmt: skip
    print(f"  plain names, FTS5 (before): p50 {statistics.median(plain_ms):.2f} ms,"
          f" p95 {plain_p95:.2f} ms, max {max(plain_ms):.2f} ms")  # fmt: skip
    p50_ratio = statistics.median(sealed_ms) / statistics.median(plain_ms)
    print(f"  ratio sealed/plain: p50 {p50_ratio:.2f}, p95 {sealed_p95 / plain_p95:.2f}")
    ok = sealed_p95 < SEARCH_P95_BUDGET_MS
    print(f"budget p95 < {SEARCH_P95_BUDGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
