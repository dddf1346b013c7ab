"""The demo with its camera running and scans committed exits 0 on SIGTERM (issue 13: the
bundle's demo was seen to segfault while shutting down). Real processes, run side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

RUNS = 2  # at once: the cores are shared, and a loaded machine is where shutdown races show


def test_the_demo_exits_cleanly_on_sigterm_after_its_first_verdict(tmp_path):
    logs = [tmp_path / f"demo-{n}.log" for n in range(RUNS)]
    env = {**os.environ, "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    env["TICKITZ_NO_KEYRING"] = "1"
    processes = []
    for log in logs:
        with open(log, "w") as out:  # a file, not a pipe nobody drains
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "scanner_app", "demo"],
                    stdout=subprocess.DEVNULL,
                    stderr=out,
                    env=env,
                )
            )
    try:
        waiting = dict(zip(processes, logs, strict=True))
        deadline = time.monotonic() + 90
        while waiting:  # SIGTERM each as soon as it painted a verdict (reel playing)
            for process, log in list(waiting.items()):
                text = log.read_text()
                assert process.poll() is None, text
                if "First verdict shown" in text:
                    process.send_signal(signal.SIGTERM)
                    del waiting[process]
            assert time.monotonic() < deadline, [log.read_text() for log in waiting.values()]
            time.sleep(0.1)
        codes = [process.wait(30) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    texts = [log.read_text() for log in logs]
    assert codes == [0] * RUNS, "\n".join(texts)
    for text in texts:
        assert "SIGTERM received: closing" in text
        assert "Fatal Python error" not in text  # faulthandler's word for a crash
