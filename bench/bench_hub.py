"""Hub under 100 gates (DESIGN.md §7: >= 500 scans/s, p99 <= 100 ms, nothing lost).

A real hub (`tickitz-scanner serve` in another process, fresh data dir, free port); 100
simulated gates, each with its own gate key and keep-alive connection (asyncio), post online
scans and, now and then, a batch of offline check-ins, for --seconds. Then the hub is
stopped and its SQLite file is read: every check-in the hub acknowledged must be there.

Gates are open loop by default (--rate scans/s each, latency counted from when the scan
was due); --rate 0 makes every gate post as fast as it is answered (the hub's capacity).
The baseline, measured in the same run, is one gate posting scans one after another.
TLS (DESIGN.md §10): a second hub started with `serve --tls` takes the same flat-out load
over HTTPS (gates pinning its certificate); its scans/s is printed beside the plain hub's.
Exit status 1 when a budget is missed.

    .venv/bin/python bench/bench_hub.py [--seconds 30] [--gates 100]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from hub_gates import baseline, load, pct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scanner_app.sync.tls import pinned_context  # noqa: E402

SCANS_PER_S_BUDGET = 500
P99_BUDGET_MS = 100.0


def start_hub(data_dir: Path, tls: bool = False) -> tuple[subprocess.Popen, str, str]:
    extra = ["--tls"] if tls else []
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
            # 100 simulated gates share 127.0.0.1; a venue's gates have an address each.
            "--max-client-connections",
            "256",
        ]
        + extra,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    while True:
        line = process.stderr.readline()
        if not line:
            raise SystemExit("the hub did not start: " + process.stderr.read())
        match = re.search(r"(https?)://127\.0\.0\.1:(\d+)", line)
        if match:
            break
    key = process.stdout.readline().strip()
    url = f"{match.group(1)}://127.0.0.1:{match.group(2)}"
    for _ in range(200):
        try:
            httpx.get(url + "/v1/openapi.json", timeout=1, verify=hub_tls(data_dir) or True)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return process, url, key


def stop_hub(hub: subprocess.Popen) -> None:
    """SIGTERM (the hub commits and exits); SIGKILL if it has not within 30 s."""
    hub.send_signal(signal.SIGTERM)
    try:
        hub.wait(timeout=30)
    except subprocess.TimeoutExpired:
        hub.kill()


def hub_tls(data_dir: Path) -> ssl.SSLContext | None:
    """A context pinning the hub's own certificate, when it serves HTTPS."""
    cert = data_dir / "tls" / "hub-cert.pem"
    return pinned_context(cert.read_text()) if cert.exists() else None


def setup(
    url: str, key: str, gates: int, tickets: int, tls: ssl.SSLContext | None = None
) -> tuple[str, list[str], list[dict]]:
    api = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60, verify=tls or True
    )
    event = api.post("/v1/events", json={"title": "Bench", "tiers": [{"name": "GA"}]}).json()
    api.post(f"/v1/events/{event['id']}/publish").raise_for_status()
    payloads: list[str] = []
    while len(payloads) < tickets:
        response = api.post(
            f"/v1/events/{event['id']}/tickets",
            json={"tierName": "GA", "quantity": min(1000, tickets - len(payloads))},
        )
        response.raise_for_status()
        payloads += [t["qrPayload"] + "|" + t["id"] for t in response.json()["data"]]
    devices = []
    for index in range(gates):
        body = {"name": f"bench {index}", "eventId": event["id"], "gate": f"gate-{index}"}
        response = api.post("/v1/devices", json=body)
        response.raise_for_status()
        device = response.json()
        # The gate's key comes from redeeming its setup code's one-time token (§10).
        encoded = device["setupPayload"].removeprefix("tickitz-setup:")
        offer = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        enrolled = api.post("/v1/devices/enrol", json={"enrol": offer["enrol"]}, headers={})
        enrolled.raise_for_status()
        devices.append({**device, "key": enrolled.json()["key"]})
    api.close()
    return event["id"], payloads, devices


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_count(data_dir: Path, ids: list[str]) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'scanner.db'}?mode=ro", uri=True)
    conn.execute("CREATE TEMP TABLE acked (id TEXT PRIMARY KEY)")
    conn.executemany("INSERT OR IGNORE INTO acked VALUES (?)", ((i,) for i in ids))
    found = conn.execute("SELECT COUNT(*) FROM acked JOIN checkins USING (id)").fetchone()[0]
    conn.close()
    return found


def bench_tls(args: argparse.Namespace) -> tuple[float, float, int]:
    """Flat-out scans/s of a plain hub and a `serve --tls` hub, one after the other."""
    rates = []
    errors = 0
    for tls in (False, True):
        with tempfile.TemporaryDirectory(prefix="bench-hub-tls-") as tmp:
            data_dir = Path(tmp)
            hub, url, key = start_hub(data_dir, tls=tls)
            try:
                context = hub_tls(data_dir)
                event_id, payloads, devices = setup(
                    url, key, args.gates, args.tickets // 5, context
                )
                flat_out = argparse.Namespace(
                    **{**vars(args), "rate": 0.0, "seconds": args.tls_seconds},
                    tls_context=context,
                )
                tally, seconds = asyncio.run(load(url, devices, event_id, payloads, flat_out))
            finally:
                stop_hub(hub)
        rates.append(len(tally.scan_ms) / seconds)
        errors += tally.errors
    return rates[0], rates[1], errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--gates", type=int, default=100)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument(
        "--rate", type=float, default=5.5, help="scans/s per gate (0: as fast as answered)"
    )
    parser.add_argument("--batch-every", type=float, default=10.0, help="s between batches")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=50_000, help="distinct tickets to scan")
    parser.add_argument(
        "--capacity-seconds", type=float, default=10.0, help="then flat out (0: skip)"
    )
    parser.add_argument(
        "--tls-seconds", type=float, default=8.0, help="flat out over HTTPS (0: skip)"
    )
    args = parser.parse_args()
    tls_figures = bench_tls(args) if args.tls_seconds > 0 else None

    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        data_dir = Path(tmp)
        hub, url, key = start_hub(data_dir)
        try:
            event_id, payloads, devices = setup(url, key, args.gates + 1, args.tickets)
            solo = devices.pop()  # the baseline gate: a gate key (gate rate limits) too
            reserved = len(payloads) // 10  # tickets of its own, never scanned before
            payloads, spare = payloads[:-reserved], payloads[-reserved:]
            base, base_elapsed = asyncio.run(
                baseline(url, solo["key"], event_id, spare, args.baseline_seconds)
            )
            cpu_before, own_before = cpu_seconds(hub.pid), cpu_seconds(os.getpid())
            tally, elapsed = asyncio.run(load(url, devices, event_id, payloads, args))
            hub_cpu = cpu_seconds(hub.pid) - cpu_before
            client_cpu = cpu_seconds(os.getpid()) - own_before
            capacity = None
            if args.capacity_seconds > 0:  # the same gates as fast as they are answered
                flat_out = argparse.Namespace(**{**vars(args), "rate": 0.0})
                flat_out.seconds = args.capacity_seconds
                capacity = asyncio.run(load(url, devices, event_id, payloads, flat_out))
        finally:
            stop_hub(hub)
        acknowledged = base.acknowledged + tally.acknowledged
        if capacity is not None:
            acknowledged += capacity[0].acknowledged
        stored = stored_count(data_dir, acknowledged)

    base_rate = len(base.scan_ms) / base_elapsed
    scans = len(tally.scan_ms)
    scan_rate = scans / elapsed
    checkin_rate = (scans + tally.batched) / elapsed
    p50, p99 = pct(tally.scan_ms, 0.50), pct(tally.scan_ms, 0.99)
    lost = len(set(acknowledged)) - stored
    offered = f"{args.rate:g} scans/s each" if args.rate > 0 else "as fast as answered"
    print(
        f"hub under {args.gates} gates ({offered}, a batch of {args.batch_size} every "
        f"{args.batch_every:g} s each) for {elapsed:.1f} s; clients on the same 2 cores"
    )
    print(
        f"  baseline, one gate sequential: {base_rate:.0f} scans/s, "
        f"p50 {pct(base.scan_ms, 0.5):.1f} ms, p99 {pct(base.scan_ms, 0.99):.1f} ms"
    )
    print(
        f"  online scans: {scan_rate:.0f} scans/s ({scan_rate / base_rate:.2f}x baseline), "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (budget >= {SCANS_PER_S_BUDGET}/s, "
        f"p99 <= {P99_BUDGET_MS:.0f} ms)"
    )
    print(
        f"  batches: {len(tally.batch_ms)} x {args.batch_size} check-ins, "
        f"p50 {pct(tally.batch_ms, 0.5):.1f} ms, p99 {pct(tally.batch_ms, 0.99):.1f} ms"
    )
    print(f"  all check-ins (scans + batched): {checkin_rate:.0f}/s")
    requests = scans + len(tally.batch_ms)
    print(
        f"  hub CPU: {hub_cpu / elapsed * 100:.0f}% of one core, "
        f"{hub_cpu / max(requests, 1) * 1000:.2f} ms per request; "
        f"the simulated gates: {client_cpu / elapsed * 100:.0f}%"
    )
    if capacity is not None:
        most, seconds = capacity
        rate = len(most.scan_ms) / seconds
        print(
            f"  capacity (100 gates as fast as answered, {seconds:.0f} s): {rate:.0f} scans/s "
            f"({rate / base_rate:.2f}x baseline) + {most.batched / seconds:.0f} batched/s, "
            f"p50 {pct(most.scan_ms, 0.5):.1f} ms, errors {most.errors}"
        )
    if tls_figures is not None:
        plain_rate, tls_rate, tls_errors = tls_figures
        print(
            f"  TLS, {args.gates} gates as fast as answered for {args.tls_seconds:g} s each, same"
            f" run: plain HTTP {plain_rate:.0f} scans/s, HTTPS (pinned) {tls_rate:.0f} scans/s"
            f" (ratio {tls_rate / plain_rate:.2f}), errors {tls_errors}"
        )
    kinds = {**base.error_kinds, **tally.error_kinds}
    print(f"  errors: {tally.errors + base.errors} {kinds or ''}")
    print(f"  acknowledged {len(set(acknowledged))}, stored {stored}, lost {lost}")
    if statistics.fmean(tally.scan_ms or [0]) <= 0:
        return 1
    ok = (
        scan_rate >= SCANS_PER_S_BUDGET
        and p99 <= P99_BUDGET_MS
        and lost == 0
        and tally.errors + base.errors == 0
    )
    print("  budget: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
