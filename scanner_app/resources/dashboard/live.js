// The event view: figures drawn from the hub's overview, kept live by server-sent events.
import {enc} from "./api.js";
import {$, ago, el, fillRows, localTime, outcome, plural, reasonText, svg,
  timeCell} from "./dom.js";

const STALE_MS = 12000; // two missed heartbeats (the hub sends one every 5 s)
let source = null;
let lastMessage = 0;
let lost = false; // the stream broke: the banner shows at once, not after missed heartbeats
let lastFigures = null;
let liveEvent = null;
let hooks = {onOverview: () => {}, onEnded: () => {}, onLost: () => {}};
let watchdog = null;

export function startLive(eventId, callbacks) {
  // A reconnect to the same event keeps the age of what is on screen for the banner.
  const kept = eventId === liveEvent ? lastFigures : null;
  stopLive();
  lastFigures = kept;
  liveEvent = eventId;
  hooks = callbacks;
  lastMessage = Date.now();
  source = new EventSource("/dashboard/api/events/" + enc(eventId) + "/live");
  source.addEventListener("overview", (message) => {
    lastMessage = Date.now();
    lost = false;
    const data = JSON.parse(message.data);
    lastFigures = data.generatedAt;
    hooks.onOverview(data);
    freshness();
  });
  source.addEventListener("ping", () => { lastMessage = Date.now(); lost = false; freshness(); });
  source.addEventListener("ended", () => hooks.onEnded());
  source.addEventListener("error", () => {
    lost = true; // EventSource reconnects by itself; until it does the figures are old
    freshness();
    // Closed for good (a 401/404 answer) or the hub went away: the session check says which.
    if (source && source.readyState === EventSource.CLOSED) hooks.onLost(eventId);
  });
  watchdog = setInterval(freshness, 1000);
}

export function stopLive() {
  if (source) source.close();
  source = null;
  lost = false;
  clearInterval(watchdog);
  lastFigures = null;
  liveEvent = null;
  $("banner").hidden = true;
}

function freshness() {
  const banner = $("banner");
  const stale = lost || Date.now() - lastMessage > STALE_MS;
  banner.hidden = !stale;
  if (stale) {
    banner.textContent = "The hub cannot be reached. These figures are from " +
      (lastFigures ? localTime(lastFigures) + " (" + ago(lastFigures) + ")" : "before it went away") +
      "; they update again as soon as it answers.";
  }
  $("footer").textContent = lastFigures ? "Figures from " + localTime(lastFigures) +
    (stale ? "" : ", live") : "";
}

export function renderOverview(data, showTicket) {
  const capacity = data.capacity;
  document.body.dataset.event = data.event.id; // which event the figures are of
  $("checkedIn").textContent = data.checkedIn;
  const parts = ["of " + data.sold + " valid " + (data.sold === 1 ? "ticket" : "tickets") +
    " sold" + (data.sold ? " (" + percent(data.checkedIn, data.sold) + ")" : "")];
  if (capacity) parts.push("capacity " + capacity + " (" + percent(data.checkedIn, capacity) + ")");
  $("checkedInOf").textContent = parts.join(" · ");
  const base = capacity || data.sold;
  $("checkedInBar").style.width = base ? Math.min(100, (100 * data.checkedIn) / base) + "%" : "0";
  $("insideCard").hidden = !data.event.allowReentry;
  $("inside").textContent = data.inside;
  $("scans").textContent = data.scans;
  const refused = Object.values(data.rejected).reduce((a, b) => a + b, 0);
  $("refusedTotal").textContent = plural(refused, "refusal");
  $("conflictCount").textContent = data.conflicts.length;
  $("conflictCount").closest(".card").classList.toggle("flag", data.conflicts.length > 0);

  fillRows($("tiers"), data.byTier, (t) => [t.tierName, t.checkedIn,
    t.quantity === null ? "no limit" : t.quantity], "No tiers");
  const rates = new Map(data.rates.map((r) => [r.gate, r]));
  const gates = new Set([...data.byGate.map((g) => g.gate), ...rates.keys()]);
  const admitted = new Map(data.byGate.map((g) => [g.gate, g.admissions]));
  fillRows($("byGate"), [...gates].sort(), (gate) => [gate, admitted.get(gate) || 0,
    rates.has(gate) ? rates.get(gate).perMinute : 0,
    rates.has(gate) ? rates.get(gate).lastMinute : 0], "No scans yet");
  // The gate also goes under the outcome: on a phone the gate column is hidden.
  fillRows($("recent"), data.recent.slice(0, 15), (s) => [timeCell(s.scannedAt),
    ticketCell(s, showTicket), s.scannedBy, {...outcome(s), sub: s.scannedBy}], "No scans yet");
  fillRows($("rejected"), Object.entries(data.rejected),
    ([reason, n]) => [reasonText(reason), n], "Nothing refused");
  fillRows($("conflicts"), data.conflicts, (c) => [ticketCell(c, showTicket),
    {text: c.firstScannedBy, sub: localTime(c.firstCheckedInAt)},
    {text: c.scannedBy, sub: localTime(c.scannedAt)}], "No conflicts");
  drawChart($("chart"), data.arrivals);
}

function percent(part, whole) { return Math.round((100 * part) / whole) + "%"; }

function ticketCell(scan, showTicket) {
  if (!scan.ticketId) return {text: "(unreadable ticket)", cls: "muted"};
  const link = el("a", scan.attendeeName || scan.ticketId);
  link.href = "#ticket/" + enc(scan.ticketId);
  link.addEventListener("click", (event) => { event.preventDefault(); showTicket(scan.ticketId); });
  return {node: link, sub: scan.tierName};
}

// Bars drawn as SVG from the data (no chart library: the venue may have no internet).
export function drawChart(box, arrivals) {
  if (!arrivals.length) { box.replaceChildren(el("p", "No arrivals yet.", "muted")); return; }
  // Drawn at the box's own width, so labels keep their size on a phone.
  const width = Math.max(280, Math.round(box.clientWidth || 640));
  const height = 170, left = 34, bottom = 22, top = 8;
  const peak = Math.max(...arrivals.map((a) => a.admitted), 1);
  const step = (width - left) / arrivals.length;
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Arrivals per 5 minutes, peak " + peak});
  chart.appendChild(svg("line", {x1: left, y1: height - bottom, x2: width,
    y2: height - bottom, class: "axis"}));
  const label = (x, y, text, anchor) => {
    const node = svg("text", {x, y, "text-anchor": anchor});
    node.textContent = text;
    chart.appendChild(node);
  };
  label(left - 4, top + 10, String(peak), "end");
  label(left - 4, height - bottom, "0", "end");
  const every = Math.max(1, Math.ceil(arrivals.length / Math.floor((width - left) / 70)));
  arrivals.forEach((bucket, index) => {
    const barHeight = ((height - bottom - top) * bucket.admitted) / peak;
    const bar = svg("rect", {x: left + index * step + 1, y: height - bottom - barHeight,
      width: Math.max(1, step - 2), height: barHeight, class: "bar"});
    const tip = svg("title");
    tip.textContent = localTime(bucket.at, false) + ": " + plural(bucket.admitted, "arrival");
    bar.appendChild(tip);
    chart.appendChild(bar);
    if (index % every === 0) {
      label(left + index * step + step / 2, height - 6, localTime(bucket.at, false), "middle");
    }
  });
  box.replaceChildren(chart);
}
