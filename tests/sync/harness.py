"""Real nodes and real hub servers for the sync tests (DESIGN.md §8: no mocks of our code).

Each node has its own data dir and SQLite file; each hub is the real `scanner_app.server`
app under uvicorn on 127.0.0.1 port 0, in a thread of the test process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from scanner_app.core.apikeys import SCOPES, ApiKeyStore, DeviceStore
from scanner_app.core.node import Node
from scanner_app.server.app import create_app
from scanner_app.sync.config import SyncConfig
from scanner_app.sync.engine import SyncEngine

HUB_LINE = re.compile(r"Tickitz hub on http://127\.0\.0\.1:(\d+)")
# Short everything: the whole sync suite must run in a few minutes on 2 cores.
FAST = {"backoff_s": 0.05, "max_backoff_s": 0.4, "poll_s": 0.05, "timeout_s": 3.0}


class HubServer:
    """The real hub app for `node`, served by uvicorn in a daemon thread."""

    def __init__(self, node: Node, port: int = 0, **options: Any) -> None:
        self.node = node
        options.setdefault("deliver_webhooks", False)
        self.app = create_app(node, **options)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HubServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("hub did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def organiser_key(node: Node) -> str:
    return ApiKeyStore(node.db, node.clock).create("organiser", SCOPES)[1]


def hub_key(node: Node) -> str:
    """What a venue hub syncs to central with: a key of its own, not a gate device's (a
    device's uploads are filed under that device and gate; a hub forwards its gates')."""
    return ApiKeyStore(node.db, node.clock).create(
        "venue hub", ["events:read", "bookings:read", "checkin:write"]
    )[1]


def gate_key(node: Node, event_id: str, gate: str) -> str:
    return DeviceStore(node.db, ApiKeyStore(node.db, node.clock), node.clock).create(
        gate, event_id, gate
    )[1]


def issuer_with_event(data_dir: Path, tickets: int = 3, **event: Any) -> tuple[Node, str, list]:
    """A node that issues one published event; returns (node, event id, tickets)."""
    node = Node.open(data_dir)
    body = {"title": "Neon Nights", "tiers": [{"name": "GA", "price": 0, "quantity": 1000}]}
    body.update(event)
    event_id = node.events.create(body)["id"]
    node.events.publish(event_id)
    issued = node.tickets.issue(event_id, "GA", "Ada L.", tickets) if tickets else []
    return node, event_id, issued


def engine_for(
    node: Node, url: str, key: str, event_id: str | None, gate: str = "gate-1", **kw: Any
) -> SyncEngine:
    interval = kw.pop("interval_s", 0.2)
    strict = kw.pop("strict", False)
    config = SyncConfig(
        url, (event_id,) if event_id else (), gate, interval_s=interval, strict=strict
    )
    return SyncEngine(node, config, key, **{**FAST, **kw})


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s")
        time.sleep(every)


def rows(node: Node, event_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in node.db.query(
            "SELECT id, ticket_id, gate, device_id, scanned_at, success, reason, conflict,"
            " first_checked_in_at, first_scanned_by, pushed_at FROM checkins WHERE event_id = ?"
            " ORDER BY scanned_at, id",
            (event_id,),
        )
    ]


def admissions(node: Node, event_id: str, ticket_id: str) -> list[dict[str, Any]]:
    return [r for r in rows(node, event_id) if r["ticket_id"] == ticket_id and r["success"]]


def start_hub(data_dir: Path, port: int = 0) -> tuple[subprocess.Popen, int]:
    """`tickitz-scanner serve` in a subprocess; its stderr goes to a log file beside the
    data dir (a pipe nobody drains would block the hub once it fills)."""
    env = {**os.environ, "TICKITZ_NO_KEYRING": "1"}
    env.pop("TICKITZ_API_KEY", None)
    log_path = data_dir.parent / f"{data_dir.name}-serve-{time.monotonic_ns()}.log"
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
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        found = HUB_LINE.search(log_path.read_text())
        if found:
            return process, int(found.group(1))
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"hub did not start: {log_path.read_text()[-2000:]}")


def stop_hub(process: subprocess.Popen) -> None:
    """SIGTERM (a clean stop); SIGKILL if it has not exited within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
