"""Fixtures: the real hub under uvicorn on 127.0.0.1 (port 0), a real SQLite file, httpx."""

from __future__ import annotations

import pytest
from hubkit import FAST_WEBHOOKS, Receiver, client_for, create_event, make_key

from scanner_app.core.node import Node
from scanner_app.server import HubServer


@pytest.fixture
def hub_node(tmp_path):
    """A hub node on the real clock (webhook backoff and rate limits run on real time)."""
    with Node.open(tmp_path / "hub") as opened:
        yield opened


@pytest.fixture
def hub(hub_node):
    server = HubServer(hub_node, port=0, **FAST_WEBHOOKS).start()
    yield server
    server.stop()


@pytest.fixture
def org_key(hub) -> str:
    # A roomy limit: these tests are about behaviour, the limiter has its own tests.
    return make_key(hub, rate_limit=100_000, rate_burst=100_000)


@pytest.fixture
def api(hub, org_key):
    with client_for(hub, org_key) as client:
        yield client


@pytest.fixture
def event(api) -> dict:
    return create_event(api)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()
