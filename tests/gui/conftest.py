"""Shared fixtures for the GUI tests: offscreen Qt, the app stylesheet, a settings path."""

from __future__ import annotations

import os

# Before any Qt import: real widgets, no display needed (DESIGN.md section 8).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from scanner_app.gui import assets  # noqa: E402


@pytest.fixture(autouse=True)
def styled_app(qapp):
    """Every GUI test runs under the real application stylesheet, as the app does."""
    qapp.setStyleSheet(assets.stylesheet())
    yield qapp


@pytest.fixture
def settings_path(tmp_path):
    return tmp_path / "config" / "settings.json"
