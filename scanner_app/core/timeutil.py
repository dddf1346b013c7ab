"""UTC timestamps in the contract's format: ISO 8601 with milliseconds and Z."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """Format as `2026-07-15T19:32:04.120Z` (always UTC, always milliseconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # By hand, not strftime: %Y does not zero-pad years before 1000 ("170-..."), and this
    # runs several times per scan.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive times are taken as UTC. Raises ValueError."""
    if not isinstance(text, str) or not text:
        raise ValueError("timestamp must be a non-empty ISO 8601 string")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def normalize_iso(text: str) -> str:
    """Re-format any ISO 8601 timestamp into the contract's canonical form."""
    if isinstance(text, str) and _CANONICAL.match(text):
        # Already canonical (what gates send): only check it is a real date. Re-formatting
        # cost ~5 us a field, every uploaded check-in's door time.
        try:
            datetime.fromisoformat(text[:-1])
            return text
        except ValueError:
            pass  # e.g. month 13: the parser below says so
    return iso_ms(parse_iso(text))


def shift(moment: datetime, milliseconds: float) -> datetime:
    return moment + timedelta(milliseconds=milliseconds)
