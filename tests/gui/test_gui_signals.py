"""Ctrl-C in the terminal and SIGTERM close the desktop app the normal way (real processes)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def start(args: list[str], tmp_path: Path, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    with open(log_path, "w") as log:  # a file, not a pipe nobody drains
        return subprocess.Popen(
            [sys.executable, "-m", "scanner_app", *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


def wait_for_line(process: subprocess.Popen, log_path: Path, pattern: str) -> re.Match:
    deadline = time.monotonic() + 60
    while True:
        found = re.search(pattern, log_path.read_text())
        if found:
            return found
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_demo_closes_on_a_signal_and_removes_its_folder(tmp_path, signum):
    log_path = tmp_path / "demo.log"
    process = start(["demo"], tmp_path, log_path)
    try:
        found = wait_for_line(process, log_path, r"to hold up to a camera: (\S+)")
        folder = Path(found.group(1)).parent
        wait_for_line(process, log_path, r"Demo hub \(dashboard\) at")
        assert folder.is_dir()
        process.send_signal(signum)
        assert process.wait(30) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert f"{signum.name} received: closing" in log_path.read_text()
    assert not folder.exists()  # the normal shutdown ran, down to the temporary folder


@pytest.mark.parametrize("kiosk", [[], ["--kiosk"]], ids=["window", "kiosk"])
def test_the_app_closes_on_sigterm(tmp_path, kiosk):
    """Also in kiosk mode, whose window refuses to close without the PIN: the PIN keeps
    the public out, not the operating system shutting the laptop down."""
    log_path = tmp_path / "app.log"
    process = start(["--data-dir", str(tmp_path / "node"), *kiosk], tmp_path, log_path)
    try:
        time.sleep(0.5)
        wait_for_line(process, log_path, r"INFO")  # up and logging
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert "SIGTERM received: closing" in log_path.read_text()
