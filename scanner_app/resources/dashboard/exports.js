// Exports (plain links: the session cookie goes along) and "Sync to central".
import {api, enc} from "./api.js";
import {$, showError} from "./dom.js";

let polling = null;

export function setExportLinks(eventId) {
  const base = "/v1/events/" + enc(eventId);
  $("csvLink").href = base + "/export.csv";
  $("jsonLink").href = base + "/export.json";
}

export function showSyncState(state) {
  const button = $("syncButton");
  if (!state.configured) {
    $("syncInfo").textContent = "This hub has no central upstream. Connect it with " +
      "tickitz-scanner connect, then restart serve.";
    button.disabled = true;
    return;
  }
  const status = state.status || {};
  $("syncInfo").textContent = "Central: " + (status.upstream || "configured") + " · " +
    (status.state || "") + (status.reason ? " (" + status.reason + ")" : "");
  button.disabled = state.running;
  $("syncProgress").textContent = state.running ? "Syncing… " + (status.pending ?? "?") +
    " check-in(s) still to send." : "";
  const result = state.result;
  $("syncResult").textContent = result && !state.running ? result.message +
    (result.pushed ? " Sent " + result.pushed + " check-in(s)." : "") : "";
}

export async function loadSync() {
  try { showSyncState(await api("/dashboard/api/sync")); } catch (error) { showError("syncError", error); }
}

export async function syncNow() {
  showError("syncError", null);
  $("syncButton").disabled = true;
  try {
    showSyncState(await api("/dashboard/api/sync", {method: "POST"}));
  } catch (error) {
    showError("syncError", error);
    $("syncButton").disabled = false;
    return;
  }
  clearInterval(polling);
  polling = setInterval(async () => {
    try {
      const state = await api("/dashboard/api/sync");
      showSyncState(state);
      if (!state.running) clearInterval(polling);
    } catch (error) { showError("syncError", error); clearInterval(polling); }
  }, 500);
}

export function stopSyncPolling() { clearInterval(polling); }
