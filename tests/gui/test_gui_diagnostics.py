"""'Copy diagnostics': what it says about a running gate, and what it never says."""

from __future__ import annotations

import logging

from PySide6.QtGui import QGuiApplication

from scanner_app import __version__
from scanner_app.camera import FileSource
from scanner_app.camera.synth import write_reel
from scanner_app.core import applog
from scanner_app.core.demo_data import build_demo
from scanner_app.gui.diagnostics import diagnostics_text
from scanner_app.gui.settings import Settings

SECRET_KEY = "tk_live_" + "s3cr3tS3cr3tS3cr3tS3cr3t"


def test_copy_diagnostics_puts_the_gate_state_on_the_clipboard(make_app, qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=3)
    sample = scenario.samples[0]
    reel = write_reel([sample.payload], tmp_path / "reel.avi", fps=10, seconds_per_ticket=0.6)
    settings = Settings(
        gate_name="North door",
        event_id=scenario.event_id,
        upstream_url="https://door:hunter2@hub.example:8443",
        kiosk_pin_hash="scrypt$abc$def",
    )
    scanner = make_app(
        qtbot, node, settings, tmp_path, source_factory=lambda _s: FileSource(reel), sync=False
    )
    applog.configure(tmp_path / "logs")
    shown = []
    scanner.window.scan_displayed.connect(lambda result, *_: shown.append(result))
    scanner.start()
    try:
        qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
        logging.getLogger("scanner_app.test").warning(
            "upload refused for key %s, token %s", SECRET_KEY, sample.payload
        )
        action = scanner.diagnostics_action
        assert action.isVisible() and action.text() == "Copy diagnostics"
        action.trigger()
        text = QGuiApplication.clipboard().text()
    finally:
        scanner.shutdown()
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if not getattr(h, "_tickitz", False)
        ]
    assert text == diagnostics_text(scanner) or text.startswith(f"Tickitz Scanner {__version__}")
    assert f"Tickitz Scanner {__version__}" in text
    assert "Decoder: auto -> zxing" in text
    assert f"Event: {scenario.event_id}" in text
    assert "Upstream: https://***@hub.example:8443" in text
    assert f"Log file: {tmp_path / 'logs' / applog.LOG_FILENAME}" in text
    assert "upload refused for key tk_***, token <token>" in text
    # Never a key, a password, the PIN hash, a ticket token or an attendee's name.
    for secret in (SECRET_KEY, "hunter2", "scrypt$abc", sample.payload, shown[0].attendee_name):
        assert secret not in text
    assert scanner.window.verdict.title_label.text() == "Diagnostics copied"
    # The once-only lines the log keeps (and the bundle's smoke test waits for).
    logged = (tmp_path / "logs" / applog.LOG_FILENAME).read_text()
    assert "Camera ready: first frame shown" in logged
    assert "First verdict shown: admit (camera," in logged


def test_copy_diagnostics_is_hidden_in_kiosk_mode(make_app, qtbot, node, tmp_path):
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start(kiosk=True)
    try:
        assert not scanner.diagnostics_action.isVisible()
    finally:
        scanner.shutdown()
