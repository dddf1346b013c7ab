"""Ticket tokens made outside the hub (DESIGN.md §3): an event imported with our own JWKS.

We hold the private keys, so every rejection reason of §4 can be provoked on purpose.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from contractkit import b64url, check_scan_result, run_cli
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ED = ed25519.Ed25519PrivateKey.generate()
EC = ec.generate_private_key(ec.SECP256R1())
STRANGER = ed25519.Ed25519PrivateKey.generate()
EVENT_ID = "evt_imported_one"
OTHER_ID = "evt_imported_two"


def _jwk(private, kid: str, alg: str) -> dict:
    algorithm = jwt.algorithms.OKPAlgorithm if alg == "EdDSA" else jwt.algorithms.ECAlgorithm
    jwk = algorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def _import(hub, tmp_path, event_id: str, tickets: list | None = None) -> None:
    event = {
        "id": event_id,
        "title": f"Imported {event_id}",
        "status": "published",
        "tiers": [{"name": "GA", "price": 0, "quantity": 100}],
    }
    files = {"event.json": event, "jwks.json": {"keys": [_jwk(ED, "ed-1", "EdDSA")]}}
    files["jwks.json"]["keys"].append(_jwk(EC, "ec-1", "ES256"))
    args = []
    if tickets is not None:
        files["tickets.json"] = tickets
        args = ["--tickets", str(tmp_path / "tickets.json")]
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data))
    done = run_cli(
        hub.data_dir,
        "event",
        "import",
        "--event-json",
        str(tmp_path / "event.json"),
        "--jwks",
        str(tmp_path / "jwks.json"),
        *args,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == event_id


@pytest.fixture(scope="module")
def imported(hub, tmp_path_factory):
    cancelled = {
        "id": "tkt_cancelled",
        "bookingId": "bkg_1",
        "attendeeName": "Carol",
        "tierName": "GA",
        "status": "cancelled",
        "updatedAt": "2026-07-15T18:00:00.000Z",
    }
    _import(hub, tmp_path_factory.mktemp("one"), EVENT_ID, [cancelled])
    _import(hub, tmp_path_factory.mktemp("two"), OTHER_ID)
    return EVENT_ID


def token(jti: str, *, key=ED, kid="ed-1", alg="EdDSA", evt=EVENT_ID, headers=None, **claims):
    body = {"jti": jti, "evt": evt, "tier": "GA", "name": "Ada L.", "iat": int(time.time())}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid, **(headers or {})})


def scan(api, payload: str, event_id: str = EVENT_ID) -> dict:
    response = api.post(
        "/v1/checkin/scan", json={"qrPayload": payload, "eventId": event_id, "scannedBy": "north"}
    )
    assert response.status_code == 200, response.text
    check_scan_result(response.json())
    return response.json()


def test_valid_tokens_of_both_algorithms_admit_without_a_manifest_entry(api, imported):
    for payload in (token("tkt_ed_ok"), token("tkt_ec_ok", key=EC, kid="ec-1", alg="ES256")):
        result = scan(api, payload)
        assert result["success"] is True, result
        assert result["attendeeName"] == "Ada L." and result["tierName"] == "GA"


# Offsets from the moment the test runs (not when the module was collected: a long suite
# would push "30 s ago" past the leeway).
@pytest.mark.parametrize(
    ("offsets", "reason"),
    [
        ({"exp": -3600}, "expired"),
        ({"nbf": 3600}, "not_yet_valid"),
        ({"exp": -30}, None),  # inside the default leeway of 120 s
        ({"nbf": 30}, None),
        ({"nbf": -60, "exp": 3600}, None),
    ],
)
def test_validity_window_with_leeway(api, imported, offsets, reason):
    now = int(time.time())
    claims = {name: now + offset for name, offset in offsets.items()}
    result = scan(api, token(f"tkt_window_{abs(hash(str(offsets)))}", **claims))
    assert result["reason"] == reason and result["success"] is (reason is None), result


def test_rejections_by_key_and_algorithm(api, imported):
    cases = {
        "unknown_key": token("tkt_k1", kid="nope"),
        "bad_signature": token("tkt_k2", key=STRANGER),  # our kid, somebody else's key
    }
    for reason, payload in cases.items():
        assert scan(api, payload)["reason"] == reason
    # The header's alg must match the key's type (Ed25519 -> EdDSA, P-256 -> ES256).
    confused = [
        token("tkt_k3", key=EC, kid="ed-1", alg="ES256"),
        token("tkt_k4", key=ED, kid="ec-1", alg="EdDSA"),
    ]
    es256 = token("tkt_k5", key=EC, kid="ec-1", alg="ES256")
    es384 = {"alg": "ES384", "kid": "ec-1", "typ": "JWT"}
    confused.append(b64url(json.dumps(es384).encode()) + es256[es256.index(".") :])
    for payload in confused:
        result = scan(api, payload)
        assert result["success"] is False and result["reason"] == "bad_signature", result


def test_keys_named_by_the_token_itself_are_never_trusted(api, imported):
    stranger = _jwk(STRANGER, "attacker", "EdDSA")
    for headers in (
        {"jwk": stranger},
        {"jku": "http://127.0.0.1:9/jwks.json"},
        {"x5u": "http://127.0.0.1:9/cert.pem"},
    ):
        result = scan(api, token("tkt_hostile", key=STRANGER, kid="attacker", headers=headers))
        assert result["success"] is False
        assert result["reason"] in ("unknown_key", "bad_signature"), result


def test_event_rules(api, imported):
    assert scan(api, token("tkt_cancelled"))["reason"] == "revoked"
    assert scan(api, token("tkt_other"), OTHER_ID)["reason"] == "wrong_event"
    stray = token("tkt_stray", evt="evt_nobody_has_keys")
    assert scan(api, stray, "evt_nobody_has_keys")["reason"] == "unknown_event"
    assert api.delete(f"/v1/events/{OTHER_ID}").json()["status"] == "cancelled"
    result = scan(api, token("tkt_late", evt=OTHER_ID), OTHER_ID)
    assert result["reason"] == "event_cancelled"
