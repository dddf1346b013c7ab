// The organiser dashboard: sign-in, the event picker and the four views.
import {api, onSessionEnded, setSession} from "./api.js";
import {$, el, localTime, showError} from "./dom.js";
import {addGate, renderGates, setHubInfo} from "./gates.js";
import {loadSync, setExportLinks, stopSyncPolling, syncNow} from "./exports.js";
import {renderOverview, startLive, stopLive} from "./live.js";
import {cancelTicket, checkIn, clearTicket, search, showTicket} from "./tickets.js";

const EVENT_KEY = "tickitz.eventId"; // which event was last chosen: not a secret
const TOUCH_MS = 60000; // activity keeps the session open; at most one ping a minute
let eventId = "";
let pristine = null; // #app as first served: sign-out puts it back, so no figure stays behind
let lastTouch = Date.now();
let seenConflicts = null;

async function boot() {
  pristine = $("app").cloneNode(true);
  $("loginForm").addEventListener("submit", signIn);
  document.addEventListener("click", touch, true);
  document.addEventListener("keydown", touch, true);
  onSessionEnded((message) => ended(message));
  bindApp();
  try {
    setSession(await api("/dashboard/session"));
    await openApp();
  } catch (error) {
    showLogin(error.status === 401 ? "" : error.message);
  }
}

function bindApp() {
  $("eventSelect").addEventListener("change", (e) => selectEvent(e.target.value));
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("signOut").addEventListener("click", signOut);
  $("gateForm").addEventListener("submit", (e) => { e.preventDefault(); addGate(eventId); });
  $("searchForm").addEventListener("submit", (e) => { e.preventDefault(); search(eventId); });
  $("checkinButton").addEventListener("click", checkIn);
  $("cancelButton").addEventListener("click", cancelTicket);
  $("syncButton").addEventListener("click", syncNow);
}

async function signIn(event) {
  event.preventDefault();
  const input = $("keyInput"), button = $("loginButton");
  const key = input.value.trim();
  input.value = ""; // the key is not kept anywhere in the page
  showError("loginError", null);
  if (!key) { showError("loginError", new Error("Paste the organiser key.")); return; }
  button.disabled = true;
  try {
    setSession(await api("/dashboard/session", {method: "POST", body: {key}}));
    await openApp();
  } catch (error) {
    showError("loginError", error);
  } finally {
    button.disabled = false;
  }
}

async function openApp() {
  const listing = await api("/dashboard/api/events");
  $("login").hidden = true;
  $("app").hidden = false;
  setHubInfo(listing.hub);
  const select = $("eventSelect");
  select.replaceChildren(...listing.data.map((e) => {
    const option = el("option", e.title + " · " + statusWord(e));
    option.value = e.id;
    return option;
  }));
  loadSync();
  if (!listing.data.length) {
    $("view-event").replaceChildren(el("p", "No events on this hub yet. Create one with " +
      "tickitz-scanner event create, then reload this page.", "card"));
    return;
  }
  const stored = localStorage.getItem(EVENT_KEY);
  const known = listing.data.some((e) => e.id === stored);
  selectEvent(known ? stored : listing.suggested || listing.data[0].id);
}

function statusWord(event) {
  const when = event.startsAt ? localTime(event.startsAt, false) : "";
  const state = {draft: "draft", published: "", cancelled: "cancelled"}[event.status];
  return [when, state].filter(Boolean).join(", ") || event.status;
}

function selectEvent(id) {
  eventId = id;
  $("eventSelect").value = id;
  localStorage.setItem(EVENT_KEY, id);
  setExportLinks(id);
  clearTicket();
  seenConflicts = null;
  $("conflictAlert").hidden = true;
  watch(id);
}

function watch(id) {
  startLive(id, {
    onOverview: (data) => {
      renderOverview(data, openTicket);
      renderGates(data.gates, () => {});
      alertConflicts(data.conflicts);
    },
    onEnded: () => ended(),
    onLost: () => recheck(id),
  });
}

function alertConflicts(conflicts) {
  const ids = new Set(conflicts.map((c) => c.id));
  if (seenConflicts !== null) {
    const fresh = conflicts.find((c) => !seenConflicts.has(c.id));
    if (fresh) {
      const box = $("conflictAlert");
      box.textContent = "Possible shared ticket: " + (fresh.attendeeName || fresh.ticketId) +
        " was admitted at " + fresh.firstScannedBy + " (" + localTime(fresh.firstCheckedInAt) +
        ") and again at " + fresh.scannedBy + " (" + localTime(fresh.scannedAt) + ").";
      box.hidden = false;
    }
  }
  seenConflicts = ids;
}

function openTicket(ticketId) {
  showView("tickets");
  showTicket(ticketId);
}

function showView(name) {
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== "view-" + name;
  }
  for (const button of document.querySelectorAll("nav button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  if (name === "export") loadSync();
}

async function recheck(id) {
  // The stream was refused: signed out, or the event is gone. Otherwise try again.
  try {
    await api("/dashboard/session");
    setTimeout(() => { if (eventId === id) watch(id); }, 2000);
  } catch (error) {
    if (error.status === 401) ended(error.message);
    else setTimeout(() => recheck(id), 2000);
  }
}

async function touch() {
  if ($("app").hidden || Date.now() - lastTouch < TOUCH_MS) return;
  lastTouch = Date.now();
  try { await api("/dashboard/session"); } catch (error) {
    if (error.status === 401) ended(error.message);
  }
}

async function signOut() {
  try { await api("/dashboard/session", {method: "DELETE"}); } catch (error) { /* ended anyway */ }
  ended("Signed out.");
}

function ended(message) {
  stopLive();
  stopSyncPolling();
  setSession(null);
  $("app").replaceWith(pristine.cloneNode(true)); // nothing of the session stays in the page
  bindApp();
  showLogin(message || "Your session has ended; sign in again.");
}

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("loginError").textContent = message || "";
  $("keyInput").focus();
}

boot();
