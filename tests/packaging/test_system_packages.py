"""packaging/linux/ensure-system-packages.sh: what `make demo` / `make test` / CI run first."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "linux" / "ensure-system-packages.sh"
LIST = ROOT / "packaging" / "linux" / "system-packages.txt"

pytestmark = pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not Debian/Ubuntu")


def run_unprivileged(lines: str, *args: str) -> subprocess.CompletedProcess:
    """The script as a user without root or sudo (nobody, when the tests run as root)."""
    # Not pytest's tmp_path: its folders are 0700, so nobody could not read the list.
    with tempfile.TemporaryDirectory(prefix="tickitz-pkgs-") as folder:
        listing = Path(folder) / "packages.txt"
        listing.write_text(lines)
        listing.chmod(0o644)
        Path(folder).chmod(0o755)
        argv = ["bash", str(SCRIPT), *args]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        return subprocess.run(
            argv,
            env={"PATH": "/usr/bin:/bin", "TICKITZ_SYSTEM_PACKAGES": str(listing)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def test_missing_packages_stop_with_the_one_apt_line():
    lines = "# comment\nlibc6 app  # installed everywhere\ntickitz-no-such-pkg app\nzz-test test\n"
    done = run_unprivileged(lines, "app", "--", "python3-venv-missing-here")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Missing system packages. Install them with:",
        "  sudo apt-get install -y tickitz-no-such-pkg python3-venv-missing-here",
    ]


def test_nothing_missing_is_silent():
    done = run_unprivileged("libc6 app\nbash test\ntickitz-no-such-pkg dist\n", "app")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_list_names_what_the_project_needs():
    rows = [line.split()[:2] for line in LIST.read_text().splitlines() if line.split()]
    rows = [row for row in rows if not row[0].startswith("#")]
    assert {role for _name, role in rows} == {"app", "test", "dist"}
    named = dict(rows)
    assert named["libzbar0"] == "app" and named["libpulse0"] == "app"
    assert named["chromium"] == "test"  # the dashboard's Playwright tests
    assert named["binutils"] == "dist"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "ensure-system-packages.sh app test dist" in ci  # CI installs the whole list
