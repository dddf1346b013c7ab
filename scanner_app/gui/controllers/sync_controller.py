"""The sync engine for the window: connecting, storing the key and (re)starting it, all
off the GUI thread.

Checking an upstream is a network round trip (up to the connect timeout on a dead LAN);
the key goes to the OS keyring (D-Bus, maybe an unlock prompt); the engine's config is a
database write. Each runs on a helper thread and answers with a signal.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from scanner_app.core.door import CheckProvider
from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.sync import (
    KeyStore,
    NotConfigured,
    SettingsDamaged,
    SyncConfig,
    SyncEngine,
    SyncStatus,
)
from scanner_app.sync.config import SetupPayload
from scanner_app.sync.door import check_provider
from scanner_app.sync.enrolment import EnrolmentFailed, enrol
from scanner_app.sync.probe import probe_upstream

log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 5.0


class SyncController(QObject):
    """Runs the node's SyncEngine (if it has an upstream) and re-emits its status."""

    status = Signal(object)  # the engine's SyncStatus, as it is
    engine_changed = Signal(object)  # the running SyncEngine, or None (standalone)
    # The door's CheckProvider for that engine (sync.door.check_provider), made on the
    # helper thread (it may read the key); emitted just before engine_changed.
    provider_changed = Signal(object)
    checked = Signal(str, str, object)  # outcome, message, the SyncConfig checked
    failed = Signal(str)  # e.g. the key could not be stored
    enrolled = Signal(object, object)  # the SetupPayload, then Enrolled or an error message

    def __init__(self, node: Node, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.node = node
        self.engine: SyncEngine | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._starting: list[threading.Thread] = []
        self.engine_changed.connect(self._adopt)

    # --- connecting ----------------------------------------------------------------------
    def check_async(self, config: SyncConfig, key: str) -> None:
        """Try ``config`` with ``key`` without saving anything; ``checked`` answers."""

        def work() -> None:
            probe = probe_upstream(config, key, clock=self.node.clock, timeout_s=CHECK_TIMEOUT_S)
            self.checked.emit(str(probe.outcome.value), probe.message, config)

        threading.Thread(target=work, name="sync-check", daemon=True).start()

    def enrol_async(self, offer: SetupPayload) -> None:
        """Pin the hub's certificate and redeem the setup code's one-time token for this
        gate's key (DESIGN.md §10); ``enrolled`` answers with the key or why not."""

        def work() -> None:
            try:
                outcome: object = enrol(self.node, offer, timeout=CHECK_TIMEOUT_S)
            except EnrolmentFailed as exc:
                outcome = str(exc)
            self.enrolled.emit(offer, outcome)

        threading.Thread(target=work, name="sync-enrol", daemon=True).start()

    # --- running -------------------------------------------------------------------------
    def start(self, **engine_options: Any) -> SyncEngine | None:
        """Start syncing now (blocks); None when this node is standalone."""
        self.stop()
        with self._lock:
            self._generation += 1
            generation = self._generation
        engine, provider = self._make(generation, None, None, None, engine_options)
        self.provider_changed.emit(provider)
        self._adopt(engine)
        return engine

    def save_async(self, config: NodeConfig) -> None:
        """Save the node's configuration on a helper thread, the engine left as it is
        (what changed is how the door scans, not where it syncs)."""

        def work() -> None:
            try:
                config.save(self.node)
            except (ValueError, OSError) as exc:
                log.warning("Cannot save the node settings: %s", exc)
                self.failed.emit(f"Could not save the settings: {exc}")

        thread = threading.Thread(target=work, name="config-save", daemon=True)
        self._starting = [t for t in self._starting if t.is_alive()] + [thread]
        thread.start()

    def start_async(
        self,
        *,
        key: str | None = None,
        config: NodeConfig | SyncConfig | None = None,
        standalone: bool = False,
        **engine_options: Any,
    ) -> None:
        """Store ``key``, save ``config`` (a whole NodeConfig, or the sync part; or forget
        the upstream when ``standalone``), then start the engine, on a helper thread;
        ``engine_changed`` follows."""
        self.stop()
        with self._lock:
            self._generation += 1
            generation = self._generation

        def work() -> None:
            engine, provider = self._make(generation, key, config, standalone, engine_options)
            with self._lock:
                current = generation == self._generation
            if not current:  # a newer restart began meanwhile: this engine is stale
                provider.close()
                if engine is not None:
                    engine.on_status = None
                    engine.stop(timeout=5.0)
                return
            self.provider_changed.emit(provider)
            self.engine_changed.emit(engine)

        thread = threading.Thread(target=work, name="sync-start", daemon=True)
        self._starting = [t for t in self._starting if t.is_alive()] + [thread]
        thread.start()

    def _make(
        self,
        generation: int,
        key: str | None,
        config: NodeConfig | SyncConfig | None,
        standalone: bool | None,
        options: dict[str, Any],
    ) -> tuple[SyncEngine | None, CheckProvider]:
        try:
            if key:
                KeyStore(self.node.data_dir, self.node.device_id).set(key)
            if standalone:
                SyncConfig.clear(self.node)
            elif config is not None:
                config.save(self.node)
        except (ValueError, OSError) as exc:
            log.warning("Cannot save the upstream settings: %s", exc)
            self.failed.emit(f"Could not save the upstream settings: {exc}")
        try:
            engine = SyncEngine.from_node(
                self.node, on_status=lambda s: self._on_status(generation, s), **options
            )
        except SettingsDamaged as exc:  # the door decides locally; staff must hear why
            log.warning("Not syncing: %s", exc)
            self.failed.emit(f"Not syncing: {exc}")
            return None, check_provider(self.node, local_only=True)
        except NotConfigured as exc:
            log.info("Not syncing: %s", exc)
            return None, check_provider(self.node, local_only=True)
        provider = check_provider(self.node, engine)
        engine.start()
        return engine, provider

    def _adopt(self, engine: SyncEngine | None) -> None:  # GUI thread
        self.engine = engine
        if engine is not None:
            self._on_status(self._generation, engine.status())

    def stop(self, *, wait: bool = False) -> None:
        """Stop the engine. A round stuck on a dead upstream can take seconds to end, so
        unless ``wait``, that happens on a helper thread and the GUI carries on."""
        if wait:  # shutting down: a start in flight finishes (and stops its engine) first
            with self._lock:
                self._generation += 1
            for thread in self._starting:
                thread.join(10.0)
        engine, self.engine = self.engine, None
        if engine is None:
            return
        engine.on_status = None  # a stopping engine must not overwrite the new one's status
        if wait:
            engine.stop(timeout=5.0)
        else:
            threading.Thread(target=engine.stop, name="sync-stop", daemon=True).start()

    def _on_status(self, generation: int, status: SyncStatus) -> None:  # the sync thread
        if generation == self._generation:
            self.status.emit(status)
