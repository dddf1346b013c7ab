"""A private gate in the real main window (offscreen, real node file): the verdict shows
the name of the ticket presented, the search panel says in plain text why it shows none."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.main_window import MainWindow
from scanner_app.gui.widgets.search_panel import SearchPanel

NAMES = ("Wilhelmina Quaxley", "Bartholomew Zinkovsky")


@pytest.fixture
def private_gate(tmp_path):
    """A gate holding a hub's manifest with names sealed per ticket (as a pull leaves it)."""
    hub = Node.open(tmp_path / "hub")
    event_id = hub.events.create(
        {"title": "Neon Nights", "tiers": [{"name": "GA", "price": 0, "quantity": 10}]}
    )["id"]
    hub.events.publish(event_id)
    tickets = [hub.tickets.issue(event_id, "GA", name)[0] for name in NAMES]
    gate = Node.open(tmp_path / "gate")
    gate.events.import_event(hub.events.get(event_id))
    gate.events.apply_upstream_jwks(event_id, hub.events.jwks(event_id))
    page = hub.tickets.feed(event_id, sealed=True)
    gate.tickets.import_manifest(event_id, page["data"], private=True)
    config = NodeConfig(private="on", gate="Kiosk 1", event_ids=(event_id,))
    config.save(gate)
    hub.close()
    yield gate, config, tickets
    gate.close()


def test_private_gate_names_the_presented_ticket_only(qtbot, private_gate, settings_path):
    gate, config, tickets = private_gate
    window = MainWindow(
        gate, Settings.from_node_config(config), settings_path=settings_path, sounds=SoundPlayer()
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    note = window.search.private_note
    assert note.isVisibleTo(window) and note.textFormat() == Qt.TextFormat.PlainText
    assert "names are not kept here" in note.text()
    for title in ("ADMIT", "ALREADY IN"):
        with qtbot.waitSignal(window.scan_displayed, timeout=3000):
            window.submit_payload(tickets[0]["qrPayload"], "camera")
        assert window.verdict.title_label.text() == title
        assert window.verdict.name_label.text() == NAMES[0]
    window.search.field.setText("Zinkovsky")
    qtbot.waitUntil(lambda: "No attendee matches" in window.search.hint.text(), timeout=3000)
    window.search.field.setText(tickets[1]["id"])
    qtbot.waitUntil(lambda: window.search.results.count() == 1, timeout=3000)
    assert window.search.results.item(0).text().startswith("(no name)")
    window.shutdown()


def test_an_ordinary_gate_shows_no_privacy_note(qtbot):
    panel = SearchPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.private_note.isVisible()
    assert "name" in panel.field.placeholderText()
    panel.set_private(True)
    assert panel.private_note.isVisible()
    assert panel.field.placeholderText() == "Search ticket or booking id…"


def test_settings_make_a_gate_private(qtbot, tmp_path, make_app):
    """The Settings dialog's "Attendee names" choice is the node's ``private`` setting (the
    one `config --private` writes): saved in the data directory, and the search says why."""
    gate = Node.open(tmp_path / "plain-gate")
    config = NodeConfig(gate="Door 2")
    config.save(gate)
    scanner = make_app(qtbot, gate, Settings.from_node_config(config), tmp_path)
    window = scanner.window
    window.show()
    assert not window.search.private_note.isVisibleTo(window)
    dialog = window.open_settings()
    assert dialog.private_combo.currentData() == "auto"
    dialog.private_combo.setCurrentIndex(dialog.private_combo.findData("on"))
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: NodeConfig.load(gate).private == "on", timeout=5000)
    assert window.search.private_note.isVisibleTo(window)
    assert gate.private_names()
    assert Settings.load(gate, tmp_path / "settings.json").private == "on"  # shown next time
    scanner.shutdown()
    gate.close()
