"""The app on failing storage (issue 16 items 3-4): a scan it could not store shows no
verdict and says why in the status bar; a settings file that is not text means defaults."""

from __future__ import annotations

import logging
import resource
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanner_app.core.demo_data import build_demo
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from faultfs import can_mount_tmpfs, fill_disk, small_disk  # noqa: E402


def test_a_settings_file_that_is_not_utf8_gives_defaults_and_names_the_file(settings_path, caplog):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_bytes(b'{"gate_name": "Gate \xff\xfe 9"}')
    with caplog.at_level(logging.WARNING):
        loaded = Settings.load_screen(settings_path)
    assert loaded == Settings()
    assert str(settings_path) in caplog.text and "not UTF-8" in caplog.text


@contextmanager
def full_disk(where: Path):
    """(node folder, make the disk full, free it): a tmpfs as root, else RLIMIT_FSIZE on
    this process (only while full; SIGXFSZ ignored so writes fail instead of killing)."""
    if can_mount_tmpfs(where / "probe"):
        with small_disk(where / "disk", 2048) as disk:
            holder: dict[str, Path] = {}

            def fill() -> None:
                holder["filler"] = fill_disk(disk, leave_kb=0)

            def free() -> None:
                holder.pop("filler").unlink()

            yield disk / "gate", fill, free
        return
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    home = where / "gate"

    def fill() -> None:
        sizes = [p.stat().st_size for p in home.iterdir() if p.is_file()]
        resource.setrlimit(resource.RLIMIT_FSIZE, (max(sizes), previous[1]))

    def free() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)

    try:
        yield home, fill, free
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)
        signal.signal(signal.SIGXFSZ, old_handler)


@pytest.fixture
def full(tmp_path):
    with full_disk(tmp_path) as parts:
        yield parts


def test_a_scan_on_a_full_disk_shows_no_verdict_and_says_why_in_the_status_bar(
    qtbot, full, settings_path
):
    home, fill, free = full
    node = Node.open(home)
    window = None
    try:
        scenario = build_demo(node, tickets=5)
        settings = Settings(gate_name="Gate 2", event_id=scenario.event_id)
        window = MainWindow(node, settings, settings_path=settings_path, sounds=SoundPlayer())
        qtbot.addWidget(window)
        window.show()
        label = window.status.storage_label
        assert label.isHidden()
        worker = window.client.worker
        fill()
        with qtbot.assertNotEmitted(window.scan_displayed, wait=200):
            with qtbot.waitSignal(worker.storage_failed, timeout=5000) as failed:
                window.submit_payload(scenario.ticket_payloads[1], "camera")
        why = failed.args[0]
        assert str(home / DB_FILENAME) in why and ("full" in why or "disk" in why), why
        qtbot.waitUntil(lambda: label.isVisible())
        assert label.text() == f"Not recording: {why}"
        assert window.verdict.title_label.text() != "ADMIT"
        assert node.db.query_one("SELECT count(*) FROM checkins")[0] == 0  # nothing kept

        free()
        with qtbot.waitSignal(window.scan_displayed, timeout=5000) as shown:
            window.submit_payload(scenario.ticket_payloads[1], "camera")
        assert shown.args[0].success is True
        qtbot.waitUntil(lambda: label.isHidden())
        assert window.verdict.title_label.text() == "ADMIT"
    finally:
        if window is not None:
            window.shutdown()
        node.close()
