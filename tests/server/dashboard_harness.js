// Runs the dashboard's script (path in argv[2]) against a fake DOM and fetch: it must
// render stats, gates and conflicts as text, and create a gate showing its setup QR.
const fs = require('fs');
const script = fs.readFileSync(process.argv[2], 'utf8');
const elements = {};
function makeEl(id) {
  return elements[id] ||= {
    id, hidden: false, textContent: '', value: '', className: '', children: [],
    addEventListener(type, fn) { this['on' + type] = fn; },
    replaceChildren(...c) { this.children = c; },
    appendChild(c) { this.children.push(c); return c; },
    reset() {}, click() {},
  };
}
global.document = { getElementById: makeEl, createElement: (t) => makeEl('new' + Math.random()) };
const store = {};
global.sessionStorage = { getItem: (k) => store[k] ?? null, setItem: (k, v) => { store[k] = v; }, removeItem: (k) => { delete store[k]; } };
global.URL = { createObjectURL: () => 'blob:x', revokeObjectURL() {} };
global.setInterval = () => 1; global.clearInterval = () => {};
const ev = { id: 'evt_1', title: 'T', status: 'published' };
const routes = {
  '/v1/events': { data: [ev] },
  '/v1/events/evt_1/stats': { checkedIn: 3, capacity: 10, scans: 5, conflicts: 1, byTier: [{tierName: 'GA', checkedIn: 3, quantity: 10}], byGate: [{gate: 'n', admissions: 3}], rejected: {already_checked_in: 2} },
  '/v1/events/evt_1/conflicts': { data: [{attendeeName: '<b>x</b>', scannedBy: 's', scannedAt: 't', firstScannedBy: 'n', firstCheckedInAt: 't0'}] },
  '/v1/devices?eventId=evt_1': { data: [{name: 'L', gate: 'n', lastSeenAt: null, checkinsReceived: 4, revoked: false}] },
  '/v1/devices': { key: 'tk_live_x', url: 'http://h', setupPayload: 'tickitz-setup:abc' },
};
global.fetch = async (path, opts) => ({
  ok: true, status: 200, statusText: 'OK',
  json: async () => routes[path],
  blob: async () => ({}),
});
store.tickitzKey = 'tk_live_k';
eval(script);
setTimeout(async () => {
  const out = {
    checkedIn: elements.checkedIn.textContent,
    capacity: elements.capacity.textContent,
    devices: elements.devices.children.length,
    conflicts: elements.conflicts.children.length,
    conflictText: elements.conflicts.children[0].children.map((c) => c.textContent),
    status: elements.status.textContent,
  };
  makeEl('gateName').value = 'L2'; makeEl('gateGate').value = 'g2'; makeEl('gateUrl').value = '';
  await elements.gateForm.onsubmit({ preventDefault() {}, target: { reset() {} } });
  out.setup = elements.setup.children.map((c) => c.textContent || c.src || '');
  console.log(JSON.stringify(out));
}, 50);
