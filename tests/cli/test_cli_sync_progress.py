"""A first sync of a large event shows its progress on stderr (`sync --once` and the
foreground `sync`), throttled; stdout keeps only the machine output. Real hub on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_app.cli import cli
from scanner_app.cli.sync import progress_printer
from scanner_app.sync.state import SyncStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from harness import HubServer, gate_key, issuer_with_event  # noqa: E402

TICKETS = 3500  # four pages of the engine's 1,000
ESTIMATE = 4000  # the tier's quantity: what a gate expects before it has the list
PROGRESS = re.compile(r"^First sync of (evt_\w+): ([\d,]+) / ~([\d,]+) tickets \((\d+)%\)$")


@pytest.fixture(autouse=True)
def _isolated_keys(monkeypatch):
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")
    monkeypatch.delenv("TICKITZ_API_KEY", raising=False)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    node, event_id, _ = issuer_with_event(
        tmp_path_factory.mktemp("hub") / "hub",
        tickets=0,
        tiers=[{"name": "GA", "price": 0, "quantity": ESTIMATE}],
    )
    for _ in range(TICKETS // 500):
        node.tickets.issue(event_id, "GA", "Someone", 500)
    with HubServer(node) as server:
        yield node, server, event_id
    node.close()


def run(data_dir, *args):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def connected_gate(hub, path: Path, name: str) -> Path:
    node, server, event_id = hub
    key = gate_key(node, event_id, name)
    done = run(path, "connect", server.url, "--key", key, "--event", event_id, "--gate", name)
    assert done.exit_code == 0, done.output
    return path


def progress_lines(stderr: str) -> list[tuple[str, int, int, int]]:
    found = [PROGRESS.match(line) for line in stderr.splitlines()]
    return [
        (m[1], int(m[2].replace(",", "")), int(m[3].replace(",", "")), int(m[4]))
        for m in found
        if m
    ]


def test_sync_once_shows_first_sync_progress_on_stderr_and_keeps_stdout(hub, tmp_path):
    _, _, event_id = hub
    gate = connected_gate(hub, tmp_path / "gate", "north")
    first = run(gate, "sync", "--once")
    assert first.exit_code == 0, first.output
    shown = progress_lines(first.stderr)
    # The first page at once; the throttle may keep back the middle ones; the last always.
    assert len(shown) >= 2, first.stderr
    assert shown[0] == (event_id, 1000, ESTIMATE, 25)
    assert shown[-1] == (event_id, TICKETS, TICKETS, 100)  # the last page: the real total
    assert [done for _, done, _, _ in shown] == sorted({done for _, done, _, _ in shown})
    # Progress comes before the summary, which is unchanged.
    lines = first.stderr.splitlines()
    assert lines.index("Pulled 3500 ticket changes and 0 check-ins.") > max(
        i for i, line in enumerate(lines) if PROGRESS.match(line)
    )
    # stdout: still exactly one JSON document, the round report, and nothing else.
    assert "First sync" not in first.stdout
    [report_line] = first.stdout.splitlines()
    report = json.loads(report_line)
    assert report["pulledTickets"] == TICKETS and report["pending"] == 0

    # Not a first sync any more: no progress lines, the same machine output shape.
    again = run(gate, "sync", "--once")
    assert again.exit_code == 0, again.output
    assert "First sync" not in again.stderr
    [again_line] = again.stdout.splitlines()
    assert json.loads(again_line).keys() == report.keys()


def test_foreground_sync_shows_first_sync_progress(hub, tmp_path):
    _, _, event_id = hub
    gate = connected_gate(hub, tmp_path / "gate", "south")
    env = {**os.environ, "TICKITZ_NO_KEYRING": "1"}
    env.pop("TICKITZ_API_KEY", None)
    err_path = tmp_path / "sync.err"
    with open(err_path, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "scanner_app", "--data-dir", str(gate), "sync"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while "sync online" not in err_path.read_text():
            assert process.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = err_path.read_text()
    shown = progress_lines(stderr)
    assert len(shown) >= 2, stderr
    assert shown[0] == (event_id, 1000, ESTIMATE, 25)
    assert shown[-1] == (event_id, TICKETS, TICKETS, 100)  # the last page: the real total
    lines = stderr.splitlines()
    online = next(i for i, line in enumerate(lines) if "sync online" in line)
    assert all(i < online for i, line in enumerate(lines) if PROGRESS.match(line))
    assert process.returncode == 0, stderr
    assert "First sync" not in stdout
    assert len(stdout.splitlines()) == 1 and json.loads(stdout)["pending"] == 0


def status(first_sync=None, syncing=True) -> SyncStatus:
    return SyncStatus(
        upstream="http://hub",
        state="online",
        reason=None,
        syncing=syncing,
        pending=0,
        last_push_at=None,
        last_pull_at=None,
        revocation_age_s=None,
        clock_offset_ms=0.0,
        clock_skew_large=False,
        first_sync=first_sync,
    )


def progress(done, total=100_000):
    return {"eventId": "evt_x", "phase": "tickets", "done": done, "estimatedTotal": total}


def test_progress_is_throttled_and_ends_with_the_last_line(capsys):
    now = [0.0]
    show = progress_printer(every_s=0.5, clock=lambda: now[0])
    show(status())  # a round without a first sync: nothing
    for done in (1000, 2000, 3000):  # one burst: only the first is printed now
        show(status(progress(done)))
        now[0] += 0.1
    now[0] = 0.6
    show(status(progress(12_000)))  # half a second later: printed
    show(status(progress(13_000)))  # held back...
    show(status(None))  # ...and printed when the first sync ends
    show(status(None, syncing=False))
    assert capsys.readouterr().err.splitlines() == [
        "First sync of evt_x: 1,000 / ~100,000 tickets (1%)",
        "First sync of evt_x: 12,000 / ~100,000 tickets (12%)",
        "First sync of evt_x: 13,000 / ~100,000 tickets (13%)",
    ]


def test_unknown_total_and_a_stale_first_sync_after_a_failed_round(capsys):
    show = progress_printer(every_s=0.0)
    show(status({"eventId": "evt_y", "phase": "tickets", "done": 500, "estimatedTotal": None}))
    # A round that failed mid-way leaves its last progress in the status: not running, so
    # not shown, and not repeated by the next round before the pull moves on.
    show(status({"eventId": "evt_y", "done": 500, "estimatedTotal": None}, syncing=False))
    show(status({"eventId": "evt_y", "done": 500, "estimatedTotal": None}))
    show(status(progress(120_000)))  # a low estimate never shows over 100%
    assert capsys.readouterr().err.splitlines() == [
        "First sync of evt_y: 500 tickets",
        "First sync of evt_x: 120,000 / ~100,000 tickets (100%)",
    ]
