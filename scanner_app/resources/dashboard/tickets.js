// Tickets: search, one ticket's page with every scan of it, manual check-in, undo, cancel.
import {api, enc} from "./api.js";
import {$, el, fillRows, localTime, outcome, reasonText, showError, timeCell} from "./dom.js";

let current = null;

export async function search(eventId) {
  showError("searchError", null);
  const query = $("searchInput").value.trim();
  if (!query) { showError("searchError", new Error("Type a name, ticket id or booking id.")); return; }
  try {
    const found = await api("/dashboard/api/events/" + enc(eventId) + "/tickets?q=" + enc(query));
    const items = found.data.map((ticket) => {
      const button = el("button");
      button.type = "button";
      button.append(el("strong", ticket.attendeeName || "(no name)"), " ",
        el("span", ticket.tierName + " · " + ticket.id +
          (ticket.status === "cancelled" ? " · cancelled" : ""), "muted"));
      button.addEventListener("click", () => showTicket(ticket.id));
      const item = el("li");
      item.appendChild(button);
      return item;
    });
    if (!items.length) items.push(el("li", "No ticket matches “" + query + "”.", "muted"));
    $("results").replaceChildren(...items);
  } catch (error) { showError("searchError", error); }
}

export async function showTicket(ticketId, keepMessage = false) {
  if (!keepMessage) showError("ticketError", null);
  try {
    current = await api("/dashboard/api/tickets/" + enc(ticketId));
  } catch (error) { showError("searchError", error); return; }
  render();
  $("ticketCard").hidden = false;
  if (!keepMessage) $("ticketCard").scrollIntoView({block: "nearest"}); // below the list on a phone
}

export function refreshTicket() { if (current) showTicket(current.id); }
export function clearTicket() { current = null; $("ticketCard").hidden = true; }

function render() {
  const t = current;
  $("ticketName").textContent = t.attendeeName || "(no name)";
  const facts = [["Ticket", t.id], ["Booking", t.bookingId || "–"], ["Tier", t.tierName],
    ["Status", t.status === "cancelled" ? "Cancelled" : t.inside ? "Checked in" : "Not checked in"]];
  $("ticketFacts").replaceChildren(...facts.flatMap(([name, value]) =>
    [el("dt", name), el("dd", value)]));
  $("checkinButton").disabled = t.status === "cancelled";
  $("checkinButton").textContent = "Check in by hand";
  $("cancelButton").hidden = t.status === "cancelled";
  fillRows($("history"), [...t.history].reverse(), (scan) => {
    const standing = scan.success && scan.kind !== "void" && !scan.voided;
    let action = "";
    if (standing) {
      const undo = el("button", "Undo", "small");
      undo.type = "button";
      undo.addEventListener("click", () => undoCheckin(scan.id, undo));
      action = {node: undo};
    }
    return [timeCell(scan.scannedAt), scan.scannedBy, outcome(scan), action];
  }, "Never scanned");
}

export async function checkIn() {
  if (!current) return;
  const button = $("checkinButton");
  button.disabled = true;
  showError("ticketError", null);
  try {
    const result = await api("/dashboard/api/tickets/" + enc(current.id) + "/checkin",
      {method: "POST", body: {direction: "in"}});
    if (!result.success) {
      let why = reasonText(result.reason);
      if (result.firstCheckedInAt) {
        why += " at " + result.firstScannedBy + ", " + localTime(result.firstCheckedInAt);
      }
      showError("ticketError", new Error("Not admitted: " + why + "."));
    }
  } catch (error) { showError("ticketError", error); }
  await showTicket(current.id, true);
}

async function undoCheckin(checkinId, button) {
  button.disabled = true;
  showError("ticketError", null);
  try {
    await api("/dashboard/api/checkins/" + enc(checkinId) + "/undo", {method: "POST"});
  } catch (error) { showError("ticketError", error); }
  await showTicket(current.id, true);
}

export async function cancelTicket() {
  if (!current) return;
  if (!window.confirm("Cancel the ticket of " + (current.attendeeName || current.id) +
    "? Every gate refuses it after its next sync.")) return;
  showError("ticketError", null);
  try {
    await api("/v1/tickets/" + enc(current.id) + "/cancel", {method: "POST"});
  } catch (error) { showError("ticketError", error); }
  await showTicket(current.id, true);
}
