"""A node's upstream settings (the sync part of core's NodeConfig) and the hub's
`tickitz-setup:` text."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from typing import Any

from scanner_app.core.errors import TickitzError, ValidationError
from scanner_app.core.node import Node
from scanner_app.core.node_config import DEFAULT_INTERVAL_S, KEYS, NodeConfig
from scanner_app.core.setup_code import (
    SETUP_PREFIX,
    V1_REFUSED,
    SetupPayload,
    decode_setup,
)
from scanner_app.sync.client import api_base
from scanner_app.sync.tls import normalise_fp

log = logging.getLogger(__name__)
__all__ = [
    "DEFAULT_INTERVAL_S",
    "SETUP_PREFIX",
    "V1_REFUSED",
    "SetupPayload",
    "SyncConfig",
    "make_setup",
    "parse_setup",
]
_KEYS = {name: KEYS[field] for name, field in (
    ("url", "upstream_url"), ("event_ids", "event_ids"), ("gate", "gate"),
    ("interval_s", "interval_s"), ("strict", "strict"), ("certificate", "certificate"),
    ("insecure_http", "insecure_http"))}  # fmt: skip


class SyncSettingsDamaged(TickitzError):
    """A saved sync setting cannot be used; the node can still decide at its door."""

    code = "sync_settings_damaged"

    def __init__(self, node: Node, key: str, problem: str) -> None:
        super().__init__(
            f"{node.db.path}: the sync setting {key} {problem}; run `tickitz-scanner connect`"
            " again to store the upstream afresh",
            field=key,
        )


@dataclass(frozen=True)
class SyncConfig:
    """Where to sync and what; the key itself lives in the KeyStore, never here."""

    url: str
    event_ids: tuple[str, ...] = ()  # empty: every event the upstream lists
    gate: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S
    strict: bool = False
    # The hub's certificate (PEM) this node pins (DESIGN.md §10); None: system CAs for https.
    certificate: str | None = None
    insecure_http: bool = False  # plain HTTP to another machine was asked for explicitly

    @property
    def upstream(self) -> str:
        """The name cursors are kept under (a new upstream starts from scratch)."""
        return api_base(self.url)

    @classmethod
    def load(cls, node: Node) -> SyncConfig | None:
        """The node's saved upstream, or None when it syncs with nothing (standalone).

        Raises SyncSettingsDamaged for an address or event list it cannot use (syncing
        with a guess could reach the wrong place or the wrong events); a damaged interval
        falls back to the default with a warning, so uploads keep flowing."""
        url = (node.setting(_KEYS["url"]) or "").strip()
        if not url:
            return None
        try:
            api_base(url)
        except ValueError:  # the address is not echoed: it may carry user:password@
            raise SyncSettingsDamaged(node, _KEYS["url"], "is not an http(s) address") from None
        return cls(
            url=url,
            event_ids=_event_ids(node),
            gate=node.setting(_KEYS["gate"]) or None,
            interval_s=_interval(node),
            strict=node.setting(_KEYS["strict"]) == "1",
            certificate=node.setting(_KEYS["certificate"]) or None,
            insecure_http=node.setting(_KEYS["insecure_http"]) == "1",
        )

    @classmethod
    def from_node_config(cls, config: NodeConfig) -> SyncConfig | None:
        if config.standalone:
            return None
        return cls(
            url=config.upstream_url,
            event_ids=config.event_ids,
            gate=config.gate or None,
            interval_s=config.interval_s,
            strict=config.strict,
            certificate=config.certificate or None,
            insecure_http=config.insecure_http,
        )

    def save(self, node: Node) -> None:
        """Update the sync part of the node's configuration; the rest stays as it is."""
        with node.db.write():  # read and write under the writer lock: no lost update
            NodeConfig.load(node).with_changes(
                upstream_url=self.upstream,
                event_ids=tuple(self.event_ids),
                gate=self.gate or "",
                interval_s=float(self.interval_s),
                strict=self.strict,
                certificate=self.certificate or "",
                insecure_http=self.insecure_http,
            ).save(node)

    @staticmethod
    def clear(node: Node) -> None:
        """Forget the upstream: the node is standalone again (cursors and outbox stay)."""
        with node.db.write():
            NodeConfig.load(node).with_changes(
                upstream_url="", certificate="", insecure_http=False
            ).save(node)

    def with_changes(self, **changes: Any) -> SyncConfig:
        return replace(self, **changes)


def _event_ids(node: Node) -> tuple[str, ...]:
    key = _KEYS["event_ids"]
    try:
        events = json.loads(node.setting(key) or "[]")
    except ValueError:
        raise SyncSettingsDamaged(node, key, "is not a JSON list of event ids") from None
    if not isinstance(events, list) or not all(isinstance(e, str) and e.strip() for e in events):
        raise SyncSettingsDamaged(node, key, "is not a JSON list of event ids")
    return tuple(events)


def _interval(node: Node) -> float:
    key = _KEYS["interval_s"]
    text = node.setting(key)
    if not text:
        return DEFAULT_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        log.warning(
            "%s: the sync setting %s is %r, not a number of seconds; syncing every %g s",
            node.db.path,
            key,
            text[:40],
            DEFAULT_INTERVAL_S,
        )
        return DEFAULT_INTERVAL_S
    return value


def parse_setup(text: str) -> SetupPayload:
    """A v2 setup code (core.setup_code) whose address and fingerprint this node can use; a
    version 1 code (key inside) is refused with V1_REFUSED."""
    data = decode_setup(text)
    try:
        base = api_base(data["url"])
        fp = normalise_fp(data["fp"]) if data.get("fp") else None
    except (ValueError, AttributeError) as exc:
        raise ValidationError(str(exc), field="setup") from exc
    if base.startswith("https://") and fp is None:
        raise ValidationError("an https setup code must carry the hub's fingerprint (fp)", "setup")
    if base.startswith("http://") and fp is not None:
        # A pinned certificate on a plain-HTTP address: the hub speaks HTTPS, and a gate
        # speaking HTTP to its port never gets an answer (a hub address typed without https).
        raise ValidationError(
            "this setup code pins the hub's certificate but names a plain http:// address:"
            " ask for a new code whose address starts with https://",
            "setup",
        )
    exp = data.get("exp")
    event_id, gate = data.get("eventId"), data.get("gate")
    return SetupPayload(
        url=data["url"].strip(),
        enrol=data["enrol"].strip(),
        fp=fp,
        event_id=event_id if isinstance(event_id, str) and event_id else None,
        gate=gate if isinstance(gate, str) and gate else None,
        exp=int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
    )


def make_setup(
    url: str,
    enrol: str,
    event_id: str | None,
    gate: str | None,
    fp: str | None = None,
    exp: int | None = None,
) -> str:
    """The inverse of parse_setup (the hub makes these; tests and tools use this)."""
    return SetupPayload(url, enrol, fp, event_id, gate, exp).text()
