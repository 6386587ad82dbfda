// The console's one store: screens read it and subscribe to its changes.

const state = {
  account: null,       // {email, role} once signed in
  live: "offline",     // the live channel: offline | connecting | open
  alarms: new Map(),   // alarm id -> alarm: the server's active ones, then as heard live
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

/** An alarm as the live channel or an answer tells it: raised, cleared or acknowledged
 * (taken in hand by an operator). What it changed goes to the feed, once: the same news
 * twice (the answer to this console's acknowledgement, then the live notice) adds nothing.
 * Returns the event, or null when nothing changed. */
export function alarm(item) {
  const before = state.alarms.get(item.id);
  let event = null;
  if (item.cleared_at && !(before && before.cleared_at)) event = "cleared";
  else if (item.acknowledged_at && !(before && before.acknowledged_at)) event = "acknowledged";
  else if (!before) event = "raised";
  state.alarms.set(item.id, item);
  if (event) {
    const at = { raised: item.raised_at, cleared: item.cleared_at, acknowledged: item.acknowledged_at }[event];
    state.feed.unshift({ at, alarm: item, event });
    state.feed.length = Math.min(state.feed.length, FEED_LENGTH);
  }
  // An alarm is a status change too, anywhere in the network (not only the followed area).
  set({ lastStatusAt: `alarm:${item.id}@${item.cleared_at || item.acknowledged_at || item.raised_at}` });
  return event;
}

/** The alarms the server has active now (the feed keeps what was heard live). */
export function activeAlarms(items) {
  state.alarms = new Map(items.map((item) => [item.id, item]));
  set({});
}

/** A connector's status from the live channel. */
export function connectorStatus(message) {
  const key = `${message.station_id}/${message.evse_id}/${message.connector_id ?? 1}`;
  state.statuses.set(key, { status: message.status, at: message.at });
  set({ lastStatusAt: `${key}@${message.at}` });
}
