"""'Sync to central' from the dashboard: one round of the hub's own upstream sync, in the
background, with its progress and result for the page to poll.

The server layer cannot import the sync package (DESIGN.md §2): `serve` hands the running
engine in (anything with `run_once()` and `status()`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

log = logging.getLogger("scanner_app.server")


class Upstream(Protocol):
    def run_once(self) -> Any: ...

    def status(self) -> Any: ...


def _status(upstream: Upstream) -> dict[str, Any]:
    status = upstream.status()
    to_dict = getattr(status, "to_dict", None)
    return to_dict() if callable(to_dict) else dict(vars(status))


def summary(report: dict[str, Any]) -> str:
    """The result in words: nothing pending, or what is left and why."""
    if report.get("error"):
        left = report.get("pending", 0)
        return f"Stopped: {report['error']}. {left} check-in(s) still pending here."
    refused = report.get("refused") or {}
    pending = report.get("pending", 0)
    if not pending:
        return "Nothing is left pending."
    words = f"{pending} check-in(s) still pending."
    if refused:
        reason = next(iter(refused.values()))
        words += f" {len(refused)} refused by central: {reason}"
    return words


class CentralSync:
    def __init__(self, upstream: Upstream | None) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._result: dict[str, Any] | None = None

    def start(self) -> bool:
        """Start a round unless one is running; False when there is no upstream."""
        if self.upstream is None:
            return False
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="central-sync", daemon=True)
                self._thread.start()
        return True

    def _run(self) -> None:
        try:
            report = self.upstream.run_once()  # type: ignore[union-attr]
            data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        except Exception as exc:  # the engine never raises for network trouble; a bug might
            log.exception("sync to central failed")
            data = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "pending": None}
        data["message"] = summary(data)
        with self._lock:
            self._result = data

    def state(self) -> dict[str, Any]:
        if self.upstream is None:
            return {"configured": False, "running": False, "status": None, "result": None}
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            result = self._result
        return {
            "configured": True,
            "running": running,
            "status": _status(self.upstream),
            "result": result,
        }
