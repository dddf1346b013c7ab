"""Settings persistence, PIN hashing, keyring use and the Settings dialog."""

from __future__ import annotations

import json
import logging

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import Qt

from scanner_app.gui import settings as settings_mod
from scanner_app.gui.settings import Settings, hash_pin, verify_pin
from scanner_app.gui.settings_dialog import SettingsDialog


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring, which the CI machines do not have."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_defaults_when_no_file(settings_path):
    s = Settings.load(settings_path)
    assert s == Settings()
    assert (s.gate_name, s.direction, s.sounds, s.kiosk) == ("Gate 1", "in", True, False)


def test_round_trip_across_instances(settings_path):
    s = Settings(gate_name="North", event_id="evt_9", allowed_tiers=["VIP"], direction="out")
    s.set_kiosk_pin("2468")
    s.save(settings_path)
    again = Settings.load(settings_path)
    assert again == s
    assert again.check_kiosk_pin("2468")


def test_default_path_is_the_platform_config_dir():
    assert settings_mod.default_path().parent.name == "tickitz-scanner"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", "\x00\x01"])
def test_broken_file_warns_and_uses_defaults(settings_path, caplog, content):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(content)
    with caplog.at_level(logging.WARNING):
        s = Settings.load(settings_path)
    assert s == Settings()
    assert any("using defaults" in r.message for r in caplog.records)


def test_invalid_fields_dropped_others_kept(settings_path, caplog):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(
        json.dumps(
            {
                "gate_name": "East",
                "sync_interval_s": "fast",
                "sounds": "yes",
                "decoder": "magic",
                "allowed_tiers": ["VIP", 3],
                "camera_width": -5,
                "unknown": 1,
            }
        )
    )
    with caplog.at_level(logging.WARNING):
        s = Settings.load(settings_path)
    assert s.gate_name == "East"
    assert (s.sync_interval_s, s.sounds, s.decoder) == (15, True, "auto")
    assert (s.allowed_tiers, s.camera_width) == ([], 1280)
    assert len([r for r in caplog.records if "ignoring invalid" in r.message]) == 5


def test_secrets_never_in_the_file(settings_path, memory_keyring):
    s = Settings()
    s.set_kiosk_pin("9876")
    assert settings_mod.store_upstream_key(s, "tk_live_secret")
    s.save(settings_path)
    text = settings_path.read_text()
    assert "tk_live_secret" not in text and "9876" not in text
    assert json.loads(text)["upstream_key_stored"] is True
    assert settings_mod.load_upstream_key() == "tk_live_secret"
    assert settings_mod.store_upstream_key(s, "")
    assert settings_mod.load_upstream_key() is None
    assert s.upstream_key_stored is False


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
def dialog(qtbot, settings_path, memory_keyring):
    s = Settings(gate_name="Gate 1")
    widget = SettingsDialog(s, path=settings_path, known_tiers=["VIP", "General"])
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_dialog_edits_persist(dialog, qtbot, settings_path, memory_keyring):
    dialog.gate_edit.clear()
    qtbot.keyClicks(dialog.gate_edit, "South door")
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
    loaded = Settings.load(settings_path)
    assert loaded.gate_name == "South door"
    assert loaded.allowed_tiers == ["VIP", "General"]
    assert (loaded.direction, loaded.sounds, loaded.verdict_hold_ms) == ("out", False, 5000)
    assert loaded.kiosk and loaded.check_kiosk_pin("4321")
    assert loaded.upstream_key_stored
    assert memory_keyring.store[("tickitz-scanner", "upstream-api-key")] == "tk_gate_key"
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
