"""`connect` (to a hub or central) and `sync` (push the outbox, pull what the door needs)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import click

from scanner_app.cli.base import emit, fail, handles_errors, open_node, say
from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.sync.client import api_base, link_kind
from scanner_app.sync.config import (
    DEFAULT_INTERVAL_S,
    SyncConfig,
    SyncSettingsDamaged,
    parse_setup,
)
from scanner_app.sync.credentials import ENV_KEY, KeyStore, KeyUnusable
from scanner_app.sync.engine import NotConfigured, SyncEngine
from scanner_app.sync.enrolment import EnrolmentFailed, enrol
from scanner_app.sync.probe import ProbeOutcome, probe_upstream
from scanner_app.sync.rounds import RoundReport
from scanner_app.sync.state import SyncStatus
from scanner_app.sync.tls import PinMismatch, fetch_pinned

STOP_WAIT_S = 3.0
PROGRESS_EVERY_S = 0.5  # at most ~2 first-sync progress lines a second


@click.command("connect")
@click.argument("url", required=False)
@click.option("--key", help=f"API key for the upstream (default: ${ENV_KEY}, else a prompt).")
@click.option("--event", "event_ids", multiple=True, help="Event(s) to sync (default: all).")
@click.option("--gate", help="This gate's name (scannedBy).")
@click.option(
    "--setup",
    "setup_text",
    help="The hub's `tickitz-setup:` text; give `-` to read it from stdin (keeps it out of"
    " the process list and shell history).",
)
@click.option("--fingerprint", help="With a URL: pin the hub's certificate (SHA-256, hex).")
@click.option(
    "--insecure-http", is_flag=True, help="Allow plain HTTP to another machine (not pinned)."
)
@click.option("--interval", type=click.FloatRange(0.5, 3600), help="Seconds between pulls.")
@click.option("--strict/--no-strict", default=None, help="Ask the upstream for every scan.")
@click.option("--no-check", is_flag=True, help="Save without contacting the upstream.")
@click.pass_context
@handles_errors
def connect(
    ctx: click.Context,
    url: str | None,
    key: str | None,
    event_ids: tuple[str, ...],
    gate: str | None,
    setup_text: str | None,
    interval: float | None,
    strict: bool | None,
    no_check: bool,
    fingerprint: str | None,
    insecure_http: bool,
) -> None:
    """Point this node at its upstream (a venue hub or central Tickitz) and store the key.

    With a hub's setup code the gate enrols: it pins the hub's certificate by the code's
    fingerprint and exchanges the one-time code for its own key."""
    certificate = None
    if setup_text:
        if setup_text == "-":
            setup_text = sys.stdin.read()
        setup = parse_setup(setup_text)
        if url and api_base(url) != api_base(setup.url):
            fail("give either a URL or a setup code: the code names its own hub")
        try:
            joined = enrol(open_node(ctx), setup, insecure_http=insecure_http)
        except EnrolmentFailed as exc:
            fail(str(exc))
        url, key, certificate = setup.url, joined.key, joined.certificate
        event_ids = event_ids or ((setup.event_id,) if setup.event_id else ())
        gate = gate or setup.gate
    elif url and fingerprint:
        try:
            certificate = fetch_pinned(api_base(url), fingerprint)
        except (PinMismatch, ValueError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot read the certificate of {url}: {exc}")
    if not url:
        fail("give the upstream URL (e.g. http://192.168.1.5:8000) or --setup TEXT")
    node = open_node(ctx)
    store = KeyStore(node.data_dir, node.device_id)
    try:
        env_key, source = store.get()
    except KeyUnusable as exc:  # a new key replaces it (the message never shows the key)
        say(f"Warning: {exc}")
        env_key, source = None, "none"
    if not key and source != "env":
        key = click.prompt("API key", hide_input=True) if sys.stdin.isatty() else None
    if not key and not env_key:
        fail(f"give --key, set {ENV_KEY}, or use --setup")
    try:
        previous = SyncConfig.load(node)
    except SyncSettingsDamaged as exc:  # connecting again is the fix the message names
        say(f"Replacing damaged sync settings ({exc.message.split('; ')[0]}).")
        previous = None
    config = SyncConfig(
        url=url,
        event_ids=tuple(event_ids),
        gate=gate or (previous.gate if previous else None),
        interval_s=interval or (previous.interval_s if previous else DEFAULT_INTERVAL_S),
        strict=strict if strict is not None else bool(previous and previous.strict),
        certificate=certificate,
        insecure_http=insecure_http,
    )
    try:
        config.upstream  # noqa: B018 - validates the address before anything is saved
    except ValueError as exc:
        raise ValidationError(str(exc), field="url") from exc
    if link_kind(config.url, certificate) == "insecure" and not insecure_http:
        fail(
            f"{config.upstream} is plain HTTP to another machine (readable and changeable by"
            " anyone on the network); use the hub's https:// setup code or --fingerprint,"
            " or pass --insecure-http to accept that"
        )
    reachable = None if no_check else _check(node, config, key or env_key or "")
    where = store.set(key) if key else "env"
    config.save(node)
    summary = {
        "upstream": config.upstream,
        "events": list(config.event_ids),
        "gate": config.gate,
        "strict": config.strict,
        "intervalSeconds": config.interval_s,
        "keyStore": where,
        "reachable": reachable,
        "link": link_kind(config.url, certificate),
    }
    stored = {"keyring": "the OS keyring", "file": f"{store.path} (mode 0600)", "env": ENV_KEY}
    say(f"Connected to {config.upstream}; the key is in {stored[where]}.")
    if key and source == "env":
        say(f"Note: {ENV_KEY} is set and is used instead of the stored key.")
    if reachable is False:
        say("The upstream is not reachable right now; sync will keep trying.")
    emit(summary)


def _check(node: Node, config: SyncConfig, key: str) -> bool:
    """True if the upstream answered; a refused key or unknown event changes nothing."""
    probe = probe_upstream(config, key, clock=node.clock)
    if probe.outcome is ProbeOutcome.REFUSED:
        fail(probe.message)
    return probe.outcome is ProbeOutcome.OK


@click.command("sync")
@click.option("--once", is_flag=True, help="One round (push, then pull), then exit.")
@click.option("--push-only", is_flag=True, help="Only upload; exits when nothing is pending.")
@click.option(
    "--give-up-after",
    type=click.FloatRange(0),
    default=120.0,
    show_default=True,
    help="With --push-only: stop retrying after this many seconds.",
)
@click.option(
    "--retry-set-aside",
    is_flag=True,
    help="Put check-ins set aside (the upstream refused them) back in the outbox first.",
)
@click.pass_context
@handles_errors
def sync(
    ctx: click.Context, once: bool, push_only: bool, give_up_after: float, retry_set_aside: bool
) -> None:
    """Sync with the upstream: in the foreground until Ctrl-C, or --once, or --push-only.

    A check-in the upstream will never take is set aside with the reason (kept here, shown
    by `export`), so it does not stay pending forever. Exit 0 when nothing is left pending.
    """
    node = open_node(ctx)
    if retry_set_aside:
        say(f"{_count(node.ledger.retry_set_aside())} back in the outbox.")
    try:
        engine = SyncEngine.from_node(node, push_only=push_only, on_status=progress_printer())
    except NotConfigured as exc:
        fail(str(exc))
    try:
        if once:
            report = engine.run_once(pull=not push_only)
        elif push_only:
            report = _push_until_done(engine, give_up_after)
        else:
            _follow(engine)
            report = RoundReport(pending=node.ledger.pending_count())
    finally:
        # Do not wait out a request in flight: it is idempotent and stays pending if cut.
        engine.stop(timeout=STOP_WAIT_S)
    _summarise(report)
    emit(report.to_dict())
    if not report.complete:
        sys.exit(1)


def _push_until_done(engine: SyncEngine, give_up_after: float) -> RoundReport:
    """Retry transient failures (with the engine's backoff) until the outbox is empty."""
    deadline = time.monotonic() + give_up_after
    total = RoundReport()
    while True:
        report = engine.run_once(pull=False)
        total.pushed += report.pushed
        total.answers.update(report.answers)
        total.pending, total.refused, total.error = report.pending, report.refused, report.error
        total.set_aside = report.set_aside
        wait = engine.status().next_attempt_in_s or 0.0
        if report.pending <= 0 or time.monotonic() + wait > deadline:
            return total
        if report.error:
            say(f"Push failed ({report.error}); retrying in {wait:.1f} s")
        time.sleep(wait)


def _follow(engine: SyncEngine) -> None:
    """Run the background loop, printing changes, until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    engine.on_status = status_printer()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine.start()
    say(
        f"Syncing with {engine.config.upstream} every {engine.config.interval_s:g} s; Ctrl-C stops."
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def status_printer() -> Callable[[SyncStatus], None]:
    """A status callback that prints a line to stderr when state, reason or pending change,
    and the progress of a first sync while one runs."""
    last: list[Any] = [None]
    progress = progress_printer()

    def show(status: SyncStatus) -> None:
        progress(status)
        line = (status.state, status.reason, status.pending)
        if line != last[0] and not status.syncing:
            last[0] = line
            reason = f" ({status.reason})" if status.reason else ""
            say(
                f"{time.strftime('%H:%M:%S')} sync {status.state}{reason}; pending {status.pending}"
            )

    return show


def progress_printer(
    every_s: float = PROGRESS_EVERY_S, clock: Callable[[], float] = time.monotonic
) -> Callable[[SyncStatus], None]:
    """A status callback that prints first-sync progress to stderr: the first line at once,
    then at most one every `every_s`, and the last one when the first sync ends. Silent when
    no first sync runs (a round that is not running cannot be making progress)."""
    printed: dict[str, Any] = {"line": None, "at": None}
    held: list[str | None] = [None]  # the newest line the throttle kept back

    def show(status: SyncStatus) -> None:
        if status.first_sync and status.syncing:
            line = progress_line(status.first_sync)
            now = clock()
            if line == printed["line"]:
                return
            if printed["at"] is None or now - printed["at"] >= every_s:
                say(line)
                printed.update(line=line, at=now)
                held[0] = None
            else:
                held[0] = line
            return
        if held[0] is not None:  # finished (or stopped): show where it got to
            say(held[0])
            printed["line"] = held[0]
        held[0] = None
        printed["at"] = None

    return show


def progress_line(progress: dict[str, Any]) -> str:
    """'First sync of evt_x: 12,000 / ~100,000 tickets (12%)'."""
    done = int(progress.get("done") or 0)
    total = progress.get("estimatedTotal")
    phase = progress.get("phase") or "tickets"
    what = {"checkins": "check-ins"}.get(phase, phase)
    head = f"First sync of {progress.get('eventId') or 'the event'}: {done:,}"
    if not total:
        return f"{head} {what}"
    percent = min(100, done * 100 // total)
    return f"{head} / ~{total:,} {what} ({percent}%)"


def start_upstream_sync(node: Node) -> SyncEngine | None:
    """For `serve`: a hub with an upstream forwards what its gates send and pulls what they
    need (chaining, DESIGN.md §1). None when the node has no upstream."""
    try:
        if SyncConfig.load(node) is None:
            return None
        engine = SyncEngine.from_node(node, on_status=status_printer())
    except SyncSettingsDamaged as exc:
        say(f"Not syncing upstream: {exc.message}")
        return None
    except NotConfigured as exc:
        say(f"Not syncing upstream: {exc}")
        return None
    engine.start()
    say(f"Syncing with upstream {engine.config.upstream} every {engine.config.interval_s:g} s.")
    return engine


def _summarise(report: RoundReport) -> None:
    for note in report.notes:
        say(f"Note: {note}.")
    answers = ", ".join(f"{n} {status}" for status, n in sorted(report.answers.items()))
    say(f"Pushed {_count(report.pushed)}" + (f" ({answers})." if answers else "."))
    if report.tickets or report.checkins:
        say(f"Pulled {report.tickets} ticket changes and {report.checkins} check-ins.")
    for warning in report.warnings:
        say(f"Warning: {warning}")
    if report.refused:
        reasons = Counter(report.refused.values())
        for reason, n in reasons.most_common(3):
            say(f"{_count(n)} set aside: {reason}.")
    if report.set_aside:
        say(
            f"{_count(report.set_aside)} set aside in all (kept here and in `export`,"
            " never uploaded; `sync --retry-set-aside` puts them back)."
        )
    if report.error:
        say(f"Stopped: {report.error}")
    if report.pending:
        say(f"{_count(report.pending)} still pending.")
    else:
        say("Nothing is left pending.")


def _count(n: int) -> str:
    return f"{n} check-in" if n == 1 else f"{n} check-ins"
