"""Small validators for request bodies and files; each failure names its field."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from scanner_app.core.errors import ValidationError
from scanner_app.core.timeutil import normalize_iso

# Control characters (Unicode category Cc: U+0000-001F, U+007F-009F) and bidirectional
# embeddings, overrides and isolates: they reorder what is shown around them (a name that
# reads "ADMIT" backwards), so they count as control characters in names. One regex, not a
# loop over characters: every text field of every uploaded check-in passes here (a ~400
# character token took ~45 us a row by hand, a third of a batch upload's time on the hub).
_OTHER_CONTROLS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")
_CONTROL_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHER_CONTROLS}]")  # not \t\n\r


def control_character(value: str, multiline: bool = False) -> str | None:
    """The first control character in ``value`` (None if none). ``multiline`` text (a
    description) may hold newlines and tabs, nothing else."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    return found.group() if found else None


def refuse_controls(value: str | None, field: str, multiline: bool = False) -> str | None:
    """``value`` unchanged, or ValidationError naming the field and the character."""
    if value is not None:
        char = control_character(value, multiline)
        if char is not None:
            raise ValidationError(
                f"{field} must not contain control characters (U+{ord(char):04X})", field=field
            )
    return value


def require_object(value: Any, field: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a JSON object", field=field)
    return value


def text(
    body: dict[str, Any], field: str, *, required: bool = True, max_length: int = 500
) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(f"{field} must be a non-empty string", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    refuse_controls(value, field, multiline=max_length > 1000)
    return value.strip()


def integer(
    body: dict[str, Any],
    field: str,
    *,
    required: bool = True,
    minimum: int = 0,
    maximum: int = 10**9,
    default: int | None = None,
) -> int | None:
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer", field=field)
    if not minimum <= value <= maximum:
        raise ValidationError(f"{field} must be between {minimum} and {maximum}", field=field)
    return value


def timestamp(body: dict[str, Any], field: str, *, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return None
    # normalize_iso keeps a value already in the contract's form (every feed row is) as it
    # is: re-formatting cost ~10 us a row, a second per 100,000-ticket manifest.
    try:
        return normalize_iso(value)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{field} must be an ISO 8601 timestamp", field=field) from exc


def valid_host(host: str) -> bool:
    """Whether an HTTP client can look `host` up: an IPv6 literal, or DNS labels of 1-63
    characters (IDNA-encodable). Checked when an address is saved, not at every retry."""
    if ":" in host:  # only an IPv6 literal may hold a colon
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True
