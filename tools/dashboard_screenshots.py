"""Screenshots of the organiser dashboard's event view in Debian's chromium (Playwright).

Usage: ``python tools/dashboard_screenshots.py [OUT_DIR]`` (default ``docs/screenshots``):
writes dashboard-desktop.png (1366x768) and dashboard-phone.png (390x844). A throwaway hub
holds a live event an hour and a half in: gates uploading, a few refusals, one ticket
admitted at two doors, so every part of the view has something to show.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from scanner_app.core.apikeys import SCOPES
from scanner_app.core.ids import checkin_id
from scanner_app.core.node import Node
from scanner_app.core.timeutil import iso_ms
from scanner_app.server import HubServer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Margaret",
    "Linus",
    "Hedy",
    "John",
    "Katherine",
    "Dennis",
    "Sophie",
    "Tim",
    "Joan",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Hamilton",
    "Torvalds",
    "Lamarr",
    "Backus",
    "Johnson",
    "Ritchie",
    "Wilson",
]


def seed(node: Node, now: datetime) -> tuple[str, list[dict]]:
    """(event id, its tickets): a live event an hour and a half in."""
    rng = random.Random(7)
    event = node.events.create(
        {
            "title": "Neon Nights · Warehouse 9",
            "startsAt": iso_ms(now - timedelta(minutes=80)),
            "endsAt": iso_ms(now + timedelta(hours=3)),
            "maxCapacity": 600,
            "tiers": [{"name": "GA", "quantity": 500}, {"name": "VIP", "quantity": 80}],
        }
    )
    node.events.publish(event["id"])
    tickets = []
    for _ in range(240):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        tier = "VIP" if rng.random() < 0.15 else "GA"
        tickets += node.tickets.issue(event["id"], tier, name, 1)
    return event["id"], tickets


def admissions(node: Node, event_id: str, tickets: list, gates: dict, now: datetime) -> None:
    rng = random.Random(11)
    rows = []
    admitted = tickets[:170]
    for index, ticket in enumerate(admitted):
        minutes = 85 * (1 - (index / len(admitted)) ** 0.7)  # doors busiest at the start
        at = now - timedelta(minutes=minutes, seconds=rng.uniform(0, 50))
        gate = rng.choice(list(gates))
        rows.append(_row(ticket, event_id, gate, gates[gate], at, True, None))
        if rng.random() < 0.05:
            again = at + timedelta(seconds=rng.uniform(20, 200))
            rows.append(
                _row(ticket, event_id, gate, gates[gate], again, False, "already_checked_in")
            )
    for ticket in tickets[170:174]:
        node.tickets.cancel(ticket["id"])
        at = now - timedelta(minutes=rng.uniform(1, 40))
        rows.append(_row(ticket, event_id, "south-1", gates["south-1"], at, False, "revoked"))
    shared = admitted[20]
    rows.append(
        _row(shared, event_id, "south-1", gates["south-1"], now - timedelta(minutes=3), True, None)
    )
    rows.sort(key=lambda r: r["scannedAt"])
    for start in range(0, len(rows), 200):
        node.ledger.merge(rows[start : start + 200], source="downstream")


def _row(
    ticket: dict,
    event_id: str,
    gate: str,
    device_id: str,
    at: datetime,
    success: bool,
    reason: str | None,
) -> dict:
    return {
        "id": checkin_id(),
        "ticketId": ticket["id"],
        "eventId": event_id,
        "scannedAt": iso_ms(at),
        "scannedBy": gate,
        "deviceId": device_id,
        "success": success,
        "reason": reason,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/screenshots", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder, Node.open(folder) as node:
        event_id, tickets = seed(node, now)
        server = HubServer(node, port=0).start()
        try:
            hub = server.hub
            _, key = hub.keys.create("organiser", SCOPES)
            gates = {}
            for gate, name, pending, version, seen in (
                ("north-1", "North door laptop", 0, "0.1.0", 5),
                ("north-2", "North door tablet", 3, "0.1.0", 40),
                ("south-1", "South door laptop", 12, "0.1.0", 190),
            ):
                device, _ = hub.devices.create(name, event_id, gate)
                gates[gate] = device["id"]
                with node.db.write() as conn:
                    hub.devices.record_report(conn, device["id"], pending, version, iso_ms(now))
                hub.keys.record_use({}, {device["id"]: iso_ms(now - timedelta(seconds=seen))})
            admissions(node, event_id, tickets, gates, now)
            shoot(args, server.url, key, event_id)
        finally:
            server.stop()
    print(f"wrote {args.out}/dashboard-desktop.png and dashboard-phone.png")
    return 0


def shoot(args: argparse.Namespace, url: str, key: str, event_id: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for name, size in (("desktop", (1366, 768)), ("phone", (390, 844))):
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, device_scale_factor=1
            )
            page = context.new_page()
            page.goto(url + "/")
            page.fill("#keyInput", key)
            page.click("#loginButton")
            page.wait_for_selector("#app:not([hidden])")
            page.select_option("#eventSelect", event_id)
            expect(page.locator("#recent tr")).to_have_count(15)
            page.screenshot(path=str(args.out / f"dashboard-{name}.png"), full_page=True)
            context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
