"""The upstream probe: does this address take this key, and know these events?

`connect` (CLI) and the window's connect flow both ask it before saving anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scanner_app.core.timeutil import Clock, utc_now
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.config import SyncConfig
from scanner_app.sync.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    SyncError,
    Unauthorized,
    Untrusted,
)

PROBE_TIMEOUT_S = 5.0


class ProbeOutcome(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"  # save anyway: syncing keeps trying
    REFUSED = "refused"  # the key or the event is wrong: save nothing


@dataclass(frozen=True)
class Probe:
    outcome: ProbeOutcome
    message: str  # plain words for staff, naming the upstream


def probe_upstream(
    config: SyncConfig, key: str, *, clock: Clock = utc_now, timeout_s: float | None = None
) -> Probe:
    """Ask the upstream for the configured events (or its event list) with ``key``."""
    url = config.upstream
    timeout_s = timeout_s or PROBE_TIMEOUT_S
    try:
        with TickitzClient(
            url,
            key,
            timeout=timeout_s,
            retries=0,
            clock=clock,
            certificate=config.certificate,
            insecure_http=config.insecure_http,
        ) as client:
            for event_id in config.event_ids:
                client.get_event(event_id)
            if not config.event_ids:
                client.list_events()
    except (Unauthorized, Forbidden) as exc:
        return Probe(
            ProbeOutcome.REFUSED,
            f"{url} refused the key ({exc.status} {exc.code}): {exc.message}",
        )
    except (NotFound, BadRequest) as exc:
        return Probe(ProbeOutcome.REFUSED, f"{url} does not know that event: {exc.message}")
    except Untrusted as exc:  # not the pinned hub: nothing was sent, nothing is saved
        return Probe(ProbeOutcome.REFUSED, str(exc))
    except SyncError as exc:
        return Probe(
            ProbeOutcome.UNREACHABLE, f"Cannot reach {url} yet ({exc}); syncing will keep trying"
        )
    return Probe(ProbeOutcome.OK, f"Syncing with {url}")
