// The operator console's service worker: the console's shell offline. Its scope is /console
// (the server allows it), so the driver app's worker at / never answers for the console.
// The server fills in the build (a hash of the console's files) and the list of those files.
const BUILD = "{{build}}";
const SHELL = `voltbook-console-${BUILD}`;
const FILES = [
  "/console/",
  "/vendor/leaflet-1.9.4/leaflet-src.esm.js", "/vendor/leaflet-1.9.4/leaflet.css",
  "/vendor/uplot-1.6.32/uPlot.esm.js", "/vendor/uplot-1.6.32/uPlot.min.css",
  "{{files}}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("voltbook-console-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => offlinePage(url)));
    return;
  }
  if (url.pathname.startsWith("/console/")) {
    // The network first, so an update shows at the next reload; the kept copy offline.
    event.respondWith(fetch(request).catch(() => kept(request)));
    return;
  }
  if (url.pathname.startsWith("/vendor/")) {
    // Vendored files carry their version in their path: a kept copy is always right.
    event.respondWith(vendored(request));
  }
  // Anything else (the API) goes to the network untouched: its answers are the operator's
  // and personal (drivers, cards), so none is kept. Offline, the console says so.
});

async function kept(request) {
  const hit = await (await caches.open(SHELL)).match(request, { ignoreSearch: true });
  if (!hit) throw new TypeError(`offline, and ${new URL(request.url).pathname} is not kept`);
  return hit;
}

function offlinePage(url) {
  // The server sends /console to /console/; so does this worker when the server is away.
  if (url.pathname === "/console") return Response.redirect(`${url.origin}/console/${url.search}`, 302);
  if (url.pathname === "/console/" || url.pathname === "/console/index.html") return kept(new Request("/console/"));
  return kept(new Request(url.href));
}

async function vendored(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  if (hit) return hit;
  const answer = await fetch(request);
  if (answer.ok) await cache.put(request, answer.clone());
  return answer;
}
