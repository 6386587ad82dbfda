// The console's one store: screens read it and subscribe to its changes.

const state = {
  account: null,       // {email, role} once signed in
  live: "offline",     // the live channel: offline | connecting | open
  alarms: new Map(),   // alarm id -> alarm (raised and recently cleared)
  feed: [],            // newest first: {at, alarm, event: "raised" | "cleared"}
  statuses: new Map(), // "station/evse/connector" -> {status, at}, from the live channel
  lastStatusAt: null,  // changes with every status heard live
};
const listeners = new Set();

export function get() {
  return state;
}

export function set(patch) {
  Object.assign(state, patch);
  for (const listener of listeners) listener(state);
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const FEED_LENGTH = 100;

/** An alarm message from the live channel (or the alarms list): raised, or cleared. */
export function alarm(item, { live = true } = {}) {
  const event = item.cleared_at ? "cleared" : "raised";
  state.alarms.set(item.id, item);
  if (live) {
    state.feed.unshift({ at: item.cleared_at || item.raised_at, alarm: item, event });
    state.feed.length = Math.min(state.feed.length, FEED_LENGTH);
  }
  set({});
}

/** A connector's status from the live channel. */
export function connectorStatus(message) {
  const key = `${message.station_id}/${message.evse_id}/${message.connector_id ?? 1}`;
  state.statuses.set(key, { status: message.status, at: message.at });
  set({ lastStatusAt: `${key}@${message.at}` });
}
