"""Real storage faults for the tests: a small tmpfs (a full disk), RLIMIT_FSIZE where no
tmpfs can be mounted, and a CLI child that file permissions apply to even under root."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_override() -> None:
    """In the child before exec: root without CAP_DAC_OVERRIDE obeys file modes."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_cli(
    home: Path,
    *args: str,
    input: str | None = None,
    preexec: Callable[[], None] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """`tickitz-scanner --data-dir HOME ARGS` in a child process that obeys file modes."""

    def prepare() -> None:
        _drop_file_override()
        if preexec is not None:
            preexec()

    env = {**os.environ, "PYTHONPATH": str(REPO), "TICKITZ_NO_KEYRING": "1"}
    env.pop("TICKITZ_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "scanner_app", "--data-dir", str(home), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=prepare,
        timeout=timeout,
    )


def can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0:
        return False
    where.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True
    )
    if probe.returncode != 0:
        return False
    subprocess.run(["umount", str(where)], check=True)
    return True


@contextmanager
def small_disk(where: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` mounted at ``where`` (root only), unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(where)],
        check=True,
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill_disk(disk: Path, leave_kb: int) -> Path:
    """Fill the file system of ``disk`` but ``leave_kb`` KiB; delete the file to free it."""
    filler = disk / "filler"
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler.write_bytes(b"\0" * max(0, free - leave_kb * 1024))
    return filler


def file_size_limit(limit_bytes: int) -> Callable[[], None]:
    """A preexec: no file of the child may grow past ``limit_bytes`` (a full disk for one
    process; SIGXFSZ ignored so the write fails with EFBIG instead of killing it)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, resource.RLIM_INFINITY))

    return apply
