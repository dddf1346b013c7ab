"""Shared fixtures for the GUI tests: offscreen Qt, the app stylesheet, a settings path."""

from __future__ import annotations

import os

# Before any Qt import: real widgets, no display needed (DESIGN.md section 8).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from scanner_app.core.demo_data import build_demo  # noqa: E402
from scanner_app.core.node import Node  # noqa: E402
from scanner_app.gui import assets  # noqa: E402
from scanner_app.server.runner import HubServer  # noqa: E402


@pytest.fixture(autouse=True)
def styled_app(qapp):
    """Every GUI test runs under the real application stylesheet, as the app does."""
    qapp.setStyleSheet(assets.stylesheet())
    yield qapp


@pytest.fixture
def settings_path(tmp_path):
    return tmp_path / "config" / "settings.json"


@pytest.fixture
def no_os_keyring(monkeypatch):
    # Keys go to the sync layer's 0600 file: CI has no OS keyring.
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")
    monkeypatch.delenv("TICKITZ_API_KEY", raising=False)


@pytest.fixture
def node(tmp_path):
    """The gate's node: a real SQLite file."""
    n = Node.open(tmp_path / "gate")
    yield n
    n.close()


@pytest.fixture
def make_app():
    """``make_app(qtbot, node, settings, tmp_path, **ScannerApp options)``, muted."""
    from scanner_app.gui.app import ScannerApp  # noqa: PLC0415
    from scanner_app.gui.sounds import SoundPlayer  # noqa: PLC0415

    def make(qtbot, node, settings, tmp_path, **kwargs):
        scanner = ScannerApp(
            node, settings, settings_path=tmp_path / "settings.json", sounds=SoundPlayer(), **kwargs
        )
        qtbot.addWidget(scanner.window)
        return scanner

    return make


@pytest.fixture
def hub(tmp_path):
    """A real venue hub (its own node) on a free port, with a gate key for us."""
    hub_node = Node.open(tmp_path / "hub")
    scenario = build_demo(hub_node, tickets=5)
    server = HubServer(hub_node, port=0).start()
    _device, key = server.hub.devices.create("Gate 7", scenario.event_id, "Gate 7")
    yield server, scenario, key
    server.stop()
    hub_node.close()
