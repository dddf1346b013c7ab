"""Every error leaves in the seed's envelope, and a failed request changes nothing."""

from __future__ import annotations

import pytest
from hubkit import assert_envelope, issue


def _counts(hub_node) -> tuple[int, int, int]:
    one = hub_node.db.query_one
    return (
        one("SELECT COUNT(*) FROM events")[0],
        one("SELECT COUNT(*) FROM tickets")[0],
        one("SELECT COUNT(*) FROM checkins")[0],
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tiers": [{"name": "GA"}]}, "title"),
        ({"title": "   ", "tiers": [{"name": "GA"}]}, "title"),
        ({"title": "x", "tiers": []}, "tiers"),
        ({"title": "x", "tiers": [{"name": "GA", "price": "5"}]}, "tiers[0].price"),
        ({"title": "x", "tiers": [{"name": "GA", "quantity": -1}]}, "tiers[0].quantity"),
        ({"title": "x", "tiers": [{"name": "A"}, {"name": "A"}]}, "tiers"),
        ({"title": "x", "startsAt": "tomorrow", "tiers": [{"name": "A"}]}, "startsAt"),
        (
            {
                "title": "x",
                "startsAt": "2026-08-10T20:00:00Z",
                "endsAt": "2026-08-10T19:00:00Z",
                "tiers": [{"name": "A"}],
            },
            "endsAt",
        ),
        ({"title": "x", "tiers": [{"name": "A"}], "settings": {"allowReentry": "yes"}}, None),
    ],
)
def test_validation_is_400_naming_the_field(api, hub_node, body, field):
    before = _counts(hub_node)
    error = assert_envelope(api.post("/v1/events", json=body), 400, "validation_error")
    if field:
        assert error["field"] == field
        assert field.split("[")[0] in error["message"]
    assert _counts(hub_node) == before


def test_bad_json_and_wrong_types(api):
    response = api.post(
        "/v1/events", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    error = assert_envelope(response, 400, "validation_error")
    assert "JSON" in error["message"]
    assert_envelope(api.post("/v1/events", json=[1, 2]), 400, "validation_error")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_json_says_which_content_type_to_send(api, hub_node, content_type):
    before = _counts(hub_node)
    body = b'{"title": "x", "tiers": [{"name": "GA"}]}'
    response = api.post("/v1/events", content=body, headers={"Content-Type": content_type})
    error = assert_envelope(response, 400, "validation_error")
    assert error["field"] == "body"
    assert "Content-Type: application/json" in error["message"] and content_type in error["message"]
    assert _counts(hub_node) == before


def test_query_parameters_are_validated(api, event):
    error = assert_envelope(
        api.get(f"/v1/events/{event['id']}/tickets", params={"limit": 0}), 400, "validation_error"
    )
    assert error["field"] == "limit"
    error = assert_envelope(
        api.get(f"/v1/events/{event['id']}/tickets", params={"after": "abc"}),
        400,
        "validation_error",
    )
    assert error["field"] == "after"
    error = assert_envelope(api.get("/v1/events", params={"status": "open"}), 400)
    assert error["field"] == "status"


def test_unknown_route_and_unknown_ids_are_404(api, event):
    assert_envelope(api.get("/v1/nothing-here"), 404, "not_found")
    assert_envelope(api.get("/v2/events"), 404, "not_found")
    for path in (
        "/v1/events/evt_missing",
        "/v1/events/evt_missing/keys",
        "/v1/events/evt_missing/stats",
        "/v1/events/evt_missing/tickets",
        "/v1/events/evt_missing/checkins",
        "/v1/events/evt_missing/export.csv",
        "/v1/tickets/tkt_missing",
        "/v1/tickets/tkt_missing/qr.png",
    ):
        error = assert_envelope(api.get(path), 404, "not_found")
        assert "missing" in error["message"], path
    assert_envelope(api.post("/v1/tickets/tkt_missing/cancel"), 404, "not_found")
    assert_envelope(api.delete("/v1/devices/dev_missing"), 404, "not_found")
    assert_envelope(api.delete("/v1/webhooks/whk_missing"), 404, "not_found")
    assert_envelope(
        api.post("/v1/devices", json={"name": "a", "eventId": "evt_missing", "gate": "g"}),
        404,
        "not_found",
    )


def test_wrong_method_is_405_in_the_envelope(api):
    assert_envelope(api.put("/v1/events"), 405, "method_not_allowed")


def test_conflicts_are_409(api, event):
    draft = api.post("/v1/events", json={"title": "Draft", "tiers": [{"name": "GA"}]}).json()
    error = assert_envelope(
        api.post(f"/v1/events/{draft['id']}/tickets", json={"tierName": "GA"}), 409, "conflict"
    )
    assert "draft" in error["message"]
    api.delete(f"/v1/events/{draft['id']}")
    assert_envelope(api.post(f"/v1/events/{draft['id']}/publish"), 409, "conflict")
    assert_envelope(
        api.post(f"/v1/events/{draft['id']}/tickets", json={"tierName": "GA"}), 409, "conflict"
    )


def test_sold_out_is_409_and_issues_nothing(api, hub_node, event):
    issue(api, event["id"], "VIP", quantity=2)
    before = _counts(hub_node)
    response = api.post(
        f"/v1/events/{event['id']}/tickets", json={"tierName": "VIP", "quantity": 2}
    )
    error = assert_envelope(response, 409, "sold_out")
    assert "1 tickets left" in error["message"]
    assert _counts(hub_node) == before
    assert len(issue(api, event["id"], "VIP", quantity=1)) == 1


def test_unknown_tier_is_400(api, event):
    error = assert_envelope(
        api.post(f"/v1/events/{event['id']}/tickets", json={"tierName": "Gold"}), 400
    )
    assert error["field"] == "tierName"


def test_body_over_one_mebibyte_is_413(api, hub_node):
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    response = api.post("/v1/events", content=big, headers={"Content-Type": "application/json"})
    assert_envelope(response, 413, "payload_too_large")
    assert response.headers["x-ratelimit-limit"]


def test_chunked_body_over_one_mebibyte_is_413(api, hub_node):
    def chunks():
        yield b'{"title": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = api.post(
        "/v1/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "payload_too_large")
    assert _counts(hub_node)[0] == 0


def test_unexpected_failure_is_500_in_the_envelope(hub, api, event, monkeypatch):
    def broken(event_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(hub.hub.node.reports, "stats", broken)
    error = assert_envelope(api.get(f"/v1/events/{event['id']}/stats"), 500, "internal_error")
    assert "fire" not in error["message"]  # internals stay in the log
    assert api.get("/v1/events").status_code == 200  # and the hub carries on
