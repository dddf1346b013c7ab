"""Sync tests never touch the developer's keyring or inherit a real API key."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_keys(monkeypatch):
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")
    monkeypatch.delenv("TICKITZ_API_KEY", raising=False)
