"""Smoke test of the one-folder bundle (`make dist`), run as CI runs it (.ci/run).

    python3 tools/smoke_bundle.py [dist/tickitz-scanner] [--starts 3] [--compare-python PY]

The bundle runs with an empty PATH (no Python, no venv), no PYTHONPATH/PYTHONHOME, and its
own HOME, XDG folders and TMPDIR, under the offscreen Qt platform:
1. `--version` prints the package version (scanner_app/__init__.py);
2. `demo` runs until its first verdict is on screen, then SIGTERM: exit 0;
3. `serve --port 0`: the hub answers /v1/openapi.json and its proof workers start as workers
   (children of the bundle that run their initializer, not a second app), then SIGTERM: exit
   0 and no worker left;
4. the desktop app with the demo's reel as its camera: seconds from the process start to the
   first camera frame shown, and its RSS then (median of --starts runs), beside the same app
   from a Python environment when --compare-python names its interpreter.
Prints the figures; exit 1 with the reason when a step fails. Stdlib only.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_BUDGET_S = 2.0
RSS_BUDGET_MB = 250.0


class SmokeFailure(Exception):
    pass


def package_version() -> str:
    tree = ast.parse((ROOT / "scanner_app" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__version__":
            return str(node.value.value)  # type: ignore[attr-defined]
    raise SmokeFailure("scanner_app/__init__.py has no __version__")


def clean_env(home: Path) -> dict[str, str]:
    """No Python or venv reachable: an empty PATH folder and a fresh home."""
    empty = home / "empty-path"
    empty.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": str(empty),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "share"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TMPDIR": str(home / "tmp"),
        "QT_QPA_PLATFORM": "offscreen",
        "TICKITZ_NO_KEYRING": "1",
        "LANG": "C.UTF-8",
    }
    (home / "tmp").mkdir(exist_ok=True)
    return env


class Running:
    """A started process whose stderr lines are collected on a thread."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._lock:
                self.lines.append((time.perf_counter(), line.rstrip("\n")))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> tuple[float, re.Match[str]]:
        """(seconds since start, match) of the first stderr line matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.perf_counter() + timeout
        seen = 0
        with self._lock:
            while True:
                for at, line in self.lines[seen:]:
                    found = regex.search(line)
                    if found:
                        return at - self.started, found
                seen = len(self.lines)
                left = deadline - time.perf_counter()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise SmokeFailure(f"no line matching {pattern!r}:\n{self.tail()}")
                self._lock.wait(min(left, 0.5))

    def tail(self, n: int = 25) -> str:
        return "\n".join(f"    {line}" for _at, line in self.lines[-n:])

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the process, in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
        return int(kb["VmRSS"]) / 1024, int(kb["VmHWM"]) / 1024

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code; a process that does not exit is killed and fails."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise SmokeFailure(f"no exit {timeout:g} s after SIGTERM:\n{self.tail()}") from None
        self._reader.join(5)
        return code


def step(title: str) -> None:
    print(f"-- {title}", flush=True)


def check_version(exe: Path, env: dict[str, str]) -> None:
    step("--version")
    done = subprocess.run(
        [str(exe), "--version"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    want = f"tickitz-scanner, version {package_version()}"
    if done.returncode != 0 or done.stdout.strip() != want:
        raise SmokeFailure(f"--version: exit {done.returncode}, {done.stdout!r} {done.stderr!r}")
    print(f"   {done.stdout.strip()}")


def check_demo(exe: Path, env: dict[str, str]) -> Path:
    """The demo until its first verdict is painted, then SIGTERM; returns its kept reel."""
    step("demo under the offscreen platform until the first verdict, then SIGTERM")
    demo = Running([str(exe), "demo", "--keep"], env)
    try:
        at, found = demo.wait_for(r"First verdict shown: (\S+)", timeout=180)
    except SmokeFailure:
        demo.process.kill()
        raise
    print(f"   first verdict ({found.group(1)}) {at:.1f} s after start (reel rendered first)")
    code = demo.terminate()
    if code != 0:
        raise SmokeFailure(f"demo exit code {code} after SIGTERM:\n{demo.tail()}")
    kept = [line for _at, line in demo.lines if line.startswith("Kept the demo's data in ")]
    if not kept:
        raise SmokeFailure(f"the demo did not say where its data is:\n{demo.tail()}")
    # The reel is a folder of PNG frames (gui/demo_reel.py); OpenCV's image-sequence reader
    # plays it as a camera through a printf pattern, the same way a device path is given.
    reel = Path(kept[-1].removeprefix("Kept the demo's data in ")) / "demo-reel" / "%02d.png"
    if not any(reel.parent.glob("*.png")):
        raise SmokeFailure(f"the kept demo data has no reel frames in {reel.parent}")
    print(f"   clean exit (0) on SIGTERM; reel kept at {reel}")
    return reel


def fetch_json(url: str, timeout: float) -> dict:
    """GET ``url`` until it answers: `serve` names its address once the socket is bound,
    a moment before uvicorn listens on it."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return json.load(reply)
        except (urllib.error.URLError, ConnectionError) as exc:
            if time.perf_counter() > deadline:
                raise SmokeFailure(f"{url} did not answer in {timeout:g} s: {exc}") from None
            time.sleep(0.2)


def check_hub(exe: Path, env: dict[str, str], home: Path) -> None:
    step("serve --port 0: /v1/openapi.json, then SIGTERM")
    hub = Running([str(exe), "--data-dir", str(home / "hub"), "serve", "--port", "0"], env)
    try:
        _at, found = hub.wait_for(r"Tickitz hub on (http://\S+) ", timeout=120)
        spec = fetch_json(f"{found.group(1)}/v1/openapi.json", timeout=60)
    except BaseException:
        hub.process.kill()
        raise
    paths = spec.get("paths", {})
    if "/v1/checkin/batch" not in paths:
        raise SmokeFailure(f"openapi.json lacks /v1/checkin/batch: {sorted(paths)[:5]}")
    try:
        workers = proof_workers(hub)
    except BaseException:
        hub.process.kill()
        raise
    code = hub.terminate()
    if code != 0:
        raise SmokeFailure(f"serve exit code {code} after SIGTERM:\n{hub.tail()}")
    print(f"   {found.group(1)} answered: OpenAPI {spec.get('openapi')}, {len(paths)} paths")
    if workers:
        print(f"   {len(workers)} proof workers started (children of the bundle)")
    print("   clean exit (0) on SIGTERM")
    deadline = time.perf_counter() + 10
    while (left := [pid for pid in workers if alive(pid)]) and time.perf_counter() < deadline:
        time.sleep(0.05)
    if left:
        raise SmokeFailure(f"proof workers {left} still running 10 s after the hub stopped")


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"\nPPid:\t{pid}\n" in (entry / "status").read_text():
                found.append((int(entry.name), (entry / "cmdline").read_bytes().decode()))
        except OSError:  # ended meanwhile
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = re.search(r"^State:\s+(\S)", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return False
    return state is not None and state.group(1) != "Z"


def initialized(pid: int) -> bool:
    """Whether a proof worker ran its initializer, which ignores SIGINT (a terminal's Ctrl-C
    is for the hub): SigIgn in /proc. A thread count would not do: importing the CLI starts
    a thread too."""
    try:
        ignored = re.search(
            r"^SigIgn:\s+([0-9a-f]+)", Path(f"/proc/{pid}/status").read_text(), re.M
        )
    except OSError:
        return False
    return ignored is not None and bool(int(ignored.group(1), 16) & (1 << (signal.SIGINT - 1)))


def proof_workers(hub: Running, timeout: float = 60) -> list[int]:
    """The hub's proof workers once each has run its initializer: a bundle that runs its app
    in them instead (no freeze_support) fails here."""
    expected = os.cpu_count() or 1  # the hub's pool size (one core: no pool)
    if expected <= 1 or not Path("/proc").is_dir():
        return []
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        workers = [
            pid for pid, argv in children(hub.process.pid) if "--multiprocessing-fork" in argv
        ]
        ready = []
        for pid in workers:
            if initialized(pid):
                ready.append(pid)
        if len(ready) >= expected:
            return ready
        if hub.process.poll() is not None or any(
            "did not start" in text for _at, text in hub.lines
        ):
            break
        time.sleep(0.05)
    raise SmokeFailure(f"the hub's proof workers did not start in {timeout:g} s:\n{hub.tail()}")


def time_start(argv: list[str], env: dict[str, str], home: Path, reel: Path) -> tuple[float, float]:
    """Seconds from the process start to the first camera frame shown, and RSS then (MB)."""
    settings = Path(env["XDG_CONFIG_HOME"]) / "tickitz-scanner" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"camera": str(reel), "gate_name": "Smoke"}))
    data = Path(tempfile.mkdtemp(prefix="node-", dir=home))
    app = Running([*argv, "--data-dir", str(data)], env)
    try:
        at, _found = app.wait_for(r"Camera ready", timeout=60)
        rss, _peak = app.rss_mb()
    except BaseException:
        app.process.kill()
        raise
    code = app.terminate()
    if code != 0:
        raise SmokeFailure(f"app exit code {code} after SIGTERM:\n{app.tail()}")
    return at, rss


def measure_starts(
    label: str, argv: list[str], env: dict[str, str], home: Path, reel: Path, runs: int
) -> tuple[float, float]:
    results = [time_start(argv, env, home, reel) for _ in range(runs)]
    start = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results)
    print(
        f"   {label}: start -> camera ready {start:.2f} s, RSS {rss:.0f} MB"
        f" (median of {runs}: {', '.join(f'{r[0]:.2f}' for r in results)} s)"
    )
    return start, rss


def folder_mb(path: Path) -> float:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", default=str(ROOT / "dist" / "tickitz-scanner"))
    parser.add_argument("--starts", type=int, default=3, help="app starts to time (median)")
    parser.add_argument("--compare-python", help="also time the app from this Python")
    args = parser.parse_args()
    bundle = Path(args.bundle).resolve()
    exe = bundle / ("tickitz-scanner.exe" if os.name == "nt" else "tickitz-scanner")
    if not exe.exists():
        print(f"no bundle at {bundle}: run `make dist` first", file=sys.stderr)
        return 1
    began = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="tickitz-smoke-"))
    try:
        env = clean_env(home)
        print(f"bundle {bundle}: {folder_mb(bundle):.0f} MB on disk", flush=True)
        check_version(exe, env)
        reel = check_demo(exe, env)
        check_hub(exe, env, home)
        step("desktop app, the demo reel as its camera: start -> camera ready, RSS")
        start, rss = measure_starts("bundle", [str(exe)], env, home, reel, args.starts)
        if args.compare_python:
            py_env = {**os.environ, **{k: v for k, v in env.items() if k != "PATH"}}
            py_env["PYTHONPATH"] = str(ROOT)
            py = [args.compare_python, "-m", "scanner_app"]
            base, base_rss = measure_starts("python", py, py_env, home, reel, args.starts)
            print(f"   ratio bundle/python: start {start / base:.2f}x, RSS {rss / base_rss:.2f}x")
        verdict = "OK" if start <= START_BUDGET_S and rss <= RSS_BUDGET_MB else "over the goal"
        print(f"   goal <= {START_BUDGET_S:g} s and <= {RSS_BUDGET_MB:g} MB: {verdict}")
    except SmokeFailure as failure:
        print(f"SMOKE TEST FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"bundle smoke test passed in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
