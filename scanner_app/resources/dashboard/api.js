// Talking to the hub: the session cookie travels by itself (HttpOnly: this script never sees
// it); the CSRF token lives only in this module's memory and goes with every change.
let csrfToken = "";
const listeners = {ended: () => {}};

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

export function setSession(info) { csrfToken = info ? info.csrfToken : ""; }
export function onSessionEnded(callback) { listeners.ended = callback; }

export async function api(path, {method = "GET", body} = {}) {
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (error) {
    throw new ApiError("The hub cannot be reached. Check the Wi-Fi and that the hub is running.", 0);
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.statusText;
    if (response.status === 401 && !path.startsWith("/dashboard/session")) listeners.ended(message);
    throw new ApiError(message, response.status);
  }
  return data;
}

export const enc = encodeURIComponent;

// A POST answered with an image (the setup QR): the text goes in the body, never the URL.
export async function apiBlob(path, body) {
  const response = await fetch(path, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
    body: JSON.stringify(body)});
  if (!response.ok) throw new ApiError("The setup code could not be drawn.", response.status);
  return response.blob();
}
