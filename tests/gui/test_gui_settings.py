"""Settings persistence, PIN hashing, keyring use and the Settings dialog."""

from __future__ import annotations

import json
import logging

import pytest
from PySide6.QtCore import Qt

from scanner_app.core.node_config import DEFAULT_GATE, NodeConfig
from scanner_app.gui import settings as settings_mod
from scanner_app.gui.settings import Settings, hash_pin, verify_pin
from scanner_app.gui.widgets.settings_dialog import SettingsDialog


class RecordingKeyStore:
    """Where the dialog hands the upstream key (the app passes the sync KeyStore)."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.keys: list[str] = []

    def __call__(self, settings, key):
        self.keys.append(key)
        return self.ok


EVENTS = [
    {"id": "evt_club", "title": "Club night", "settings": {"allowReentry": True},
     "tiers": [{"name": "VIP"}, {"name": "General"}]},
    {"id": "evt_talk", "title": "A talk", "settings": {"allowReentry": False},
     "tiers": [{"name": "Seat"}]},
]  # fmt: skip


@pytest.fixture
def key_store():
    return RecordingKeyStore()


def test_defaults_when_no_file(node, settings_path):
    s = Settings.load(node, settings_path)
    assert s == Settings()
    assert (s.gate_name, s.direction, s.sounds, s.kiosk) == (DEFAULT_GATE, "in", True, False)


def test_round_trip_across_instances(node, settings_path):
    s = Settings(gate_name="North", event_id="evt_9", allowed_tiers=["VIP"], direction="out")
    s.set_kiosk_pin("2468")
    s.verdict_hold_ms = 4000
    s.node_config().save(node)
    s.save_screen(settings_path)
    again = Settings.load(node, settings_path)
    assert again == s
    assert again.check_kiosk_pin("2468")


def test_the_node_part_is_in_the_data_directory_and_the_screen_part_per_user(node, settings_path):
    s = Settings(gate_name="North", event_id="evt_9", sounds=False, verdict_hold_ms=4000)
    s.node_config().save(node)
    s.save_screen(settings_path)
    assert json.loads(settings_path.read_text()) == {
        "sounds": False,
        "verdict_hold_ms": 4000,
        "window_height": 0,
        "window_width": 0,
    }
    config = NodeConfig.load(node)
    assert (config.gate, config.event_ids) == ("North", ("evt_9",))
    # Another person on this laptop sees the same gate with their own screen settings.
    other = Settings.load(node, settings_path.parent / "other.json")
    assert (other.gate_name, other.event_id, other.sounds) == ("North", "evt_9", True)


def test_default_path_is_the_platform_config_dir():
    assert settings_mod.default_path().parent.name == "tickitz-scanner"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", "\x00\x01"])
def test_broken_file_warns_and_uses_defaults(settings_path, caplog, content):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(content)
    with caplog.at_level(logging.WARNING):
        s = Settings.load_screen(settings_path)
    assert s == Settings()
    assert any("using defaults" in r.message for r in caplog.records)


def test_a_file_that_is_not_utf8_warns_and_uses_defaults(settings_path, caplog):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_bytes(b'{"sounds": "\xff"}')
    with caplog.at_level(logging.WARNING):
        assert Settings.load_screen(settings_path) == Settings()
    assert any("is not UTF-8 text" in r.message for r in caplog.records)


def test_invalid_fields_dropped_others_kept(settings_path, caplog):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(
        json.dumps({"sounds": "yes", "verdict_hold_ms": -5, "window_width": 900, "unknown": 1})
    )
    with caplog.at_level(logging.WARNING):
        s = Settings.load_screen(settings_path)
    assert (s.sounds, s.verdict_hold_ms, s.window_width) == (True, 3000, 900)
    assert len([r for r in caplog.records if "ignoring invalid" in r.message]) == 2


def test_secrets_never_in_the_file(node, settings_path):
    s = Settings(upstream_key_stored=True)
    s.set_kiosk_pin("9876")
    s.save_screen(settings_path)
    s.node_config().save(node)
    data = json.loads(settings_path.read_text())
    assert not any("kiosk" in name or "key" in name for name in data)
    assert NodeConfig.load(node).kiosk_pin_hash == s.kiosk_pin_hash  # the hash, in the node


def test_pin_hash_is_salted_and_checked():
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b and a.startswith("scrypt$")
    assert verify_pin("1234", a) and verify_pin("1234", b)
    assert not verify_pin("1235", a)
    assert not verify_pin("1234", "")
    assert not verify_pin("1234", "scrypt$garbage")
    with pytest.raises(ValueError):
        hash_pin("")


def test_camera_source():
    assert Settings(camera="1").camera_source() == 1
    assert Settings(camera="rtsp://cam/1").camera_source() == "rtsp://cam/1"


@pytest.fixture
def dialog(qtbot, settings_path, key_store):
    s = Settings(gate_name="Gate 1")
    widget = SettingsDialog(s, path=settings_path, events=EVENTS, key_store=key_store)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_dialog_edits_persist(dialog, qtbot, settings_path, key_store):
    dialog.gate_edit.clear()
    qtbot.keyClicks(dialog.gate_edit, "South door")
    dialog.event_combo.setCurrentIndex(dialog.event_combo.findData("evt_club"))
    dialog.tiers_edit.setText("VIP, General ")
    dialog.direction_combo.setCurrentIndex(1)
    dialog.sounds_check.setChecked(False)
    dialog.hold_spin.setValue(5000)
    qtbot.keyClicks(dialog.key_edit, "tk_gate_key")
    qtbot.keyClicks(dialog.pin_edit, "4321")
    qtbot.keyClicks(dialog.pin_confirm, "4321")
    dialog.kiosk_check.setChecked(True)
    with qtbot.waitSignal(dialog.settings_saved):
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton
        )
    screen = json.loads(settings_path.read_text())
    assert (screen["sounds"], screen["verdict_hold_ms"]) == (False, 5000)
    loaded = dialog.result_settings.node_config()
    assert loaded.gate == "South door"
    assert loaded.event_ids == ("evt_club",)
    assert loaded.allowed_tiers == ("VIP", "General")
    assert loaded.direction == "out"
    assert loaded.kiosk and verify_pin("4321", loaded.kiosk_pin_hash)
    assert dialog.result_settings.upstream_key_stored
    assert key_store.keys == ["tk_gate_key"]
    assert "tk_gate_key" not in settings_path.read_text()
    assert not dialog.isVisible()


def test_dialog_refuses_mismatched_pin(dialog, qtbot, settings_path):
    qtbot.keyClicks(dialog.pin_edit, "1111")
    qtbot.keyClicks(dialog.pin_confirm, "2222")
    dialog.save()
    assert dialog.error_label.text() == "The two PINs differ"
    assert dialog.isVisible()
    assert not settings_path.exists()


def test_dialog_refuses_kiosk_without_pin(dialog, settings_path):
    dialog.kiosk_check.setChecked(True)
    dialog.save()
    assert "kiosk PIN" in dialog.error_label.text()
    assert not settings_path.exists()


def test_dialog_cancel_changes_nothing(dialog, qtbot, settings_path):
    qtbot.keyClicks(dialog.gate_edit, " changed")
    dialog.reject()
    assert not settings_path.exists()
    assert dialog.result_settings is None


def test_dialog_reports_a_key_that_cannot_be_stored(dialog, qtbot, settings_path, key_store):
    key_store.ok = False
    qtbot.keyClicks(dialog.key_edit, "tk_gate_key")
    dialog.save()
    assert "Could not store the key" in dialog.error_label.text()
    assert not settings_path.exists()


def test_without_a_key_store_the_key_field_is_disabled(qtbot, settings_path):
    widget = SettingsDialog(Settings(), path=settings_path)
    qtbot.addWidget(widget)
    assert not widget.key_edit.isEnabled()


def test_number_fields_show_their_values(dialog, qtbot):
    # With the app stylesheet, QAbstractSpinBox.NoButtons left a 1 px edit field: the
    # resolution, sync interval and verdict time were blank on screen.
    qtbot.waitExposed(dialog)
    for box in (dialog.width_spin, dialog.height_spin, dialog.sync_spin, dialog.hold_spin):
        edit = box.lineEdit()
        assert edit.width() > edit.fontMetrics().horizontalAdvance(edit.text()), box.text()


def test_every_field_has_the_dark_background(dialog, qtbot):
    # The style named QSpinBox only: the "Sync every" QDoubleSpinBox was a white bar with
    # light text on it, unreadable.
    qtbot.waitExposed(dialog)
    fields = (dialog.sync_spin, dialog.hold_spin, dialog.width_spin, dialog.gate_edit)
    for field in fields:
        image = field.grab().toImage()
        colour = image.pixelColor(image.width() - 12, image.height() // 2)  # no text there
        assert colour.lightness() < 100, (type(field).__name__, colour.name())


def test_dialog_refuses_an_unusable_upstream_address(dialog, settings_path):
    dialog.upstream_edit.setText("hub.local 8765")
    dialog.save()
    assert dialog.isVisible() and "Upstream URL" in dialog.error_label.text()
    assert not settings_path.exists()


def test_gui_gates_sync_as_often_as_cli_gates():
    # The GUI pulled every 15 s while `tickitz-scanner connect` gates pull every 3 s: a
    # ticket admitted at another gate could be admitted here again for 15 s.
    from scanner_app.sync.config import DEFAULT_INTERVAL_S

    assert Settings().sync_interval_s == DEFAULT_INTERVAL_S


def test_events_are_chosen_by_title_and_exit_needs_reentry(dialog):
    # The event was a typed "evt_…" id, and Exit was offered for events without re-entry.
    titles = [dialog.event_combo.itemText(i) for i in range(dialog.event_combo.count())]
    assert titles[1:] == ["Club night (evt_club)", "A talk (evt_talk)"]
    dialog.event_combo.setCurrentIndex(dialog.event_combo.findData("evt_talk"))
    assert not dialog.direction_combo.isEnabled()
    assert dialog.direction_combo.currentData() == "in"
    assert "Seat" in dialog.tiers_edit.placeholderText()
    dialog.event_combo.setCurrentIndex(dialog.event_combo.findData("evt_club"))
    assert dialog.direction_combo.isEnabled()
    assert "VIP, General" in dialog.tiers_edit.placeholderText()


def test_an_event_not_synced_yet_is_kept(qtbot, settings_path):
    s = Settings(event_id="evt_later")
    widget = SettingsDialog(s, path=settings_path, events=EVENTS)
    qtbot.addWidget(widget)
    assert widget.event_combo.currentData() == "evt_later"
    assert widget.collect().event_id == "evt_later"


def test_drop_down_choices_are_readable(dialog, qtbot):
    # The combo popups kept a light background under the app's light text: "Exit" and
    # the other choices could not be seen.
    combo = dialog.direction_combo
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    image = view.grab().toImage()
    colour = image.pixelColor(image.width() - 4, image.height() - 4)  # no text there
    assert colour.lightness() < 100, colour.name()
    combo.hidePopup()
