// The only module that talks to the server: HTTP (fetch) and the live channel.
// The access token lives in this module's memory only: never in storage, URLs or logs. The
// refresh token is an HttpOnly cookie (`vb_console_refresh`) that only the refresh route
// receives, so a reload keeps the operator signed in without this code ever seeing it.

const BROWSER_AUTH = "/api/v1/auth/browser/console";
let token = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

// Whether the server answered the last request: false while it (or the network) is down.
let reachable = true;
const reachability = new Set();

function reached(yes) {
  if (yes === reachable) return;
  reachable = yes;
  for (const listener of reachability) listener(yes);
}

export function onReachability(listener) {
  reachability.add(listener);
}

export function isReachable() {
  return reachable;
}

async function request(method, path, { body, form, query, accept, retry = true } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: accept || "application/json, application/problem+json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    payload = new URLSearchParams(form);
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    reached(false);
    throw new ApiError(0, { title: "The server cannot be reached", detail: "The server cannot be reached: check the connection and try again." });
  }
  reached(true);
  const signingIn = path.startsWith(BROWSER_AUTH);
  // An access token lasts minutes: on a 401 the refresh cookie gets a new one, then the call
  // is made once more.
  if (response.status === 401 && token && retry && !signingIn && (await refresh())) {
    return request(method, path, { body, form, query, accept, retry: false });
  }
  const text = await response.text();
  if (response.ok && accept) return text; // an answer that is not JSON (an SVG image)
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) {
    if (response.status === 401 && token && !signingIn) ended("Your session has ended: sign in again.");
    throw new ApiError(response.status, data || {});
  }
  return data;
}

// --- signing in ---------------------------------------------------------------------------

let refreshing = null;

/** A new access token from the refresh cookie; false when there is no sign-in to resume.
 * One refresh at a time: the cookie is rotated, so two at once would spend it twice. */
export function refresh() {
  refreshing ??= (async () => {
    try {
      const response = await fetch(`${BROWSER_AUTH}/refresh`, {
        method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
      });
      reached(true);
      if (!response.ok) return false;
      token = (await response.json()).access_token;
      return true;
    } catch {
      reached(false);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function operator() {
  const me = await request("GET", "/api/v1/me");
  if (me.role !== "operator" && me.role !== "admin") {
    await revoke(); // a driver's sign-in is ended at once: no token, no cookie
    throw new ApiError(403, {
      detail: "This is a driver's account. The console is for operators: sign in with an operator account.",
    });
  }
  return me;
}

/** Signs in; refuses an account that is not an operator's (its sign-in is ended at once). */
export async function signIn(email, password) {
  const answer = await request("POST", `${BROWSER_AUTH}/token`, {
    form: { username: email, password },
  });
  token = answer.access_token;
  return operator();
}

/** On load: the operator's account when the refresh cookie still holds a sign-in, else null. */
export async function resume() {
  if (!(await refresh())) return null;
  try {
    return await operator();
  } catch {
    token = null;
    return null;
  }
}

async function revoke() {
  const ending = token;
  token = null; // first: calls still on their way see no sign-in to resume
  closeLive();
  try {
    await fetch(`${BROWSER_AUTH}/logout`, {
      method: "POST", credentials: "same-origin", headers: { Authorization: `Bearer ${ending}` },
    });
  } catch {
    // Signed out here anyway; the server's sign-in ends with its refresh token's lifetime.
  }
}

/** Sign out: the sign-in ends on the server and its cookie is removed. */
export async function signOut(reason = "") {
  await revoke();
  ended(reason);
}

function ended(reason) {
  token = null;
  closeLive();
  onSignedOut(reason);
}

export function signedIn() {
  return token !== null;
}

// --- the operator API ---------------------------------------------------------------------

const enc = encodeURIComponent;

export const consoleConfig = () => request("GET", "/console/config.json");
export const network = () => request("GET", "/api/v1/operator/network");
export const alarms = (cursor) => request("GET", "/api/v1/operator/alarms", { query: { limit: 500, cursor } });
export const acknowledgeAlarm = (id) => request("POST", `/api/v1/operator/alarms/${enc(id)}/acknowledge`);
export const station = (id) => request("GET", `/api/v1/operator/stations/${enc(id)}`);
export const site = (id) => request("GET", `/api/v1/sites/${enc(id)}`);
export const addStation = (body) => request("POST", "/api/v1/operator/stations", { body });
export const newPassword = (id) => request("POST", `/api/v1/operator/stations/${enc(id)}/credentials`);
export const audit = (query) => request("GET", "/api/v1/operator/audit", { query: { limit: 100, ...query } });
export const rotatePassword = (id) => request("POST", `/api/v1/operator/stations/${enc(id)}/password-rotation`);
export const command = (id, name, body = {}) =>
  request("POST", `/api/v1/operator/stations/${enc(id)}/commands/${name}`, { body });
export const reservations = (cursor) => request("GET", "/api/v1/reservations", { query: { limit: 200, cursor } });
export const reservation = (id) => request("GET", `/api/v1/reservations/${enc(id)}`);
export const cancelReservation = (id) => request("DELETE", `/api/v1/reservations/${enc(id)}`);
export const offers = (cursor) => request("GET", "/api/v1/operator/offers", { query: { limit: 200, cursor } });
export const offer = (id) => request("GET", `/api/v1/operator/offers/${enc(id)}`);
export const createOffer = (body) => request("POST", "/api/v1/operator/offers", { body });
export const updateOffer = (id, body) => request("PATCH", `/api/v1/operator/offers/${enc(id)}`, { body });
export const endOffer = (id) => request("POST", `/api/v1/operator/offers/${enc(id)}/end`);

export const idTokens = (query) => request("GET", "/api/v1/operator/id-tokens", { query: { limit: 200, ...query } });
export const addIdToken = (body) => request("POST", "/api/v1/operator/id-tokens", { body });
export const blockIdToken = (t) => request("POST", `/api/v1/operator/id-tokens/${enc(t)}/block`);
export const unblockIdToken = (t) => request("POST", `/api/v1/operator/id-tokens/${enc(t)}/unblock`);
export const expireIdToken = (t) => request("POST", `/api/v1/operator/id-tokens/${enc(t)}/expire`, { body: {} });
export const renewIdToken = (t) => request("POST", `/api/v1/operator/id-tokens/${enc(t)}/renew`);
export const assignIdToken = (t, driverId) => request("PUT", `/api/v1/operator/id-tokens/${enc(t)}/driver`, { body: { driver_id: driverId } });
export const qrTarget = (id, evse) => request("GET", `/api/v1/operator/stations/${enc(id)}/evses/${evse}/qr-target`);
/** The server's printable QR code for one EVSE, as SVG text. */
export const qrSvg = (id, evse) =>
  request("GET", `/api/v1/operator/stations/${enc(id)}/evses/${evse}/qr.svg`, { accept: "image/svg+xml, application/problem+json" });
export const accountByEmail = (email) => request("GET", "/api/v1/operator/accounts", { query: { email } });
export const sessions = (query) => request("GET", "/api/v1/operator/sessions", { query: { limit: 100, ...query } });
export const sessionsCsv = (query) => request("GET", "/api/v1/operator/sessions.csv", { query, accept: "text/csv, application/problem+json" });
export const session = (id) => request("GET", `/api/v1/operator/sessions/${enc(id)}`);
export const utilisation = (query) => request("GET", "/api/v1/operator/utilisation", { query });
export const statusHistory = (query) => request("GET", "/api/v1/operator/utilisation/status-history", { query });
export const idleMap = (query) => request("GET", "/api/v1/operator/utilisation/idle-map", { query });
export const figuresToday = () => request("GET", "/api/v1/operator/figures/today");
export const offerFigures = (id, query) => request("GET", `/api/v1/operator/offers/${enc(id)}/figures`, { query });
export const sessionMeterValues = (id) => request("GET", `/api/v1/operator/sessions/${enc(id)}/meter-values`);
export const closeSession = (id, reason) => request("POST", `/api/v1/operator/sessions/${enc(id)}/close`, { body: { reason } });
export const messages = (id) => request("GET", `/api/v1/operator/stations/${enc(id)}/messages`, { query: { limit: 50 } });
export const listRule = () => request("GET", "/api/v1/operator/auth-list-rule");
export const setListRule = (body) => request("PUT", "/api/v1/operator/auth-list-rule", { body });
export const stationList = (id) => request("GET", `/api/v1/operator/stations/${enc(id)}/auth-list`);
export const syncStationList = (id, full) => request("POST", `/api/v1/operator/stations/${enc(id)}/auth-list/sync`, { query: { full } });

// --- the live channel ---------------------------------------------------------------------

let socket = null;
let lastSeq = null;
let retry = 0;
let retryTimer = null;
let handlers = { message: () => {}, state: () => {} };
const topics = new Set();

/** Opens the live channel; reconnects with back-off and replays from the last seq seen. */
export function openLive(onMessage, onState) {
  handlers = { message: onMessage, state: onState };
  connect();
}

function connect() {
  if (!token) return;
  handlers.state("connecting");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/live`);
  socket = ws;
  ws.addEventListener("open", () => {
    const auth = { type: "auth", token };
    if (lastSeq !== null) auth.since = lastSeq;
    ws.send(JSON.stringify(auth));
  });
  ws.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "welcome") {
      retry = 0;
      reached(true);
      if (lastSeq === null) lastSeq = message.seq;
      handlers.state("open");
      for (const topic of topics) send({ type: "subscribe", topic });
      return;
    }
    if (typeof message.seq === "number") {
      lastSeq = Math.max(lastSeq ?? 0, message.seq);
      send({ type: "ack", seq: message.seq });
    }
    handlers.message(message);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    handlers.state("offline");
    if (event.code === 4401) { // the access token expired: a fresh one, or sign in again
      refresh().then((ok) => (ok ? connect() : ended("Your session has ended: sign in again.")));
      return;
    }
    const wait = Math.min(30000, 500 * 2 ** retry++);
    retryTimer = setTimeout(connect, wait);
  });
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** Follow a topic (`station:ID`, `area:LAT,LON,RADIUS_M`) while a screen shows it. */
export function follow(topic) {
  topics.add(topic);
  send({ type: "subscribe", topic });
  return () => {
    topics.delete(topic);
    send({ type: "unsubscribe", topic });
  };
}

function closeLive() {
  clearTimeout(retryTimer);
  const ws = socket;
  socket = null;
  lastSeq = null;
  topics.clear();
  if (ws) ws.close();
}
