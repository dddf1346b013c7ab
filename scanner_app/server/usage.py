"""When keys and devices were last used, gathered in memory and written in one go now and
then (a write per request would put every scan behind another commit)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from scanner_app.core.apikeys import ApiKey
from scanner_app.core.timeutil import iso_ms


class Usage:
    """Last-used times of keys and devices, kept in memory and written in one go now and then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, float] = {}
        self._devices: dict[str, float] = {}

    def record(self, key: ApiKey, at: float) -> None:
        with self._lock:
            self._keys[key.id] = at
            if key.device_id:
                self._devices[key.device_id] = at

    def take(self) -> tuple[dict[str, str], dict[str, str]]:
        """Collected times (unix seconds) as ISO strings, and forget them."""
        with self._lock:
            keys, devices = self._keys, self._devices
            self._keys, self._devices = {}, {}
        return (
            {k: _iso(at) for k, at in keys.items()},
            {d: _iso(at) for d, at in devices.items()},
        )


def _iso(unix: float) -> str:
    return iso_ms(datetime.fromtimestamp(unix, UTC))
