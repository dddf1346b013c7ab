"""The seed's error envelope and rate-limit headers on every failure (DESIGN.md §6, seed)."""

from __future__ import annotations

import json
import time

import pytest
from contractkit import check_envelope, check_rate_headers, new_key, run_cli, seed_event

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def draft(api):
    return api.post("/v1/events", json=seed_event(title="Draft night")).json()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/events", {}, "title"),
        ("/v1/events", {"title": "T", "tiers": "many"}, "tiers"),
        ("/v1/events", {"title": "T", "tiers": [{"name": "GA", "price": "free"}]}, "price"),
        ("/v1/events", {"title": "T", "tiers": [], "startsAt": "soon"}, None),
        ("/v1/checkin/scan", {"qrPayload": "x", "scannedBy": "g"}, "eventId"),
        ("/v1/checkin/scan", {"qrPayload": 5, "eventId": "e", "scannedBy": "g"}, "qrPayload"),
        ("/v1/checkin/batch", {"checkins": "none"}, "checkins"),
        ("/v1/devices", {"name": "x"}, None),
        ("/v1/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["nope.nope"]}, "events"),
    ],
)
def test_validation_errors_are_400_naming_the_field_never_422(api, path, body, field):
    error = check_envelope(api.post(path, json=body), 400, "validation_error")
    if field:
        assert field in error["message"] or field in error.get("field", ""), error


@pytest.mark.parametrize("path", ["/v1/events", "/v1/checkin/scan", "/v1/checkin/batch"])
def test_a_body_that_is_not_json_is_400(api, path):
    for content in (b"{not json", b"", b"[1, 2]", "\u00e9".encode("latin-1")):
        response = api.post(path, content=content, headers={"Content-Type": "application/json"})
        check_envelope(response, 400, "validation_error")


def test_bad_query_parameters_are_400(api, draft):
    for params in ({"limit": "0"}, {"limit": "lots"}, {"after": "not-a-cursor"}):
        for feed in ("tickets", "checkins"):
            response = api.get(f"/v1/events/{draft['id']}/{feed}", params=params)
            check_envelope(response, 400, "validation_error")


def test_401_without_a_usable_key(hub, org_key):
    for headers in (
        {},
        {"Authorization": "Bearer tk_live_not_a_real_key"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {org_key}"},
        {"Authorization": org_key},
    ):
        with hub.client() as client:
            check_envelope(client.get("/v1/events", headers=headers), 401, "unauthorized")
            response = client.post(
                "/v1/checkin/scan",
                json={"qrPayload": "x", "eventId": "e", "scannedBy": "g"},
                headers=headers,
            )
            check_envelope(response, 401, "unauthorized")


def test_a_revoked_key_is_401(hub):
    secret = new_key(hub.data_dir, "--name", "short-lived", "--scope", "events:read")
    with hub.client(secret) as client:
        assert client.get("/v1/events").status_code == 200
        listed = run_cli(hub.data_dir, "keys", "list")
        key_id = next(
            k["id"]
            for k in map(json.loads, listed.stdout.splitlines())
            if k["name"] == "short-lived"
        )
        assert secret not in listed.stdout
        assert run_cli(hub.data_dir, "keys", "revoke", key_id).returncode == 0
        # Revoked by another process beside the running hub: refused within seconds.
        deadline = time.monotonic() + 6
        while client.get("/v1/events").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        check_envelope(client.get("/v1/events"), 401, "unauthorized")


def test_403_when_the_key_lacks_the_scope(hub, draft):
    reader = new_key(hub.data_dir, "--name", "reader", "--scope", "events:read")
    with hub.client(reader) as client:
        assert client.get(f"/v1/events/{draft['id']}").status_code == 200
        check_envelope(client.post("/v1/events", json=seed_event()), 403, "forbidden")
        check_envelope(client.get(f"/v1/events/{draft['id']}/tickets"), 403, "forbidden")
        scan = {"qrPayload": "x", "eventId": draft["id"], "scannedBy": "g"}
        check_envelope(client.post("/v1/checkin/scan", json=scan), 403, "forbidden")


def test_the_key_is_checked_before_the_body(hub):
    """No key: 401, wrong scope: 403, even when the body is not JSON either."""
    reader = new_key(hub.data_dir, "--name", "body-reader", "--scope", "events:read")
    for key, status in ((None, 401), ("tk_live_unknown", 401), (reader, 403)):
        with hub.client(key) as client:
            for path in ("/v1/events", "/v1/devices", "/v1/webhooks", "/v1/checkin/scan"):
                for content in (b"{bad", b"[" * 5000 + b"]" * 5000, b'{"title": 5}'):
                    response = client.post(
                        path, content=content, headers={"Content-Type": "application/json"}
                    )
                    check_envelope(response, status)


def test_404_for_unknown_ids_and_routes(api):
    for path in (
        "/v1/events/evt_nope",
        "/v1/events/evt_nope/keys",
        "/v1/events/evt_nope/tickets",
        "/v1/events/evt_nope/checkins",
        "/v1/events/evt_nope/stats",
        "/v1/events/evt_nope/export.csv",
        "/v1/tickets/tkt_nope",
        "/v1/nothing-here",
        "/v2/events",
    ):
        check_envelope(api.get(path), 404, "not_found")
    check_envelope(api.post("/v1/events/evt_nope/publish"), 404, "not_found")
    check_envelope(api.delete("/v1/events/evt_nope"), 404, "not_found")
    body = {"tierName": "VIP", "quantity": 1}
    check_envelope(api.post("/v1/events/evt_nope/tickets", json=body), 404, "not_found")
    device = {"name": "n", "eventId": "evt_nope", "gate": "g"}
    check_envelope(api.post("/v1/devices", json=device), 404, "not_found")


def test_405_for_a_method_the_route_does_not_have(api):
    response = api.put("/v1/events", json={})
    check_envelope(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    check_envelope(api.patch("/v1/checkin/scan", json={}), 405)


def test_409_for_draft_cancelled_and_sold_out(api, draft):
    body = {"tierName": "VIP", "attendeeName": "A", "quantity": 1}
    check_envelope(api.post(f"/v1/events/{draft['id']}/tickets", json=body), 409, "conflict")
    small = api.post(
        "/v1/events", json=seed_event(tiers=[{"name": "Tiny", "price": 0, "quantity": 2}])
    ).json()
    api.post(f"/v1/events/{small['id']}/publish")
    url = f"/v1/events/{small['id']}/tickets"
    assert api.post(url, json={"tierName": "Tiny", "quantity": 2}).status_code == 201
    check_envelope(api.post(url, json={"tierName": "Tiny", "quantity": 1}), 409, "sold_out")
    manifest = api.get(url).json()["data"]
    assert len(manifest) == 2  # nothing half-written
    api.delete(f"/v1/events/{small['id']}")
    check_envelope(api.post(url, json={"tierName": "Tiny", "quantity": 1}), 409, "conflict")
    check_envelope(api.post(f"/v1/events/{small['id']}/publish"), 409, "conflict")


def test_413_for_bodies_over_one_mib_with_or_without_a_length(api):
    before = len(api.get("/v1/events").json()["data"])
    big = seed_event(description="x" * (MIB + 10))
    raw = json.dumps(big).encode()
    for path in ("/v1/events", "/v1/checkin/scan", "/v1/checkin/batch"):
        check_envelope(
            api.post(path, content=raw, headers={"Content-Type": "application/json"}), 413
        )

        def chunks():
            for start in range(0, len(raw), 65536):
                yield raw[start : start + 65536]

        chunked = api.post(path, content=chunks(), headers={"Content-Type": "application/json"})
        check_envelope(chunked, 413)
    assert len(api.get("/v1/events").json()["data"]) == before
    # The limit is on size only: an ordinary body still goes through.
    fits = seed_event(description="x" * 1000)
    assert api.post("/v1/events", json=fits).status_code == 201


def test_429_with_retry_after_per_key(hub):
    tight = new_key(
        hub.data_dir, "--name", "t", "--all-scopes", "--rate-limit", "3", "--burst", "3"
    )
    with hub.client(tight) as client:
        answers = [client.get("/v1/events") for _ in range(4)]
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    remaining = [check_rate_headers(r)[1] for r in answers]
    assert remaining[:3] == [2, 1, 0] and {check_rate_headers(r)[0] for r in answers} == {3}
    check_envelope(answers[3], 429, "rate_limited")
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert all("Retry-After" not in r.headers for r in answers[:3])
    with hub.client() as other:  # another caller is not held up by this key's limit
        assert other.get("/v1/events").status_code == 401


def test_rate_limit_headers_and_request_ids_on_every_response(hub, api):
    for response in (
        api.get("/v1/events"),
        api.get("/v1/openapi.json"),
        api.get("/"),
        api.post("/v1/events", json=seed_event()),
    ):
        check_rate_headers(response)
        assert response.headers["X-Request-Id"]
    ids = {api.get("/v1/events").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5
    limit = int(api.get("/v1/events").headers["X-RateLimit-Limit"])
    assert limit == 1000  # issue 3: organiser keys default to 1,000 a minute


def test_openapi_document_says_400_not_422(api):
    spec = api.get("/v1/openapi.json")
    assert spec.status_code == 200
    document = spec.json()
    assert document["openapi"].startswith("3.")
    assert '"422"' not in spec.text
    for path in ("/v1/events", "/v1/checkin/scan", "/v1/checkin/batch", "/v1/devices"):
        assert path in document["paths"], path
