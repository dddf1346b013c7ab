"""`event ...` commands: create, publish, cancel, list, import, keys, rotate-key, retire-key."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scanner_app.cli.base import emit, handles_errors, open_node, read_json_file, say
from scanner_app.core.errors import ValidationError
from scanner_app.core.tickets import manifest_row, parse_manifest_text

TIER_FORM = "NAME:PRICE:QTY (PRICE in cents, e.g. VIP:14999:50)"


def parse_tier(spec: str) -> dict[str, object]:
    """NAME:PRICE:QTY: price a whole number of cents >= 0, quantity a whole number >= 1."""
    parts = spec.rsplit(":", 2)  # rsplit: a tier name may itself contain a colon
    if len(parts) != 3:
        # A bare NAME used to become a free, unlimited tier: a typo then made a real tier.
        raise click.BadParameter(f"{spec!r}: expected {TIER_FORM}")
    name, price_text, quantity_text = parts
    try:
        price, quantity = int(price_text), int(quantity_text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{spec!r}: PRICE and QTY must be whole numbers; expected {TIER_FORM}"
        ) from exc
    if price < 0:
        raise click.BadParameter(f"{spec!r}: the price must be 0 or more; expected {TIER_FORM}")
    if quantity < 1:
        raise click.BadParameter(f"{spec!r}: the quantity must be 1 or more; expected {TIER_FORM}")
    return {"name": name, "price": price, "quantity": quantity}


def _tiers_option(
    _ctx: click.Context, _param: click.Parameter, specs: tuple[str, ...]
) -> list[dict[str, object]]:
    """Parse --tier while click parses options, so a bad spec is a usage error (exit 2)."""
    return [parse_tier(spec) for spec in specs]


@click.group("event")
def event_group() -> None:
    """Create, publish, import and list events."""


@event_group.command("create")
@click.option("--title", required=True, help="Event title.")
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    required=True,
    callback=_tiers_option,
    help="NAME:PRICE:QTY (PRICE in cents, QTY >= 1), repeatable.",
)
@click.option("--starts-at", help="ISO 8601 start time.")
@click.option("--ends-at", help="ISO 8601 end time.")
@click.option("--capacity", type=int, help="Max capacity (default: sum of tier quantities).")
@click.option("--reentry", is_flag=True, help="Allow re-entry: entry and exit scans alternate.")
@click.option("--alg", type=click.Choice(["EdDSA", "ES256"]), default="EdDSA", show_default=True)
@click.pass_context
@handles_errors
def create(
    ctx: click.Context,
    title: str,
    tiers: list[dict[str, object]],
    starts_at: str | None,
    ends_at: str | None,
    capacity: int | None,
    reentry: bool,
    alg: str,
) -> None:
    """Create a draft event with its own signing key; prints the event as JSON."""
    body = {
        "title": title,
        "tiers": tiers,
        "startsAt": starts_at,
        "endsAt": ends_at,
        "maxCapacity": capacity,
        "settings": {"allowReentry": reentry},
    }
    emit(open_node(ctx).events.create(body, alg=alg))


@event_group.command("publish")
@click.argument("event_id")
@click.pass_context
@handles_errors
def publish(ctx: click.Context, event_id: str) -> None:
    """Publish a draft event so tickets can be issued."""
    emit(open_node(ctx).events.publish(event_id))


@event_group.command("cancel")
@click.argument("event_id")
@click.pass_context
@handles_errors
def cancel(ctx: click.Context, event_id: str) -> None:
    """Cancel an event: every ticket for it is refused at the door."""
    emit(open_node(ctx).events.cancel(event_id))


@event_group.command("list")
@click.option("--status", type=click.Choice(["draft", "published", "cancelled"]))
@click.pass_context
@handles_errors
def list_events(ctx: click.Context, status: str | None) -> None:
    """List events on this node, one JSON object per line."""
    for event in open_node(ctx).events.list(status):
        emit(event)


@event_group.command("import")
@click.option("--event-json", "event_file", required=True, type=click.Path(dir_okay=False))
@click.option("--jwks", "jwks_file", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--tickets",
    "tickets_file",
    type=click.Path(dir_okay=False),
    help="Ticket manifest: a JSON array or JSON lines.",
)
@click.pass_context
@handles_errors
def import_event(
    ctx: click.Context, event_file: str, jwks_file: str, tickets_file: str | None
) -> None:
    """Import an event issued elsewhere (no private key on this node)."""
    event = read_json_file(event_file)
    jwks = read_json_file(jwks_file)
    entries = []
    if tickets_file:
        entries = parse_manifest_text(Path(tickets_file).read_text(encoding="utf-8"))
    node = open_node(ctx)
    if not isinstance(event, dict):
        raise ValidationError("the event file must hold one JSON object")
    # Validate the manifest before anything is written, so a bad file changes nothing.
    for entry in entries:
        manifest_row(str(event.get("id")), entry)
    imported = node.events.import_event(event, jwks)
    # A private gate keeps only names sealed per ticket (a bundle made with --sealed-names).
    count = node.tickets.import_manifest(imported["id"], entries, private=node.private_names())
    keys = len(jwks.get("keys", []))
    say(
        f"Imported {imported['id']} with {keys} {_plural(keys, 'key')}"
        f" and {count} {_plural(count, 'ticket')}."
    )
    emit(imported)


MANIFEST_FIELDS = ("id", "eventId", "bookingId", "attendeeName", "tierName", "status", "updatedAt")


@event_group.command("export-bundle")
@click.argument("event_id")
@click.option(
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write event.json, jwks.json and tickets.jsonl into (made if missing).",
)
@click.option(
    "--sealed-names",
    is_flag=True,
    help="Names sealed per ticket (for private gates): none in the clear in the bundle.",
)
@click.pass_context
@handles_errors
def export_bundle(ctx: click.Context, event_id: str, folder: str, sealed_names: bool) -> None:
    """Write what `event import` reads: the event, its public JWKS and the ticket manifest
    with each ticket's status (cancelled tickets stay refused on the importing gate).

    No private key and no ticket token goes into the bundle: a gate needs neither. With
    ``--sealed-names`` each name can be opened only with its ticket's QR code.
    """
    node = open_node(ctx)
    event = node.events.get(event_id)
    jwks = node.events.jwks(event_id)
    manifest: list[dict[str, object]] = []
    after = None
    while True:
        page = node.tickets.feed(event_id, after, limit=1000, sealed=sealed_names)
        fields = (*MANIFEST_FIELDS, "sealedName") if sealed_names else MANIFEST_FIELDS
        manifest += [{k: t.get(k) for k in fields} for t in page["data"]]
        after = page["nextCursor"]
        if not page["hasMore"]:
            break
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "event": out / "event.json",
        "jwks": out / "jwks.json",
        "tickets": out / "tickets.jsonl",
    }
    files["event"].write_text(json.dumps(event, ensure_ascii=False, indent=2) + "\n", "utf-8")
    files["jwks"].write_text(json.dumps(jwks, indent=2) + "\n", "utf-8")
    lines = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in manifest)
    files["tickets"].write_text(lines, "utf-8")
    cancelled = sum(1 for m in manifest if m["status"] == "cancelled")
    say(
        f"Wrote {out}: {len(jwks.get('keys', []))} {_plural(len(jwks.get('keys', [])), 'key')}"
        f" and {len(manifest)} {_plural(len(manifest), 'ticket')} ({cancelled} cancelled)."
    )
    say(
        "On the gate: tickitz-scanner event import"
        f" --event-json {files['event']} --jwks {files['jwks']} --tickets {files['tickets']}"
    )
    emit({name: str(path) for name, path in files.items()})


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


@event_group.command("keys")
@click.argument("event_id")
@click.pass_context
@handles_errors
def keys(ctx: click.Context, event_id: str) -> None:
    """Print the event's public key set (JWKS)."""
    emit(open_node(ctx).events.jwks(event_id))


@event_group.command("rotate-key")
@click.argument("event_id")
@click.option(
    "--alg",
    type=click.Choice(["EdDSA", "ES256"]),
    help="Algorithm of the new key  [default: that of the current key]",
)
@click.pass_context
@handles_errors
def rotate_key(ctx: click.Context, event_id: str, alg: str | None) -> None:
    """Add a new signing key for new tickets; prints the public JWKS with every key.

    Old keys stay in the set, so tickets already issued keep verifying. Gates pick the new
    key up at their next sync; a gate set up by `event import` needs the new JWKS imported.
    """
    events = open_node(ctx).events
    events.get(event_id)  # a mistyped id says "No event", not "no private key"
    new_key = events.rotate_key(event_id, alg)
    jwks = events.jwks(event_id)
    active = len(jwks["keys"])
    say(
        f"New signing key {new_key['kid']} ({new_key['alg']});"
        f" {active} {_plural(active, 'key')} active."
    )
    emit(jwks)


# Key ids are base64url, so about 1 in 64 starts with "-": taken as an option, it failed
# with "No such option '-q'". Unknown options are arguments here.
@event_group.command("retire-key", context_settings={"ignore_unknown_options": True})
@click.argument("event_id")
@click.argument("kid")
@click.pass_context
@handles_errors
def retire_key(ctx: click.Context, event_id: str, kid: str) -> None:
    """Retire a (leaked) signing key; prints the public JWKS of the keys left.

    Tickets signed with it are refused as unknown_key here at once and on gates after
    their next sync (a gate offline until then still admits them). The last key this node
    signs with is refused: rotate first. A gate set up by `event import` needs the command
    run on its own data dir.
    """
    jwks = open_node(ctx).events.retire_key(event_id, kid)
    active = len(jwks["keys"])
    say(f"Key {kid} retired; {active} {_plural(active, 'key')} active.")
    emit(jwks)
