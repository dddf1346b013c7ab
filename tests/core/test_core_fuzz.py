"""Property-based fuzzing of the payload string: every input gets a ScanResult and a row,
no exception escapes scan(), and nothing is admitted."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt_forge import b64url, encode_json
from scan_helpers import check_shape, publish_event

from scanner_app.core.door import Door
from scanner_app.core.node import Node

FUZZ = settings(
    max_examples=150,
    deadline=None,  # each example commits to a real file with synchronous=FULL
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
B64URL = string.ascii_letters + string.digits + "-_"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One node for the whole module: an EdDSA and an ES256 event, a genuine ticket of each
    (already admitted, so only a forgery could be admitted now)."""
    with Node.open(tmp_path_factory.mktemp("fuzz")) as node:
        events = [publish_event(node, "Ed", alg="EdDSA"), publish_event(node, "EC", alg="ES256")]
        tokens = []
        for event in events:
            token = node.tickets.issue(event["id"], "GA", "Ada")[0]["qrPayload"]
            assert node.checkin.scan(token, Door.of([event["id"]])).success
            tokens.append(token)
        kids = [node.events.signing_key(e["id"]).kid for e in events]
        yield node, [e["id"] for e in events], tokens, kids


def scan_and_check(world, payload):
    node, event_ids, tokens, _ = world
    before = node.db.query_one("SELECT COUNT(*) FROM checkins")[0]
    result = node.checkin.scan(payload, Door.of(event_ids))  # nothing may escape
    wire = check_shape(result)
    assert wire["success"] is False, payload
    if wire["reason"] == "already_checked_in":
        # Only the genuine tickets themselves (give or take surrounding whitespace).
        assert payload.strip() in tokens, payload
    row = node.db.query_one(
        "SELECT success, reason FROM checkins WHERE id = ?", (result.checkin_id,)
    )
    assert (row["success"], row["reason"]) == (0, result.reason)
    assert node.db.query_one("SELECT COUNT(*) FROM checkins")[0] == before + 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(payload=st.text(max_size=600))
def test_any_text(world, payload):
    scan_and_check(world, payload)


@FUZZ
@given(payload=st.binary(max_size=600).map(lambda raw: raw.decode("latin-1")))
def test_binary_ish(world, payload):
    scan_and_check(world, payload)


def segment():
    return st.one_of(
        st.text(alphabet=B64URL, max_size=120),
        st.binary(max_size=90).map(b64url),
        json_values.map(encode_json),
        st.text(max_size=40),
    )


@FUZZ
@given(parts=st.lists(segment(), min_size=1, max_size=5))
def test_jwt_shaped_from_random_segments(world, parts):
    scan_and_check(world, ".".join(parts))


@st.composite
def plausible_tokens(draw, world):
    """Headers and claims close to real ones (real kids and events), random signatures:
    most get as far as the signature check."""
    _, event_ids, _, kids = world
    header = draw(
        st.fixed_dictionaries(
            {
                "alg": st.sampled_from(["EdDSA", "ES256"] * 3 + ["none", "HS256", "RS256"]),
                "kid": st.sampled_from(kids * 3 + ["x", ""]),
            },
            optional={
                "typ": st.just("JWT"),
                "jwk": json_values,
                "jku": st.just("http://127.0.0.1:9/jwks"),
            },
        )
    )
    claims = draw(
        st.fixed_dictionaries(
            {
                "jti": st.text(min_size=1, max_size=20),
                "evt": st.sampled_from(event_ids * 3 + ["evt_elsewhere"]),
                "tier": st.sampled_from(["GA", "VIP"]),
                "iat": st.integers(0, 2**40),
            },
            optional={
                "nbf": st.integers() | st.floats(),
                "exp": st.integers() | st.floats(),
                "name": json_values,
            },
        )
    )
    signature = draw(st.binary(min_size=0, max_size=96) | st.binary(min_size=64, max_size=64))
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(signature)}"


def test_plausible_forgeries(world):
    @FUZZ
    @given(token=plausible_tokens(world))
    def check(token):
        scan_and_check(world, token)

    check()


@st.composite
def mutations(draw, world):
    token = draw(st.sampled_from(world[2]))
    chars = list(token)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "delete", "insert", "swap", "cut", "segment"]))
        position = draw(st.integers(0, max(len(chars) - 1, 0)))
        if op == "replace" and chars:
            chars[position] = draw(st.sampled_from(B64URL + ".=+/ \n\x00é"))
        elif op == "delete" and chars:
            del chars[position]
        elif op == "insert":
            chars.insert(position, draw(st.sampled_from(B64URL + ".=+/ \n\x00é")))
        elif op == "swap" and len(chars) > 1:
            other = draw(st.integers(0, len(chars) - 1))
            chars[position], chars[other] = chars[other], chars[position]
        elif op == "cut":
            chars = chars[:position]
        elif op == "segment":
            parts = "".join(chars).split(".")
            i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
            parts[i] = parts[j]
            chars = list(".".join(parts))
    return "".join(chars)


def test_mutations_of_genuine_tokens(world):
    @FUZZ
    @given(token=mutations(world))
    def check(token):
        scan_and_check(world, token)

    check()
