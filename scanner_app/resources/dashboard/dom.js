// Small DOM and wording helpers. Data is written with textContent only: attendee, tier and
// gate names come from gates and box offices, so they are never parsed as markup.
export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

export function svg(tag, attributes = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// A table body from rows of cells; a cell is text, a Node, or {text, sub, cls}.
export function fillRows(tbody, items, cells, empty) {
  const rows = items.map((item) => {
    const tr = el("tr");
    for (const cell of cells(item)) tr.appendChild(toCell(cell));
    return tr;
  });
  if (!rows.length && empty) {
    const tr = el("tr");
    const td = el("td", empty, "muted");
    td.colSpan = tbody.closest("table").querySelectorAll("thead th").length || 2;
    tr.appendChild(td);
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
}

function toCell(cell) {
  const td = el("td");
  if (cell instanceof Node) { td.appendChild(cell); return td; }
  if (cell !== null && typeof cell === "object") {
    if (cell.node) td.appendChild(cell.node); else td.textContent = cell.text ?? "";
    if (cell.sub) td.appendChild(el("span", cell.sub, "sub"));
    if (cell.cls) td.className = cell.cls;
    return td;
  }
  td.textContent = cell ?? "";
  if (typeof cell === "number") td.className = "num";
  return td;
}

const REASONS = {
  malformed: "Not a ticket",
  bad_signature: "Forged or damaged ticket",
  unknown_key: "Signed with an unknown key",
  unknown_event: "Event not known here",
  wrong_event: "Ticket for another event",
  not_yet_valid: "Not valid yet",
  expired: "Expired",
  revoked: "Ticket cancelled",
  event_cancelled: "Event cancelled",
  tier_not_allowed: "Tier not admitted at this gate",
  already_checked_in: "Already checked in",
  not_checked_in: "Exit without an entry",
  missing_proof: "Upload without proof of the ticket",
  bad_proof: "Upload with a proof that does not match",
  implausible_time: "Impossible door time",
  unknown_ticket: "Unknown ticket",
  unknown: "No reason given",
};

// A scan stored without a reason (null) is "No reason given", never the word "null".
export const reasonText = (code) =>
  REASONS[code ?? "unknown"] || String(code).replaceAll("_", " ");

export function outcome(scan) {
  // An uploaded admission the hub would not take (DESIGN.md §10): kept as audit only, so
  // it says why and that it counts nowhere, not a bare "failed scan".
  if (scan.refused) return {text: reasonText(scan.refused) + " (not counted)", cls: "bad"};
  if (scan.kind === "void") return {text: "Check-in undone", cls: "warn"};
  if (!scan.success) return {text: reasonText(scan.reason), cls: "bad"};
  let text = scan.direction === "out" ? "Left" : "Admitted";
  if (scan.kind === "manual") text += " by hand";
  if (scan.voided) return {text: text + " (undone)", cls: "muted"};
  if (scan.conflict) return {text: text + " again elsewhere", cls: "warn"};
  return {text, cls: "ok"};
}

function timeParts(iso, withSeconds) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return null;
  const options = {hour: "2-digit", minute: "2-digit"};
  if (withSeconds) options.second = "2-digit";
  const time = moment.toLocaleTimeString([], options);
  const today = new Date().toDateString() === moment.toDateString();
  return {time, day: today ? "" : moment.toLocaleDateString([], {day: "numeric", month: "short"})};
}

// Local times: today as 19:32:04, other days with the date.
export function localTime(iso, withSeconds = true) {
  if (!iso) return "";
  const parts = timeParts(iso, withSeconds);
  if (!parts) return String(iso);
  return parts.day ? parts.day + " " + parts.time : parts.time;
}

// A table's time column is narrow: the date of another day goes under the time, so it
// never runs into the next column.
export function timeCell(iso) {
  const parts = iso ? timeParts(iso, true) : null;
  return parts ? {text: parts.time, sub: parts.day} : localTime(iso);
}

export function ago(iso) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return seconds + " s ago";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
  return Math.floor(seconds / 3600) + " h " + (Math.floor(seconds / 60) % 60) + " min ago";
}

export const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");

export function showError(id, error) {
  $(id).textContent = error ? (error.message || String(error)) : "";
}
