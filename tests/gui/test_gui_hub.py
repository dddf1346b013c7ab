"""Hub mode in the window: serving, organiser keys, gate setup QRs that scan."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from scanner_app.core.demo_data import build_demo
from scanner_app.gui.settings import Settings
from scanner_app.sync import parse_setup


@pytest.fixture(autouse=True)
def _keys_in_a_file(no_os_keyring):
    """Keys go to the sync layer's 0600 file: CI has no OS keyring."""


def test_hub_mode_serves_and_makes_gate_setup_qrs(make_app, qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=3)
    scanner = make_app(
        qtbot, node, Settings(event_id=scenario.event_id), tmp_path, source_factory=lambda _s: None
    )
    scanner.start()
    try:
        qtbot.waitUntil(lambda: scanner.window.events != [])
        dialog = scanner.window.open_hub()
        assert not dialog.add_gate_button.isEnabled()
        dialog.port = 0
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: scanner.hub.running)
        # `running` is set on the hub's thread; the label follows its queued signal.
        qtbot.waitUntil(lambda: scanner.window.status.hub_label.isVisible())
        assert scanner.hub.public_url in scanner.window.status.hub_label.text()
        assert scanner.hub.public_url in dialog.state_label.text()
        dialog.new_organiser_key()
        qtbot.waitUntil(lambda: dialog.organiser_key.text().startswith("tk_"))
        dialog.gate_edit.setText("North door")
        dialog.add_gate()
        qtbot.waitUntil(lambda: dialog.setup_text.text() != "")
        setup = parse_setup(dialog.setup_text.text())
        assert (setup.url, setup.gate, setup.event_id) == (
            scanner.hub.public_url,
            "North door",
            scenario.event_id,
        )
        # A v2 code (DESIGN.md §10): a one-time enrolment code that expires, never the gate's
        # key; on loopback (this laptop only) plain HTTP, so no certificate to pin.
        assert setup.url.startswith("http://127.0.0.1:") and setup.enrol.startswith("tk_enrol_")
        assert setup.fp is None and setup.exp
        # ... and the dialog does not claim one: nothing is pinned over plain HTTP.
        assert "holds no key." in dialog.setup_hint.text()
        assert "certificate" not in dialog.setup_hint.text()
        # The QR as the dialog shows it scans back to that text (it was clipped before).
        qtbot.waitUntil(lambda: scanner_reads(dialog) == [dialog.setup_text.text()])
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not scanner.window.status.hub_label.isVisible())
        assert not scanner.hub.running
    finally:
        scanner.shutdown()


def test_a_hub_other_laptops_reach_serves_https_and_its_codes_pin_it(node, tmp_path):
    # Any address but this laptop's loopback names is served over HTTPS with the node's own
    # certificate (127.0.0.2 stands in for the venue LAN: still this machine).
    from scanner_app.gui.controllers.hub_controller import HubController  # noqa: PLC0415
    from scanner_app.gui.widgets.hub_dialog import setup_hint, text_pins  # noqa: PLC0415

    event_id = build_demo(node, tickets=3).event_id
    hub = HubController(node)
    url = hub.start(host="127.0.0.2", port=0)
    try:
        code = hub.new_gate("North door", event_id)
        setup = parse_setup(code)
        assert url.startswith("https://127.0.0.2:") and setup.url == url
        assert setup.fp == hub.server.certificate.fingerprint and setup.exp
        assert "pins this hub's certificate" in setup_hint(pinned=text_pins(code))
    finally:
        hub.stop()


def scanner_reads(widget):
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[
        :, : image.width() * 3
    ]
    found = zxingcpp.read_barcodes(
        pixels.reshape(image.height(), -1, 3), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return [r.text for r in found]


def test_serving_never_blocks_the_window(make_app, qtbot, node, tmp_path, monkeypatch):
    # Starting imports FastAPI and waits for uvicorn: it used to freeze the window.
    started = threading.Event()

    def slow_start(*_args, **_kwargs):
        time.sleep(1.0)
        started.set()
        raise OSError("port 8765 is taken")

    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    monkeypatch.setattr(scanner.hub, "start", slow_start)
    scanner.start()
    try:
        dialog = scanner.window.open_hub()
        t0 = time.perf_counter()
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        assert time.perf_counter() - t0 < 0.3
        assert "Starting" in dialog.state_label.text()
        assert not dialog.serve_button.isEnabled()
        qtbot.waitUntil(started.is_set, timeout=5000)
        qtbot.waitUntil(lambda: "port 8765 is taken" in dialog.state_label.text())
        assert dialog.serve_button.isEnabled()
    finally:
        scanner.shutdown()


def test_the_hub_dialog_asks_where_to_listen_and_names_that_address(
    make_app, qtbot, node, tmp_path
):
    # Issue 15.4: it bound 0.0.0.0:8765 with no choice and told staff gates connect at
    # http://127.0.0.1:... - an address no other laptop can use.
    from scanner_app.gui.controllers.hub_controller import lan_address  # noqa: PLC0415

    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        dialog = scanner.window.open_hub()
        assert dialog.address_combo.currentData() == "127.0.0.1"  # as `serve`: loopback first
        lan = lan_address()
        assert lan in dialog.address_combo.itemText(1) or "no network" in (
            dialog.address_combo.itemText(1)
        )
        assert dialog.port_spin.value() == 8765
        dialog.port = 0
        dialog.toggle()
        qtbot.waitUntil(lambda: scanner.hub.running)
        qtbot.waitUntil(lambda: scanner.hub.public_url in dialog.state_label.text())
        assert scanner.hub.public_url.startswith("http://127.0.0.1:")
        assert "only this laptop" in dialog.state_label.text()
        assert not dialog.port_spin.isEnabled()  # fixed while serving
        dialog.toggle()
        qtbot.waitUntil(lambda: not scanner.hub.running and dialog.port_spin.isEnabled())
    finally:
        scanner.shutdown()


def test_a_busy_port_is_named_in_words(make_app, qtbot, node, tmp_path):
    import socket  # noqa: PLC0415

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        dialog = scanner.window.open_hub()
        dialog.port = taken.getsockname()[1]
        dialog.toggle()
        qtbot.waitUntil(lambda: "already in use" in dialog.state_label.text(), timeout=15_000)
        assert "Errno" not in dialog.state_label.text() and not scanner.hub.running
    finally:
        taken.close()
        scanner.shutdown()
