"""The 60-second rolling window per key: Remaining, 429, Retry-After, Reset, recovery.

The limiter's own tests run on an injected clock; the server tests use the real hub.
"""

from __future__ import annotations

import random
import time

import pytest
from hubkit import assert_envelope, client_for, make_key

from scanner_app.server import HubServer
from scanner_app.server.ratelimit import RateLimiter

WALL_OFFSET = 1_700_000_000.0  # the wall clock runs this far ahead of the monotonic one


class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + WALL_OFFSET


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock) -> RateLimiter:
    return RateLimiter(clock=clock, wall=clock.wall)


def test_remaining_drops_by_one_then_429_when_it_is_zero(limiter, clock):
    decisions = []
    for _ in range(6):
        decisions.append(limiter.hit("k", 5, 7))  # a burst above the limit does not apply
        clock.now += 0.125  # steps a float holds exactly, so Reset is exact
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert [d.retry_after for d in decisions[:5]] == [0] * 5
    refused = decisions[5]
    # The first request (second 1000) leaves the window when second 1061 begins.
    assert refused.retry_after == 61  # now is 1000.625: ceil(1061 - 1000.625)
    assert refused.reset == int(1061 + WALL_OFFSET)  # the window drains with its last slot
    names = dict(refused.headers())
    assert names[b"retry-after"] == b"61" and names[b"x-ratelimit-remaining"] == b"0"
    assert all(value.decode().isdigit() for value in names.values())
    assert b"retry-after" not in dict(decisions[0].headers())


def test_retry_after_is_when_the_oldest_slot_frees_and_reset_when_all_drain(limiter, clock):
    clock.now = 1000.2
    for _ in range(3):
        assert limiter.hit("k", 5, 5).allowed
    clock.now = 1030.5
    for _ in range(2):
        assert limiter.hit("k", 5, 5).allowed
    clock.now = 1040.0
    refused = limiter.hit("k", 5, 5)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == 21  # second 1000's requests leave at 1061
    assert refused.reset == int(1030 + 61 + WALL_OFFSET)  # second 1030's leave at 1091
    clock.now = 1060.9
    assert not limiter.hit("k", 5, 5).allowed  # not a moment early
    clock.now = 1061.0
    back = limiter.hit("k", 5, 5)
    assert back.allowed and back.remaining == 2  # second 1030's 2 and this one remain
    clock.now = 1091.0
    assert limiter.hit("k", 5, 5).remaining == 3  # second 1030's left too: 1061's and this one


def test_recovers_fully_after_the_window(limiter, clock):
    for _ in range(10):
        limiter.hit("k", 3, 3)
        clock.now += 1
    clock.now += 61
    assert [limiter.hit("k", 3, 3).remaining for _ in range(3)] == [2, 1, 0]


def test_refused_requests_are_not_counted(limiter, clock):
    assert [limiter.hit("k", 2, 2).allowed for _ in range(2)] == [True, True]
    for _ in range(100):
        clock.now += 0.5
        assert not limiter.hit("k", 2, 2).allowed
    clock.now = 1061.0
    assert limiter.hit("k", 2, 2).remaining == 1


def test_no_60_second_span_ever_holds_more_than_the_limit(limiter, clock):
    rng = random.Random(7)
    accepted = []
    for _ in range(20_000):
        clock.now += rng.expovariate(20.0)  # ~20 requests/s against 50 a minute
        if limiter.hit("k", 50, 75).allowed:
            accepted.append(clock.now)
    span = clock.now - 1000.0
    start = 0
    for end, t in enumerate(accepted):
        while accepted[start] <= t - 60:
            start += 1
        assert end - start + 1 <= 50
    # ...and it is not much stricter: a request is held 60 to 61 s.
    assert len(accepted) >= 50 * span / 61 - 50


def test_keys_have_their_own_windows(limiter):
    assert [limiter.hit("a", 1, 1).allowed for _ in range(2)] == [True, False]
    assert limiter.hit("b", 1, 1).allowed


def test_burst_below_the_limit_paces_the_key(limiter, clock):
    decisions = [limiter.hit("k", 60, 2) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    assert decisions[2].retry_after == 1  # a token a second at 60 a minute
    clock.now += 1.0
    assert limiter.hit("k", 60, 2).allowed


def test_a_lowered_limit_never_shows_negative_remaining(limiter, clock):
    for _ in range(10):
        limiter.hit("k", 10, 10)
        clock.now += 1
    refused = limiter.hit("k", 4, 4)  # 10 in the window, 4 allowed: 7 must leave first
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == 1006 + 61 - 1010


def test_memory_stays_bounded(limiter, clock):
    for _ in range(2000):  # a key with a huge limit keeps one slot per second, not per request
        for _ in range(5):
            limiter.hit("big", 10**7, 10**7)
        clock.now += 0.25
    assert len(limiter._windows["big"].slots) <= 61
    for n in range(5000):  # addresses that stop calling are forgotten once their window drains
        limiter.hit(f"ip:{n}", 10, 10)
    clock.now += 62
    for _ in range(1000):
        limiter.hit("big", 10**7, 10**7)
    assert set(limiter._windows) == {"big"}


# The real hub.


def _ints(response) -> tuple[int, int, int]:
    values = [response.headers[f"x-ratelimit-{name}"] for name in ("limit", "remaining", "reset")]
    assert all(value.isdigit() for value in values), values
    limit, remaining, reset = map(int, values)
    return limit, remaining, reset


def test_a_1000_a_minute_key_sees_remaining_drop_by_one(hub):
    key = make_key(hub, ["events:read"], name="organiser")  # defaults: 1,000/min, burst 1,500
    with client_for(hub, key) as client:
        started = time.time()
        answers = [client.get("/v1/events") for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    seen = [_ints(r) for r in answers]
    assert [limit for limit, _, _ in seen] == [1000] * 5
    assert [remaining for _, remaining, _ in seen] == [999, 998, 997, 996, 995]
    assert all(started + 59 <= reset <= time.time() + 62 for _, _, reset in seen)
    assert all("retry-after" not in r.headers for r in answers)


def test_429_exactly_after_limit_requests_and_recovery(hub):
    clock = Clock(start=5000.25)
    hub.hub.limiter = RateLimiter(clock=clock, wall=clock.wall)
    key = make_key(hub, ["events:read"], name="tight", rate_limit=5)  # burst stays 1,500
    with client_for(hub, key) as client:
        answers = [client.get("/v1/events") for _ in range(6)]
        assert [r.status_code for r in answers] == [200] * 5 + [429]
        assert [_ints(r)[1] for r in answers] == [4, 3, 2, 1, 0, 0]
        error = assert_envelope(answers[5], 429, "rate_limited")
        assert "retry in 61 s" in error["message"]
        assert answers[5].headers["retry-after"] == "61"
        assert _ints(answers[5]) == (5, 0, int(5061 + WALL_OFFSET))
        clock.now = 5060.9
        assert client.get("/v1/events").status_code == 429
        clock.now = 5061.0
        back = client.get("/v1/events")
        assert back.status_code == 200 and _ints(back)[:2] == (5, 4)


def test_unauthenticated_requests_share_a_window_per_address(hub_node):
    with HubServer(hub_node, port=0, anonymous_rate=(3, 3)) as server:
        with client_for(server, None) as client:
            answers = [client.get("/v1/events") for _ in range(4)]
    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    assert [_ints(r)[1] for r in answers] == [2, 1, 0, 0]
    assert int(answers[3].headers["retry-after"]) >= 1
