"""The installed command as a real process: entry points, --version, stdin, the env var."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import scanner_app

SCRIPT = Path(sys.executable).with_name("tickitz-scanner")


def run(argv, home, stdin=None, env_home=False):
    env = {k: v for k, v in os.environ.items() if k != "TICKITZ_SCANNER_HOME"}
    if env_home:
        env["TICKITZ_SCANNER_HOME"] = str(home)
    else:
        argv = [argv[0], "--data-dir", str(home), *argv[1:]]
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_version_from_the_script_and_python_m(tmp_path):
    expected = f"tickitz-scanner, version {scanner_app.__version__}"
    assert scanner_app.__version__ == version("tickitz-scanner")
    for argv in ([str(SCRIPT), "--version"], [sys.executable, "-m", "scanner_app", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected


def test_a_door_session_through_real_pipes(tmp_path):
    home = tmp_path / "gate"
    created = run([str(SCRIPT), "event", "create", "--title", "Pipe", "--tier", "GA:0:5"], home)
    event_id = json.loads(created.stdout)["id"]
    assert run([str(SCRIPT), "event", "publish", event_id], home).returncode == 0
    issued = run([str(SCRIPT), "tickets", "issue", "--event", event_id, "--tier", "GA",
                  "--count", "2"], home)  # fmt: skip
    payloads = [json.loads(line)["qrPayload"] for line in issued.stdout.splitlines()]

    # `-`: payloads on stdin, one per line, as a USB wedge or a script would pipe them.
    stdin = "\n".join([payloads[0], payloads[1], payloads[0], "not-a-ticket"]) + "\n"
    scanned = run([sys.executable, "-m", "scanner_app", "scan", "--event", event_id, "-"], home,
                  stdin=stdin, env_home=True)  # fmt: skip
    assert scanned.returncode == 0, scanned.stderr
    assert scanned.stderr == ""  # machine output only on stdout
    results = [json.loads(line) for line in scanned.stdout.splitlines()]
    assert [r["reason"] for r in results] == [None, None, "already_checked_in", "malformed"]

    # TICKITZ_SCANNER_HOME and --data-dir name the same node.
    stats = run([str(SCRIPT), "stats", "--event", event_id], home, env_home=True)
    assert json.loads(stats.stdout)["checkedIn"] == 2


def test_errors_from_a_real_process_are_one_clear_line(tmp_path):
    done = run([str(SCRIPT), "stats", "--event", "evt_missing"], tmp_path / "gate")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip() == "Error: No event with ID evt_missing exists."
