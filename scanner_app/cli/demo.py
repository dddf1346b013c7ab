"""`demo`: a fresh data dir, a demo event, and every verdict, without camera or server."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from scanner_app.cli.base import handles_errors, say
from scanner_app.core.demo_data import build_demo
from scanner_app.core.door import Door
from scanner_app.core.node import Node

_MARK = {"admit": "ADMIT   ", "already_checked_in": "ALREADY "}


def run_terminal_demo(data_dir: Path) -> bool:
    """Scan every demo sample and print the verdicts; True when each matched expectations."""
    with Node.open(data_dir) as node:
        scenario = build_demo(node, tickets=20)
        say(f"Demo event {scenario.event_id} in {data_dir}\n")
        all_as_expected = True
        door = Door.of([scenario.event_id], "demo")
        for sample in scenario.samples:
            result = node.checkin.scan(sample.payload, door)
            verdict = "admit" if result.success else result.reason
            mark = _MARK.get(verdict or "", "REJECT  ")
            who = f"{result.attendee_name or '-'} ({result.tier_name or '-'})"
            detail = "" if result.success else f"  reason={result.reason}"
            ok = "ok" if verdict == sample.expected else f"UNEXPECTED, wanted {sample.expected}"
            all_as_expected &= verdict == sample.expected
            click.echo(f"{mark} {sample.label:<26} {who:<38}{detail}  [{ok}]")
        stats = node.reports.stats(scenario.event_id)
        rejected = stats["rejected"]  # {reason: count}
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(rejected.items()))
        total = sum(rejected.values())
        click.echo(
            f"\nChecked in: {stats['checkedIn']} / {stats['capacity']}; "
            f"rejected: {total}" + (f" ({why})" if why else "")
        )
    return all_as_expected


@click.command("demo")
@click.option("--terminal", is_flag=True, help="Print verdicts in the terminal (no window).")
@click.option("--camera", help="Use a real camera (index or URL) instead of the demo reel.")
@click.option("--keep", is_flag=True, help="Keep the temporary data dir (database, QR PNGs).")
@handles_errors
def demo(terminal: bool, camera: str | None, keep: bool) -> None:
    """Run the scanner on a demo event in a fresh temporary data dir."""
    data_dir = Path(tempfile.mkdtemp(prefix="tickitz-demo-"))
    try:
        if terminal:
            if not run_terminal_demo(data_dir):
                raise SystemExit(1)
            return
        from scanner_app.gui.demo import demo_qr_dir, run_demo  # noqa: PLC0415 (Qt loads here)

        say(qr_notice(demo_qr_dir(data_dir), keep))
        raise SystemExit(run_demo(data_dir, camera=camera))
    finally:
        if keep:
            say(f"Kept the demo's data in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def qr_notice(qr_dir: Path, keep: bool) -> str:
    """Where the QR PNGs are, and whether they outlive the demo (a temp dir, gone at exit)."""
    where = f"QR codes of the sample tickets, to hold up to a camera: {qr_dir}"
    if keep:
        return f"{where}\n(--keep: they stay there after the demo closes)"
    return (
        f"{where}\n(a temporary folder, deleted when the demo closes; "
        "run `tickitz-scanner demo --keep` to keep them)"
    )
