"""The gate's upstream from the window's side: connect (setup QR, typed URL + key, the
Settings dialog), keep the sync engine in step with the settings, feed the status bar.

Nothing here waits on the network, the keyring or the database: ``SyncController`` does
those on helper threads and answers with signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from scanner_app.core.errors import ValidationError
from scanner_app.gui.controllers.sync_controller import SyncController
from scanner_app.gui.settings import Settings, address_problem
from scanner_app.gui.widgets.kiosk import PinDialog
from scanner_app.gui.widgets.main_window import MainWindow
from scanner_app.sync import SyncConfig, SyncStatus, parse_setup
from scanner_app.sync.client import api_base
from scanner_app.sync.config import SetupPayload
from scanner_app.sync.enrolment import Enrolled

log = logging.getLogger(__name__)
SYNC_FIELDS = ("upstream_url", "event_ids", "gate", "interval_s", "strict")


def ask_to_switch(window: MainWindow, current: str, new: str) -> bool:
    """A person at the gate confirms moving it to another hub (never the camera alone)."""
    answer = QMessageBox.question(
        window,
        "Join another hub?",
        f"This gate syncs with {current}.\n\nA setup code for {new} was scanned. Switch this"
        " gate to it? Only say yes if the organiser asked you to.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_kiosk_pin(window: MainWindow) -> bool:
    """A kiosk joins another hub only with the organiser PIN."""
    dialog = PinDialog(window.settings.check_kiosk_pin, window)
    dialog.prompt.setText("Enter the organiser PIN to switch this gate to another hub.")
    return dialog.exec() == PinDialog.DialogCode.Accepted


class UpstreamController(QObject):
    """``connected(title, detail)`` when a connect attempt saved the upstream;
    ``failed(title, detail)`` when it did not (nothing was saved)."""

    connecting = Signal(str)  # the URL being checked
    connected = Signal(str, str)
    failed = Signal(str, str)

    def __init__(
        self,
        window: MainWindow,
        sync: SyncController,
        *,
        enabled: bool = True,
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.sync = sync
        self.enabled = enabled
        self.options = options or {}
        self._pending_key: str | None = None  # typed in Settings, stored on apply
        self._attempt: tuple[str, str, str | None, str | None] | None = None
        self._joining: str | None = None  # the setup code being tried
        self._joined: str | None = None  # the setup code this gate connected with
        self._enrolling: str | None = None  # the setup code being redeemed
        # The hub certificate an enrolment just pinned, until its connect attempt ends.
        self._attempt_certificate: str | None = None
        # Who may say yes to another hub (replaceable, so tests answer without a modal).
        self.confirm_switch: Callable[[str, str], bool] = partial(ask_to_switch, window)
        self.ask_pin: Callable[[], bool] = partial(ask_kiosk_pin, window)
        sync.status.connect(self._on_status)
        sync.engine_changed.connect(self._on_engine)
        sync.provider_changed.connect(window.use_provider)
        sync.checked.connect(self._on_checked)
        sync.enrolled.connect(self._on_enrolled)
        sync.failed.connect(lambda m: window.notify("Sync not set up", m, "warning"))
        window.key_store = self.store_key
        window.setup_scanned.connect(self.join)
        window.sync_now_requested.connect(self.sync_now)

    def restart(
        self, *, key: str | None = None, config: SyncConfig | None = None, standalone: bool = False
    ) -> None:
        """(Re)start the engine from the node's upstream, after saving what is given."""
        if not self.enabled:
            return
        self.window.use_provider(None)  # local until the new engine is up
        self.sync.start_async(key=key, config=config, standalone=standalone, **self.options)

    def sync_now(self) -> None:
        """A round at once (the engine only sets flags: nothing here waits)."""
        engine = self.sync.engine
        if engine is not None:
            engine.sync_now()
        elif self.window.settings.upstream_url:
            self.restart()  # the engine could not start before (no key yet...): try again
        else:
            self.window.verdict.show_message(
                "Nothing to sync with", "This laptop has no upstream (Settings → Upstream URL)"
            )

    def store_key(self, _settings: Settings, key: str) -> bool:
        """The Settings dialog's key field: kept until the settings are applied, then
        stored (keyring or 0600 file) on the sync thread."""
        if not key or any(c.isspace() for c in key):
            return False
        self._pending_key = key
        return True

    def join(self, setup_text: str, source: str = "typed") -> bool:
        """A hub's setup code (camera, scanner or typed): enrol with it, then connect.

        A gate that already has an upstream never switches because a code passed its
        camera (DESIGN.md §10): a person confirms, a kiosk asks for the organiser PIN, and
        a kiosk ignores setup codes from the camera altogether. The first run (no upstream
        yet) still joins from the camera in one step."""
        kiosk = self.window.kiosk.active
        if kiosk and source == "camera":
            log.info("Kiosk: ignored a setup code seen by the camera")
            return False
        # A QR held in front of the camera is seen again every few seconds: one attempt
        # at a time, and the code this gate already joined does not reconnect it.
        busy = self._attempt is not None or self._enrolling is not None
        if busy or setup_text == self._joined:
            return False
        try:
            setup = parse_setup(setup_text)
        except ValidationError as exc:
            self.failed.emit("Not a valid setup code", exc.message)
            return False
        current = self.window.settings.upstream_url
        if current:
            allowed = self.ask_pin() if kiosk else self.confirm_switch(current, setup.url)
            if not allowed:
                self.failed.emit("Not switched", f"This gate stays with {current}.")
                self._joined = setup_text  # do not ask again for the same code
                return False
        self._enrolling = setup_text
        self.connecting.emit(setup.url)
        self.sync.enrol_async(setup)
        return True

    def _on_enrolled(self, setup: SetupPayload, outcome: object) -> None:
        joining, self._enrolling = self._enrolling, None
        if not isinstance(outcome, Enrolled):
            self.failed.emit("Not connected", str(outcome))
            return
        self._attempt_certificate = outcome.certificate
        if self.connect(setup.url, outcome.key, setup.event_id, setup.gate):
            self._joining = joining
        else:
            self._attempt_certificate = None

    def connect(
        self, url: str, key: str, event_id: str | None = None, gate: str | None = None
    ) -> bool:
        """Check the upstream takes the key, then save it all and sync (answers later)."""
        problem = address_problem(url)
        if problem:
            self.failed.emit("Not a usable address", problem)
            return False
        if not key or any(c.isspace() for c in key):
            self.failed.emit("Not a usable key", "An API key is one word")
            return False
        current = self.window.settings.node_config()
        config = SyncConfig(
            url=url.strip(),
            event_ids=(event_id,) if event_id else current.event_ids,
            gate=gate or current.gate,
            interval_s=current.interval_s,
            strict=current.strict,
            certificate=self._attempt_certificate,
        )
        self._attempt = (url.strip(), key, event_id, gate)
        self.connecting.emit(url)
        self.sync.check_async(config, key)
        return True

    def _on_checked(self, outcome: str, message: str, config: SyncConfig) -> None:
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        url, key, event_id, gate = attempt
        joining, self._joining = self._joining, None
        certificate, self._attempt_certificate = self._attempt_certificate, None
        if outcome == "refused":
            self.failed.emit("Not connected", message)
            return
        self._joined = joining
        old = self.window.settings
        base = old.node_config().with_changes(
            upstream_url=config.upstream,
            event_ids=(event_id,) if event_id else old.node_config().event_ids,
            gate=gate or old.node_config().gate,
            # The certificate this gate pinned when it enrolled; a typed address and key
            # trust the system's authorities (https) or nothing (plain http).
            certificate=certificate or "",
            insecure_http=False,
        )
        new = Settings.from_node_config(base, old)
        self.window.apply_settings(new)
        self.restart(key=key, config=base)
        title = "Connected" if outcome == "ok" else "Saved: hub not reachable yet"
        self.connected.emit(title, message)

    def on_settings_changed(self, old: Settings, new: Settings) -> None:
        """Save the node's part in its data directory (where `connect` and `scan` read
        it) and restart syncing when where or how it syncs changed."""
        key, self._pending_key = self._pending_key, None
        before, after = old.node_config(), new.node_config()
        if not self.enabled or (
            not key and all(getattr(before, f) == getattr(after, f) for f in SYNC_FIELDS)
        ):
            if after != before or not self.enabled:
                self.sync.save_async(after)
            return
        if (
            before.upstream_url
            and after.upstream_url
            and (api_base(before.upstream_url) != api_base(after.upstream_url))
        ):
            after = after.with_changes(certificate="")  # a typed new address is not the pinned hub
        # An empty address: the saved config makes the node standalone, the engine stops.
        self.restart(key=key, config=after)

    def _on_engine(self, engine: Any) -> None:
        if engine is None:
            self.window.show_standalone()

    def _on_status(self, status: SyncStatus) -> None:
        self.window.show_sync(status)
