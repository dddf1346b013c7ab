"""A pytest plugin: name the Debian package a failing test lacks, in one line.

Without libzbar0 the pyzbar tests used to end in a dozen tracebacks and no word about the
library. Now the session header lists what is missing, each such failure is one line naming
the package, and the summary repeats the `apt-get install` line (`make test` installs them
itself when it can: packaging/linux/system-packages.txt).
"""

from __future__ import annotations

import ctypes.util
import shutil
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class SystemLib:
    package: str  # the Debian package
    what: str  # what needs it
    words: tuple[str, ...]  # a failure mentioning one of these is blamed on it

    def present(self) -> bool:
        if self.package == "chromium":
            return shutil.which("chromium") is not None
        return ctypes.util.find_library(self.package.removeprefix("lib").rstrip("0")) is not None


LIBS = (
    SystemLib("libzbar0", "pyzbar (the zbar decoder)", ("pyzbar", "zbar")),
    SystemLib("libpulse0", "QtMultimedia (the verdict sounds)", ("QtMultimedia", "libpulse")),
    SystemLib("chromium", "the dashboard's browser tests", ("chromium", "playwright")),
)


def missing_libs(libs: tuple[SystemLib, ...] = LIBS) -> list[SystemLib]:
    return [lib for lib in libs if not lib.present()]


def blame(text: str, missing: list[SystemLib]) -> SystemLib | None:
    """The missing library a failure's text points at, if any."""
    lowered = text.lower()
    return next((lib for lib in missing if any(w.lower() in lowered for w in lib.words)), None)


def one_line(lib: SystemLib) -> str:
    return f"{lib.package} is not installed ({lib.what}): apt-get install {lib.package}"


_missing: list[SystemLib] = []


def pytest_configure(config: pytest.Config) -> None:
    _missing[:] = missing_libs()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"MISSING SYSTEM LIBRARY: {one_line(lib)}" for lib in _missing]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _missing:
        lib = blame(f"{item.nodeid}\n{report.longreprtext}", _missing)
        if lib is not None:
            report.longrepr = one_line(lib)


def pytest_terminal_summary(terminalreporter: object) -> None:
    if _missing:
        names = " ".join(lib.package for lib in _missing)
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"Missing system packages: apt-get install {names}  (or run `make test` as root)",
            red=True,
        )
