"""Gate settings persisted as JSON in the platform config dir (no Qt here).

Secrets never land in the JSON: the upstream API key goes to the sync layer's KeyStore
(OS keyring, else a 0600 file; this file only records that one is stored) and the kiosk
PIN is kept as a salted scrypt hash.
A missing, unreadable or malformed file yields defaults and a logged warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from scanner_app.camera.decoders import DECODER_CHOICES
from scanner_app.core.models import DEFAULT_GATE
from scanner_app.sync.client import api_base
from scanner_app.sync.config import DEFAULT_INTERVAL_S

log = logging.getLogger(__name__)

APP_NAME = "tickitz-scanner"
DIRECTIONS = ("in", "out")
# scrypt cost: ~50 ms and 16 MiB per check; slow enough to make PIN guessing offline dear.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def default_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.json"


@dataclass(slots=True)
class Settings:
    camera: str = "0"  # a device index ("0") or a URL / file path
    camera_width: int = 1280
    camera_height: int = 720
    decoder: str = "auto"
    gate_name: str = DEFAULT_GATE
    event_id: str = ""
    allowed_tiers: list[str] = field(default_factory=list)  # empty: every tier
    direction: str = "in"  # "out" scans exits (events with re-entry)
    upstream_url: str = ""
    upstream_key_stored: bool = False  # the key itself is in the sync KeyStore
    # As the sync layer's default: another gate's admission is known here within it.
    sync_interval_s: int = round(DEFAULT_INTERVAL_S)
    strict_online: bool = False
    sounds: bool = True
    verdict_hold_ms: int = 3000
    kiosk: bool = False
    kiosk_pin_hash: str = ""

    def camera_source(self) -> int | str:
        """The camera as OpenCV wants it: an int index or a URL/path string."""
        text = self.camera.strip()
        return int(text) if text.isdigit() else text

    def set_kiosk_pin(self, pin: str) -> None:
        self.kiosk_pin_hash = hash_pin(pin)

    def check_kiosk_pin(self, pin: str) -> bool:
        return verify_pin(pin, self.kiosk_pin_hash)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Take known keys with the right type; anything else is dropped with a warning."""
        result = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if _valid(f.name, value, getattr(result, f.name)):
                setattr(result, f.name, list(value) if isinstance(value, list) else value)
            else:
                log.warning("Settings: ignoring invalid %s=%r, using default", f.name, value)
        return result

    def save(self, path: Path | None = None) -> Path:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        path = path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            raw = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return cls()
        except UnicodeDecodeError as exc:  # the reason, not the bytes (they may be anything)
            log.warning("Settings: %s is not UTF-8 text (byte %d); using defaults", path, exc.start)
            return cls()
        except OSError as exc:
            log.warning("Settings: cannot read %s (%s); using defaults", path, exc.strerror or exc)
            return cls()
        try:
            data = json.loads(raw)
        except ValueError as exc:
            log.warning("Settings: %s is not valid JSON (%s); using defaults", path, exc)
            return cls()
        if not isinstance(data, dict):
            log.warning("Settings: %s does not hold a JSON object; using defaults", path)
            return cls()
        return cls.from_dict(data)


def _valid(name: str, value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not isinstance(value, str):
        return False
    if name == "decoder":
        return value in DECODER_CHOICES
    if name == "direction":
        return value in DIRECTIONS
    return True


def address_problem(url: str) -> str | None:
    """Why ``url`` cannot be an upstream address, or None."""
    try:
        api_base(url)
    except ValueError as exc:
        return str(exc)
    if any(c.isspace() for c in url.strip()):  # api_base lets "a b" through
        return f"spaces in the address: {url!r}"
    return None


def hash_pin(pin: str) -> str:
    """'scrypt$n$r$p$salt$hash' (hex); a fresh random salt every time."""
    if not pin:
        raise ValueError("PIN must not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Constant-time check of ``pin`` against a ``hash_pin`` string; False if unset/corrupt."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            pin.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
        return hmac.compare_digest(actual, bytes.fromhex(digest))
    except (ValueError, TypeError):
        return False
