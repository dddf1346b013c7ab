"""The rotating log file, --verbose, and the scrubbing of what reaches logs and diagnostics."""

from __future__ import annotations

import logging
import stat

import pytest

from scanner_app.core import applog


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_file_rotates_and_is_the_owners_only(tmp_path, restore_logging, monkeypatch):
    monkeypatch.setattr(applog, "MAX_BYTES", 2000)
    path = applog.configure(tmp_path / "logs")
    assert path == tmp_path / "logs" / applog.LOG_FILENAME == applog.log_file()
    for i in range(200):
        logging.getLogger("scanner_app.sync").info("round %03d pushed 10 check-ins", i)
    logging.getLogger("scanner_app.sync").debug("not at INFO")
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == [applog.LOG_FILENAME] + [f"{applog.LOG_FILENAME}.{n}" for n in (1, 2, 3)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700
    text = path.read_text()
    assert "INFO scanner_app.sync: round 199 pushed 10 check-ins" in text
    assert "not at INFO" not in text


def test_verbose_logs_debug(tmp_path, restore_logging, capsys):
    path = applog.configure(tmp_path / "logs", verbose=True)
    logging.getLogger("scanner_app.camera").debug("frame 1 decoded in 2.1 ms")
    assert "DEBUG scanner_app.camera: frame 1 decoded in 2.1 ms" in path.read_text()
    assert "frame 1 decoded" in capsys.readouterr().err


def test_terminal_level_keeps_info_out_of_the_terminal(tmp_path, restore_logging, capsys):
    path = applog.configure(tmp_path / "logs", terminal_level=logging.WARNING)
    logging.getLogger("scanner_app.server").info("hub started")
    assert "hub started" in path.read_text()
    assert "hub started" not in capsys.readouterr().err


def test_unwritable_log_dir_is_one_warning_not_a_crash(tmp_path, restore_logging, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert applog.configure(blocker / "logs") is None
    assert "cannot write logs to" in capsys.readouterr().err


def test_secrets_are_scrubbed_from_the_file_and_recent_problems(tmp_path, restore_logging):
    path = applog.configure(tmp_path / "logs")
    key = "tk_live_abcdefghijklmnopqrstuvwxyz012345"
    token = "eyJhbGciOiJFZERTQSJ9.eyJuYW1lIjoiQWRhIn0.c2lnbmF0dXJl"
    logging.getLogger("scanner_app.sync").warning(
        "push failed: Authorization: Bearer %s; url https://u:pw@hub:1/x; %s; tickitz-setup:%s",
        key,
        token,
        "eyJ2IjoyfQ",
    )
    text = path.read_text()
    for secret in (key, token, "pw@", "eyJ2IjoyfQ", "eyJuYW1l"):
        assert secret not in text
    assert "Bearer ***" in text and "https://***@hub:1/x" in text and "<token>" in text
    last = applog.recent_problems()[-1]
    assert "WARNING scanner_app.sync: push failed" in last and key not in last
