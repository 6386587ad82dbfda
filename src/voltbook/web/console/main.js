// The console's shell: sign-in gate, navigation by URL hash, the live channel.
import * as api from "./api.js";
import * as store from "./store.js";
import { announce, h } from "./dom.js";
import * as signin from "./signin.js";
import * as overview from "./overview.js";
import * as stations from "./stations.js";
import * as stationPage from "./station.js";
import * as reservations from "./reservations.js";
import * as sessions from "./sessions.js";
import * as offers from "./offers.js";
import * as cards from "./cards.js";
import * as idle from "./idle.js";
import * as utilisation from "./utilisation.js";
import * as audit from "./audit.js";

const main = document.getElementById("main");
let leave = null;
let shown = 0; // counts screens opened: a screen that finishes loading after another opened is closed

const ROUTES = [
  [/^#\/overview$/, overview, "Overview"],
  [/^#\/stations$/, stations, "Stations"],
  [/^#\/stations\/(.+)$/, stationPage, "Station"],
  [/^#\/sessions$/, sessions, "Sessions"],
  [/^#\/sessions\/(\d+)$/, sessions, "Session"],
  [/^#\/reservations$/, reservations, "Reservations"],
  [/^#\/offers$/, offers, "Offers"],
  [/^#\/offers\/(new|\d+)$/, offers, "Offer"],
  [/^#\/cards$/, cards, "Cards"],
  [/^#\/utilisation$/, utilisation, "Utilisation"],
  [/^#\/utilisation\/(.+)$/, utilisation, "Utilisation"],
  [/^#\/idle$/, idle, "Idle places"],
  [/^#\/audit$/, audit, "Audit"],
];

async function show() {
  const mine = ++shown;
  if (leave) leave();
  leave = null;
  main.replaceChildren();
  if (!api.signedIn() && offline()) {
    document.title = "Offline · voltbook console";
    main.append(offlineScreen());
    return;
  }
  if (!api.signedIn()) {
    document.title = "Sign in · voltbook console";
    signin.render(main, { onSignedIn: started });
    return;
  }
  const hash = location.hash || "#/overview";
  for (const [pattern, screen, title] of ROUTES) {
    const found = hash.match(pattern);
    if (found) {
      document.title = `${title} · voltbook console`;
      markCurrent(hash);
      const cleanup = (await screen.render(main, found.slice(1).map(decodeURIComponent))) || null;
      if (mine === shown) leave = cleanup;
      else if (cleanup) cleanup(); // the operator moved on while it loaded
      return;
    }
  }
  location.hash = "#/overview";
}

// --- offline -------------------------------------------------------------------------------

const OFFLINE = "Offline: the server cannot be reached. Anything shown may be out of date, " +
  "and nothing can be changed until the connection returns.";

function offline() {
  return !navigator.onLine || !api.isReachable();
}

/** The header's notice: empty while the server answers, the offline words when it does not. */
function showNetwork() {
  const text = offline() ? OFFLINE : "";
  const notice = document.getElementById("net-state");
  if (notice.textContent !== text) notice.textContent = text;
}

/** Opened offline and not signed in: signing in needs the server, so the page says so. */
function offlineScreen() {
  return h("section", { class: "panel", "aria-labelledby": "offline-title" },
    h("h1", { id: "offline-title" }, "The console is offline"),
    h("p", {}, "The server cannot be reached, so the console cannot sign you in or show the network now. It signs you back in by itself when the connection returns."),
    h("button", { type: "button", onclick: resume }, "Try again"));
}

function onNetwork() {
  showNetwork();
  if (!navigator.onLine) return;
  if (document.getElementById("offline-title")) resume(); // back: sign in again by itself
  else if (api.signedIn() && !api.isReachable()) api.consoleConfig().catch(() => undefined); // is it back?
}

function markCurrent(hash) {
  for (const link of document.querySelectorAll("#nav a")) {
    const here = hash === link.getAttribute("href") || hash.startsWith(`${link.getAttribute("href")}/`);
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function started(me) {
  store.set({ account: me });
  document.getElementById("who").textContent = me.email;
  document.getElementById("nav").hidden = false;
  document.getElementById("account").hidden = false;
  api.openLive(onLive, (state) => {
    store.set({ live: state });
    const words = { open: "Live: connected", connecting: "Live: connecting", offline: "Live: reconnecting" };
    document.getElementById("live-state").textContent = words[state];
    document.getElementById("live-state").dataset.state = state;
  });
  if (!location.hash || location.hash === "#/signin") location.hash = "#/overview";
  else show();
  main.focus();
}

function onLive(message) {
  if (message.type === "alarm" && message.alarm) {
    const a = message.alarm;
    const event = store.alarm(a);
    const where = a.evse_id ? `${a.station_id} connector ${a.evse_id}` : a.station_id;
    const words = { raised: "Alarm raised", cleared: "Alarm cleared", acknowledged: "Alarm acknowledged" };
    if (event) announce(`${words[event]}: ${where} ${a.code}`);
  } else if (message.type === "station.status") {
    store.connectorStatus(message);
  }
}

api.whenSignedOut((reason) => {
  store.set({ account: null, feed: [], alarms: new Map(), statuses: new Map() });
  document.getElementById("nav").hidden = true;
  document.getElementById("account").hidden = true;
  signin.setReason(reason);
  show();
});

document.getElementById("sign-out").addEventListener("click", () => api.signOut("You signed out."));
window.addEventListener("hashchange", () => {
  show();
  main.focus();
});

window.addEventListener("online", onNetwork);
window.addEventListener("offline", onNetwork);
api.onReachability(onNetwork);

// A reload keeps the operator signed in: the refresh cookie gives a new access token.
function resume() {
  main.replaceChildren(h("p", { class: "quiet" }, "Signing in…"));
  return api.resume().then((me) => (me ? started(me) : show()));
}

showNetwork();
resume();

// The console's own worker keeps its files for offline use (scope /console: see sw.js).
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/console/sw.js", { scope: "/console" }).catch(() => undefined);
}
