"""Organiser flow over HTTP: create (seed body) -> publish -> issue -> QR -> JWKS -> scan."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
from contractkit import (
    ISO_MS_Z,
    b64url,
    b64url_decode,
    check_scan_result,
    decode_qr,
    seed_event,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

MANIFEST_FIELDS = {"id", "bookingId", "attendeeName", "tierName", "status", "updatedAt"}


@pytest.fixture(scope="module")
def vip(event, issue_tickets):
    """Two VIP tickets in one booking."""
    return issue_tickets(event["id"], tier="VIP", name="Ada L.", quantity=2)


def scan(api, payload: str, event_id: str, gate: str = "staff_gate_1") -> dict:
    response = api.post(
        "/v1/checkin/scan", json={"qrPayload": payload, "eventId": event_id, "scannedBy": gate}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    check_scan_result(result)
    return result


def test_create_get_list_publish_and_cancel_events(api):
    body = seed_event(title="Summer Music Festival")
    created = api.post("/v1/events", json=body)
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["id"].startswith("evt_") and event["status"] == "draft"
    assert event["title"] == body["title"] and event["maxCapacity"] == 1100
    assert [(t["name"], t["price"], t["quantity"]) for t in event["tiers"]] == [
        (t["name"], t["price"], t["quantity"]) for t in body["tiers"]
    ]
    assert all(t["id"] for t in event["tiers"])
    assert event["venue"] == body["venue"]
    assert api.get(f"/v1/events/{event['id']}").json() == event
    listed = api.get("/v1/events").json()["data"]
    assert event["id"] in [e["id"] for e in listed]

    published = api.post(f"/v1/events/{event['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    cancelled = api.delete(f"/v1/events/{event['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.get(f"/v1/events/{event['id']}").json()["status"] == "cancelled"


def test_issued_tickets_carry_a_payload_and_a_png_that_decodes_back(api, event, vip):
    assert len(vip) == 2
    assert len({t["id"] for t in vip}) == 2 and len({t["bookingId"] for t in vip}) == 1
    for ticket in vip:
        assert ticket["id"].startswith("tkt_")
        assert MANIFEST_FIELDS <= set(ticket)
        assert (ticket["tierName"], ticket["attendeeName"]) == ("VIP", "Ada L.")
        assert ticket["status"] == "valid"
        assert ticket["qrPayload"].count(".") == 2
        png = api.get(ticket["qrUrl"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert decode_qr(png.content) == ticket["qrPayload"]
        fetched = api.get(f"/v1/tickets/{ticket['id']}")
        assert fetched.status_code == 200
        assert fetched.json()["qrPayload"] == ticket["qrPayload"]


def test_the_jwks_verifies_every_ticket(api, event, vip):
    response = api.get(f"/v1/events/{event['id']}/keys")
    assert response.status_code == 200
    jwks = response.json()
    assert set(jwks) == {"keys"} and jwks["keys"]
    for jwk in jwks["keys"]:
        assert "d" not in jwk, "a JWKS must never carry private key material"
        assert jwk["alg"] == {"OKP": "EdDSA", "EC": "ES256"}[jwk["kty"]]
        assert jwk["crv"] == {"OKP": "Ed25519", "EC": "P-256"}[jwk["kty"]]
        # issue 2: kid = RFC 7638 thumbprint (SHA-256, base64url), possibly truncated.
        members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"))
        thumbprint = b64url(hashlib.sha256(canonical.encode()).digest())
        assert len(jwk["kid"]) >= 16 and thumbprint.startswith(jwk["kid"])
    by_kid = {jwk["kid"]: jwk for jwk in jwks["keys"]}
    for ticket in vip:
        header = jwt.get_unverified_header(ticket["qrPayload"])
        assert header["alg"] in ("EdDSA", "ES256") and header.get("typ") == "JWT"
        assert not {"jku", "x5u", "jwk"} & set(header)
        jwk = by_kid[header["kid"]]
        assert header["alg"] == jwk["alg"]
        claims = jwt.decode(ticket["qrPayload"], jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]])
        assert claims["jti"] == ticket["id"] and claims["evt"] == event["id"]
        assert claims["tier"] == "VIP" and isinstance(claims["iat"], int)
        assert claims.get("bkg", ticket["bookingId"]) == ticket["bookingId"]


def test_online_scan_admits_once_then_says_duplicate_and_where(api, event, vip):
    ticket = vip[0]
    first = scan(api, ticket["qrPayload"], event["id"], gate="staff_gate_1")
    assert first["success"] is True and first["reason"] is None
    assert first["alreadyCheckedIn"] is False and first["firstCheckedInAt"] is None
    assert (first["ticketId"], first["eventId"]) == (ticket["id"], event["id"])
    assert (first["attendeeName"], first["tierName"]) == ("Ada L.", "VIP")
    assert first["offline"] is False and first["direction"] == "in"

    again = scan(api, ticket["qrPayload"], event["id"], gate="staff_gate_2")
    assert again["success"] is False and again["alreadyCheckedIn"] is True
    assert again["reason"] == "already_checked_in"
    assert again["firstCheckedInAt"] == first["checkedInAt"]
    assert again["firstScannedBy"] == "staff_gate_1"
    assert again["attendeeName"] == "Ada L."


def test_a_cancelled_ticket_is_revoked_and_listed_in_the_manifest(api, event, issue_tickets):
    ticket = issue_tickets(event["id"], tier="General", name="Grace H.")[0]
    cancelled = api.post(f"/v1/tickets/{ticket['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    result = scan(api, ticket["qrPayload"], event["id"])
    assert result["success"] is False and result["reason"] == "revoked"
    assert result["ticketId"] == ticket["id"]

    entries, cursor = [], None
    while True:  # the manifest feed, page by page
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = api.get(f"/v1/events/{event['id']}/tickets", params=params).json()
        assert set(page) >= {"data", "nextCursor", "hasMore"}
        assert len(page["data"]) <= 2
        entries += page["data"]
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    for entry in entries:
        assert MANIFEST_FIELDS <= set(entry) and entry["status"] in ("valid", "cancelled")
        assert ISO_MS_Z.match(entry["updatedAt"])
    latest = {e["id"]: e for e in entries}  # later entries are later changes
    assert latest[ticket["id"]]["status"] == "cancelled"
    tail = api.get(f"/v1/events/{event['id']}/tickets", params={"after": cursor}).json()
    assert tail["data"] == [] and tail["hasMore"] is False


def test_a_ticket_for_another_event_is_wrong_event(api, event, vip):
    other = api.post("/v1/events", json=seed_event(title="Other night")).json()
    api.post(f"/v1/events/{other['id']}/publish")
    result = scan(api, vip[1]["qrPayload"], other["id"])
    assert result["success"] is False and result["reason"] == "wrong_event"


@pytest.mark.parametrize(
    "payload",
    ["", "hello", "https://example.com/ticket", "a.b.c", "x" * 5000, "tkt_123"],
)
def test_payloads_that_are_not_tokens_are_malformed(api, event, payload):
    result = scan(api, payload, event["id"])
    assert result["success"] is False and result["reason"] == "malformed"


def _segments(token: str) -> tuple[dict, dict, str]:
    head, body, sig = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body)), sig


def _compact(header: dict, claims: dict, signature: str = "") -> str:
    return ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), signature]
    )


def test_forged_and_tampered_tokens_are_bad_signatures(api, event, issue_tickets):
    ticket = issue_tickets(event["id"], tier="Early Bird", name="Mallory")[0]
    header, claims, signature = _segments(ticket["qrPayload"])
    mine = ed25519.Ed25519PrivateKey.generate()
    forged = jwt.encode(claims, mine, algorithm="EdDSA", headers={"kid": header["kid"]})
    tampered = _compact(header, {**claims, "tier": "VIP"}, signature)
    for token in (forged, tampered):
        result = scan(api, token, event["id"])
        assert result["success"] is False and result["reason"] == "bad_signature", token


def test_alg_none_and_hs256_with_the_public_key_are_rejected(api, event, issue_tickets):
    ticket = issue_tickets(event["id"], tier="Early Bird", name="Eve")[0]
    header, claims, _ = _segments(ticket["qrPayload"])
    jwks = api.get(f"/v1/events/{event['id']}/keys").json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    attempts = [
        _compact({"alg": "none", "kid": header["kid"], "typ": "JWT"}, claims),
        _compact({"alg": "None", "kid": header["kid"]}, claims),
    ]
    public = jwt.PyJWK(jwk).key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, b64url_decode(jwk["x"]), jwk["x"].encode(), json.dumps(jwk).encode()):
        for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            unsigned = _compact({"alg": alg, "kid": header["kid"], "typ": "JWT"}, claims)
            mac = hmac.new(secret, unsigned.encode(), digest).digest()
            attempts.append(unsigned + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
    for token in attempts:
        result = scan(api, token, event["id"])
        assert result["success"] is False, token
        assert result["reason"] in ("bad_signature", "malformed"), result


def test_every_scan_is_recorded_in_the_checkins_feed(api, event, vip):
    feed = api.get(f"/v1/events/{event['id']}/checkins", params={"limit": 1000}).json()
    reasons = [c["reason"] for c in feed["data"]]
    assert None in reasons and "already_checked_in" in reasons
    assert {"malformed", "bad_signature", "revoked"} <= set(reasons)


def test_qr_urls_and_ticket_lookups_of_unknown_ids_are_404(api):
    assert api.get("/v1/tickets/tkt_nope").status_code == 404
    assert api.get("/v1/tickets/tkt_nope/qr.png").status_code == 404
    assert api.post("/v1/tickets/tkt_nope/cancel").status_code == 404


def test_the_hub_answers_only_with_a_key(hub, vip):
    # The QR image is behind the API key like the rest of /v1 (the seed: every request
    # carries a key). The image *is* the ticket, and ticket ids travel in feeds and exports.
    assert httpx.get(vip[0]["qrUrl"]).status_code == 401


def test_parallel_scans_of_one_ticket_admit_exactly_once(hub, api, event, issue_tickets):
    ticket = issue_tickets(event["id"], tier="General", name="Crowd")[0]
    body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"]}

    def one(index: int) -> dict:
        with hub.client(api.headers["Authorization"].split()[1]) as client:
            response = client.post("/v1/checkin/scan", json={**body, "scannedBy": f"g{index}"})
            assert response.status_code == 200, response.text
            return response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    admitted = [r for r in results if r["success"]]
    assert len(admitted) == 1
    gate = f"g{results.index(admitted[0])}"
    for result in results:
        check_scan_result(result)
        if not result["success"]:
            assert result["reason"] == "already_checked_in"
            assert result["firstCheckedInAt"] == admitted[0]["checkedInAt"]
            assert result["firstScannedBy"] == gate
