"""A small HTTP/1.1 fault-injecting proxy on 127.0.0.1 (DESIGN.md §8: faults are the point).

Each request is either forwarded to the upstream (a real server) or hit by the next
planned fault whose path filter matches:

  drop        close the client connection without forwarding (request never arrives)
  drop_after  forward, let the upstream process it, then close without answering
  500         answer 500 with the seed's error envelope
  429:N       answer 429 with `Retry-After: N`
  stall:S     hold the request S seconds without answering, then close
  late:S      hold the request S seconds, then forward it (the client has given up by then)
  slow:S      hold the request S seconds, then forward it and answer (a busy upstream)
  rewrite     forward, then answer the upstream's JSON as `rewrite(answer)` (a MITM)

The proxy runs its own asyncio loop in a thread, so tests stay synchronous.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Planned:
    fault: str
    match: str  # substring of "METHOD /path"
    times: int


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.plan: deque[Planned] = deque()
        self.log: list[tuple[str, str, float]] = []  # (request line, fault, monotonic time)
        self.port = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self.rewrite: Callable[[Any], Any] = lambda answer: answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def fail(self, fault: str, times: int = 1, match: str = "") -> None:
        with self._lock:
            self.plan.append(Planned(fault, match, times))

    def clear(self) -> None:
        with self._lock:
            self.plan.clear()

    def faults_seen(self) -> list[str]:
        with self._lock:
            return [what for _, what, _ in self.log if what != "pass"]

    def requests(self, match: str = "") -> list[tuple[str, str, float]]:
        with self._lock:
            return [entry for entry in self.log if match in entry[0]]

    def _next_fault(self, request_line: str) -> str:
        with self._lock:
            for planned in self.plan:
                if planned.match in request_line:
                    planned.times -= 1
                    if planned.times <= 0:
                        self.plan.remove(planned)
                    fault = planned.fault
                    break
            else:
                fault = "pass"
            self.log.append((request_line, fault, time.monotonic()))
            return fault

    # --- asyncio side -------------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                method, path = lines[0].split(" ")[:2]
                fault = self._next_fault(f"{method} {path}")
                if fault == "drop":
                    return
                if fault.startswith("slow"):
                    await asyncio.sleep(float(fault.split(":")[1]))
                if fault.startswith("late"):
                    await asyncio.sleep(float(fault.split(":")[1]))
                    await self._forward(lines, body)
                    return
                if fault.startswith("stall"):
                    await asyncio.sleep(float(fault.split(":")[1]))
                    return
                if fault == "500" or fault.startswith("429"):
                    writer.write(_synthetic(fault))
                    await writer.drain()
                    continue
                answer = await self._forward(lines, body)
                if fault == "drop_after" or not answer:
                    return
                if fault == "rewrite":
                    answer = _rewritten(answer, self.rewrite)
                writer.write(answer)
                await writer.drain()
                return  # the upstream said Connection: close; so do we
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _forward(self, lines: list[str], body: bytes) -> bytes:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return b""  # upstream down: the client sees a dropped connection
        kept = [ln for ln in lines[1:] if ln and not ln.lower().startswith("connection:")]
        head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        try:
            up_writer.write(head + body)
            await up_writer.drain()
            return await up_reader.read()  # until the upstream closes
        except ConnectionError:
            return b""
        finally:
            up_writer.close()


def _rewritten(answer: bytes, rewrite: Callable[[Any], Any]) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"content-length")]
    new = json.dumps(rewrite(json.loads(body))).encode()
    return b"\r\n".join([*lines, b"Content-Length: %d" % len(new)]) + b"\r\n\r\n" + new


def _synthetic(fault: str) -> bytes:
    if fault == "500":
        status, extra = "500 Internal Server Error", ""
        error = {"code": "internal_error", "message": "injected", "status": 500}
    else:
        seconds = fault.split(":")[1] if ":" in fault else "1"
        status, extra = "429 Too Many Requests", f"Retry-After: {seconds}\r\n"
        error = {"code": "rate_limited", "message": "injected", "status": 429}
    error["requestId"] = "req_proxy"
    payload = json.dumps({"error": error}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload
