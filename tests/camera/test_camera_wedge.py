"""Keyboard-wedge parsing: scanner bursts become payloads, typing stays typing, hostile
input is rejected with a reason. Timings are fuzzed with hypothesis."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner_app.camera import BadBarcode, WedgeEvent, WedgeParser
from scanner_app.camera.synth import fake_ticket_payload

JWT = fake_ticket_payload(7)
SETUP = "tickitz-setup:eyJodWIiOiJodHRwOi8vMTAuMC4wLjI6ODA4MCIsImtleSI6InNrX2dhdGVfMSJ9"
B64URL = string.ascii_letters + string.digits + "-_."


def type_burst(p: WedgeParser, text: str, t0: float = 10.0, gap: float = 0.005):
    """Feed `text` as a scanner would; returns (payloads, time of the last key)."""
    out, t = [], t0
    for i, ch in enumerate(text):
        t = t0 + i * gap
        if (r := p.feed(ch, t)) is not None:
            out.append(r)
    return out, t


def test_burst_ending_in_enter_is_one_payload():
    p = WedgeParser()
    got, t = type_burst(p, JWT)
    assert got == []
    assert p.feed("Enter", t + 0.005) == JWT
    assert p.deadline() is None


@pytest.mark.parametrize("terminator", ["Enter", "Return", "Tab", "\n", "\r", "\t"])
def test_every_terminator_ends_a_burst(terminator):
    p = WedgeParser()
    _, t = type_burst(p, SETUP)
    assert p.feed(terminator, t + 0.003) == SETUP


def test_burst_without_suffix_ends_on_idle_and_late_suffix_is_swallowed():
    p = WedgeParser()
    _, t = type_burst(p, JWT)
    assert p.poll(t + 0.02) is None  # still within the gap
    assert p.deadline() == pytest.approx(t + 0.041)
    assert p.poll(t + 0.05) == JWT
    # The scanner's Enter arriving after the idle end belongs to the scan, not the user.
    ev = p.process("Enter", t + 0.08)
    assert ev == WedgeEvent(consumed=True)
    # A later Enter is the user's again.
    assert p.process("Enter", t + 1.0) == WedgeEvent()


def test_cr_lf_suffix_is_swallowed_whole():
    p = WedgeParser()
    _, t = type_burst(p, JWT)
    assert p.feed("\r", t + 0.004) == JWT
    assert p.process("\n", t + 0.008) == WedgeEvent(consumed=True)
    assert p.process("Enter", t + 0.5) == WedgeEvent()  # the user's own Enter, later


def test_slow_typing_is_not_a_scan_and_is_released_in_order():
    p = WedgeParser()
    released, t = [], 0.0
    for ch in "hello world 12345":
        ev = p.process(ch, t)
        assert ev.consumed and ev.payload is None and ev.error is None
        released.append(ev.release)
        t += 0.15
    released.append(p.tick(t).release)
    assert "".join(released) == "hello world 12345"
    assert p.feed("Enter", t + 0.01) is None  # a lone Enter is the user's


def test_short_fast_burst_is_typing():
    p = WedgeParser(min_length=8)
    type_burst(p, "abc")
    ev = p.tick(20.0)
    assert ev == WedgeEvent(release="abc")


def test_enter_after_short_hold_is_not_consumed():
    p = WedgeParser()
    assert p.process("x", 1.0).consumed
    ev = p.process("Enter", 1.01)
    assert ev == WedgeEvent(release="x", consumed=False)


def test_modifiers_are_ignored_and_do_not_break_bursts():
    p = WedgeParser()
    t = 0.0
    for ch in JWT:
        if ch.isupper():
            assert p.process("Shift", t) == WedgeEvent()
        p.process(ch, t + 0.001)
        t += 0.004
    assert p.feed("Enter", t) == JWT


@pytest.mark.parametrize(
    "bad,reason",
    [
        ("\x00", "U+0000"),
        ("\x1b", "U+001B"),
        ("\x7f", "U+007F"),
        ("\u202e", "U+202E"),  # right-to-left override: makes logs lie
        ("\u200b", "U+200B"),  # zero-width space
        ("\u2028", "U+2028"),  # line separator
    ],
)
def test_control_and_invisible_characters_reject_the_scan(bad, reason):
    p = WedgeParser()
    text = JWT[:50] + bad + JWT[50:]
    _, t = type_burst(p, text)
    with pytest.raises(BadBarcode, match=re.escape(reason)) as exc:
        p.feed("Enter", t + 0.005)
    assert "position 51" in exc.value.reason
    # The parser is clean again for the next scan.
    _, t = type_burst(p, SETUP, t0=t + 1)
    assert p.feed("Enter", t + 0.005) == SETUP


def test_rejection_is_reported_not_raised_by_process():
    p = WedgeParser()
    _, t = type_burst(p, JWT[:20] + "\x1b[31m" + JWT[20:])
    ev = p.process("Enter", t + 0.005)
    assert ev.consumed and ev.payload is None
    assert isinstance(ev.error, BadBarcode)
    assert "U+001B" in str(ev.error)


def test_named_key_inside_a_burst_garbles_it():
    p = WedgeParser()
    t = 0.0
    for ch in JWT[:30]:
        p.process(ch, t)
        t += 0.003
    assert p.process("Backspace", t).consumed
    for ch in JWT[30:]:
        t += 0.003
        p.process(ch, t)
    with pytest.raises(BadBarcode, match="unexpected key 'Backspace'"):
        p.poll(t + 1)


def test_named_key_outside_a_burst_passes_and_releases():
    p = WedgeParser()
    p.process("a", 1.0)
    assert p.process("Escape", 1.01) == WedgeEvent(release="a")
    assert p.process("F5", 2.0) == WedgeEvent()


def test_length_cap_rejects_and_bounds_memory():
    p = WedgeParser(max_length=4096)
    _, t = type_burst(p, "A" * 10_000, gap=0.001)
    assert len(p._keys) == 4096  # noqa: SLF001 - the bound is the point
    with pytest.raises(BadBarcode, match="longer than 4096"):
        p.feed("Enter", t + 0.001)
    # Exactly at the cap is fine.
    _, t = type_burst(p, "B" * 4096, t0=t + 1, gap=0.001)
    assert p.feed("Enter", t + 0.001) == "B" * 4096


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        WedgeParser(max_gap=0)
    with pytest.raises(ValueError):
        WedgeParser(min_length=0)
    with pytest.raises(ValueError):
        WedgeParser(max_gap=0.5, suffix_grace=0.1)


def test_reset_returns_held_keys():
    p = WedgeParser()
    type_burst(p, "abcdef")
    assert p.reset() == "abcdef"
    assert p.deadline() is None


# -- fuzzing ---------------------------------------------------------------------------

payload_st = st.text(alphabet=B64URL, min_size=8, max_size=450)
fast_gaps = st.lists(st.floats(0.0, 0.039), min_size=450, max_size=450)


@settings(max_examples=60, deadline=None)
@given(payload=payload_st, gaps=fast_gaps, suffix=st.sampled_from(["Enter", "Tab", None]))
def test_any_fast_burst_is_exactly_its_payload(payload, gaps, suffix):
    p = WedgeParser(max_gap=0.04)
    t, got = 100.0, []
    for ch, g in zip(payload, gaps, strict=False):
        t += g
        if (r := p.feed(ch, t)) is not None:
            got.append(r)
    if suffix is not None:
        got.append(p.feed(suffix, t + 0.01))
    else:
        got.append(p.poll(t + 0.2))
    assert got == [payload]


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=string.printable.strip(), min_size=1, max_size=80),
    gaps=st.lists(st.floats(0.041, 2.0), min_size=80, max_size=80),
)
def test_human_typing_never_becomes_a_scan(text, gaps):
    p = WedgeParser(max_gap=0.04)
    t, released = 0.0, []
    for ch, g in zip(text, gaps, strict=False):
        t += g
        ev = p.process(ch, t)
        assert ev.payload is None and ev.error is None
        released.append(ev.release)
    released.append(p.tick(t + 1).release)
    assert "".join(released) == text  # every key reaches the widget, in order


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.one_of(
                st.characters(),  # anything, including surrogates and controls
                st.sampled_from(["Enter", "Tab", "Shift", "Escape", "Backspace", ""]),
            ),
            st.floats(-1.0, 1.0, allow_nan=False),
        ),
        max_size=200,
    )
)
def test_process_never_raises_and_payloads_are_clean(events):
    p = WedgeParser(max_length=64)
    t = 0.0
    for key, dt in events:
        t += dt  # clocks may even step back
        for ev in (p.process(key, t), p.tick(t)):
            if ev.payload is not None:
                assert ev.payload.isprintable()
                assert 8 <= len(ev.payload) <= 64
            if ev.error is not None:
                assert ev.error.reason
        assert len(p._keys) <= 64  # noqa: SLF001
