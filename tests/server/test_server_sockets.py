"""Slowloris: half-sent requests time out, connection caps hold, other gates are answered."""

from __future__ import annotations

import resource
import socket
import ssl
import subprocess
import time

import httpx
import pytest
from test_server_cli import start_serve

from scanner_app.core.node import Node
from scanner_app.server import HubServer
from scanner_app.server.sockets import SocketLimits

HALF_REQUEST = b"GET /v1/events HTTP/1.1\r\nHost: hub\r\nX-Slow: "  # never finished


def half_open(port: int, source: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.sendall(HALF_REQUEST)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the hub closed ``sock`` (None if it is still open after ``seconds``)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        data = sock.recv(1024)
    except TimeoutError:
        return None
    except ConnectionResetError:
        data = b""
    assert data == b""  # closed without an answer
    return time.monotonic() - start


@pytest.fixture
def node(tmp_path):
    with Node.open(tmp_path / "hub") as opened:
        yield opened


def test_half_sent_requests_are_closed_and_other_gates_are_answered(node):
    limits = SocketLimits(header_timeout=1.0, body_timeout=1.0, per_client=8)
    with HubServer(node, port=0, socket_limits=limits) as server:
        opened = time.monotonic()
        attackers = [half_open(server.port, "127.0.0.2") for _ in range(40)]
        # Over the per-address cap: closed at once, nothing read.
        refused = [s for s in attackers[8:] if closed_within(s, 0.5) is not None]
        assert len(refused) == 32
        # Meanwhile another gate is answered at once, more than once.
        with httpx.Client(base_url=server.url, timeout=2) as gate:
            for _ in range(3):
                started = time.monotonic()
                assert gate.get("/v1/events").status_code == 401  # an answer, not a hang
                assert time.monotonic() - started < 0.5
        # The eight the hub took are closed at the header deadline, not kept for ever.
        lifetimes = [closed_within(s, 3.0) for s in attackers[:8]]
        assert all(t is not None for t in lifetimes)
        lived = time.monotonic() - opened
        assert 0.9 < lived < 2.5
        for s in attackers:
            s.close()
        # Their slots are free again for that address.
        late = half_open(server.port, "127.0.0.2")
        assert closed_within(late, 0.3) is None
        late.close()


def test_a_tls_handshake_never_finished_is_closed_at_the_header_deadline(node):
    # The guarded protocol sees a TLS connection only once its handshake is done; asyncio
    # alone kept a silent one for 60 s.
    limits = SocketLimits(header_timeout=1.0, body_timeout=1.0)
    with HubServer(node, port=0, socket_limits=limits, tls=True) as server:
        silent = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(5)]
        lifetimes = [closed_within(s, 5.0) for s in silent]
        assert all(t is not None and t < 2.5 for t in lifetimes), lifetimes
        for s in silent:
            s.close()
        pinned = ssl.create_default_context(cafile=str(server.certificate.cert_path))
        pinned.check_hostname = False
        with httpx.Client(base_url=server.url, verify=pinned, timeout=5) as gate:
            assert gate.get("/v1/events").status_code == 401  # answered over TLS


def test_a_slow_body_is_closed_and_a_finished_one_is_served(node):
    limits = SocketLimits(header_timeout=1.0, body_timeout=0.5)
    with HubServer(node, port=0, socket_limits=limits) as server:
        _, key = server.hub.keys.create("gate", ["checkin:write"])
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        slow.sendall(
            b"POST /v1/checkin/batch HTTP/1.1\r\nHost: hub\r\nContent-Length: 100\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b'Content-Type: application/json\r\n\r\n{"deviceId": '
        )
        lived = closed_within(slow, 3.0)
        assert lived is not None and 0.4 < lived < 1.5
        slow.close()
        # A request sent in pieces, each well inside the deadline, is answered.
        ok = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        for piece in (b"GET /v1/events HTTP/1.1\r\n", b"Host: hub\r\n", b"\r\n"):
            ok.sendall(piece)
            time.sleep(0.1)  # a slow but honest client, not a synchronisation
        assert ok.recv(1024).startswith(b"HTTP/1.1 401")
        ok.close()


def test_total_cap_spans_addresses(node):
    limits = SocketLimits(header_timeout=5.0, per_client=100, total=12)
    with HubServer(node, port=0, socket_limits=limits) as server:
        held = [half_open(server.port, f"127.0.0.{10 + i}") for i in range(12)]
        assert all(closed_within(s, 0.2) is None for s in held)
        extra = half_open(server.port, "127.0.0.99")
        assert closed_within(extra, 0.5) is not None  # the 13th, from a fresh address
        for s in held + [extra]:
            s.close()


def _descriptors_64() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_serve_with_64_descriptors_keeps_answering_under_slowloris(tmp_path, monkeypatch):
    # The reported attack: 40 half-sent requests against a hub limited to 64 descriptors.
    real_popen = subprocess.Popen
    monkeypatch.setattr(
        subprocess, "Popen", lambda *a, **k: real_popen(*a, preexec_fn=_descriptors_64, **k)
    )
    process, url, key = start_serve(tmp_path)
    monkeypatch.undo()
    try:
        port = int(url.rsplit(":", 1)[1])
        attackers = [half_open(port, "127.0.0.2") for _ in range(40)]
        with httpx.Client(base_url=url, timeout=3) as gate:
            for _ in range(5):
                answer = gate.get("/v1/events", headers={"Authorization": f"Bearer {key}"})
                assert answer.status_code == 200
        assert process.poll() is None
        for s in attackers:
            s.close()
    finally:
        process.terminate()
        process.communicate(timeout=20)
