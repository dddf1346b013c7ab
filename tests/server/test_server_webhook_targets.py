"""Webhook SSRF: private targets refused unless allowed, one lookup per delivery, an error
log without connection details, and a worker that survives anything."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time

import httpx
import pytest
from hubkit import FAST_WEBHOOKS, assert_envelope, client_for, create_event, issue, make_key

from scanner_app.server import HubServer

STRICT = {**FAST_WEBHOOKS, "allow_private_webhooks": False}
REFUSED = [
    "http://127.0.0.1:9/x",
    "http://localhost:9/x",
    "http://LOCALHOST./x",
    "http://gate.localhost/x",
    "http://2130706433:9/x",  # 127.0.0.1 as one integer
    "http://0x7f.1/x",
    "http://127.1/x",
    "http://017700000001/x",  # octal
    "http://[::1]:9/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://0.0.0.0/x",
    "http://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "http://[fe80::1]/x",
    "http://10.0.0.5/x",
    "http://172.16.3.4/x",
    "http://192.168.1.20:8765/x",
    "http://100.64.0.1/x",  # carrier-grade NAT
    "http://224.0.0.251/x",  # multicast
    "http://[ff02::1]/x",
]


def loopback_name() -> str:
    """A host name (not an address literal) that resolves to 127.0.0.1 on this machine."""
    for name in (socket.gethostname(), "localhost"):
        try:
            if socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)[0][4][0] == "127.0.0.1":
                return name
        except OSError:
            continue
    pytest.skip("no host name resolves to 127.0.0.1 here")


@pytest.fixture
def strict_hub(hub_node):
    server = HubServer(hub_node, port=0, **STRICT).start()
    yield server
    server.stop()


@pytest.fixture
def strict_api(strict_hub):
    with client_for(strict_hub, make_key(strict_hub, rate_limit=100_000)) as client:
        yield client


def register(api, url, events=("ticket.created",)):
    return api.post("/v1/webhooks", json={"url": url, "events": list(events)})


def deliveries(api, hook_id):
    return api.get(f"/v1/webhooks/{hook_id}/deliveries").json()["data"]


def wait_attempted(api, hook_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = deliveries(api, hook_id)
        if rows and all(d["attempts"] for d in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError("no delivery attempt")


@pytest.mark.parametrize("url", REFUSED)
def test_private_targets_are_refused_by_default(strict_api, url):
    error = assert_envelope(register(strict_api, url), 400, "validation_error")
    assert "--allow-private-webhooks" in error["message"]
    assert strict_api.get("/v1/webhooks").json() == {"data": []}


def test_public_targets_are_accepted(strict_api):
    for url in ("https://hooks.example.com/tickitz", "http://93.184.216.34:8080/h"):
        assert register(strict_api, url).status_code == 201


def test_a_name_that_resolves_to_loopback_is_never_connected(strict_api, receiver):
    name = loopback_name()
    hook = register(strict_api, f"http://{name}:{receiver.port}/hook").json()
    event = create_event(strict_api)
    issue(strict_api, event["id"])
    rows = wait_attempted(strict_api, hook["id"])
    assert [d["lastError"] for d in rows] == ["delivery failed"]
    assert receiver.received == []


def test_the_venue_receiver_is_reached_with_the_flag_at_the_address_checked(
    api, event, receiver, monkeypatch
):
    name = loopback_name()
    lookups: list[str] = []
    real = socket.getaddrinfo

    def spy(host, *args, **kwargs):
        lookups.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    hook = register(api, f"http://{name}:{receiver.port}/hook").json()
    issue(api, event["id"])
    assert len(receiver.wait_for(1)) == 1
    headers, _, payload = receiver.received[0]
    assert payload["type"] == "ticket.created"
    assert headers["Host"] == f"{name}:{receiver.port}"  # the name, sent to the address
    # The name was looked up once; the connection went to the literal address it gave.
    assert lookups.count(name) == 1
    assert set(lookups) - {name} <= {"127.0.0.1"}
    deadline = time.monotonic() + 5  # marked after the receiver answered
    while deliveries(api, hook["id"])[0]["status"] != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_failed_connection_says_delivery_failed_and_nothing_more(api, event):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens: "connection refused" must not reach the log
    hook = register(api, f"http://127.0.0.1:{port}/hook").json()
    issue(api, event["id"])
    rows = wait_attempted(api, hook["id"])
    assert [(d["status"], d["lastError"]) for d in rows] == [("pending", "delivery failed")]


def test_the_worker_survives_an_error_while_computing_its_wait(
    hub, api, event, receiver, monkeypatch, caplog
):
    caplog.set_level(logging.ERROR, logger="scanner_app.server.webhooks")
    store = hub.hub.webhooks
    real_next_due = store.next_due
    failures = []

    def flaky():
        if len(failures) < 3:
            failures.append(1)
            raise sqlite3.OperationalError("database is locked")
        return real_next_due()

    monkeypatch.setattr(store, "next_due", flaky)
    deadline = time.monotonic() + 10
    while len(failures) < 3 and time.monotonic() < deadline:
        hub.app.state.worker._wake.set()
        time.sleep(0.05)
    assert len(failures) == 3
    assert "webhook worker iteration failed" in caplog.text
    register(api, receiver.url)
    issue(api, event["id"])
    assert len(receiver.wait_for(1)) == 1  # still delivering
    assert hub.app.state.worker._thread.is_alive()


def test_serve_refuses_private_targets_unless_allowed(tmp_path):
    from test_server_cli import start_serve, stop  # noqa: PLC0415

    for extra, expected in (((), 400), (("--allow-private-webhooks",), 201)):
        process, url, key = start_serve(tmp_path / str(len(extra)), *extra)
        try:
            answer = httpx.post(
                url + "/v1/webhooks",
                json={"url": "http://127.0.0.1:9/h", "events": ["ticket.used"]},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert answer.status_code == expected, answer.text
        finally:
            stop(process, 15)
