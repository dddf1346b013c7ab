"""How a node scans and syncs, kept in its own data directory (the node_settings table).

One definition read and written by the CLI (`connect`, `config`, `scan`, `sync`) and the
desktop app alike, so a gate set up from the terminal is the same gate in the app and the
other way round. What is about one person's screen (sounds, window size) stays in the
per-user settings file of the GUI; the upstream key stays in the sync layer's KeyStore.

A stored value that is missing or unreadable yields the default and a logged warning: a
damaged setting must never stop the door.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from scanner_app.core.errors import ValidationError
from scanner_app.core.models import DEFAULT_GATE

if TYPE_CHECKING:
    from scanner_app.core.node import Node

log = logging.getLogger(__name__)
__all__ = ["DECODERS", "DEFAULT_GATE", "DEFAULT_INTERVAL_S", "DIRECTIONS", "KEYS", "NodeConfig"]

DEFAULT_INTERVAL_S = 3.0  # a gate on a LAN learns other gates' admissions within this
DECODERS = ("auto", "zxing", "pyzbar", "opencv")  # camera.decoders builds each; auto: first found
DIRECTIONS = ("in", "out")
PRIVATE = ("auto", "on", "off")  # auto: private when in kiosk mode

# field -> node_settings key. The sync.* names predate this module (schema unchanged).
KEYS = {
    "upstream_url": "sync.upstream_url",
    "event_ids": "sync.event_ids",
    "gate": "sync.gate",
    "interval_s": "sync.interval_s",
    "strict": "sync.strict",
    "certificate": "sync.certificate",
    "insecure_http": "sync.insecure_http",
    "direction": "node.direction",
    "allowed_tiers": "node.allowed_tiers",
    "decoder": "node.decoder",
    "camera": "node.camera",
    "camera_width": "node.camera_width",
    "camera_height": "node.camera_height",
    "kiosk": "node.kiosk",
    "kiosk_pin_hash": "node.kiosk_pin_hash",
    "private": "node.private",  # read on every scan by Node.private_names (same keys)
}


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything that decides how this node scans and syncs."""

    upstream_url: str = ""  # empty: standalone (the key lives in the KeyStore, never here)
    event_ids: tuple[str, ...] = ()  # empty: any event on this node / the upstream lists
    gate: str = ""  # this gate's name (scannedBy); empty: DEFAULT_GATE
    direction: str = "in"  # "out": exit scans (events with re-entry)
    allowed_tiers: tuple[str, ...] = ()  # empty: every tier
    interval_s: float = DEFAULT_INTERVAL_S
    strict: bool = False  # ask the upstream for every scan
    certificate: str = ""  # the hub's certificate (PEM) this node pins (DESIGN.md §10)
    insecure_http: bool = False  # plain HTTP to another machine, asked for explicitly
    decoder: str = "auto"
    camera: str = "0"  # a device index ("0") or a URL / file path
    camera_width: int = 1280
    camera_height: int = 720
    kiosk: bool = False
    kiosk_pin_hash: str = ""  # salted scrypt, see gui.settings.hash_pin
    # Names sealed per ticket (shown only for a ticket presented here, none in search or
    # in the check-in log): DESIGN.md §10. "auto": on in kiosk mode.
    private: str = "auto"

    def __post_init__(self) -> None:
        for name in ("event_ids", "allowed_tiers"):  # a list given by a caller: keep it frozen
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = _problem(self)
        if problem:
            raise ValidationError(problem, field=problem.split(" ", 1)[0])

    @property
    def gate_name(self) -> str:
        """The name scans are recorded under."""
        return self.gate or DEFAULT_GATE

    @property
    def private_names(self) -> bool:
        """Whether this gate keeps names only per ticket (``private``, kiosks by default)."""
        return self.kiosk if self.private == "auto" else self.private == "on"

    @property
    def standalone(self) -> bool:
        return not self.upstream_url

    @property
    def event_id(self) -> str:
        """The one event the app's screen follows ('' for any event)."""
        return self.event_ids[0] if self.event_ids else ""

    def with_changes(self, **changes: Any) -> NodeConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the CLI's `config` output); no secret in it."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["event_ids"] = list(self.event_ids)
        data["allowed_tiers"] = list(self.allowed_tiers)
        data["gate"] = self.gate_name
        data["kiosk_pin_set"] = bool(data.pop("kiosk_pin_hash"))
        data["private_names"] = self.private_names
        return data

    # --- storage ---------------------------------------------------------------------
    @classmethod
    def load(cls, node: Node) -> NodeConfig:
        """The node's configuration; defaults for anything never saved or unreadable."""
        stored = node.settings_with_prefix("sync.") | node.settings_with_prefix("node.")
        values: dict[str, Any] = {}
        default = cls()
        for name, key in KEYS.items():
            if key not in stored:
                continue
            try:
                value = _decode(getattr(default, name), stored[key])
                replace(default, **{name: value})  # validates this one field
            except (ValueError, TypeError, ValidationError):
                log.warning("Node setting %s=%r is unreadable; using the default", key, stored[key])
                continue
            values[name] = value
        return cls(**values)

    def save(self, node: Node) -> None:
        """Write every field in one transaction."""
        node.set_settings({key: _encode(getattr(self, name)) for name, key in KEYS.items()})

    @staticmethod
    def saved(node: Node) -> bool:
        """Whether anyone (CLI or app) has configured this node yet."""
        return bool(node.settings_with_prefix("sync.") or node.settings_with_prefix("node."))

    def changed_fields(self) -> set[str]:
        """The fields that differ from the defaults (for migrations)."""
        default = NodeConfig()
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return json.dumps(list(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _decode(default: Any, text: str) -> Any:
    if isinstance(default, bool):
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if isinstance(default, tuple):
        items = json.loads(text or "[]")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(text)
        return tuple(items)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, int):
        return int(text)
    return text


def _problem(config: NodeConfig) -> str | None:
    """What is wrong with ``config`` (the first field name leads the words), or None."""
    if config.direction not in DIRECTIONS:
        return f"direction must be one of {', '.join(DIRECTIONS)}, not {config.direction!r}"
    if config.private not in PRIVATE:
        return f"private must be one of {', '.join(PRIVATE)}, not {config.private!r}"
    if config.decoder not in DECODERS:
        return f"decoder must be one of {', '.join(DECODERS)}, not {config.decoder!r}"
    if not 0 < config.interval_s <= 86_400:  # NaN fails too
        return f"interval_s must be a positive number of seconds, not {config.interval_s!r}"
    for name in ("camera_width", "camera_height"):
        if not 16 <= getattr(config, name) <= 10_000:
            return f"{name} must be 16-10000 pixels, not {getattr(config, name)!r}"
    if any(c.isspace() for c in config.upstream_url.strip()) or (
        config.upstream_url and config.upstream_url != config.upstream_url.strip()
    ):
        return f"upstream_url has spaces: {config.upstream_url!r}"
    if any(not e.strip() for e in config.event_ids):
        return "event_ids has an empty event id"
    if len(config.gate) > 200 or any(ord(c) < 32 for c in config.gate):
        return "gate must be a short name without control characters"
    return None
