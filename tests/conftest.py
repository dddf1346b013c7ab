"""Fixtures shared by every test package: a settable clock, a node on a real SQLite file,
and a published event this node issues. Package-specific fixtures live in each package's
own conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner_app.core.node import Node

pytest_plugins = ["system_libs"]  # tests/system_libs.py: names a missing system library

START = datetime(2026, 7, 15, 19, 0, 0, tzinfo=UTC)


class FakeClock:
    """An injectable clock that moves only when told to (`advance`, or by assigning `now`)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture(scope="session", autouse=True)
def _own_user_folders(tmp_path_factory):
    """The platform's user config, data and log folders (platformdirs reads XDG_*) in this
    run's own tmp: the demo and the app started without --data-dir log and keep settings
    there, never in the developer's home, and parallel workers (`pytest -n`) share none."""
    home = tmp_path_factory.mktemp("user")
    with pytest.MonkeyPatch.context() as patch:
        for variable, folder in (
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "share"),
            ("XDG_STATE_HOME", "state"),
        ):
            patch.setenv(variable, str(home / folder))
        yield


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def node(tmp_path, clock):
    """A node over a real SQLite file in tmp_path, on the fake clock."""
    with Node.open(tmp_path / "node", clock=clock) as opened:
        yield opened


@pytest.fixture
def issued_event(node):
    """A published event issued (and signed) by `node`: tiers GA (100) and VIP (10)."""
    event = node.events.create(
        {
            "title": "Test Night",
            "tiers": [
                {"name": "GA", "price": 0, "quantity": 100},
                {"name": "VIP", "price": 5000, "quantity": 10},
            ],
        }
    )
    return node.events.publish(event["id"])
