"""Joining a hub and talking to it over pinned HTTPS (DESIGN.md §10), with real parts: the
hub app under uvicorn serving real TLS on 127.0.0.1, real httpx, a real man in the middle.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from click.testing import CliRunner
from harness import FAST, issuer_with_event

from scanner_app.cli import cli
from scanner_app.core.door import Door
from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.server import HubServer
from scanner_app.server.tls import ensure_certificate
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.config import SyncConfig, make_setup, parse_setup
from scanner_app.sync.engine import SyncEngine
from scanner_app.sync.enrolment import EnrolmentFailed, enrol
from scanner_app.sync.errors import Untrusted
from scanner_app.sync.probe import ProbeOutcome, probe_upstream
from scanner_app.sync.tls import pinned_context


@pytest.fixture
def venue(tmp_path):
    node, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=2)
    server = HubServer(node, port=0, tls=True, deliver_webhooks=False).start()
    yield server, event_id, tickets
    server.stop()
    node.close()


def offer(server: HubServer, event_id: str, gate: str = "north") -> dict:
    return server.hub.create_gate(gate, event_id, gate, server.url)


def test_a_gate_enrols_over_pinned_https_and_syncs(venue, tmp_path):
    server, event_id, tickets = venue
    made = offer(server, event_id)
    assert "key" not in made and made["enrolExpiresAt"].endswith("Z")
    setup = parse_setup(made["setupPayload"])
    assert setup.url.startswith("https://") and setup.fp == server.certificate.fingerprint
    assert setup.enrol.startswith("tk_enrol_") and "tk_live_" not in made["setupPayload"]
    with Node.open(tmp_path / "gate") as gate:
        joined = enrol(gate, setup)
        assert joined.key.startswith("tk_live_") and joined.key not in made["setupPayload"]
        config = SyncConfig(setup.url, (event_id,), "north", certificate=joined.certificate)
        engine = SyncEngine(gate, config, joined.key, **FAST)
        try:
            report = engine.run_once()
            assert report.ok, report.to_dict()
            assert report.tickets == len(tickets)
            assert engine.status().link == "pinned"
            verdict = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
            assert verdict.success
            assert engine.run_once(pull=False).answers == {"recorded": 1}
        finally:
            engine.stop()
        # The code is spent: a second gate holding a photo of it gets nothing.
        with pytest.raises(EnrolmentFailed, match="unknown, already used or expired"):
            enrol(gate, setup)


def test_a_version_1_code_is_refused_saying_why():
    body = {"v": 1, "url": "http://10.0.0.5:8765", "key": "tk_live_x", "eventId": "e", "gate": "g"}
    text = "tickitz-setup:" + base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(ValidationError, match="version 1 setup code: it carries the gate's key"):
        parse_setup(text)


def test_another_certificate_is_refused_naming_both_and_nothing_is_sent(venue, tmp_path):
    server, event_id, _ = venue
    other_node = Node.open(tmp_path / "other")
    other = HubServer(other_node, port=0, tls=True, deliver_webhooks=False).start()
    try:
        theirs = parse_setup(offer(server, event_id)["setupPayload"])
        # The right code, but the address now leads to another TLS server (a hub that took
        # over the address, or an interceptor): its certificate is not the pinned one.
        hijacked = replace(
            parse_setup(offer(server, event_id, "south")["setupPayload"]), url=other.url
        )
        with Node.open(tmp_path / "gate") as gate, pytest.raises(EnrolmentFailed) as caught:
            enrol(gate, hijacked)
        message = str(caught.value)
        assert server.certificate.fingerprint in message
        assert other.certificate.fingerprint in message
        # Nothing was sent: the code is still unspent at the real hub.
        with Node.open(tmp_path / "gate2") as gate:
            assert enrol(gate, replace(hijacked, url=server.url)).key
            joined = enrol(gate, theirs)
        # A gate pinned to the real hub pointed at the other one: refused, both named.
        config = SyncConfig(other.url, (event_id,), "north", certificate=joined.certificate)
        with Node.open(tmp_path / "gate4") as gate:
            engine = SyncEngine(gate, config, joined.key, **FAST)
            report = engine.run_once()
            engine.stop()
        assert not report.ok
        assert server.certificate.fingerprint in report.error
        assert other.certificate.fingerprint in report.error
    finally:
        other.stop()
        other_node.close()


class RewritingProxy:
    """A man in the middle on 127.0.0.1: terminates TLS with its own certificate, forwards
    to the real hub and rewrites what comes back (cancellations become valid, an extra key
    joins the key set). `requests` counts what reached it."""

    def __init__(self, upstream: str, cert_dir) -> None:
        proxy = self
        self.requests = 0
        cert = ensure_certificate(cert_dir, ("127.0.0.1",))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                proxy.requests += 1
                headers = {"Authorization": self.headers.get("Authorization", "")}
                with httpx.Client(verify=False) as client:
                    answer = client.get(upstream + self.path, headers=headers)
                body = answer.text.replace('"cancelled"', '"valid"')
                if self.path.endswith("/keys"):
                    data = json.loads(body)
                    data["keys"].append({**data["keys"][0], "kid": "attacker"})
                    body = json.dumps(data)
                raw = body.encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert.cert_path, cert.key_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.fingerprint = cert.fingerprint
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RewritingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rewriting_man_in_the_middle_is_refused_by_a_pinned_gate(venue, tmp_path):
    server, event_id, tickets = venue
    server.hub.cancel_ticket(tickets[1]["id"])
    setup = parse_setup(offer(server, event_id)["setupPayload"])
    with Node.open(tmp_path / "gate") as gate:
        joined = enrol(gate, setup)
        with RewritingProxy(server.url, tmp_path / "mitm") as proxy:
            # The proxy works: without a pin (trusting anything) it rewrites the answers.
            with httpx.Client(verify=False) as naive:
                headers = {"Authorization": f"Bearer {joined.key}"}
                keys = naive.get(f"{proxy.url}/v1/events/{event_id}/keys", headers=headers)
                assert "attacker" in keys.text
            seen = proxy.requests
            config = SyncConfig(proxy.url, (event_id,), "north", certificate=joined.certificate)
            engine = SyncEngine(gate, config, joined.key, **FAST)
            report = engine.run_once()
            engine.stop()
            assert not report.ok
            assert proxy.fingerprint in report.error
            assert server.certificate.fingerprint in report.error
            assert proxy.requests == seen  # the pinned gate sent it nothing
        # Nothing of the rewritten answers reached the gate's store.
        assert gate.db.query_one("SELECT COUNT(*) FROM event_keys")[0] == 0
        assert gate.db.query_one("SELECT COUNT(*) FROM tickets")[0] == 0


def test_plain_http_to_another_machine_needs_an_explicit_flag():
    with pytest.raises(Untrusted, match="plain HTTP to another machine"):
        TickitzClient("http://192.0.2.10:8765", "tk_live_x")
    with TickitzClient("http://192.0.2.10:8765", "tk_live_x", insecure_http=True) as client:
        assert client.link == "insecure"
    with TickitzClient("http://127.0.0.1:1", "tk_live_x") as client:
        assert client.link == "loopback"


def test_central_over_https_is_checked_against_the_system_cas(venue):
    """A hub chained to central has no pin: the system CA store decides, so a self-signed
    server (our hub here) is not trusted."""
    server, event_id, _ = venue
    with TickitzClient(server.url, "tk_live_x", retries=0) as client:
        assert client.link == "tls"
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            client.get_event(event_id)


def test_an_https_hub_makes_no_setup_code_for_a_plain_http_address(venue, tmp_path):
    """The organiser types the hub's LAN address without https (the dashboard's "Hub address
    for gates"): the code would pin the certificate on http://, and the gate would speak plain
    HTTP to the TLS port and only ever hear "Server disconnected". Refused at both ends."""
    server, event_id, _ = venue
    _, key = server.hub.keys.create("organiser", ("events:read", "events:write"))
    pem = server.certificate.cert_path.read_text()
    plain = server.url.replace("https://", "http://")
    with httpx.Client(
        base_url=server.url, verify=pinned_context(pem), headers={"Authorization": f"Bearer {key}"}
    ) as organiser:
        body = {"name": "north door", "eventId": event_id, "gate": "north"}
        refused = organiser.post("/v1/devices", json={**body, "url": plain})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["field"] == "url" and "must start with https://" in error["message"]
        assert organiser.get("/v1/devices").json()["data"] == []  # no device was made
        made = organiser.post("/v1/devices", json={**body, "url": server.url})
        assert made.status_code == 201, made.text
    # A code like that from elsewhere (an older hub): the gate refuses it before enrolling.
    setup = parse_setup(made.json()["setupPayload"])
    mixed = make_setup(plain, setup.enrol, event_id, "north", setup.fp, setup.exp)
    with pytest.raises(ValidationError, match="plain http:// address"):
        parse_setup(mixed)
    with Node.open(tmp_path / "gate") as gate:  # the real code still enrols: nothing was spent
        assert enrol(gate, setup).key.startswith("tk_live_")


def test_plain_http_to_an_https_hub_is_refused_saying_so_and_connect_saves_nothing(venue, tmp_path):
    """`connect http://HUB:PORT` to a hub that speaks HTTPS: the hub hangs up on plain HTTP,
    which used to read "Server disconnected" and was saved as merely unreachable (offline
    for ever). Now one line says the address speaks HTTPS, and nothing is saved."""
    server, event_id, _ = venue
    with Node.open(tmp_path / "enrolled") as gate:
        key = enrol(gate, parse_setup(offer(server, event_id)["setupPayload"])).key
    plain = server.url.replace("https://", "http://")
    probe = probe_upstream(SyncConfig(plain, (event_id,), "north"), key)
    assert probe.outcome is ProbeOutcome.REFUSED
    assert "speaks HTTPS, not plain HTTP" in probe.message
    data = tmp_path / "gate"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data), "connect", plain, "--key", key, "--event", event_id]
    )
    assert result.exit_code == 2 and "speaks HTTPS, not plain HTTP" in result.stderr
    assert key not in result.output
    with Node.open(data) as node:
        assert SyncConfig.load(node) is None  # no upstream saved ...
    assert not (data / "upstream.key").exists()  # ... and no key stored
