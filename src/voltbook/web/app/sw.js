// voltbook service worker: an offline shell, the last search results, and Web Push.
// The server fills in the build and the list of the app's files.
const BUILD = "{{build}}";
const SHELL = `voltbook-shell-${BUILD}`;
const DATA = "voltbook-data";
const FILES = [
  "/", "/manifest.webmanifest",
  "/vendor/leaflet-1.9.4/leaflet.js", "/vendor/leaflet-1.9.4/leaflet.css",
  "{{files}}",
];
// Public answers only: nothing personal is kept on the phone.
const KEPT = ["/api/v1/stations/nearby", "/api/v1/places"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("voltbook-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The operator console is not this app: its own worker (scope /console) or the network
  // answers for it, never this app's shell.
  if (url.pathname === "/console" || url.pathname.startsWith("/console/")) return;
  if (request.mode === "navigate") {
    // The shell from the network when it answers, else the copy kept at install.
    event.respondWith(fetch(request).catch(() => caches.match("/", { ignoreSearch: true })));
    return;
  }
  if (KEPT.some((path) => url.pathname === path)) {
    event.respondWith(lastResults(request));
    return;
  }
  if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/vendor/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

async function lastResults(request) {
  const cache = await caches.open(DATA);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(pathOnly(request), answer.clone());
    return answer;
  } catch (error) {
    const kept = await cache.match(pathOnly(request));
    if (!kept) throw error;
    const headers = new Headers(kept.headers);
    headers.set("X-Voltbook-Offline", "1");
    return new Response(kept.body, { status: kept.status, headers });
  }
}

// One copy per endpoint: the newest results, whatever the query was.
function pathOnly(request) {
  return new URL(request.url).pathname;
}

self.addEventListener("push", (event) => {
  let notice = {};
  try { notice = event.data ? event.data.json() : {}; } catch (_) { notice = {}; }
  const { title, body, screen } = describe(notice);
  event.waitUntil(self.registration.showNotification(title, {
    body, tag: notice.seq ? `seq-${notice.seq}` : undefined,
    icon: `/assets/${BUILD}/icons/icon-192.png`, data: { screen, seq: notice.seq },
  }));
});

function describe(notice) {
  const type = notice.type || notice.kind || "";
  if (type === "offer") {
    return { title: `Offer: ${notice.title || "a charging offer"}`, body: "Tap to see it", screen: "#/inbox" };
  }
  if (type === "reservation.updated") {
    const r = notice.reservation || {};
    return { title: `Booking ${notice.event || "updated"}`, body: notice.reason || `Charger ${r.station_id || ""}`, screen: `#/reservations/${r.id || ""}` };
  }
  if (type === "charge.finished") {
    const kwh = ((notice.energy_wh || 0) / 1000).toFixed(2);
    return { title: "Charging finished", body: `${kwh} kWh at ${notice.station_id || "the charger"}`, screen: "#/charge" };
  }
  return { title: "voltbook", body: notice.detail || "Something changed", screen: "#/inbox" };
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = `/${(event.notification.data && event.notification.data.screen) || "#/inbox"}`;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of open) {
      if ("focus" in client) {
        await client.navigate(target).catch(() => undefined);
        return client.focus();
      }
    }
    return self.clients.openWindow(target);
  })());
});
