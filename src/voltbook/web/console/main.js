// The console's shell: sign-in gate, navigation by URL hash, the live channel.
import * as api from "./api.js";
import * as store from "./store.js";
import { announce } from "./dom.js";
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
    store.alarm(a);
    const where = a.evse_id ? `${a.station_id} connector ${a.evse_id}` : a.station_id;
    announce(a.cleared_at ? `Alarm cleared: ${where} ${a.code}` : `Alarm raised: ${where} ${a.code}`);
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

// A reload keeps the operator signed in: the refresh cookie gives a new access token.
main.replaceChildren(Object.assign(document.createElement("p"), { className: "quiet", textContent: "Signing in…" }));
api.resume().then((me) => (me ? started(me) : show()));
