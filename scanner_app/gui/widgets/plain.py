"""Plain text on screen: the one way widgets show words (DESIGN.md §10, last bullet).

QLabel and QMessageBox default to ``Qt.AutoText``: a string that looks like HTML is
rendered as HTML. An attendee named ``<table bgcolor=green>...ADMIT`` then paints a green
"ADMIT" inside a red REJECTED. Every label here is ``Qt.PlainText``; tooltips (Qt guesses
their format and offers no switch) are escaped so they show their text literally.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

PLAIN = Qt.TextFormat.PlainText


class PlainLabel(QLabel):
    """A QLabel that never interprets its text as markup."""

    def __init__(self, text: str = "", parent: QWidget | None = None, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.setTextFormat(PLAIN)
        self.setText(text)


def make_plain(root: QWidget) -> QWidget:
    """Set every label under ``root`` to plain text, including those Qt makes itself
    (QFormLayout row labels, QMessageBox's text). Call at the end of building a window."""
    for label in root.findChildren(QLabel):
        label.setTextFormat(PLAIN)
    if isinstance(root, QLabel):
        root.setTextFormat(PLAIN)
    return root


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows literally (lines kept), whatever it contains."""
    if not text:
        return ""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"


def message_box(
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton,
    parent: QWidget | None = None,
) -> QMessageBox:
    """A QMessageBox whose text (often holding a name) is plain text."""
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(PLAIN)
    box.setText(text)
    make_plain(box)
    return box
