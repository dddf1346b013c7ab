"""The pytest plugin that names a missing system library in one line (tests/system_libs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import system_libs

ROOT = Path(__file__).resolve().parents[2]


def test_a_failure_mentioning_zbar_is_blamed_on_libzbar0():
    zbar = system_libs.LIBS[0]
    missing = [zbar, system_libs.LIBS[2]]
    assert system_libs.blame("tests/camera/test_x.py::test_pyzbar_reads", missing) is zbar
    assert system_libs.blame("ImportError: Unable to find zbar shared library", missing) is zbar
    assert system_libs.blame("AssertionError: 1 != 2", missing) is None
    assert system_libs.one_line(zbar) == (
        "libzbar0 is not installed (pyzbar (the zbar decoder)): apt-get install libzbar0"
    )


def test_a_session_without_zbar_says_so_in_one_line(tmp_path):
    """A real pytest run on a machine where zbar cannot be found (ctypes told so)."""
    (tmp_path / "conftest.py").write_text(
        "import ctypes.util\n"
        "real = ctypes.util.find_library\n"
        "ctypes.util.find_library = lambda n: None if n == 'zbar' else real(n)\n"
        "pytest_plugins = ['system_libs']\n"
    )
    (tmp_path / "test_zbar.py").write_text(
        "def test_pyzbar_decodes():\n    raise ImportError('Unable to find zbar shared library')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "tests"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out
    assert "MISSING SYSTEM LIBRARY: libzbar0 is not installed" in out
    assert "libzbar0 is not installed (pyzbar (the zbar decoder)): apt-get install libzbar0" in out
    assert "Traceback" not in out and "raise ImportError" not in out  # one line, not the trace
    assert "Missing system packages: apt-get install libzbar0" in out
