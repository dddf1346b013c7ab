"""Every route: no key 401, revoked key 401, wrong scope 403; rate-limit headers and 429."""

from __future__ import annotations

import pytest
from hubkit import assert_envelope, client_for, make_key

from scanner_app.core.apikeys import SCOPES

# (method, path, scope): the whole API. A route missing here fails test_table_covers_api.
ROUTES = [
    ("GET", "/v1/events", "events:read"),
    ("POST", "/v1/events", "events:write"),
    ("GET", "/v1/events/{event_id}", "events:read"),
    ("POST", "/v1/events/{event_id}/publish", "events:write"),
    ("DELETE", "/v1/events/{event_id}", "events:write"),
    ("GET", "/v1/events/{event_id}/keys", "events:read"),
    ("GET", "/v1/events/{event_id}/stats", "bookings:read"),
    ("GET", "/v1/events/{event_id}/conflicts", "bookings:read"),
    ("GET", "/v1/events/{event_id}/export.csv", "bookings:read"),
    ("GET", "/v1/events/{event_id}/export.json", "bookings:read"),
    ("POST", "/v1/events/{event_id}/tickets", "bookings:write"),
    ("GET", "/v1/events/{event_id}/tickets", "bookings:read"),
    ("GET", "/v1/tickets/{ticket_id}", "bookings:read"),
    ("GET", "/v1/tickets/{ticket_id}/qr.png", "bookings:read"),
    ("POST", "/v1/tickets/{ticket_id}/cancel", "bookings:write"),
    ("POST", "/v1/checkin/scan", "checkin:write"),
    ("POST", "/v1/checkin/batch", "checkin:write"),
    ("GET", "/v1/events/{event_id}/checkins", "checkin:write"),
    ("POST", "/v1/devices", "events:write"),
    ("GET", "/v1/devices", "events:write"),
    ("DELETE", "/v1/devices/{device_id}", "events:write"),
    ("POST", "/v1/qr.png", "events:write"),
    ("POST", "/v1/webhooks", "webhooks:write"),
    ("GET", "/v1/webhooks", "webhooks:write"),
    ("DELETE", "/v1/webhooks/{webhook_id}", "webhooks:write"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries", "webhooks:write"),
]


# Routes that take no API key: the one-time enrolment code in the body is the credential.
PUBLIC = [("POST", "/v1/devices/enrol")]


def _call(client, method, path):
    url = path.format(event_id="evt_x", ticket_id="tkt_x", device_id="dev_x", webhook_id="whk_x")
    body = {} if method == "POST" else None
    return client.request(method, url, json=body)


def test_table_covers_api(hub):
    served = {
        (method.upper(), path)
        for path, operations in hub.app.openapi()["paths"].items()
        for method in operations
    }
    assert served == {(method, path) for method, path, _ in ROUTES} | set(PUBLIC)
    spec = hub.app.openapi()["paths"]
    assert spec["/v1/devices/enrol"]["post"]["security"] == []  # documented as keyless


def test_enrolment_takes_no_key_and_refuses_unknown_codes_alike(hub):
    with client_for(hub, None) as anonymous:
        for code in ("tk_enrol_nosuchcode", "tk_live_notacode", "x" * 100):
            response = anonymous.post("/v1/devices/enrol", json={"enrol": code})
            error = assert_envelope(response, 401, "unauthorized")
            assert "unknown, already used or expired" in error["message"]
        assert_envelope(anonymous.post("/v1/devices/enrol", json={}), 400, "validation_error")


def test_auth_matrix(hub):
    revoked_key = make_key(hub, name="old")
    revoked_id = hub.hub.keys.list()[-1].id
    hub.hub.keys.revoke(revoked_id)
    with client_for(hub, None) as anonymous, client_for(hub, revoked_key) as revoked:
        for method, path, scope in ROUTES:
            error = assert_envelope(_call(anonymous, method, path), 401, "unauthorized")
            assert "key" in error["message"].lower(), (method, path)
            error = assert_envelope(_call(revoked, method, path), 401, "unauthorized")
            assert "revoked" in error["message"], (method, path)
            others = [s for s in SCOPES if s != scope]
            with client_for(hub, make_key(hub, others, name=f"no {scope}")) as lacking:
                error = assert_envelope(_call(lacking, method, path), 403, "forbidden")
                assert scope in error["message"], (method, path)


def test_malformed_authorization_headers(hub):
    with client_for(hub, None) as client:
        for value in (
            "tk_live_abc",
            "Basic dXNlcjpwYXNz",
            "Bearer  x y",
            "Bearer tk_live_" + "x" * 43,
        ):
            response = client.get("/v1/events", headers={"Authorization": value})
            assert_envelope(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_the_right_scope_is_enough(hub, event):
    key = make_key(hub, ["events:read"], name="reader")
    with client_for(hub, key) as reader:
        assert reader.get("/v1/events").status_code == 200
        assert reader.get(f"/v1/events/{event['id']}/keys").json()["keys"]
        assert_envelope(reader.post("/v1/events", json={}), 403, "forbidden")


@pytest.mark.parametrize("path", ["/v1/events", "/nowhere", "/", "/v1/openapi.json"])
def test_every_response_has_rate_limit_and_request_id_headers(api, path):
    response = api.get(path)
    for header in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert response.headers[header].isdigit(), header
    assert response.headers["x-request-id"].startswith("req_")


def test_rate_limit_per_key_with_retry_after(hub):
    tight = make_key(hub, ["events:read"], name="tight", rate_limit=60, rate_burst=3)
    other = make_key(hub, ["events:read"], name="other", rate_limit=60, rate_burst=3)
    with client_for(hub, tight) as client, client_for(hub, other) as neighbour:
        answers = [client.get("/v1/events") for _ in range(4)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]
        assert [int(r.headers["x-ratelimit-remaining"]) for r in answers[:3]] == [2, 1, 0]
        assert answers[0].headers["x-ratelimit-limit"] == "60"
        error = assert_envelope(answers[3], 429, "rate_limited")
        assert int(answers[3].headers["retry-after"]) >= 1
        assert "retry" in error["message"]
        # Another key has its own bucket.
        assert neighbour.get("/v1/events").status_code == 200


def test_anonymous_requests_are_limited_per_address(hub_node):
    from scanner_app.server import HubServer

    with HubServer(hub_node, port=0, anonymous_rate=(60, 2)) as server:
        with client_for(server, None) as client:
            codes = [client.get("/v1/events").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_last_used_is_recorded_off_the_request_path(hub, api):
    api.get("/v1/events")
    hub.stop()  # the worker writes collected usage when it stops
    used = [k for k in hub.hub.keys.list() if k.last_used_at]
    assert used, "the organiser key's last use was not recorded"
