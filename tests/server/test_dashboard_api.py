"""The dashboard's server side: sessions and their expiry, the checkin.conflict webhook,
manual check-ins through the hub's door rules, the live stream (real hub, real HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from hubkit import client_for, enrolled, issue, verify_signature

from scanner_app.core.timeutil import iso_ms
from scanner_app.server.dashboard_view import gate_badge, suggested_event
from scanner_app.server.sessions import SessionStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_end_after_30_idle_minutes_or_12_hours_whatever_the_use():
    clock = FakeClock()
    store = SessionStore(clock=clock)
    token, _ = store.create("key_1")
    clock.now += 29 * 60
    assert store.lookup(token) is not None  # used: the idle clock restarts
    clock.now += 29 * 60
    assert store.lookup(token, touch=False) is not None
    clock.now += 2 * 60  # 31 idle minutes since the last use
    assert store.lookup(token) is None
    busy, _ = store.create("key_1")
    for _ in range(12 * 4):  # used every 15 minutes for 12 hours
        clock.now += 15 * 60
        alive = store.lookup(busy)
    assert alive is None  # the absolute limit
    assert store.lookup("not-a-session") is None and store.lookup(None) is None


def test_sign_in_refuses_gate_and_unknown_keys_and_the_cookie_is_secure_only_over_https(
    hub, api, event
):
    gate = api.post("/v1/devices", json={"name": "n", "gate": "g", "eventId": event["id"]})
    gate_key = enrolled(api, gate.json())["key"]
    refused = httpx.post(hub.url + "/dashboard/session", json={"key": gate_key})
    assert refused.status_code == 403 and "gate's key" in refused.json()["error"]["message"]
    assert "set-cookie" not in refused.headers
    wrong = httpx.post(hub.url + "/dashboard/session", json={"key": "tk_live_nope"})
    assert wrong.status_code == 401 and "organiser key" in wrong.json()["error"]["message"]
    signed = httpx.post(
        hub.url + "/dashboard/session", json={"key": api.headers["authorization"][7:]}
    )
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie


def test_a_revoked_key_ends_its_sessions(hub, event):
    key, secret = hub.hub.keys.create("org 2", ["events:read", "bookings:read"])
    with httpx.Client(base_url=hub.url, timeout=10) as page:
        assert page.post("/dashboard/session", json={"key": secret}).status_code == 200
        assert page.get("/dashboard/api/events").status_code == 200
        hub.hub.keys.revoke(key.id)
        ended = page.get("/dashboard/api/events")
        assert ended.status_code == 401 and "revoked" in ended.json()["error"]["message"]


def _admission(ticket, event_id, gate, at, checkin_id):
    return {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": event_id,
        "scannedAt": iso_ms(at),
        "scannedBy": gate,
        "success": True,
        "qrPayload": ticket["qrPayload"],
    }


def test_a_double_admission_fires_one_signed_conflict_with_both_doors(api, hub, event, receiver):
    hook = api.post("/v1/webhooks", json={"url": receiver.url, "events": ["checkin.conflict"]})
    secret = hook.json()["secret"]
    ticket = issue(api, event["id"], name="Shared Screenshot")[0]
    gates = [
        enrolled(
            api, api.post("/v1/devices", json={"name": n, "gate": n, "eventId": event["id"]}).json()
        )
        for n in ("north", "south")
    ]
    now = datetime.now(UTC)
    # The later admission (south) arrives first; the earlier (north) second: one conflict,
    # flagged on south's row, whichever order they come in.
    with client_for(hub, gates[1]["key"]) as south, client_for(hub, gates[0]["key"]) as north:
        later = _admission(ticket, event["id"], "south", now, "chk_south")
        assert south.post("/v1/checkin/batch", json={"checkins": [later]}).status_code == 200
        earlier = _admission(ticket, event["id"], "north", now - timedelta(seconds=40), "chk_n")
        answer = north.post("/v1/checkin/batch", json={"checkins": [earlier]})
        assert answer.json()["data"][0]["status"] == "recorded"
        north.post("/v1/checkin/batch", json={"checkins": [earlier]})  # a resend: nothing new
    receiver.wait_for(1)
    headers, raw, payload = receiver.received[0]
    assert verify_signature(secret, headers["Tickitz-Signature"], raw)
    assert payload["type"] == "checkin.conflict"
    data = payload["data"]
    assert data["ticketId"] == ticket["id"] and data["attendeeName"] == "Shared Screenshot"
    assert data["first"]["scannedBy"] == "north" and data["first"]["checkinId"] == "chk_n"
    assert data["second"]["scannedBy"] == "south" and data["second"]["checkinId"] == "chk_south"
    assert data["first"]["scannedAt"] < data["second"]["scannedAt"]
    conflicts = api.get(f"/dashboard/api/events/{event['id']}/overview").json()["conflicts"]
    assert [c["id"] for c in conflicts] == ["chk_south"]
    assert len(receiver.wait_for(2, timeout=1.0)) == 1  # fired once


def test_manual_check_in_follows_the_door_rules_and_undo_voids_it(api, event):
    ticket = issue(api, event["id"])[0]
    first = api.post(f"/dashboard/api/tickets/{ticket['id']}/checkin", json={})
    assert first.json()["success"] and first.json()["scannedBy"] == "dashboard"
    again = api.post(f"/dashboard/api/tickets/{ticket['id']}/checkin", json={}).json()
    assert again["reason"] == "already_checked_in" and again["firstScannedBy"] == "dashboard"
    undone = api.post(f"/dashboard/api/checkins/{first.json()['checkinId']}/undo")
    assert undone.status_code == 200 and undone.json()["voids"] == first.json()["checkinId"]
    assert api.post(f"/dashboard/api/checkins/{first.json()['checkinId']}/undo").status_code == 409
    api.post(f"/v1/tickets/{ticket['id']}/cancel")
    cancelled = api.post(f"/dashboard/api/tickets/{ticket['id']}/checkin", json={}).json()
    assert cancelled["reason"] == "revoked"
    history = api.get(f"/dashboard/api/tickets/{ticket['id']}").json()
    assert "qrPayload" not in history
    assert [h["kind"] for h in history["history"]] == ["manual", "manual", "void", "manual"]
    missing = api.post("/dashboard/api/tickets/tkt_nope/checkin", json={})
    assert missing.status_code == 404


def test_the_live_stream_sends_a_new_scan_at_once(api, hub, event):
    ticket = issue(api, event["id"])[0]
    url = f"/dashboard/api/events/{event['id']}/live"
    with httpx.Client(base_url=hub.url, headers=api.headers, timeout=10) as client:
        with client.stream("GET", url) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            seen = []
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("data: {"):
                    seen.append(json.loads(line[6:]))
                    if len(seen) == 1:
                        body = {
                            "qrPayload": ticket["qrPayload"],
                            "eventId": event["id"],
                            "scannedBy": "north",
                        }
                        api.post("/v1/checkin/scan", json=body)
                    else:
                        break
    assert seen[0]["checkedIn"] == 0 and seen[1]["checkedIn"] == 1
    assert seen[1]["recent"][0]["scannedBy"] == "north"


def test_the_event_shown_first_is_the_live_or_next_one_not_the_newest_draft():
    now = datetime(2026, 8, 10, 21, 0, tzinfo=UTC)
    events = [
        {"id": "past", "status": "published", "startsAt": "2026-07-01T20:00:00Z", "endsAt": None},
        {"id": "live", "status": "published", "startsAt": "2026-08-10T20:00:00Z", "endsAt": None},
        {"id": "next", "status": "published", "startsAt": "2026-09-01T20:00:00Z", "endsAt": None},
        {"id": "draft", "status": "draft", "startsAt": None, "endsAt": None},
    ]
    assert suggested_event(events, now) == "live"
    assert suggested_event([e for e in events if e["id"] != "live"], now) == "next"
    assert suggested_event([events[0], events[3]], now) == "past"
    assert suggested_event([events[3]], now) == "draft"
    assert suggested_event([], now) is None


def test_gate_badges_by_last_contact():
    now = datetime(2026, 8, 10, 21, 0, tzinfo=UTC)
    seen = lambda seconds: iso_ms(now - timedelta(seconds=seconds))  # noqa: E731
    assert gate_badge(seen(10), now, False) == "online"
    assert gate_badge(seen(200), now, False) == "stale"
    assert gate_badge(seen(900), now, False) == "offline"
    assert gate_badge(None, now, False) == "never"
    assert gate_badge(seen(1), now, True) == "revoked"


def test_a_gate_key_cannot_read_the_venue_overview_or_check_in_by_hand(api, hub, event):
    gate = api.post("/v1/devices", json={"name": "n", "gate": "g", "eventId": event["id"]})
    ticket = issue(api, event["id"])[0]
    with client_for(hub, enrolled(api, gate.json())["key"]) as door:
        for method, path in (
            ("GET", f"/dashboard/api/events/{event['id']}/overview"),
            ("GET", f"/dashboard/api/events/{event['id']}/live"),
            ("GET", f"/dashboard/api/events/{event['id']}/tickets?q=ada"),
            ("POST", f"/dashboard/api/tickets/{ticket['id']}/checkin"),
        ):
            answer = door.request(method, path, json={} if method == "POST" else None)
            assert answer.status_code == 403, (method, path, answer.text)
