"""The "Copy diagnostics" report: what a venue's IT person pastes into a support message.

Version, OS, Qt, camera, decoder, sync and hub state, where the log is, and the last
warnings and errors. Never a key, a PIN hash, a setup code or an attendee name: the text is
built from named fields only (no settings dump), and URLs and log lines are scrubbed.
"""

from __future__ import annotations

import platform
import sys
import time
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence

from scanner_app import __version__
from scanner_app.camera.decoders import available_decoders
from scanner_app.core import applog

if TYPE_CHECKING:
    from scanner_app.gui.app import ScannerApp


def _when(unix: float | None) -> str:
    if unix is None:
        return "never"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def diagnostics_text(scanner: ScannerApp) -> str:
    """The report, as plain text lines."""
    settings = scanner.settings
    status = scanner.window.status.snapshot
    camera = scanner.camera
    frozen = "bundle" if getattr(sys, "frozen", False) else "python"
    lines = [
        f"Tickitz Scanner {__version__} ({frozen})",
        f"OS: {platform.platform()} ({platform.machine()})",
        f"Python {platform.python_version()}, Qt {qVersion()}, PySide6 {PySide6.__version__}",
        f"Camera: {applog.scrub(str(settings.camera))} at "
        f"{settings.camera_width}x{settings.camera_height}",
    ]
    if camera is not None:
        stats = camera.stats()
        lines.append(
            f"Camera state: {stats.state}, source {stats.source_state}"
            f" ({applog.scrub(stats.source_message)}), {stats.source_fps:.1f} fps,"
            f" frames {stats.frames_captured}, scans {stats.scans}, errors {stats.errors}"
        )
        decoder = camera.pipeline.decoder.name
        lines.append(f"Decoder: {settings.decoder} -> {decoder}, {stats.decode_ms_avg:.1f} ms avg")
    else:
        lines.append("Camera state: none attached")
        lines.append(f"Decoder: {settings.decoder}")
    lines.append(f"Decoders available: {', '.join(available_decoders())}")
    lines += [
        f"Gate: direction {settings.direction},"
        f" kiosk {'on' if scanner.window.kiosk.active else 'off'}",
        f"Event: {settings.event_id or 'none'}",
        f"Upstream: {applog.scrub(settings.upstream_url) or 'none'}"
        f" (strict {'on' if settings.strict_online else 'off'})",
        f"Sync: {status.shown_connection}, last sync {_when(status.last_sync_at)},"
        f" pending uploads {status.pending_uploads}",
    ]
    if status.sync_detail:
        lines.append(f"Sync detail: {applog.scrub(status.sync_detail)}")
    hub = scanner.hub
    lines.append(f"Hub: {'serving ' + str(hub.public_url) if hub.running else 'off'}")
    lines.append(f"Log file: {applog.log_file() or 'none (terminal only)'}")
    problems = applog.recent_problems()
    lines.append(f"Last warnings and errors ({len(problems)}):")
    lines += [f"  {line}" for line in problems] or ["  none"]
    return "\n".join(lines) + "\n"


def add_copy_action(scanner: ScannerApp) -> QAction:
    """A toolbar action (Ctrl+Shift+D) copying the report; hidden in kiosk mode."""
    window = scanner.window
    action = QAction("Copy diagnostics", window, shortcut=QKeySequence("Ctrl+Shift+D"))
    action.setToolTip("Copy version, camera, sync state and recent errors for support")

    def copy() -> None:
        text = diagnostics_text(scanner)
        QGuiApplication.clipboard().setText(text)
        window.verdict.show_message(
            "Diagnostics copied", "Paste them into your message to support.", icon="check"
        )

    action.triggered.connect(copy)
    window.toolbar.addAction(action)
    window.kiosk.kiosk_changed.connect(lambda active: action.setVisible(not active))
    return action
