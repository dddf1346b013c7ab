// Gates: who is scanning, what they still hold, and adding one with its setup QR.
import {api, apiBlob, enc} from "./api.js";
import {$, ago, el, fillRows, localTime, showError} from "./dom.js";

const BADGES = {online: "online", stale: "quiet", offline: "offline", never: "never seen",
  revoked: "revoked"};
let hubInfo = {};
let setupUrl = null;

export function setHubInfo(info) {
  hubInfo = info || {};
  const warning = $("loopbackWarning");
  warning.hidden = !hubInfo.loopback;
  // On a network address `serve` speaks HTTPS (DESIGN.md §10): an http:// address in the
  // setup codes would send gates to a TLS port in plain HTTP, where nothing answers.
  const port = location.port || (location.protocol === "https:" ? "443" : "80");
  warning.textContent = hubInfo.loopback ? "This hub listens on this computer only (" +
    (hubInfo.bindHost || hubInfo.publicUrl) + "): gates on other laptops cannot reach it. " +
    "Restart it with: tickitz-scanner serve --host 0.0.0.0 --port " + port +
    " --public-url https://<this laptop's LAN address>:" + port +
    ", or type that address above." : "";
}

export function renderGates(gates, refresh) {
  fillRows($("gateRows"), gates, (g) => {
    const seen = el("span");
    seen.append(el("span", BADGES[g.badge] || g.badge, "badge " + g.badge), " ",
      el("span", g.lastSeenAt ? ago(g.lastSeenAt) : "", "muted"));
    const revoke = el("button", "Revoke", "small danger");
    revoke.type = "button";
    revoke.hidden = g.revoked;
    revoke.addEventListener("click", () => revokeGate(g, revoke, refresh));
    return [{text: g.gate, sub: g.name}, {node: seen}, g.checkinsReceived,
      {text: g.pending === null ? "–" : String(g.pending), cls: "num",
        sub: g.reportedAt ? localTime(g.reportedAt, false) : ""},
      g.appVersion || "–", {node: revoke}];
  }, "No gates yet: add one with the form.");
}

async function revokeGate(gate, button, refresh) {
  if (!window.confirm("Revoke " + gate.gate + " (" + gate.name + ")? Its key stops working " +
    "at once; the laptop must be added again to scan.")) return;
  button.disabled = true;
  showError("gatesError", null);
  try {
    await api("/v1/devices/" + enc(gate.id), {method: "DELETE"});
    refresh();
  } catch (error) { showError("gatesError", error); button.disabled = false; }
}

export async function addGate(eventId) {
  const button = $("gateButton");
  if (button.disabled) return; // a second click while the first is pending
  showError("gateError", null);
  const name = $("gateName").value.trim(), gate = $("gateGate").value.trim();
  let url = $("gateUrl").value.trim();
  // "192.168.1.20:8765" is this hub on another address: it speaks what this page came over.
  if (url && !/^[a-z]+:\/\//i.test(url)) url = location.protocol + "//" + url;
  if (!name || !gate) {
    showError("gateError", new Error("Give the laptop a name and the gate it stands at."));
    return;
  }
  if (url && !/^https?:\/\/\S+$/.test(url)) {
    showError("gateError", new Error("The hub address starts with http:// or https://."));
    return;
  }
  button.disabled = true;
  button.textContent = "Adding…";
  try {
    const body = {name, gate, eventId};
    if (url) body.url = url;
    const device = await api("/v1/devices", {method: "POST", body});
    await showSetup(device);
    $("gateForm").reset();
  } catch (error) {
    showError("gateError", error);
  } finally {
    button.disabled = false;
    button.textContent = "Add gate";
  }
}

async function showSetup(device) {
  const png = await apiBlob("/v1/qr.png", {text: device.setupPayload});
  if (setupUrl) URL.revokeObjectURL(setupUrl);
  setupUrl = URL.createObjectURL(png);
  const image = el("img");
  image.src = setupUrl;
  image.alt = "Setup code for " + device.gate;
  const lines = [el("p", "Show this to the " + device.gate + " laptop's camera " +
    "(Settings → Connect to a hub). It is shown only now.")];
  lines.push(image);
  if (device.enrolExpiresAt) {
    lines.push(el("p", "Valid until " + localTime(device.enrolExpiresAt) + ", for one laptop.",
      "muted"));
  } else {
    lines.push(el("p", "This code holds the gate's key: do not photograph or share it.",
      "warning"));
  }
  lines.push(el("p", "Gates will connect to " + device.url, "muted"));
  $("setup").replaceChildren(...lines);
}
