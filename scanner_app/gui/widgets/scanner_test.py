"""Settings → Test your scanner: read a test code and say what the scanner really sends.

The most common desktop complaint about USB scanners is a keyboard layout mismatch (the
scanner "types" as a US keyboard on a German laptop: y and z swapped, '-' becomes 'ß'),
then a missing Enter and a slow key rate. The page shows a code with the characters
tickets use, reads it through the app's own wedge filter (so the door does not scan it)
and reports each of the three in words.
"""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.widgets.hub_dialog import qr_pixmap
from scanner_app.gui.widgets.plain import PlainLabel

# Letters that move between layouts (QWERTZ y/z, AZERTY a/q w/z), digits, and the
# punctuation of ticket tokens (base64url '-' '_', '.') and setup codes (':').
TEST_CODE = "Tickitz-TEST_AZaz.QqWwYyZz:0123456789"
SLOW_MS = 25.0  # the wedge takes keys up to 40 ms apart as one burst


def describe_scan(expected: str, got: str, suffix: str, ms_per_key: float) -> list[str]:
    """What a test scan shows, one line each: characters, suffix, key rate."""
    lines: list[str] = []
    if got == expected:
        lines.append(f"Characters: all {len(got)} read correctly.")
    elif got.swapcase() == expected:
        lines.append("Characters: capitals and small letters swapped: Caps Lock is on.")
    else:
        wrong = [(e, g) for e, g in zip(expected, got, strict=False) if e != g]
        shown = ", ".join(f"'{e}' came as '{g}'" for e, g in wrong[:4])
        if len(got) != len(expected):
            shown += f"{'; ' if shown else ''}{len(got)} characters instead of {len(expected)}"
        lines.append(
            f"Characters: wrong ({shown}). The scanner types for another keyboard layout:"
            " set its keyboard language to this laptop's (see its manual), or this"
            " laptop's layout to the scanner's."
        )
    if suffix in ("Enter", "KP_Enter", "Return"):
        lines.append("Suffix: Enter after each scan (best).")
    elif suffix == "Tab":
        lines.append("Suffix: Tab after each scan (works).")
    else:
        lines.append(
            "Suffix: none. Scans end when the scanner falls quiet (works, a little slower);"
            " set it to send Enter for the fastest verdicts."
        )
    rate = f"Key rate: {ms_per_key:.0f} ms per key"
    if ms_per_key > SLOW_MS:
        rate += " (slow: close to the 40 ms the app allows; choose a faster rate)"
    lines.append(rate + ".")
    return lines


class ScannerTestDialog(QDialog):
    """While shown, the wedge's bursts come here instead of becoming scans."""

    def __init__(self, wedge: WedgeFilter | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scannerTest")
        self.setWindowTitle("Test your scanner")
        self.wedge = wedge
        self.result_lines: list[str] = []
        self._seen: tuple[str, float] = ("none", 0.0)
        hint = PlainLabel("Scan this code with the USB scanner:")
        qr = PlainLabel(objectName="scannerTestQr")
        qr.setPixmap(qr_pixmap(TEST_CODE))
        self.result_label = PlainLabel(
            "Waiting for a scan…" if wedge else "No scanner input here", objectName="testResult"
        )
        self.result_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (hint, qr, self.result_label, buttons):
            layout.addWidget(widget)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self.wedge is not None:
            self.wedge.burst_seen.connect(self._on_seen)
            self.wedge.diverted = self.show_result

    def done(self, result: int) -> None:
        self._release()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self._release()
        super().closeEvent(event)

    def _release(self) -> None:
        if self.wedge is not None and self.wedge.diverted == self.show_result:
            self.wedge.diverted = None
            self.wedge.burst_seen.disconnect(self._on_seen)

    def _on_seen(self, _text: str, suffix: str, ms_per_key: float) -> None:
        self._seen = (suffix, ms_per_key)  # emitted just before the burst is handed over

    def show_result(self, text: str) -> None:
        suffix, ms = self._seen
        self.result_lines = describe_scan(TEST_CODE, text, suffix, ms)
        self.result_label.setText("\n".join(self.result_lines))
