"""'Serve this venue': the embedded hub on its own thread (the sync engine's service is
in ``sync_service``). Callbacks only emit signals; the GUI thread never waits on it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from scanner_app.core.apikeys import SCOPES, ApiKeyStore
from scanner_app.core.node import Node
from scanner_app.sync.door import check_provider

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"


def lan_address() -> str:
    """This machine's address on the LAN (the one gates should use), else loopback."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent for a UDP connect
        return probe.getsockname()[0]
    except OSError:
        return LOOPBACK
    finally:
        probe.close()


class HubController(QObject):
    """'Serve this venue': the embedded server on a background thread.

    Starting imports FastAPI and waits for uvicorn (~0.5 s, seconds on a slow laptop),
    stopping waits for requests in flight, and keys and gates are database writes: the
    ``*_async`` methods do each on a helper thread and answer with a signal.
    """

    changed = Signal(object)  # the hub's public URL, or None when stopped
    busy_changed = Signal(bool)  # starting or stopping
    failed = Signal(str)  # what went wrong, in words
    organiser_key_made = Signal(str)
    gate_made = Signal(str)  # the text of a new gate's setup QR

    def __init__(self, node: Node, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.node = node
        self.server: Any = None
        self.public_url: str | None = None
        self.host: str | None = None  # the address listened on while running
        self.busy = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    def start(self, host: str = LOOPBACK, port: int = 8765) -> str:
        """Start serving (blocks); returns the URL gates should use. Raises if the port
        is taken."""
        from scanner_app.server.runner import HubServer  # noqa: PLC0415 (FastAPI is heavy)

        with self._lock:
            if self.running:
                assert self.public_url is not None
                return self.public_url
            address = lan_address() if host in ("0.0.0.0", "") else host
            # HTTPS with the node's self-signed certificate whenever gates reach it over
            # the network; the gates pin it by the fingerprint in their setup codes (§10).
            tls = host not in ("127.0.0.1", "localhost", "::1")
            provider = check_provider(self.node, serving=True)
            server = HubServer(self.node, host=host, port=port, provider=provider, tls=tls)
            server.start()
            scheme = "https" if tls else "http"
            self.public_url = f"{scheme}://{address}:{server.port}"
            self.host = host
            # The setup QRs must carry the LAN address, not whatever the browser used.
            server.hub.config = replace(server.hub.config, public_url=self.public_url)
            self.server = server
        self.changed.emit(self.public_url)
        return self.public_url

    def stop(self) -> None:
        with self._lock:
            server, self.server, self.public_url = self.server, None, None
        if server is not None:
            server.stop()
            self.changed.emit(None)

    def _background(self, name: str, work: Callable[[], object], *, busy: bool = False) -> bool:
        """Run ``work`` on a helper thread; its exception becomes ``failed``."""
        if busy:
            if self.busy:
                return False
            self.busy = True
            self.busy_changed.emit(True)

        def run() -> None:
            try:
                work()
            except Exception as exc:  # port taken, disk full...: say it, keep the app up
                log.warning("Hub: %s failed: %s", name, exc)
                self.failed.emit(f"Could not {name}: {exc}")
            finally:
                if busy:
                    self.busy = False
                    self.busy_changed.emit(False)

        threading.Thread(target=run, name=f"hub-{name.replace(' ', '-')}", daemon=True).start()
        return True

    def start_async(self, host: str = LOOPBACK, port: int = 8765) -> bool:
        """Start serving without blocking: ``changed`` or ``failed`` follows."""
        return self._background("start serving", lambda: self.start(host, port), busy=True)

    def stop_async(self) -> bool:
        return self._background("stop serving", self.stop, busy=True)

    def organiser_key(self, name: str = "organiser (desktop)") -> str:
        """A new all-scopes organiser key; shown once, stored hashed."""
        _, secret = ApiKeyStore(self.node.db, self.node.clock).create(name, SCOPES)
        return secret

    def new_gate(self, gate: str, event_id: str) -> str:
        """Register a gate device; returns the text of its setup QR (URL + a new gate key)."""
        if not self.running or self.public_url is None:
            raise RuntimeError("start serving before adding gates")
        # A v2 code: a one-time enrolment offer (15 min) and the hub's certificate
        # fingerprint, never the gate's key (DESIGN.md §10).
        return self.server.hub.create_gate(gate, event_id, gate, self.public_url)["setupPayload"]

    def organiser_key_async(self) -> None:
        self._background(
            "make an organiser key", lambda: self.organiser_key_made.emit(self.organiser_key())
        )

    def new_gate_async(self, gate: str, event_id: str) -> None:
        self._background("add the gate", lambda: self.gate_made.emit(self.new_gate(gate, event_id)))
