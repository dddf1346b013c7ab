"""The exact commands of issue 2 item 5, through the real CLI on a real data directory."""

from __future__ import annotations

import csv
import io
import json
import re

import cv2
import zxingcpp

TICKET_KEYS = {"id", "bookingId", "tierName", "attendeeName", "qrPayload"}


def decode_png(path):
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, path
    # QR only, as the scanner reads: dense QR modules sometimes also parse as a Codabar.
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found]


def test_event_create_prints_the_seed_event_shape(cli):
    event = cli.json(
        "event", "create", "--title", "Summer Gala", "--tier", "VIP:14999:50",
        "--tier", "General Admission:2500:500", "--starts-at", "2026-07-15T19:00:00+02:00",
        "--ends-at", "2026-07-15T23:30:00Z", "--reentry",
    )  # fmt: skip
    assert re.fullmatch(r"evt_[0-9a-z]{16}", event["id"])
    assert event["status"] == "draft"
    assert event["title"] == "Summer Gala"
    assert event["startsAt"] == "2026-07-15T17:00:00.000Z"  # normalised to UTC
    assert event["endsAt"] == "2026-07-15T23:30:00.000Z"
    assert event["maxCapacity"] == 550
    assert event["settings"]["allowReentry"] is True
    tiers = [(t["name"], t["price"], t["quantity"]) for t in event["tiers"]]
    assert tiers == [("VIP", 14999, 50), ("General Admission", 2500, 500)]
    assert all(re.fullmatch(r"tier_[0-9a-z]+", t["id"]) for t in event["tiers"])


def test_publish_and_list(cli):
    first = cli.json("event", "create", "--title", "One", "--tier", "GA:0:10")
    second = cli.json("event", "create", "--title", "Two", "--tier", "GA:0:1")
    published = cli.json("event", "publish", first["id"])
    assert published["status"] == "published" and published["id"] == first["id"]
    listed = cli.lines("event", "list")
    assert {(e["id"], e["status"]) for e in listed} == {
        (first["id"], "published"),
        (second["id"], "draft"),
    }
    assert [e["id"] for e in cli.lines("event", "list", "--status", "draft")] == [second["id"]]


def test_tickets_issue_with_qr_pngs_that_decode_back(cli, published, tmp_path):
    qr_dir = tmp_path / "qr"
    result = cli.run(
        "tickets", "issue", "--event", published["id"], "--tier", "GA", "--name", "José Núñez",
        "--count", "3", "--qr-dir", str(qr_dir),
    )  # fmt: skip
    tickets = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(tickets) == 3
    assert "3 QR codes" in result.stderr
    for ticket in tickets:
        assert set(ticket) == TICKET_KEYS
        assert (ticket["tierName"], ticket["attendeeName"]) == ("GA", "José Núñez")
        assert decode_png(qr_dir / f"{ticket['id']}.png") == [ticket["qrPayload"]]
    assert len({t["bookingId"] for t in tickets}) == 1  # one booking
    assert sorted(p.name for p in qr_dir.iterdir()) == sorted(f"{t['id']}.png" for t in tickets)


def test_issuing_is_refused_for_draft_cancelled_and_sold_out(cli, snapshot):
    draft = cli.json("event", "create", "--title", "Draft", "--tier", "VIP:100:2")
    before = snapshot(cli.home)
    assert "draft" in cli.fail("tickets", "issue", "--event", draft["id"], "--tier", "VIP").stderr
    assert snapshot(cli.home) == before

    cli.run("event", "publish", draft["id"])
    cli.run("tickets", "issue", "--event", draft["id"], "--tier", "VIP", "--count", "2")
    before = snapshot(cli.home)
    sold_out = cli.fail("tickets", "issue", "--event", draft["id"], "--tier", "VIP")
    assert "0 tickets left" in sold_out.stderr
    unknown = cli.fail("tickets", "issue", "--event", draft["id"], "--tier", "Balcony")
    assert "VIP" in unknown.stderr  # names the tiers there are
    assert snapshot(cli.home) == before

    cli.run("event", "cancel", draft["id"])
    cancelled = cli.fail("tickets", "issue", "--event", draft["id"], "--tier", "VIP")
    assert "cancelled" in cancelled.stderr


def test_scan_payloads_and_stdin(cli, published):
    event_id = published["id"]
    tickets = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA", "--count", "3")
    first, second, third = (t["qrPayload"] for t in tickets)

    results = cli.lines("scan", "--event", event_id, "--gate", "north", first, first, "hello")
    assert [(r["success"], r["reason"]) for r in results] == [
        (True, None),
        (False, "already_checked_in"),
        (False, "malformed"),
    ]
    assert results[1]["firstScannedBy"] == "north"
    assert all(r["scannedBy"] == "north" and r["eventId"] == event_id for r in results)

    stdin = f"{second}\n\n  {third}  \r\n{second}\n"
    from_stdin = cli.lines("scan", "--event", event_id, "-", input=stdin)
    assert [(r["ticketId"], r["reason"]) for r in from_stdin] == [
        (tickets[1]["id"], None),
        (tickets[2]["id"], None),
        (tickets[1]["id"], "already_checked_in"),
    ]


def test_scan_tiers_exit_and_cancel(cli):
    event = cli.json("event", "create", "--title", "Fest", "--tier", "VIP:1:5", "--tier",
                     "GA:0:5", "--reentry")  # fmt: skip
    cli.run("event", "publish", event["id"])
    vip, ga, gone = (
        cli.lines("tickets", "issue", "--event", event["id"], "--tier", tier)[0]
        for tier in ("VIP", "GA", "GA")
    )
    scan = ("scan", "--event", event["id"])
    vip_door = cli.lines(*scan, "--allow-tier", "VIP", vip["qrPayload"], ga["qrPayload"])
    assert [r["reason"] for r in vip_door] == [None, "tier_not_allowed"]

    leave = cli.lines(*scan, "--exit", vip["qrPayload"], ga["qrPayload"])
    assert [(r["direction"], r["reason"]) for r in leave] == [
        ("out", None),
        ("out", "not_checked_in"),
    ]
    assert cli.lines(*scan, vip["qrPayload"])[0]["success"]  # re-entry

    cancelled = cli.json("tickets", "cancel", gone["id"])
    assert cancelled["status"] == "cancelled"
    assert cli.lines(*scan, gone["qrPayload"])[0]["reason"] == "revoked"


def test_event_keys_prints_the_public_jwks(cli, published):
    jwks = cli.json("event", "keys", published["id"])
    (key,) = jwks["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
    assert len(key["kid"]) == 16
    assert "d" not in key


def test_stats_export_and_undo(cli, published, tmp_path):
    event_id = published["id"]
    tickets = cli.lines("tickets", "issue", "--event", event_id, "--tier", "VIP", "--count", "2",
                        "--name", "=HYPERLINK(\"x\")")  # fmt: skip
    scans = cli.lines("scan", "--event", event_id, "--gate", "west",
                      tickets[0]["qrPayload"], tickets[0]["qrPayload"], "junk")  # fmt: skip
    stats = cli.json("stats", "--event", event_id)
    assert (stats["checkedIn"], stats["scans"], stats["ticketsValid"]) == (1, 3, 2)
    assert stats["rejected"] == {"already_checked_in": 1, "malformed": 1}
    assert stats["byGate"] == [{"gate": "west", "admissions": 1}]
    assert {t["tierName"]: t["checkedIn"] for t in stats["byTier"]} == {"VIP": 1, "GA": 0}

    csv_out = cli.run("export", "--event", event_id, "--format", "csv")
    exported = csv_out.stdout_bytes.decode("utf-8")  # .stdout would fold the CRLFs
    rows = list(csv.DictReader(io.StringIO(exported, newline="")))
    assert [r["checkinId"] for r in rows] == [s["checkinId"] for s in scans]
    assert rows[0]["attendeeName"].startswith("'=")  # no formula injection into spreadsheets
    assert [r["reason"] for r in rows] == ["", "already_checked_in", "malformed"]

    as_json = cli.json("export", "--event", event_id, "--format", "json")
    assert [r["checkinId"] for r in as_json] == [s["checkinId"] for s in scans]
    assert as_json[0]["success"] is True and as_json[0]["attendeeName"] == '=HYPERLINK("x")'

    out_file = tmp_path / "export.csv"
    written = cli.run("export", "--event", event_id, "--output", str(out_file))
    assert written.stdout == "" and str(out_file) in written.stderr
    assert out_file.read_bytes() == csv_out.stdout_bytes
    assert exported.endswith("\r\n")  # RFC 4180 line ends

    void = cli.json("undo", scans[0]["checkinId"])
    assert void["voids"] == scans[0]["checkinId"]
    assert cli.json("stats", "--event", event_id)["checkedIn"] == 0
    assert cli.lines("scan", "--event", event_id, tickets[0]["qrPayload"])[0]["success"]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_event_import_from_elsewhere(cli, published, tmp_path):
    """A gate for an event issued by another node: event JSON, JWKS and a manifest."""
    event_id = published["id"]
    listed, cancelled, unlisted = cli.lines(
        "tickets", "issue", "--event", event_id, "--tier", "GA", "--name", "Guest", "--count", "3"
    )
    cli.run("tickets", "cancel", cancelled["id"])
    manifest = [
        {"id": t["id"], "bookingId": t["bookingId"], "attendeeName": t["attendeeName"],
         "tierName": "GA", "status": status, "updatedAt": "2026-07-01T10:00:00Z"}
        for t, status in ((listed, "valid"), (cancelled, "cancelled"))
    ]  # fmt: skip
    files = {
        "event": write(tmp_path / "event.json", json.dumps(cli.lines("event", "list")[0])),
        "jwks": write(tmp_path / "jwks.json", cli.run("event", "keys", event_id).stdout),
        "lines": write(tmp_path / "tickets.jsonl", "\n".join(json.dumps(m) for m in manifest)),
        "array": write(tmp_path / "tickets.json", json.dumps(manifest)),
    }
    for form in ("lines", "array"):
        gate = tmp_path / f"gate-{form}"
        imported = cli.run(
            "event", "import", "--event-json", files["event"], "--jwks", files["jwks"],
            "--tickets", files[form], home=gate,
        )  # fmt: skip
        assert json.loads(imported.stdout)["id"] == event_id
        assert "1 key and 2 tickets" in imported.stderr
        results = cli.lines(
            "scan", "--event", event_id,
            listed["qrPayload"], cancelled["qrPayload"], unlisted["qrPayload"], home=gate,
        )  # fmt: skip
        assert [r["reason"] for r in results] == [None, "revoked", None]
        assert cli.json("event", "keys", event_id, home=gate) == json.loads(
            open(files["jwks"], encoding="utf-8").read()
        )
        # The gate cannot issue: it holds no private key.
        refused = cli.fail("tickets", "issue", "--event", event_id, "--tier", "GA", home=gate)
        assert "private key" in refused.stderr
        found = cli.lines("tickets", "search", "guest", "--event", event_id, home=gate)
        assert {t["id"] for t in found} == {listed["id"], cancelled["id"]}

    # Importing again applies manifest changes: here the listed ticket is cancelled too.
    write(tmp_path / "tickets.json", json.dumps([{**manifest[0], "status": "cancelled"}]))
    gate = tmp_path / "gate-array"
    cli.run("event", "import", "--event-json", files["event"], "--jwks", files["jwks"],
            "--tickets", files["array"], home=gate)  # fmt: skip
    (again,) = cli.lines("scan", "--event", event_id, listed["qrPayload"], home=gate)
    assert again["reason"] == "revoked"
    stats = cli.json("stats", "--event", event_id, home=gate)
    # The admissions made before the cancellation arrived stand; no valid ticket is left.
    assert (stats["checkedIn"], stats["ticketsValid"]) == (2, 0)


def test_the_longest_allowed_ticket_still_makes_a_scannable_qr(cli, tmp_path):
    # Worst case: a 100-character tier and a 200-character name that JSON escapes (\uXXXX).
    tier, name = "T" * 100, "名" * 200
    event = cli.json("event", "create", "--title", "Big", "--tier", f"{tier}:0:1")
    cli.run("event", "publish", event["id"])
    qr_dir = tmp_path / "qr"
    (ticket,) = cli.lines("tickets", "issue", "--event", event["id"], "--tier", tier,
                          "--name", name, "--qr-dir", str(qr_dir))  # fmt: skip
    assert decode_png(qr_dir / f"{ticket['id']}.png") == [ticket["qrPayload"]]
    (result,) = cli.lines("scan", "--event", event["id"], ticket["qrPayload"])
    assert result["success"] and result["attendeeName"] == name
