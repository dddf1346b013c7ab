"""The README's walkthroughs run as written (issue 15.7), as sqlite-utils tests its docs.

Each ```sh block after a `<!-- walkthrough: NAME -->` line runs in a fresh bash in an empty
folder, with the venv's bin first on PATH (what `. .venv/bin/activate` does) and nothing else
set up: when someone edits the README, this runs their edit.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"<!-- walkthrough: (\w+) -->\n```sh\n(.*?)\n```", re.S)


def walkthroughs() -> dict[str, str]:
    return dict(BLOCK.findall(README.read_text(encoding="utf-8")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_block(name: str, folder: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKITZ_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TICKITZ_NO_KEYRING"] = "1"  # CI has no OS keyring; a desktop would use it
    env["PORT"] = str(free_port())  # the README's 8765 may be taken on a shared machine
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", walkthroughs()[name]],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a failed run's background hub and syncs are stopped too
    )
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.startswith(("{", "["))]


def test_the_readme_has_both_walkthroughs():
    assert set(walkthroughs()) == {"tour", "hub"}


def test_the_cli_tour_runs_as_written(tmp_path):
    done = run_block("tour", tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [r for r in json_lines(done.stdout) if isinstance(r, dict) and "reason" in r]
    assert [r["success"] for r in results[:3]] == [True, False, True]  # scan, image, stdin
    assert results[3]["reason"] == "already_checked_in" and results[3]["scannedBy"] == "north"
    assert any(r["reason"] == "revoked" for r in results)  # the bundle kept the cancellation
    assert (tmp_path / "attendance.csv").exists() and (tmp_path / "bundle" / "jwks.json").exists()


@pytest.mark.timeout(300)
def test_the_hub_and_two_gates_walkthrough_runs_as_written(tmp_path):
    done = run_block("hub", tmp_path, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Nothing is left pending." in done.stderr
    stats = [r for r in json_lines(done.stdout) if isinstance(r, dict) and "checkedIn" in r]
    hub_stats, gate_stats = stats[-2:]  # (the stopped syncs print their reports after)
    assert hub_stats["checkedIn"] == gate_stats["checkedIn"] == 3  # one story everywhere
    assert hub_stats["conflicts"] == gate_stats["conflicts"]
