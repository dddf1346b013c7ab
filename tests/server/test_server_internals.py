"""The pieces under the routes: group commit, the lean hot path, HubServer."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pytest
from hubkit import assert_envelope, client_for, enrolled, issue

from scanner_app.core.apikeys import ApiKeyStore
from scanner_app.core.errors import ValidationError
from scanner_app.server import HubServer
from scanner_app.server.writer import GroupWriter


def test_group_writer_rolls_back_only_the_failing_unit(hub_node):
    writer = GroupWriter(hub_node.db)
    gate = threading.Event()

    def blocker(conn):
        gate.wait(5)  # holds the writer so the next units queue up into one group
        return "first"

    def insert(key):
        def work(conn):
            conn.execute("INSERT INTO node_settings (key, value) VALUES (?, 'x')", (key,))
            if key == "bad":
                raise ValidationError("no", field="key")
            return key

        return work

    first = writer.submit(blocker)
    futures = [writer.submit(insert(k)) for k in ("a", "bad", "b")]
    gate.set()
    assert first.result(5) == "first"
    assert futures[0].result(5) == "a" and futures[2].result(5) == "b"
    with pytest.raises(ValidationError):
        futures[1].result(5)
    keys = {r[0] for r in hub_node.db.query("SELECT key FROM node_settings")}
    assert {"a", "b"} <= keys and "bad" not in keys
    assert writer.groups < writer.units  # several units shared a commit
    writer.stop()
    assert writer.run(lambda conn: 42) == 42  # restarts on demand
    writer.stop()


def test_answers_come_only_after_the_commit(hub_node):
    seen = []
    writer = GroupWriter(hub_node.db, after_commit=lambda: seen.append("committed"))
    future = writer.submit(lambda conn: conn.in_transaction)
    assert future.result(5) is True and seen == ["committed"]
    writer.stop()


def test_hot_path_errors_keep_the_envelope(api, event):
    def chunks():
        yield b'{"checkins": ['
        for _ in range(20):
            yield b'{"id": "' + b"x" * 65536 + b'"},'
        yield b"{}]}"

    response = api.post(
        "/v1/checkin/batch", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")
    assert_envelope(
        api.post("/v1/checkin/scan", content=b"", headers={"Content-Type": "application/json"}),
        400,
        "validation_error",
    )
    error = assert_envelope(api.post("/v1/checkin/scan", json={"qrPayload": "x"}), 400)
    assert error["field"] == "eventId" and error["message"] == "eventId is required"
    error = assert_envelope(
        api.post(
            "/v1/checkin/scan",
            json={"qrPayload": "x", "eventId": event["id"], "scannedBy": "g", "direction": "up"},
        ),
        400,
    )
    assert error["field"] == "direction"
    form = api.post(
        "/v1/checkin/scan", content=b"qrPayload=x", headers={"Content-Type": "text/plain"}
    )
    assert_envelope(form, 400, "validation_error")  # not JSON: the framework's path answers
    assert_envelope(api.get("/v1/checkin/scan"), 405, "method_not_allowed")


def test_hub_server_in_process(hub_node):
    server = HubServer(hub_node, port=0)
    assert not server.running
    server.start()
    try:
        assert server.running and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        secret = ApiKeyStore(hub_node.db).ensure_organiser()
        assert secret and ApiKeyStore(hub_node.db).ensure_organiser() is None
        with client_for(server, secret) as api:
            event = api.post("/v1/events", json={"title": "E", "tiers": [{"name": "GA"}]}).json()
            gate = server.hub.create_gate("Laptop", event["id"], "north", "http://10.0.0.5:8765/")
            setup = json.loads(base64.urlsafe_b64decode(gate["setupPayload"][14:]))
            assert setup["url"] == "http://10.0.0.5:8765" and "key" not in setup
            assert setup["v"] == 2 and setup["enrol"].startswith("tk_enrol_")
            assert api.get("/v1/devices").json()["data"][0]["id"] == gate["id"]
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{server.port}/", timeout=1)


def test_gate_key_revoked_in_this_process_is_refused_at_once(hub, api, event):
    device = api.post("/v1/devices", json={"name": "L", "eventId": event["id"], "gate": "g"}).json()
    device = enrolled(api, device)
    ticket = issue(api, event["id"])[0]
    body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "g"}
    with client_for(hub, device["key"]) as gate:
        assert gate.post("/v1/checkin/scan", json=body).status_code == 200  # now cached
        hub.hub.keys.revoke(device["keyId"])
        assert_envelope(gate.post("/v1/checkin/scan", json=body), 401, "unauthorized")
