// The only module that talks to the server: HTTP (fetch) and the live channel.
// The access token lives in this module's memory only; never in storage, never in a URL.

const API = "/api/v1";
let accessToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// Whether voltbook answered the last request: false while it (or the network) is down.
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

export function signedIn() {
  return accessToken !== null;
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

async function request(method, path, { body, form, headers = {}, auth = true, retry = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (auth && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
  if (form) {
    init.body = new URLSearchParams(form);
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(API + path, init);
  } catch (error) {
    reached(false);
    throw new ApiError(0, { detail: "No connection to voltbook. Check your network and try again." });
  }
  reached(!answer.headers.get("X-Voltbook-Offline"));
  if (answer.status === 401 && auth && retry && (await refresh())) {
    return request(method, path, { body, form, headers, auth, retry: false });
  }
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
  if (!answer.ok) {
    if (answer.status === 401 && auth) { accessToken = null; onSignedOut(); }
    throw new ApiError(answer.status, data);
  }
  if (data && typeof data === "object" && answer.headers.get("X-Voltbook-Offline")) data.offline = true;
  return data;
}

// --- accounts -------------------------------------------------------------------------------

async function takeTokens(answer) {
  accessToken = answer.access_token;
  return answer;
}

/** A new access token from the refresh cookie (HttpOnly: this code never sees it). */
export async function refresh() {
  try {
    const answer = await fetch(`${API}/auth/browser/app/refresh`, {
      method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
    });
    reached(true);
    if (!answer.ok) return false;
    await takeTokens(await answer.json());
    return true;
  } catch (_) {
    reached(false);
    return false;
  }
}

/** Sign in: the access token stays in this module; the refresh token comes back as an
 * HttpOnly cookie only the refresh route receives. */
export async function signIn(email, password) {
  return takeTokens(await request("POST", "/auth/browser/app/token", {
    form: { username: email, password }, auth: false,
  }));
}

export async function signUp(email, password) {
  await request("POST", "/auth/register", { body: { email, password }, auth: false });
  return signIn(email, password);
}

export async function signOut() {
  try { await request("POST", "/auth/browser/app/logout", { retry: false }); } catch (_) { /* signed out anyway */ }
  accessToken = null;
  live.close();
}

export const me = () => request("GET", "/me");
export const updateMe = (changes) => request("PATCH", "/me", { body: changes });
export const forgetLocation = () => request("DELETE", "/me/location");
export const changePassword = (current, next) =>
  request("PUT", "/me/password", { body: { current_password: current, new_password: next } });
export async function deleteAccount() {
  await request("DELETE", "/me");
  accessToken = null;
  live.close();
}

// --- finding and booking ---------------------------------------------------------------------

export function nearby({ lat, lon, radiusM = 5000, limit = 30, connector, minPowerKw, available }) {
  const query = new URLSearchParams({ lat, lon, radius_m: radiusM, limit });
  if (connector) query.set("connector", connector);
  if (minPowerKw) query.set("min_power_kw", minPowerKw);
  if (available) query.set("available", "true");
  return request("GET", `/stations/nearby?${query}`, { auth: false });
}
export const places = (text) => request("GET", `/places?${new URLSearchParams({ q: text })}`, { auth: false });
export const site = (id) => request("GET", `/sites/${encodeURIComponent(id)}`, { auth: false });
export function availability(stationId, from, to) {
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return request("GET", `/stations/${encodeURIComponent(stationId)}/availability?${query}`);
}
export const forecast = (stationId) => request("GET", `/stations/${encodeURIComponent(stationId)}/forecast`, { auth: false });
export const book = (booking) => request("POST", "/reservations", { body: booking, headers: { "Idempotency-Key": newKey() } });
export const reservations = () => request("GET", "/reservations?limit=50");
export const reservation = (id) => request("GET", `/reservations/${id}`);
export const cancelReservation = (id) => request("DELETE", `/reservations/${id}`);

// --- vehicles ------------------------------------------------------------------------------

export const vehicles = () => request("GET", "/vehicles");
export const addVehicle = (spec) => request("POST", "/vehicles", { body: spec });
export const reportVehicle = (id, state) => request("POST", `/vehicles/${encodeURIComponent(id)}/state`, { body: state });
export function recommendations(vehicleId, position) {
  const query = new URLSearchParams({ vehicle_id: vehicleId, limit: 10 });
  if (position) { query.set("lat", position.lat); query.set("lon", position.lon); }
  return request("GET", `/recommendations?${query}`);
}

// --- charging ------------------------------------------------------------------------------

/** Start charging; `key` makes a double tap start once (the same key is sent again). */
export const startCharge = (stationId, evseId, key) =>
  request("POST", "/sessions", { body: { station_id: stationId, evse_id: evseId }, headers: { "Idempotency-Key": key } });
export const stopCharge = (id) => request("POST", `/sessions/${encodeURIComponent(id)}/stop`);
export const charge = (id) => request("GET", `/sessions/${encodeURIComponent(id)}`);
export const charges = () => request("GET", "/me/sessions?limit=20");
export { newKey };

// --- offers and push -----------------------------------------------------------------------

export const offerOpened = (deliveryId) => request("POST", `/offers/deliveries/${deliveryId}/opened`);
export const pushKey = () => request("GET", "/push/key", { auth: false });
export const pushSubscribe = (subscription) => request("POST", "/push/subscriptions", { body: subscription });

// --- the live channel ----------------------------------------------------------------------

const SEQ_KEY = "voltbook.live.seq";

/** One WebSocket to /api/v1/live: signs in with an `auth` message, replays from the last
 * `seq` it saw after every reconnect (and after the phone slept), and hands each message to
 * the listeners of its type. */
class LiveChannel {
  constructor() {
    this.socket = null;
    this.listeners = new Map();
    this.topics = new Set();
    this.wanted = false;
    this.delay = 1000;
    this.timer = null;
    this.nextId = 1;
    this.state = "closed";
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.wanted && this.state !== "open") this.open();
    });
    window.addEventListener("online", () => { if (this.wanted) this.open(); });
  }

  get seq() { return Number(localStorage.getItem(SEQ_KEY) || 0); }
  set seq(value) { if (value > this.seq) localStorage.setItem(SEQ_KEY, String(value)); }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, message) {
    for (const listener of this.listeners.get(type) || []) {
      try { listener(message); } catch (error) { console.error(error); }
    }
  }

  open() {
    this.wanted = true;
    if (!accessToken || (this.socket && this.socket.readyState <= 1)) return;
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${API}/live`);
    this.socket = socket;
    this.setState("connecting");
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "auth", token: accessToken, since: this.seq }));
    });
    socket.addEventListener("message", (event) => this.received(event.data));
    socket.addEventListener("close", async (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("closed");
      if (!this.wanted) return;
      if (event.code === 4401 && !(await refresh())) { accessToken = null; onSignedOut(); return; }
      this.timer = setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 30000);
    });
  }

  received(text) {
    let message;
    try { message = JSON.parse(text); } catch (_) { return; }
    if (message.type === "welcome") {
      reached(true);
      this.delay = 1000;
      this.setState("open");
      for (const topic of this.topics) this.send({ type: "subscribe", topic });
    }
    if (typeof message.seq === "number" && message.type !== "welcome") this.seq = message.seq;
    this.emit(message.type, message);
    this.emit("*", message);
  }

  setState(state) {
    this.state = state;
    this.emit("state", { state });
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(JSON.stringify({ id: this.nextId++, ...message }));
      return true;
    }
    return false;
  }

  follow(topic) {
    this.topics.add(topic);
    this.send({ type: "subscribe", topic });
  }

  unfollow(topic) {
    if (!this.topics.delete(topic)) return;
    this.send({ type: "unsubscribe", topic });
  }

  ack(seq) { this.send({ type: "ack", seq }); }

  /** Answer the server's query (or report unprompted): the same `id` it asked with. */
  answer(message) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  close() {
    this.wanted = false;
    this.topics.clear();
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}

export const live = new LiveChannel();
