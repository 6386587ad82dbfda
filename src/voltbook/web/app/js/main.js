// The app's entry: routes (#/screen/...), the tab bar, the live channel's answers and pushes.
import * as api from "./api.js";
import { addNotice, forgetAll, store, subscribe, update } from "./store.js";
import { h, show, toast } from "./ui.js";
import { signInScreen } from "./screens/account.js";
import { findScreen } from "./screens/find.js";
import { stationScreen } from "./screens/station.js";
import { reservationsScreen } from "./screens/reservations.js";
import { chargeScreen } from "./screens/charge.js";
import { inboxScreen, describeNotice } from "./screens/inbox.js";
import { meScreen } from "./screens/me.js";
import { vehicleScreen } from "./screens/vehicle.js";
import { privacyScreen } from "./screens/privacy.js";

const ROUTES = [
  [/^#\/find$/, findScreen, "find"],
  [/^#\/station\/([^/]+)$/, stationScreen, "find"],
  [/^#\/reservations(?:\/(\d+))?$/, reservationsScreen, "reservations"],
  [/^#\/charge(?:\/([^/]+)\/(\d+))?$/, chargeScreen, "charge"],
  [/^#\/inbox$/, inboxScreen, "inbox"],
  [/^#\/me$/, meScreen, "me"],
  [/^#\/vehicle$/, vehicleScreen, "me"],
  [/^#\/privacy$/, privacyScreen, "me"],
];

let leaveScreen = null;

async function route() {
  if (typeof leaveScreen === "function") leaveScreen();
  leaveScreen = null;
  const hash = location.hash || "#/find";
  // Offline and not signed in (the refresh needs the server): the last results still show.
  const browsing = !api.isReachable() && /^#\/(find|station\/)/.test(hash);
  if (!api.signedIn() && !browsing) {
    document.querySelector(".tabs").hidden = true;
    if (document.getElementById("signin")) return; // asking already: keep what was typed
    leaveScreen = await signInScreen(hash === "#/signin" ? "#/find" : hash, started);
    return;
  }
  document.querySelector(".tabs").hidden = false;
  for (const [pattern, screen, tab] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll(".tabs a")) {
      if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    try {
      leaveScreen = await screen(...match.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part))));
    } catch (error) {
      show(h("h2", {}, "This screen could not load"), h("p", { class: "card error" }, error.message),
        h("a", { class: "button", href: "#/find" }, "Back to the map"));
    }
    return;
  }
  location.replace("#/find");
}

/** Signed in (a new sign-in, or the refresh cookie after a reload): account, live channel. */
async function started() {
  try {
    const [account, vehicles] = await Promise.all([api.me(), api.vehicles()]);
    // The saved vehicles answer the server's query.vehicle.
    update({ account, vehicles: vehicles.items });
  } catch (_) { /* offline: the screens say so */ }
  api.live.open();
  api.live.follow("reservations");
  route();
}

function answerQueries() {
  api.live.on("query.location", (query) => {
    const consent = store.account && store.account.consent_location;
    if (!consent || !navigator.geolocation) return; // not answered: the server gives up
    navigator.geolocation.getCurrentPosition(
      (found) => {
        const { latitude: lat, longitude: lon, accuracy } = found.coords;
        update({ position: { lat, lon, accuracy_m: accuracy } });
        api.live.answer({ type: "location", id: query.id, lat, lon, accuracy_m: accuracy });
      },
      () => undefined,
      { maximumAge: 60000, timeout: 8000 },
    );
  });
  api.live.on("query.vehicle", (query) => {
    const vehicle = store.vehicles.find((v) => v.id === (query.vehicle_id || store.vehicleId)) || store.vehicles[0];
    if (!vehicle) return;
    api.live.answer({
      type: "vehicle", id: query.id, vehicle_id: vehicle.id,
      soc_percent: vehicle.soc_percent ?? undefined, range_km: vehicle.range_km ?? undefined,
    });
  });
}

function receiveNotices() {
  for (const type of ["offer", "reservation.updated", "charge.finished", "alarm"]) {
    api.live.on(type, (notice) => {
      const fresh = addNotice(notice);
      if (notice.seq) api.live.ack(notice.seq);
      if (!fresh) return;
      const { title, screen } = describeNotice(notice);
      toast(title, screen ? { label: "Show", run: () => { location.hash = screen; } } : undefined);
      if (type === "offer" && notice.delivery_id) api.offerOpened(notice.delivery_id).catch(() => undefined);
    });
  }
  api.live.on("state", ({ state }) => showNetwork(state));
  subscribe((_, changes) => {
    if ("inbox" in changes) {
      const unread = store.inbox.filter((n) => !n.read).length;
      const badge = document.getElementById("inbox-count");
      badge.hidden = unread === 0;
      badge.textContent = unread ? String(unread) : "";
      badge.setAttribute("aria-label", `${unread} unread`);
    }
  });
}

function showNetwork(liveState) {
  const parts = [];
  if (!navigator.onLine || !api.isReachable()) parts.push("Offline: voltbook cannot be reached");
  else if (api.signedIn() && liveState === "connecting") parts.push("Connecting…");
  if (!window.isSecureContext) parts.push("Not a secure connection: location, install and notifications are off");
  document.getElementById("net").textContent = parts.join(" · ");
}

async function boot() {
  api.whenSignedOut(() => { forgetAll(); route(); });
  answerQueries();
  receiveNotices();
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { update({ online: true }); showNetwork(api.live.state); });
  window.addEventListener("offline", () => { update({ online: false }); showNetwork(api.live.state); });
  showNetwork("closed");
  api.onReachability(async (yes) => {
    showNetwork(api.live.state);
    if (!yes) return;
    if (api.signedIn()) api.live.open(); // back: the live channel replays what was missed
    else if (await api.refresh()) await started();
    else route();
  });
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  }
  if (await api.refresh()) {
    await started();
  } else {
    route();
  }
}

boot();
