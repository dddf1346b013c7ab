"""What the app's screens edit: the node's configuration plus one person's screen.

How the node scans and syncs (gate, event, mode, upstream, strict, decoder, camera, kiosk)
is core's ``NodeConfig``, kept in the node's data directory and shared with the CLI. Only
what is about the person's screen (sounds, how long a verdict stays, the window size) is
kept per user, as JSON in the platform config dir (no Qt here). ``Settings`` is the flat
view over both that the widgets edit; ``node_config()`` and ``screen_dict()`` split it.

Secrets never land in either: the upstream API key goes to the sync layer's KeyStore and
the kiosk PIN is kept as a salted scrypt hash. A missing, unreadable or malformed file
yields defaults and a logged warning.
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

from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.core.node_config import (
    DECODERS,
    DEFAULT_GATE,
    DEFAULT_INTERVAL_S,
    DIRECTIONS,
    NodeConfig,
)
from scanner_app.sync.client import api_base

log = logging.getLogger(__name__)

APP_NAME = "tickitz-scanner"
__all__ = ["DECODERS", "DIRECTIONS", "Settings", "address_problem", "hash_pin", "verify_pin"]
# scrypt cost: ~50 ms and 16 MiB per check; slow enough to make PIN guessing offline dear.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SCREEN_FIELDS = ("sounds", "verdict_hold_ms", "window_width", "window_height")
# Settings attribute -> NodeConfig field (event_id <-> event_ids is handled on its own).
NODE_FIELDS = {
    "camera": "camera",
    "camera_width": "camera_width",
    "camera_height": "camera_height",
    "decoder": "decoder",
    "gate_name": "gate",
    "allowed_tiers": "allowed_tiers",
    "direction": "direction",
    "upstream_url": "upstream_url",
    "sync_interval_s": "interval_s",
    "strict_online": "strict",
    "kiosk": "kiosk",
    "kiosk_pin_hash": "kiosk_pin_hash",
    "private": "private",
}


def default_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.json"


@dataclass(slots=True)
class Settings:
    # --- the node's (NodeConfig, in the data directory) --------------------------------
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
    sync_interval_s: float = DEFAULT_INTERVAL_S
    strict_online: bool = False
    kiosk: bool = False
    kiosk_pin_hash: str = ""
    private: str = "auto"  # names kept per ticket (DESIGN.md §10): auto = in kiosk mode
    # --- the person's screen (per-user JSON) ---------------------------------------------
    sounds: bool = True
    verdict_hold_ms: int = 3000
    window_width: int = 0  # 0: the preferred size
    window_height: int = 0
    # The configuration this view was made from: what the screen cannot show (several
    # events chosen with `connect --event`) is kept as it was.
    base: NodeConfig = field(default_factory=NodeConfig, compare=False, repr=False)

    def camera_source(self) -> int | str:
        """The camera as OpenCV wants it: an int index or a URL/path string."""
        text = self.camera.strip()
        return int(text) if text.isdigit() else text

    def set_kiosk_pin(self, pin: str) -> None:
        self.kiosk_pin_hash = hash_pin(pin)

    def check_kiosk_pin(self, pin: str) -> bool:
        return verify_pin(pin, self.kiosk_pin_hash)

    # --- the two halves ------------------------------------------------------------------
    def node_config(self) -> NodeConfig:
        """The node's part, as the CLI reads it. Raises ValidationError for a bad value."""
        values = {target: getattr(self, name) for name, target in NODE_FIELDS.items()}
        values["gate"] = self.gate_name.strip() or DEFAULT_GATE
        values["upstream_url"] = self.upstream_url.strip()
        if values["upstream_url"] and not address_problem(values["upstream_url"]):
            values["upstream_url"] = api_base(values["upstream_url"])
        values["interval_s"] = float(self.sync_interval_s)
        if self.event_id == self.base.event_id:
            values["event_ids"] = self.base.event_ids
        else:
            values["event_ids"] = (self.event_id,) if self.event_id else ()
        return self.base.with_changes(**values)

    @classmethod
    def from_node_config(cls, config: NodeConfig, screen: Settings | None = None) -> Settings:
        """The view of ``config`` with the screen part of ``screen`` (default: defaults)."""
        result = cls() if screen is None else dataclasses.replace(screen)
        for name, source in NODE_FIELDS.items():
            value = getattr(config, source)
            setattr(result, name, list(value) if isinstance(value, tuple) else value)
        result.gate_name = config.gate_name
        result.event_id = config.event_id
        result.upstream_key_stored = not config.standalone
        result.base = config
        return result

    def screen_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SCREEN_FIELDS}

    # --- storage ---------------------------------------------------------------------
    @classmethod
    def load(cls, node: Node, path: Path | None = None) -> Settings:
        """The node's configuration with this person's screen settings; an older
        per-user file that still holds node settings is moved into the node first."""
        migrate_user_settings(node, path)
        return cls.from_node_config(NodeConfig.load(node), cls.load_screen(path))

    def save_screen(self, path: Path | None = None) -> Path:
        """Write the person's part atomically (temp file + rename): never half a file."""
        path = path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.screen_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load_screen(cls, path: Path | None = None) -> Settings:
        """Defaults with the person's screen settings from ``path``."""
        data = _read_json(path or default_path())
        result = cls()
        for name in SCREEN_FIELDS:
            if name not in data:
                continue
            value = data[name]
            if _valid(value, getattr(result, name)):
                setattr(result, name, value)
            else:
                log.warning("Settings: ignoring invalid %s=%r, using default", name, value)
        return result


def migrate_user_settings(node: Node, path: Path | None = None) -> bool:
    """Move the node settings an older app kept per user into ``node``.

    Up to December 2026 the app kept gate, event, upstream... in the per-user file, so a
    gate set up with `connect` showed "Gate 1" and no upstream in the app. What the node
    already has (set by `connect`) wins; the rest of the old file is taken, and the file
    keeps only the person's screen settings. True when something was moved."""
    path = path or default_path()
    data = _read_json(path)
    legacy = {k: v for k, v in data.items() if k in NODE_FIELDS or k == "event_id"}
    if not legacy:
        return False
    old = Settings()
    for name, value in legacy.items():
        before = getattr(old, name)
        if _valid(value, before):
            setattr(old, name, list(value) if isinstance(value, list) else value)
            try:
                old.node_config()
                continue
            except ValidationError:
                setattr(old, name, before)
        log.warning("Settings: not moving invalid %s=%r", name, value)
    wanted = old.node_config()
    with node.db.write():  # read and write under the writer lock (the CLI may be saving)
        current = NodeConfig.load(node)
        have = current.changed_fields()  # set by `connect`/`config`: those win
        taken = {f: getattr(wanted, f) for f in wanted.changed_fields() if f not in have}
        if "upstream_url" in have:  # an upstream set by `connect`: its gate and events too
            taken.pop("gate", None)
            taken.pop("event_ids", None)
        try:
            current.with_changes(**taken).save(node)
        except ValidationError as exc:
            log.warning("Settings: cannot move the old settings (%s); keeping the node's", exc)
            return False
    screen = Settings.load_screen(path)
    screen.save_screen(path)
    log.info("Moved %s from %s into %s", ", ".join(sorted(taken)) or "nothing", path, node.data_dir)
    return True


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:  # the reason, not the bytes (they may be anything)
        log.warning("Settings: %s is not UTF-8 text (byte %d); using defaults", path, exc.start)
        return {}
    except OSError as exc:
        log.warning("Settings: cannot read %s (%s); using defaults", path, exc.strerror or exc)
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        log.warning("Settings: %s is not valid JSON (%s); using defaults", path, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("Settings: %s does not hold a JSON object; using defaults", path)
        return {}
    return data


def _valid(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


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
