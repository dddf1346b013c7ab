"""No taking a gate over by camera (DESIGN.md §10, issue 10 items 2 and 7): real hubs over
real pinned HTTPS, the real camera pipeline reading a video of setup codes, real widgets.

- first run: a setup code held up to the camera joins in one step; the link shows secure;
- a connected kiosk ignores every setup code its camera sees (nothing changes, the code is
  not even redeemed); a connected gate asks a person, a kiosk asks for the PIN.
"""

from __future__ import annotations

import pytest

from scanner_app.camera import FileSource
from scanner_app.camera.synth import write_reel
from scanner_app.core.demo_data import build_demo
from scanner_app.core.node import Node
from scanner_app.gui.settings import Settings
from scanner_app.server.runner import HubServer
from scanner_app.sync import KeyStore, SyncConfig, parse_setup
from scanner_app.sync.enrolment import enrol

SYNC = {"backoff_s": 0.2, "max_backoff_s": 0.5, "timeout_s": 2.0, "retries": 0}


@pytest.fixture(autouse=True)
def _keys_in_a_file(no_os_keyring):
    """Keys go to the sync layer's 0600 file: CI has no OS keyring."""


def _tls_hub(path, gate: str):
    node = Node.open(path)
    scenario = build_demo(node, tickets=3)
    server = HubServer(node, port=0, tls=True).start()
    made = server.hub.create_gate(gate, scenario.event_id, gate, server.url)
    return node, server, scenario, made


@pytest.fixture
def venue(tmp_path):
    node, server, scenario, made = _tls_hub(tmp_path / "hub", "Gate 7")
    yield server, scenario, made
    server.stop()
    node.close()


@pytest.fixture
def attacker(tmp_path):
    """Someone's own hub, and the setup code for it they hold up to the gate."""
    node, server, _scenario, made = _tls_hub(tmp_path / "attacker", "evil")
    yield server, made
    server.stop()
    node.close()


def unspent(server: HubServer) -> int:
    return server.node.db.query_one("SELECT COUNT(*) FROM enrolments WHERE used_at IS NULL")[0]


def connected_settings(node, server, scenario, made) -> Settings:
    """A gate already enrolled with `server` (pinned), as after its first run."""
    offer = parse_setup(made["setupPayload"])
    joined = enrol(node, offer)
    SyncConfig(
        offer.url, (scenario.event_id,), "Gate 7", interval_s=0.3, certificate=joined.certificate
    ).save(node)
    KeyStore(node.data_dir, node.device_id).set(joined.key)
    return Settings(
        upstream_url=offer.url,
        upstream_key_stored=True,
        event_id=scenario.event_id,
        gate_name="Gate 7",
    )


def connected_app(make_app, qtbot, node, tmp_path, venue, source_factory):
    """The app of a gate already connected to the venue's hub: (app, its settings)."""
    server, scenario, made = venue
    settings = connected_settings(node, server, scenario, made)
    scanner = make_app(
        qtbot, node, settings, tmp_path, source_factory=source_factory, sync_options=SYNC
    )
    return scanner, settings


def test_first_run_joins_from_the_camera_in_one_step_over_pinned_https(
    make_app, qtbot, node, tmp_path, venue
):
    server, scenario, made = venue
    reel = write_reel([made["setupPayload"]], tmp_path / "setup.avi", fps=10, gap_seconds=0.3)
    scanner = make_app(
        qtbot,
        node,
        Settings(),
        tmp_path,
        source_factory=lambda _s: FileSource(reel),
        sync_options=SYNC,
    )
    scanner.start()
    status = scanner.window.status
    try:
        qtbot.waitUntil(lambda: status.connection_label.text().startswith("Online"), timeout=20_000)
        qtbot.waitUntil(lambda: status.link_label.text() == "Secure link", timeout=5_000)
        assert status.link_label.isVisible()
        assert scanner.settings.gate_name == "Gate 7"
        saved = SyncConfig.load(node)
        assert saved.url.startswith("https://") and saved.certificate
        assert unspent(server) == 0  # the code was redeemed, once
        stored = KeyStore(node.data_dir, node.device_id).get()[0]
        assert stored and stored not in made["setupPayload"]
    finally:
        scanner.shutdown()


def test_a_connected_kiosk_ignores_setup_codes_its_camera_sees(
    make_app, qtbot, node, tmp_path, venue, attacker
):
    server = venue[0]
    evil_server, evil = attacker
    reel = write_reel([evil["setupPayload"]], tmp_path / "evil.avi", fps=10, gap_seconds=0.3)
    scanner, settings = connected_app(
        make_app, qtbot, node, tmp_path, venue, lambda _s: FileSource(reel)
    )
    seen: list[tuple[str, str]] = []
    scanner.window.setup_scanned.connect(lambda text, source: seen.append((text, source)))
    asked: list[str] = []
    scanner.upstream.ask_pin = lambda: asked.append("pin") or True  # would say yes: not asked
    scanner.start(kiosk=True)
    try:
        qtbot.waitUntil(lambda: scanner.window.preview.message == "Video ended", timeout=20_000)
        assert (evil["setupPayload"], "camera") in seen  # the pipeline did read the code
        assert asked == []  # a kiosk does not even ask
        assert scanner.settings.upstream_url == settings.upstream_url
        assert server.url in SyncConfig.load(node).url
        assert unspent(evil_server) == 1  # nothing was sent to the attacker's hub
        assert scanner.window.verdict.title_label.text() != "Connecting…"
    finally:
        scanner.shutdown()


def test_a_connected_gate_asks_a_person_and_a_kiosk_its_pin(
    make_app, qtbot, node, tmp_path, venue, attacker
):
    server = venue[0]
    evil_server, evil = attacker
    scanner, settings = connected_app(make_app, qtbot, node, tmp_path, venue, lambda _s: None)
    questions: list[tuple[str, str]] = []
    pins: list[str] = []
    scanner.upstream.confirm_switch = lambda current, new: questions.append((current, new)) or False
    scanner.upstream.ask_pin = lambda: pins.append("pin") or False
    scanner.start()
    label = scanner.window.status.connection_label
    try:
        qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=15_000)
        scanner.window.submit_payload(evil["setupPayload"], "camera")
        assert questions == [(settings.upstream_url, evil_server.url)]
        assert scanner.window.verdict.title_label.text() == "Not switched"
        scanner.window.enter_kiosk(force=True)
        another = evil_server.hub.create_gate("evil 2", evil["eventId"], "evil", evil_server.url)
        scanner.window.submit_payload(another["setupPayload"], "wedge")  # a USB scanner
        assert pins == ["pin"] and len(questions) == 1
        assert scanner.settings.upstream_url == settings.upstream_url
        assert server.url in SyncConfig.load(node).url
        assert unspent(evil_server) == 2  # neither code was redeemed
    finally:
        scanner.shutdown()
