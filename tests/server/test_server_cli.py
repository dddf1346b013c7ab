"""`tickitz-scanner serve` as a user runs it, and `keys create/list/revoke`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from scanner_app.cli import cli
from scanner_app.core.node import Node


def start_serve(
    data_dir, *extra: str, own_group: bool = False
) -> tuple[subprocess.Popen, str, str | None]:
    """Run `serve --port 0`; returns (process, base url, the key printed on stdout or None).
    `own_group`: in a process group of its own, as a terminal runs it (Ctrl-C reaches all)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner_app", "--data-dir", str(data_dir), "serve", "--port", "0"]
        + list(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        process_group=0 if own_group else None,
    )
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if match:
            break
        if process.poll() is not None:
            pytest.fail("serve exited: " + "".join(lines) + process.stderr.read())
    url = f"http://127.0.0.1:{match.group(1)}"
    key = None
    if any("organiser key" in line for line in lines):
        key = process.stdout.readline().strip()
    for _ in range(100):  # the socket is bound before uvicorn starts answering
        try:
            httpx.get(url + "/v1/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return process, url, key


def stop(process: subprocess.Popen, signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_a_first_key_once_and_stops_cleanly(tmp_path, signum):
    process, url, key = start_serve(tmp_path)
    assert key and key.startswith("tk_live_")
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(url + "/v1/events", headers=auth).status_code == 200
    assert httpx.get(url + "/v1/events").status_code == 401
    code, err = stop(process, signum)
    assert code == 0, err
    assert "Hub stopped." in err and key not in err
    again, url, second_key = start_serve(tmp_path)
    assert second_key is None  # only on a node without keys
    assert httpx.get(url + "/v1/events", headers=auth).status_code == 200
    assert stop(again, signal.SIGTERM)[0] == 0


def test_sigterm_under_load_loses_no_acknowledged_checkin(tmp_path):
    process, url, key = start_serve(tmp_path)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    event = api.post("/v1/events", json={"title": "Load", "tiers": [{"name": "GA"}]}).json()
    api.post(f"/v1/events/{event['id']}/publish")
    tickets = api.post(
        f"/v1/events/{event['id']}/tickets", json={"tierName": "GA", "quantity": 200}
    ).json()["data"]
    acknowledged: list[str] = []
    lock = threading.Lock()

    def gate(offset: int) -> None:
        with httpx.Client(base_url=url, headers=api.headers, timeout=10) as client:
            for ticket in tickets[offset::4]:
                body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "g"}
                try:
                    response = client.post("/v1/checkin/scan", json=body)
                except httpx.TransportError:
                    return  # the hub has gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(response.json()["checkinId"])

    threads = [threading.Thread(target=gate, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    # Stop mid-load: once scans are being answered (a fixed sleep was too short on a busy
    # machine, so the hub sometimes stopped before answering any).
    deadline = time.monotonic() + 20
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    code, err = stop(process, signal.SIGTERM)
    for thread in threads:
        thread.join()
    api.close()
    assert code == 0, err
    assert acknowledged
    with Node.open(tmp_path) as node:
        stored = {r[0] for r in node.db.query("SELECT id FROM checkins")}
    assert set(acknowledged) <= stored


def test_keys_create_list_revoke(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    created = runner.invoke(cli, [*base, "keys", "create", "--name", "box office", "--all-scopes"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert re.fullmatch(r"tk_live_[A-Za-z0-9_-]{43}", secret)
    scoped = runner.invoke(
        cli,
        [
            *base,
            "keys",
            "create",
            "--name",
            "reader",
            "--scope",
            "events:read",
            "--rate-limit",
            "5",
        ],
    )
    assert scoped.exit_code == 0
    listed = [
        json.loads(line) for line in runner.invoke(cli, [*base, "keys", "list"]).stdout.splitlines()
    ]
    assert [k["name"] for k in listed] == ["box office", "reader"]
    assert listed[1]["scopes"] == ["events:read"] and listed[1]["rateLimit"] == 5
    text = json.dumps(listed)
    assert secret not in text and "hash" not in text
    with Node.open(tmp_path) as node:
        stored = node.db.query_one("SELECT key_hash FROM api_keys WHERE name = 'box office'")[0]
    assert secret not in stored and len(stored) == 64  # SHA-256 hex, never the key
    revoked = runner.invoke(cli, [*base, "keys", "revoke", listed[0]["id"]])
    assert json.loads(revoked.stdout)["revokedAt"]
    active = runner.invoke(cli, [*base, "keys", "list", "--active"]).stdout.splitlines()
    assert [json.loads(line)["name"] for line in active] == ["reader"]


def test_keys_usage_errors(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    neither = runner.invoke(cli, [*base, "keys", "create", "--name", "x"])
    assert neither.exit_code == 2 and not neither.stdout.strip()
    bad = runner.invoke(cli, [*base, "keys", "create", "--name", "x", "--scope", "admin"])
    assert bad.exit_code == 2
    missing = runner.invoke(cli, [*base, "keys", "revoke", "key_nope"])
    assert missing.exit_code != 0 and "key_nope" in missing.stderr


def test_sigterm_during_startup_still_stops_the_hub(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner_app", "--data-dir", str(tmp_path), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while "Tickitz hub on" not in process.stderr.readline():  # before uvicorn is serving
        assert process.poll() is None
    code, err = stop(process, signal.SIGTERM)
    assert code == 0, err


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--tls", "--public-url", "http://192.168.1.20:8765"], "must start with https://"),
        (["--public-url", "https://192.168.1.20:8765"], "must start with http://"),
        (["--tls", "--insecure-http"], "contradict"),
    ],
    ids=["https-hub-http-url", "http-hub-https-url", "tls-and-insecure"],
)
def test_serve_refuses_contradicting_options_before_making_the_first_key(tmp_path, options, words):
    """A setup code with the wrong scheme sends gates to a port that never answers them; and
    the first organiser key is shown once only, so it is not made beside a usage error."""
    # A real process with a deadline: were the options taken, serve would run until killed.
    result = subprocess.run(
        [sys.executable, "-m", "scanner_app", "--data-dir", str(tmp_path), "serve"]
        + ["--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert result.stdout == ""  # no key printed ...
    with Node.open(tmp_path) as node:  # ... and none made: the next start shows the first one
        assert node.db.query_one("SELECT COUNT(*) FROM api_keys")[0] == 0


def proc_status(pid: int) -> dict[str, str]:
    """/proc/PID/status as a dict ({} once the process has gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        return {}


def ready_proof_workers(hub_pid: int, count: int = 2, timeout: float = 60) -> list[int]:
    """The hub's proof workers once `count` have run their initializer (its parent-watch
    thread is up), for processes that are the spawn workers of this hub."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or proc_status(int(entry)).get("PPid") != str(hub_pid):
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if b"--multiprocessing-fork" not in cmdline.read():
                        continue
            except FileNotFoundError:
                continue
            if int(proc_status(int(entry)).get("Threads", "0")) >= 2:
                workers.append(int(entry))
        if len(workers) >= count:
            return workers
        time.sleep(0.05)
    pytest.fail(f"the hub {hub_pid} did not start {count} proof workers in {timeout} s")


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(proc_status(pid) for pid in pids):
        time.sleep(0.05)
    # a zombie is gone for this purpose: it runs nothing and holds nothing
    return [pid for pid in pids if proc_status(pid).get("State", "Z").split()[0] != "Z"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_in_a_terminal_stops_the_hub_and_its_proof_workers_quietly(tmp_path):
    # A terminal's Ctrl-C is a SIGINT to the whole foreground group: the workers got it too
    # and each printed a KeyboardInterrupt traceback under "Hub stopped."
    process, _url, _key = start_serve(tmp_path, own_group=True)
    workers = ready_proof_workers(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Hub stopped." in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert wait_gone(workers) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_proof_workers_end_with_a_killed_hub(tmp_path):
    process, _url, _key = start_serve(tmp_path)
    workers = ready_proof_workers(process.pid)
    process.kill()
    process.communicate(timeout=20)
    assert wait_gone(workers) == []
