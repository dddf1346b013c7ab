"""The pure ScanResult -> verdict mapping (no widgets)."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest

from scanner_app.core.models import REASONS, ScanResult
from scanner_app.gui.verdict import READY, REASON_TEXT, STYLES, Kind, clock, verdict_for


def result(**fields):
    base = {
        "success": False,
        "already_checked_in": False,
        "attendee_name": None,
        "tier_name": None,
        "checked_in_at": None,
        "first_checked_in_at": None,
        "first_scanned_by": None,
        "reason": None,
        "ticket_id": "tkt_1",
        "event_id": "evt_1",
        "direction": "in",
        "offline": True,
    }
    base.update(fields)
    return ScanResult(**base)


def test_vocabulary_is_complete_and_plain():
    # Every reason of the contract (core's REASONS, DESIGN.md §4) has its own words; no
    # copy of the table here, so a new reason without words fails, not a stale copy.
    assert set(REASON_TEXT) == set(REASONS)
    words = list(REASON_TEXT.values())
    assert len(set(words)) == len(words)
    assert all(w and "_" not in w and w[0].isupper() for w in words)
    assert REASON_TEXT["bad_signature"] == "Forged ticket"  # what staff say aloud


def test_admit():
    v = verdict_for(
        result(
            success=True,
            attendee_name="Ada L.",
            tier_name="VIP",
            checked_in_at="2026-07-15T19:32:04.120Z",
        ),
        tz=UTC,
    )
    assert (v.kind, v.title, v.name, v.tier) == (Kind.ADMIT, "ADMIT", "Ada L.", "VIP")
    assert v.detail == "Admitted 19:32"
    assert (v.background, v.icon, v.sound) == ("#1B7F3B", "check", "admit")
    assert v.offline is True


def test_already_in_says_when_and_where_in_local_time():
    v = verdict_for(
        result(
            already_checked_in=True,
            reason="already_checked_in",
            attendee_name="Ada L.",
            first_checked_in_at="2026-07-15T19:32:04.120Z",
            first_scanned_by="Gate 2",
        ),
        tz=timezone(timedelta(hours=2)),
    )
    assert v.kind is Kind.ALREADY
    assert v.title == "ALREADY IN"
    assert v.detail == "First admitted 21:32 at Gate 2"
    assert (v.icon, v.sound) == ("warning", "warn")


def test_already_in_without_details_still_reads():
    v = verdict_for(result(reason="already_checked_in"))
    assert (v.kind, v.detail) == (Kind.ALREADY, "Already checked in")


@pytest.mark.parametrize("reason", sorted(set(REASONS) - {"already_checked_in"}))
def test_every_rejection_reason_in_plain_words(reason):
    v = verdict_for(result(reason=reason))
    assert v.kind is Kind.REJECT
    assert v.title == "REJECTED"
    assert v.detail == REASON_TEXT[reason]
    assert (v.icon, v.sound, v.background) == ("cross", "reject", "#C62828")


def test_unknown_reason_is_shown_not_hidden():
    assert verdict_for(result(reason="quota_exceeded")).detail == "Quota exceeded"
    assert verdict_for(result(reason=None)).detail == "Rejected"


def test_exit_is_blue_and_distinct():
    v = verdict_for(
        result(
            success=True, direction="out", attendee_name="Bo", checked_in_at="2026-07-15T22:05:00Z"
        ),
        tz=UTC,
    )
    assert (v.kind, v.title, v.detail, v.icon, v.sound) == (
        Kind.EXIT,
        "EXIT",
        "Exit 22:05",
        "exit",
        "exit",
    )


def test_exit_of_someone_not_inside_is_rejected():
    v = verdict_for(result(direction="out", reason="not_checked_in"))
    assert (v.kind, v.detail) == (Kind.REJECT, "Not checked in")


def test_every_kind_has_its_own_colour_icon_and_sound():
    kinds = [k for k in Kind if k is not Kind.READY]
    assert len({STYLES[k].background for k in kinds}) == len(kinds)
    assert len({STYLES[k].icon for k in kinds}) == len(kinds)
    assert len({STYLES[k].sound for k in kinds}) == len(kinds)
    assert READY.sound is None


def test_clock_tolerates_bad_input():
    assert clock(None) == ""
    assert clock("not a time") == ""
    assert clock("2026-07-15T19:32:04") == "19:32"
