"""The organiser dashboard: one self-contained page (no CDN: the venue may have no internet).

Data is shown with textContent only (attendee and gate names come from gates).
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.7em 1.2em;display:flex;gap:1em;align-items:center}
header h1{font-size:1.1em;margin:0;flex:1}
main{padding:1em 1.2em;display:grid;gap:1em;
grid-template-columns:repeat(auto-fit,minmax(320px,1fr))}
section{background:#fff;border-radius:8px;padding:1em;box-shadow:0 1px 3px #0002}
h2{font-size:1em;margin:0 0 .6em}
table{border-collapse:collapse;width:100%}td,th{padding:.25em .4em;text-align:left;
border-bottom:1px solid #e3e5ea}
.big{font-size:2.4em;font-weight:700}.muted{color:#667}.warn{color:#b25e00}
.err{color:#b00020}button,input,select{font:inherit;padding:.3em .6em}
#login{max-width:420px;margin:4em auto}#login input{width:100%;box-sizing:border-box}
#setup img{max-width:100%;image-rendering:pixelated}code{word-break:break-all}
"""

SCRIPT = r"""
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem("tickitzKey") || "";
let eventId = "";
let timer = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function rows(tbody, items, cells) {
  tbody.replaceChildren(...items.map((item) => {
    const tr = el("tr");
    cells(item).forEach((value) => tr.appendChild(el("td", value)));
    return tr;
  }));
}
async function api(path, options = {}) {
  const headers = Object.assign({"Authorization": "Bearer " + key}, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) { signOut("That key was not accepted."); throw new Error("401"); }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) {}
    throw new Error(message);
  }
  return response;
}
function showError(error) { $("status").textContent = error.message; }
function signOut(message) {
  sessionStorage.removeItem("tickitzKey"); key = "";
  clearInterval(timer);
  $("app").hidden = true; $("login").hidden = false;
  $("loginError").textContent = message || "";
}
async function signIn(event) {
  event.preventDefault();
  key = $("keyInput").value.trim();
  $("keyInput").value = "";
  sessionStorage.setItem("tickitzKey", key);
  await start();
}
async function start() {
  try {
    const events = (await (await api("/v1/events")).json()).data;
    $("login").hidden = true; $("app").hidden = false;
    const select = $("eventSelect");
    select.replaceChildren(...events.map((e) => {
      const option = el("option", e.title + " (" + e.status + ")");
      option.value = e.id; return option;
    }));
    if (events.length) {
      eventId = eventId || events[events.length - 1].id; select.value = eventId;
    }
    await refresh();
    clearInterval(timer);
    timer = setInterval(refresh, 3000);
  } catch (error) { if (error.message !== "401") $("loginError").textContent = error.message; }
}
async function refresh() {
  if (!eventId) { $("status").textContent = "No events yet."; return; }
  try {
    const id = encodeURIComponent(eventId);
    const [stats, conflicts, devices] = await Promise.all([
      api("/v1/events/" + id + "/stats").then((r) => r.json()),
      api("/v1/events/" + id + "/conflicts").then((r) => r.json()),
      api("/v1/devices?eventId=" + id).then((r) => r.json()),
    ]);
    $("checkedIn").textContent = stats.checkedIn;
    $("capacity").textContent = stats.capacity === null ? "no limit" : "of " + stats.capacity;
    $("scans").textContent = stats.scans + " scans, " + stats.conflicts + " conflicts";
    rows($("tiers"), stats.byTier, (t) => [t.tierName, t.checkedIn, t.quantity ?? "-"]);
    rows($("gates"), stats.byGate, (g) => [g.gate, g.admissions]);
    rows($("rejected"), Object.entries(stats.rejected), (r) => r);
    rows($("conflicts"), conflicts.data, (c) => [c.attendeeName || c.ticketId, c.scannedBy,
      c.scannedAt, c.firstScannedBy + " " + (c.firstCheckedInAt || "")]);
    rows($("devices"), devices.data, (d) => [d.name, d.gate, d.lastSeenAt || "never",
      d.checkinsReceived, d.revoked ? "revoked" : "active"]);
    $("status").textContent = "Updated " + new Date().toLocaleTimeString();
  } catch (error) { showError(error); }
}
async function downloadCsv() {
  try {
    const path = "/v1/events/" + encodeURIComponent(eventId) + "/export.csv";
    const blob = await (await api(path)).blob();
    const link = el("a"); link.href = URL.createObjectURL(blob);
    link.download = eventId + "-checkins.csv"; link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) { showError(error); }
}
async function createGate(event) {
  event.preventDefault();
  const body = {name: $("gateName").value.trim(), gate: $("gateGate").value.trim(), eventId};
  if ($("gateUrl").value.trim()) body.url = $("gateUrl").value.trim();
  try {
    const device = await (await api("/v1/devices", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})).json();
    const png = await (await api("/v1/qr.png", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: device.setupPayload})})).blob();
    const box = $("setup");
    const image = el("img"); image.src = URL.createObjectURL(png); image.alt = "setup QR";
    box.replaceChildren(el("p", "Scan this with the gate (shown once):"), image,
      el("p", "Key: " + device.key, "muted"), el("p", "Hub: " + device.url, "muted"));
    event.target.reset();
    await refresh();
  } catch (error) { showError(error); }
}
$("loginForm").addEventListener("submit", signIn);
$("gateForm").addEventListener("submit", createGate);
$("csv").addEventListener("click", downloadCsv);
$("signOut").addEventListener("click", () => signOut());
$("eventSelect").addEventListener("change", (e) => { eventId = e.target.value; refresh(); });
if (key) start(); else signOut();
"""

BODY = """
<section id="login" hidden><h2>Tickitz hub dashboard</h2>
<form id="loginForm"><p>Organiser key (printed when the hub first started):</p>
<input id="keyInput" type="password" autocomplete="off" placeholder="tk_live_..." required>
<p><button>Open</button></p><p id="loginError" class="err"></p></form></section>
<div id="app" hidden>
<header><h1>Tickitz hub</h1><select id="eventSelect"></select>
<button id="csv">CSV export</button><button id="signOut">Sign out</button></header>
<main>
<section><h2>Checked in</h2><div class="big" id="checkedIn">-</div>
<div id="capacity" class="muted"></div><div id="scans" class="muted"></div>
<p id="status" class="muted"></p></section>
<section><h2>By tier</h2><table><thead><tr><th>Tier</th><th>In</th><th>Sold cap</th></tr>
</thead><tbody id="tiers"></tbody></table>
<h2>Rejected</h2><table><tbody id="rejected"></tbody></table></section>
<section><h2>By gate</h2><table><thead><tr><th>Gate</th><th>Admissions</th></tr></thead>
<tbody id="gates"></tbody></table></section>
<section><h2>Gates (devices)</h2><table><thead><tr><th>Name</th><th>Gate</th><th>Last seen</th>
<th>Check-ins</th><th></th></tr></thead><tbody id="devices"></tbody></table>
<form id="gateForm"><h2>Add a gate</h2>
<input id="gateName" placeholder="Laptop name" required maxlength="100">
<input id="gateGate" placeholder="Gate (e.g. north-1)" required maxlength="100">
<input id="gateUrl" placeholder="Hub URL for gates (optional; the LAN address, port 8765)">
<button>Create gate</button></form><div id="setup"></div></section>
<section><h2 class="warn">Conflicts (possible shared tickets)</h2><table><thead><tr>
<th>Attendee</th><th>Gate</th><th>At</th><th>First admitted</th></tr></thead>
<tbody id="conflicts"></tbody></table></section>
</main></div>
"""


def _csp_hash(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    f"<title>Tickitz hub</title><style>{STYLE}</style></head><body>{BODY}"
    f"<script>{SCRIPT}</script></body></html>"
)
# Only this page's own script and style may run; nothing loads from elsewhere.
CSP = (
    "default-src 'none'; "
    f"script-src '{_csp_hash(SCRIPT)}'; style-src '{_csp_hash(STYLE)}'; "
    "img-src 'self' blob:; connect-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
