"""Sync budgets of DESIGN.md §7, against the real hub (`tickitz-scanner serve` in a
subprocess) with real SQLite files, each beside a baseline measured in the same run.

- upload: 10,000 queued check-ins pushed by the SyncEngine in batches of 500
  (budget <= 5 s); baseline: one request per check-in (a batch of one, same client,
  keep-alive), timed on a sample of 1,000 and extrapolated to 10,000;
- upload with proofs (DESIGN.md §10): every admission carries its scanned token, which the
  hub checks (budget <= 2 s end to end): tokens the hub issued (compared with the stored
  token) and tokens it did not (verified by signature), each beside the no-proof path in the
  same run (the same rows without `qrPayload`, which the hub refuses as `missing_proof`),
  with the CPU seconds of the hub (and its proof workers) and of the gate;
- manifest: a 100,000-ticket manifest pulled by a fresh gate and indexed for attendee
  search (budget <= 10 s); baseline: the same pages fetched without importing;
- search: p95 of attendee searches on that gate, by kind of query (budget <= 20 ms);
  baseline: 6-character ticket id prefixes matched by SQL LIKE over the tickets table
  (bench_names.py compares the in-memory index with the full-text index it replaced);
- TLS (DESIGN.md §10): the hub's flat-out scans/s over plain HTTP and over pinned HTTPS,
  one hub after the other (bench_hub's load, shorter), and their ratio.

The queued check-ins are synthetic rows in the gate's outbox (scanning 10,000 signed
tickets first would only time the scanner). Figures carry the load average (the machine
is shared). Exit status 1 when a budget is missed.

    .venv/bin/python bench/bench_sync.py [--checkins 10000] [--tickets 100000] [--parts ...]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner_app.core.apikeys import ApiKeyStore, DeviceStore  # noqa: E402
from scanner_app.core.node import Node  # noqa: E402
from scanner_app.core.timeutil import iso_ms  # noqa: E402
from scanner_app.core.tokens import TicketClaims, sign_ticket  # noqa: E402
from scanner_app.sync.client import TickitzClient  # noqa: E402
from scanner_app.sync.config import SyncConfig  # noqa: E402
from scanner_app.sync.engine import SyncEngine  # noqa: E402

UPLOAD_BUDGET_S = 5.0
PROOF_UPLOAD_BUDGET_S = 2.0
MANIFEST_BUDGET_S = 10.0
SEARCH_P95_BUDGET_MS = 20.0
BASELINE_SAMPLE = 1_000
SEARCHES = 1_000
PARTS = ("proofs", "upload", "manifest", "tls")
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
HUB_LINE = re.compile(r"Tickitz hub on http://127\.0\.0\.1:(\d+)")
FIRST = "Ada Alan Grace Edsger Barbara Donald Margaret Ken Radia Tim Linus Guido Anita Frances"
LAST = "Lovelace Turing Hopper Dijkstra Liskov Knuth Hamilton Thompson Perlman Lee Torvalds"
FIRST_NAMES = FIRST.split() + ["José", "Zoë", "Søren", "Chloé", "Ngozi", "Hiroshi", "Priya"]
LAST_NAMES = LAST.split() + ["Núñez", "Okafor", "Tanaka", "Kowalski", "Müller", "Haddad"]


def start_hub(data_dir: Path, code: str | None = None) -> tuple[subprocess.Popen, str]:
    """`code`: a checkout whose scanner_app the hub runs (default: this one)."""
    log_path = data_dir.parent / f"serve-{data_dir.name}.log"
    env = {**os.environ, "TICKITZ_NO_KEYRING": "1"}
    if code:
        env["PYTHONPATH"] = code
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanner_app",
                "--data-dir",
                str(data_dir),
                "serve",
                "--port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            # `python -m` puts the working directory ahead of PYTHONPATH on sys.path: from
            # this checkout, `--before` would time this checkout's hub twice.
            cwd=code or Path(__file__).resolve().parents[1],
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        found = HUB_LINE.search(log_path.read_text())
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            with TickitzClient(url, "tk_live_none", retries=0) as probe:
                while True:  # the socket is bound before uvicorn accepts: wait for an answer
                    try:
                        probe.list_events()
                    except Exception as exc:  # 401 means it is up
                        if "401" in str(exc):
                            return process, url
                    time.sleep(0.05)
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"hub did not start: {log_path.read_text()[-1000:]}")


def prepare_hub(data_dir: Path, tickets: int) -> tuple[str, str, str, str, float]:
    """Two events: one whose 100,000-ticket manifest came from elsewhere, one that takes the
    uploads (so the manifest pull times tickets, not check-ins); returns a gate key for each
    (a gate's key reaches only its own event)."""
    rng = random.Random(7)
    with Node.open(data_dir) as hub:
        tiers = [{"name": "GA", "quantity": tickets}, {"name": "VIP", "quantity": tickets}]
        event_id = hub.events.create({"title": "Bench Festival", "tiers": tiers})["id"]
        hub.events.publish(event_id)
        upload_id = hub.events.create({"title": "Bench Uploads", "tiers": tiers})["id"]
        hub.events.publish(upload_id)
        started = time.perf_counter()
        entries = [
            {
                "id": _random_id(rng, "tkt"),
                "bookingId": _random_id(rng, "bkg"),
                "attendeeName": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "tierName": "VIP" if i % 10 == 0 else "GA",
                "status": "cancelled" if i % 97 == 0 else "valid",
                "updatedAt": "2026-07-01T12:00:00.000Z",
            }
            for i in range(tickets)
        ]
        hub.tickets.import_manifest(event_id, entries)
        setup_s = time.perf_counter() - started
        keys = ApiKeyStore(hub.db, hub.clock)
        devices = DeviceStore(hub.db, keys, hub.clock)
        _, key = devices.create("bench", event_id, "bench")
        _, upload_key = devices.create("bench uploads", upload_id, "bench")
    return event_id, upload_id, key, upload_key, setup_s


def prepare_proofs(data_dir: Path, count: int) -> dict[str, tuple[str, str, list]]:
    """Two more events with `count` tickets each and a gate key for each: 'held' tickets the
    hub issued (it keeps their tokens), 'signed' ones from a manifest made elsewhere (their
    tokens signed with the event's key, which the hub must verify)."""
    made: dict[str, tuple[str, str, list]] = {}
    with Node.open(data_dir) as hub:
        devices = DeviceStore(hub.db, ApiKeyStore(hub.db, hub.clock), hub.clock)
        for kind in ("held", "signed", "bare"):
            tiers = [{"name": "GA", "quantity": count}]
            event_id = hub.events.create({"title": f"Bench proofs {kind}", "tiers": tiers})["id"]
            hub.events.publish(event_id)
            if kind == "signed":
                signing = hub.events.signing_key(event_id)
                now = int(time.time())
                tickets = [
                    {"id": f"tkt_sig{i:08d}", "tierName": "GA", "status": "valid"}
                    for i in range(count)
                ]
                hub.tickets.import_manifest(
                    event_id, [{**t, "updatedAt": iso_ms(hub.clock())} for t in tickets]
                )
                for ticket in tickets:
                    claims = TicketClaims(jti=ticket["id"], evt=event_id, tier="GA", iat=now)
                    ticket["qrPayload"] = sign_ticket(claims, signing)
            else:
                tickets = []
                while len(tickets) < count:
                    quantity = min(1000, count - len(tickets))
                    tickets += hub.tickets.issue(event_id, "GA", "Bench Attendee", quantity)
            _, gate_key = devices.create(f"bench {kind}", event_id, "bench")
            made[kind] = (event_id, gate_key, [(t["id"], t["qrPayload"]) for t in tickets])
    return made


def time_signatures(data_dir: Path, made: dict) -> float:
    """Seconds to verify every 'signed' token once, alone (no database, no HTTP): the floor
    under the signed upload, which the hub's single writer cannot go below."""
    event_id, _key, tickets = made["signed"]
    with Node.open(data_dir) as hub:
        now = hub.clock()
        started = time.perf_counter()
        for _ticket_id, token in tickets:
            hub.checkin.verifier.verify(token, [event_id], now)
        return time.perf_counter() - started


def _random_id(rng: random.Random, prefix: str) -> str:
    """Shaped like core.ids.short_id: random ids are what the FTS index really sees."""
    return f"{prefix}_" + "".join(rng.choice(ALPHABET) for _ in range(16))


def queue(node: Node, event_id: str, count: int, prefix: str) -> None:
    rows = [
        {
            "id": f"chk_{prefix}{i:08d}",
            "eventId": event_id,
            "ticketId": f"tkt_bench{i:08d}",
            "scannedAt": f"2026-07-15T19:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}Z",
            "scannedBy": "north",
            "deviceId": node.device_id,
            "success": True,
            "attendeeName": "Bench Attendee",
            "tierName": "GA",
        }
        for i in range(count)
    ]
    node.ledger.merge(rows, source="downstream")  # pending, exactly like the outbox of a hub


def queue_proofs(node: Node, event_id: str, tickets: list, prefix: str, proofs: bool) -> None:
    """One admission per ticket, as a gate's outbox holds them after scanning (door times
    of now: after the tokens were made and the gate enrolled)."""
    now = iso_ms(node.clock())
    rows = [
        {
            "id": f"chk_{prefix}{i:08d}",
            "eventId": event_id,
            "ticketId": ticket_id,
            "scannedAt": now,
            "scannedBy": "north",
            "deviceId": node.device_id,
            "success": True,
            "attendeeName": "Bench Attendee",
            "tierName": "GA",
            **({"qrPayload": token} if proofs else {}),
        }
        for i, (ticket_id, token) in enumerate(tickets)
    ]
    node.ledger.merge(rows, source="downstream")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def hub_cpu(pid: int) -> float:
    """CPU of the hub and of its proof workers (live children, from their own /proc)."""
    total = cpu_seconds(pid)
    for children in Path(f"/proc/{pid}/task").glob("*/children"):  # spawned by any thread
        for child in children.read_text().split():
            try:
                total += cpu_seconds(int(child))
            except (FileNotFoundError, ProcessLookupError):
                pass  # it ended meanwhile
    return total


def bench_proof_upload(
    url: str, root: Path, made: dict, hub_pid: int, label: str = ""
) -> dict[str, tuple]:
    """Seconds to push each kind of outbox, the answers the hub gave, and the CPU seconds
    the hub (with its proof workers) and the gate spent."""
    timings = {}
    for kind, proofs in (("bare", False), ("held", True), ("signed", True)):
        event_id, gate_key, tickets = made[kind]
        gate = Node.open(root / f"gate-proof-{label}{kind}")
        queue_proofs(gate, event_id, tickets, label + kind, proofs)
        engine = SyncEngine(gate, SyncConfig(url, (event_id,), "north"), gate_key)
        hub_before, gate_before = hub_cpu(hub_pid), time.process_time()
        started = time.perf_counter()
        report = engine.run_once(pull=False)
        elapsed = time.perf_counter() - started
        cpu = (hub_cpu(hub_pid) - hub_before, time.process_time() - gate_before)
        engine.stop()
        gate.close()
        assert report.ok and report.pending == 0, report.to_dict()
        timings[kind] = (elapsed, dict(report.answers), cpu, os.getloadavg()[0])
    return timings


def bench_upload(url: str, key: str, event_id: str, root: Path, count: int) -> dict:
    gate = Node.open(root / "gate-upload")
    queue(gate, event_id, count, "up")
    config = SyncConfig(url, (event_id,), "north")
    engine = SyncEngine(gate, config, key)
    started = time.perf_counter()
    report = engine.run_once(pull=False)
    batched_s = time.perf_counter() - started
    engine.stop()
    assert report.ok and report.pushed == count and report.pending == 0, report.to_dict()
    single = Node.open(root / "gate-single")
    sample = min(BASELINE_SAMPLE, count)
    queue(single, event_id, sample, "one")
    wires = single.ledger.outbox(sample)
    with TickitzClient(url, key) as client:
        started = time.perf_counter()
        for wire in wires:
            client.batch(single.device_id, [wire])
        sample_s = time.perf_counter() - started
    gate.close()
    single.close()
    baseline_s = sample_s * count / sample
    return {
        "batched_s": batched_s,
        "sample": sample,
        "sample_s": sample_s,
        "baseline_s": baseline_s,
        "count": count,
    }


def bench_manifest(url: str, key: str, event_id: str, root: Path, tickets: int) -> dict:
    with TickitzClient(url, key) as client:  # baseline: the pages alone
        started = time.perf_counter()
        cursor, fetched = None, 0
        while True:
            page = client.tickets_page(event_id, cursor, 1000)
            fetched += len(page["data"])
            cursor = page["nextCursor"]
            if not page["hasMore"]:
                break
        fetch_s = time.perf_counter() - started
    gate = Node.open(root / "gate-manifest")
    engine = SyncEngine(gate, SyncConfig(url, (event_id,), "north"), key)
    started = time.perf_counter()
    report = engine.run_once()
    pull_s = time.perf_counter() - started
    engine.stop()
    assert report.ok and report.tickets == tickets == fetched, report.to_dict()
    rng = random.Random(11)
    sample = [r[0] for r in gate.db.query("SELECT id, booking_id FROM tickets LIMIT 5000")]
    bookings = [r[0] for r in gate.db.query("SELECT booking_id FROM tickets LIMIT 5000")]
    # What door staff type: a surname's first letters, a first name, "first sur...", or an
    # id read off a phone (whole or its first characters). One-letter searches are left out:
    # the search box starts at two characters.
    kinds = {
        "surname, 3 letters": lambda: rng.choice(LAST_NAMES)[:3],
        "first name": lambda: rng.choice(FIRST_NAMES),
        "first + surname start": lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[:2]}",
        "ticket id": lambda: rng.choice(sample),
        "ticket id, 6 chars": lambda: rng.choice(sample)[4:10],
        "booking id": lambda: rng.choice(bookings),
    }
    fts: dict[str, dict[str, float]] = {}
    everything: list[float] = []
    for kind, make in kinds.items():
        queries = [make() for _ in range(SEARCHES // len(kinds))]
        fts[kind] = _latencies(lambda q: gate.tickets.search(q, event_id), queries, everything)
    fts["all"] = _summary(everything)
    # Baseline: the same kind of ticket id prefixes matched by SQL over the tickets table
    # (what a search without the in-memory index costs).
    queries = [kinds["ticket id, 6 chars"]() for _ in range(100)]
    scan_sql = "SELECT * FROM tickets WHERE event_id = ? AND id LIKE ? LIMIT 20"
    scan = _latencies(lambda q: gate.db.query(scan_sql, (event_id, f"tkt_{q}%")), queries)
    gate.close()
    return {"pull_s": pull_s, "fetch_s": fetch_s, "fts": fts, "scan": scan, "tickets": tickets}


def _latencies(run, queries: list[str], into: list[float] | None = None) -> dict[str, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - started) * 1000)
    if into is not None:
        into.extend(times)
    return _summary(times)


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50": statistics.median(ordered), "p95": ordered[int(len(ordered) * 0.95) - 1]}


def print_upload(up: dict) -> bool:
    rate = up["count"] / up["batched_s"]
    print(
        f"upload {up['count']:,} queued check-ins in batches of 500: {up['batched_s']:.2f} s"
        f" ({rate:,.0f}/s)  budget <= {UPLOAD_BUDGET_S:.0f} s"
    )
    print(
        f"  baseline, one request per check-in: {up['sample']:,} in {up['sample_s']:.2f} s"
        f" -> {up['count']:,} extrapolated {up['baseline_s']:.1f} s"
    )
    print(
        f"  ratio batched / one-per-request: {up['batched_s'] / up['baseline_s']:.3f}"
        f" ({up['baseline_s'] / up['batched_s']:.0f}x faster)"
    )
    return up["batched_s"] <= UPLOAD_BUDGET_S


def print_proofs(proofs: dict, count: int, signatures_s: float, title: str = "") -> bool:
    ok = True
    bare_s = proofs["bare"][0]
    print(
        f"upload {count:,} admissions with proofs of presentation (end to end){title}"
        f"  budget <= {PROOF_UPLOAD_BUDGET_S:.0f} s"
    )
    for kind, label in (
        ("bare", "baseline, no proofs"),
        ("held", "tokens the hub issued"),
        ("signed", "verified by signature"),
    ):
        seconds, answers, (hub_s, gate_s), load = proofs[kind]
        ratio = "" if kind == "bare" else f"  ratio to the no-proof path {seconds / bare_s:.2f}"
        print(
            f"  {label:24} {seconds:.2f} s ({count / seconds:,.0f}/s) {answers}{ratio}"
            f"\n  {'':24} CPU: hub + proof workers {hub_s:.2f} s, gate {gate_s:.2f} s;"
            f" load average {load:.2f}"
        )
        if kind != "bare":
            ok &= seconds <= PROOF_UPLOAD_BUDGET_S and answers == {"recorded": count}
    if signatures_s:
        print(
            f"  the signatures alone ({count:,} verified in this process, no HTTP, no"
            f" database): {signatures_s:.2f} s ({signatures_s / count * 1e6:.0f} us each)"
        )
        # The signed path's floor here: its work beyond the held path is the signatures,
        # and the whole of it shares the machine's cores with the gate.
        hub_s, gate_s = proofs["held"][2]
        cores = os.cpu_count() or 1
        print(
            f"  floor for the signed path on {cores} cores: (signatures {signatures_s:.2f}"
            f" + hub {hub_s:.2f} + gate {gate_s:.2f} CPU-s) / {cores}"
            f" = {(signatures_s + hub_s + gate_s) / cores:.2f} s"
        )
    return ok


def print_manifest(man: dict) -> bool:
    print(
        f"manifest {man['tickets']:,} tickets pulled + indexed: {man['pull_s']:.2f} s"
        f"  budget <= {MANIFEST_BUDGET_S:.0f} s"
    )
    print(
        f"  baseline, the same pages fetched without import: {man['fetch_s']:.2f} s"
        f" (ratio {man['pull_s'] / man['fetch_s']:.2f})"
    )
    fts, scan = man["fts"], man["scan"]
    print(
        f"attendee search ({SEARCHES} queries): p50 {fts['all']['p50']:.2f} ms,"
        f" p95 {fts['all']['p95']:.2f} ms  budget p95 <= {SEARCH_P95_BUDGET_MS:.0f} ms"
    )
    for kind, figures in fts.items():
        if kind != "all":
            print(f"  {kind:24} p50 {figures['p50']:6.2f} ms  p95 {figures['p95']:6.2f} ms")
    prefix = fts["ticket id, 6 chars"]["p95"]
    print(
        f"  baseline, 6-char ticket id prefixes by SQL LIKE over the tickets table:"
        f" p95 {scan['p95']:.1f} ms (ratio {prefix / scan['p95']:.3f})"
    )
    return man["pull_s"] <= MANIFEST_BUDGET_S and all(
        f["p95"] <= SEARCH_P95_BUDGET_MS for f in fts.values()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="first time the proof uploads against a hub running CHECKOUT's code (e.g. main)",
    )
    parser.add_argument("--tls-seconds", type=float, default=5.0, help="each hub, flat out")
    parser.add_argument("--tls-gates", type=int, default=100)
    parser.add_argument(
        "--py-spy", metavar="SVG", help="record the hub under py-spy during the proof uploads"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        if args.before and "proofs" in parts:
            before = prepare_proofs(root / "before", args.checkins)
            process, url = start_hub(root / "before", args.before)
            try:
                timed = bench_proof_upload(url, root, before, process.pid, "before")
            finally:
                process.terminate()
                process.wait(15)
            print_proofs(timed, args.checkins, 0.0, f", before: the hub of {args.before}")
        event_id, upload_id, key, upload_key, setup_s = prepare_hub(root / "hub", args.tickets)
        if "proofs" in parts:
            made = prepare_proofs(root / "hub", args.checkins)
            signatures_s = time_signatures(root / "hub", made)
        process, url = start_hub(root / "hub")
        print(f"hub: {url} (tickitz-scanner serve, separate process); setup {setup_s:.1f} s")
        try:
            if "proofs" in parts:
                spy = _py_spy(process.pid, args.py_spy) if args.py_spy else None
                proofs = bench_proof_upload(url, root, made, process.pid)
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
                    spy.wait(60)
                ok &= print_proofs(proofs, args.checkins, signatures_s)
            if "upload" in parts:
                ok &= print_upload(bench_upload(url, upload_key, upload_id, root, args.checkins))
            if "manifest" in parts:
                ok &= print_manifest(bench_manifest(url, key, event_id, root, args.tickets))
        finally:
            process.terminate()
            process.wait(15)
    if "tls" in parts:
        print_tls(args)
    print("all budgets met" if ok else "BUDGET MISSED")
    return 0 if ok else 1


def print_tls(args: argparse.Namespace) -> None:
    """The hub's scans/s over plain HTTP and over pinned HTTPS (`serve --tls`), same run:
    bench_hub's flat-out load, shorter."""
    import bench_hub  # noqa: PLC0415  (bench/ is on the path: this script's directory)

    load = argparse.Namespace(
        gates=args.tls_gates,
        tickets=10_000,
        tls_seconds=args.tls_seconds,
        rate=0.0,
        batch_every=0.0,
        batch_size=0,
    )
    plain, tls, errors = bench_hub.bench_tls(load)
    print(
        f"hub TLS cost, {args.tls_gates} gates flat out for {args.tls_seconds:g} s each:"
        f" plain HTTP {plain:.0f} scans/s, HTTPS (pinned) {tls:.0f} scans/s"
        f" (ratio {tls / plain:.2f}), errors {errors}; load average {os.getloadavg()[0]:.2f}"
    )


def _py_spy(pid: int, out: str) -> subprocess.Popen:
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--output", out, "--rate", "250"]
    if out.endswith(".txt"):
        command += ["--format", "raw"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())
