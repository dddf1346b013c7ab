"""Simulated gates for bench_hub.py: a lean keep-alive HTTP client, open-loop scanning."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit


@dataclass
class Tally:
    scan_ms: list[float] = field(default_factory=list)
    batch_ms: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    batched: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Gate:
    """A minimal HTTP/1.1 keep-alive client: one gate, one connection.

    httpx spends ~2 ms of CPU per request; with 100 gates on the hub's own 2 cores the load
    generator, not the hub, was the bottleneck. This spends a few tens of microseconds.
    """

    def __init__(self, url: str, key: str, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.tls = tls  # HTTPS with the hub's pinned certificate (DESIGN.md §10)
        self.head = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls
            )
            self.writer.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
        data = json.dumps(body).encode()
        head = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n" % (
            path.encode(),
            self.head,
            len(data),
        )
        try:
            self.writer.write(head + data)
            status = int((await self.reader.readline()).split()[1])
            length = 0
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            return status, json.loads(await self.reader.readexactly(length))
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


CLIENT_ERRORS = (OSError, IndexError, ValueError, asyncio.IncompleteReadError)


async def post(
    client: Gate,
    path: str,
    body: dict,
    tally: Tally,
    latencies: list[float],
    items: list[dict] | None,
    started: float,
) -> None:
    try:
        status, answer = await client.post(path, body)
    except CLIENT_ERRORS as exc:
        tally.error(type(exc).__name__)
        return
    latencies.append((time.perf_counter() - started) * 1000)
    if status != 200:
        tally.error(f"HTTP {status}")
        return
    if items is None:
        tally.acknowledged.append(answer["checkinId"])
    else:
        tally.acknowledged += [item["id"] for item in items]
        tally.batched += len(items)


def new_id() -> str:
    return "chk_bench_" + uuid.uuid4().hex


async def baseline(
    url: str, key: str, event_id: str, payloads: list[str], seconds: float
) -> tuple[Tally, float]:
    """One gate, one request at a time: (tally, seconds it ran)."""
    tally = Tally()
    client = Gate(url, key)
    started = time.perf_counter()
    deadline = started + seconds
    for entry in payloads:
        if time.perf_counter() > deadline:
            break
        body = {
            "qrPayload": entry.split("|")[0],
            "eventId": event_id,
            "scannedBy": "baseline",
            "id": new_id(),
        }
        await post(
            client, "/v1/checkin/scan", body, tally, tally.scan_ms, None, time.perf_counter()
        )
    client.close()
    return tally, time.perf_counter() - started


def offline_batch(device: dict, event_id: str, picked: list[str]) -> tuple[dict, list]:
    """Admissions made offline, each with the token scanned as its proof (DESIGN.md §10)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    items = [
        {
            "id": new_id(),
            "ticketId": pick.split("|")[1],
            "qrPayload": pick.split("|")[0],
            "eventId": event_id,
            "scannedAt": now,
            "scannedBy": device["gate"],
            "direction": "in",
            "success": True,
            "tierName": "GA",
        }
        for pick in picked
    ]
    return {"deviceId": device["id"], "checkins": items}, items


async def gate(
    url: str,
    device: dict,
    event_id: str,
    payloads: list[str],
    deadline: float,
    tally: Tally,
    args: argparse.Namespace,
) -> None:
    """One gate: a scan every 1/rate s (open loop: latency counts from when the scan was
    due, so a slow hub cannot hide behind a gate that waits), a batch every batch_every s."""
    client = Gate(url, device["key"], getattr(args, "tls_context", None))
    position = 0
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    due = time.perf_counter() + random.uniform(0, interval or 0.01)
    next_batch = time.perf_counter() + random.uniform(0, args.batch_every or 1)
    while due < deadline:
        if interval:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        else:
            due = time.perf_counter()
        if args.batch_every and time.perf_counter() >= next_batch:
            next_batch += args.batch_every
            picked = [payloads[(position + i) % len(payloads)] for i in range(args.batch_size)]
            position += args.batch_size
            body, items = offline_batch(device, event_id, picked)
            started = time.perf_counter()
            await post(client, "/v1/checkin/batch", body, tally, tally.batch_ms, items, started)
        body = {
            "qrPayload": payloads[position % len(payloads)].split("|")[0],
            "eventId": event_id,
            "scannedBy": device["gate"],
            "id": new_id(),
            "deviceId": device["id"],
        }
        position += 1
        await post(client, "/v1/checkin/scan", body, tally, tally.scan_ms, None, due)
        due += interval
    client.close()


async def load(
    url: str, devices: list[dict], event_id: str, payloads: list[str], args: argparse.Namespace
) -> tuple[Tally, float]:
    tally = Tally()
    share = max(1, len(payloads) // len(devices))
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(
        *(
            gate(
                url,
                device,
                event_id,
                payloads[i * share : (i + 1) * share] or payloads,
                deadline,
                tally,
                args,
            )
            for i, device in enumerate(devices)
        )
    )
    return tally, time.perf_counter() - started
