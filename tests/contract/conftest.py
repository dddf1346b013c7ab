"""Contract suite fixtures: one real `tickitz-scanner serve` per test module (black box)."""

from __future__ import annotations

import pytest
from contractkit import Hub, seed_event


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    # The receivers run on 127.0.0.1: the venue's own receiver, allowed by the flag.
    started = Hub(tmp_path_factory.mktemp("hub"), "--allow-private-webhooks")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def org_key(hub) -> str:
    assert hub.key and hub.key.startswith("tk_"), hub.stdout
    return hub.key


@pytest.fixture(scope="module")
def api(hub, org_key):
    with hub.client(org_key) as client:
        yield client


@pytest.fixture(scope="module")
def event(api) -> dict:
    """A published event made from the seed's own create body."""
    created = api.post("/v1/events", json=seed_event())
    assert created.status_code == 201, created.text
    published = api.post(f"/v1/events/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json()


def issue(api, event_id: str, tier: str = "VIP", name: str | None = "Ada L.", quantity=1):
    body = {"tierName": tier, "quantity": quantity}
    if name is not None:
        body["attendeeName"] = name
    response = api.post(f"/v1/events/{event_id}/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def issue_tickets(api):
    return lambda event_id, **kw: issue(api, event_id, **kw)
