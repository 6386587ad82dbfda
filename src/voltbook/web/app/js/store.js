// The app's state, in one place: screens read it and re-render when it changes.
const INBOX_KEY = "voltbook.inbox";
const VEHICLE_KEY = "voltbook.vehicle";

const listeners = new Set();

export const store = {
  account: null, // GET /me
  position: null, // {lat, lon, accuracy_m} while the driver allows it
  place: null, // {label, lat, lon} typed by the driver
  results: [], // the last nearby search
  statuses: new Map(), // "station/evse" -> live status
  filters: { connector: "", minPowerKw: "", available: false },
  vehicleId: localStorage.getItem(VEHICLE_KEY) || null,
  vehicles: [],
  inbox: loadInbox(),
  online: navigator.onLine,
};

function loadInbox() {
  try { return JSON.parse(localStorage.getItem(INBOX_KEY) || "[]"); } catch (_) { return []; }
}

export function update(changes) {
  Object.assign(store, changes);
  if ("vehicleId" in changes) {
    if (changes.vehicleId) localStorage.setItem(VEHICLE_KEY, changes.vehicleId);
    else localStorage.removeItem(VEHICLE_KEY);
  }
  for (const listener of listeners) listener(store, changes);
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A notice into the inbox (newest first, at most 50, each seq once). */
export function addNotice(notice) {
  if (notice.seq && store.inbox.some((n) => n.seq === notice.seq)) return false;
  const inbox = [{ ...notice, received_at: new Date().toISOString(), read: false }, ...store.inbox].slice(0, 50);
  localStorage.setItem(INBOX_KEY, JSON.stringify(inbox));
  update({ inbox });
  return true;
}

export function markRead() {
  const inbox = store.inbox.map((n) => ({ ...n, read: true }));
  localStorage.setItem(INBOX_KEY, JSON.stringify(inbox));
  update({ inbox });
}

/** Everything personal kept on this phone goes (sign-out, account deleted). */
export function forgetAll() {
  localStorage.removeItem(INBOX_KEY);
  localStorage.removeItem(VEHICLE_KEY);
  localStorage.removeItem("voltbook.live.seq");
  update({ account: null, inbox: [], vehicles: [], vehicleId: null, position: null });
}
