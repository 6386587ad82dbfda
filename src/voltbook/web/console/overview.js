// Overview: stations and connectors by status, today's figures, the map coloured by live
// status, the alarm feed.
import * as api from "./api.js";
import * as store from "./store.js";
import { clock, h, number, problem } from "./dom.js";
import { createMap, L } from "./map.js";
import { CATEGORIES, category } from "./status.js";

const REFRESH_MS = 30000;

export async function render(root) {
  const counts = h("section", { class: "panel", "aria-labelledby": "counts-title" },
    h("h2", { id: "counts-title" }, "Network"), h("p", {}, "Loading…"));
  const today = h("section", { class: "panel today", id: "today", "aria-labelledby": "today-title" },
    h("h2", { id: "today-title" }, "Today"), h("p", {}, "Loading…"));
  const mapBox = h("div", { id: "overview-map" });
  const showNever = h("input", { type: "checkbox", id: "show-never" });
  const legend = h("ul", { class: "legend", "aria-label": "Map colours" },
    Object.values(CATEGORIES).map((c) => h("li", {}, h("span", { class: "swatch", "data-colour": c.colour }), c.label)));
  const mapPanel = h("section", { class: "panel map-panel", "aria-labelledby": "map-title" },
    h("h2", { id: "map-title" }, "Map"),
    h("div", { class: "map-tools" },
      h("div", { class: "check" }, showNever, h("label", { for: "show-never" }, "Show places no charger has connected for")),
      legend),
    mapBox);
  const feedList = h("ol", { class: "feed", id: "alarm-feed" });
  const activeList = h("ul", { class: "alarms", id: "active-alarms" });
  const alarmsPanel = h("section", { class: "panel", "aria-labelledby": "alarms-title" },
    h("h2", { id: "alarms-title" }, "Alarms"),
    h("h3", {}, "Active now"), activeList,
    h("h3", {}, "Live feed"), feedList);
  root.append(h("h1", {}, "Overview"), h("div", { class: "overview" }, counts, alarmsPanel, today, mapPanel));
  for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;

  const map = await createMap(mapBox, { label: "Stations coloured by live status" });
  const layer = L.layerGroup().addTo(map);
  let places = [];
  const read = { network: false, today: false }; // shown once: kept on screen while offline
  let fitted = false;
  let closed = false; // the screen was left: answers still on their way draw nothing

  function drawMap() {
    // A screen left while it loaded is detached: a map without a size must not fit or draw.
    if (closed || !mapBox.isConnected) return;
    layer.clearLayers();
    const bounds = [];
    // Trouble is drawn last, on top of its neighbours.
    const order = ["never", "available", "reserved", "in_use", "unavailable", "offline", "faulted"];
    const ranked = places.map((p) => [order.indexOf(category(p.online, p.connectors)), p])
      .sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    for (const place of ranked) {
      if (place.lat === null || place.lon === null) continue;
      const kind = category(place.online, place.connectors);
      if (kind === "never" && !showNever.checked) continue;
      const colour = CATEGORIES[kind].colour;
      const marker = L.circleMarker([place.lat, place.lon], {
        radius: kind === "never" ? 3 : 6, color: "#ffffff", weight: 1, fillColor: colour, fillOpacity: 0.95,
      });
      marker.bindTooltip(`${place.id} · ${place.name || "no site"} · ${CATEGORIES[kind].label}`);
      marker.on("click", () => { location.hash = `#/stations/${encodeURIComponent(place.id)}`; });
      marker.addTo(layer);
      if (kind !== "never") bounds.push([place.lat, place.lon]);
    }
    if (!fitted && bounds.length) {
      map.invalidateSize();
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17, animate: false });
      fitted = true;
    }
  }

  function drawCounts() {
    const byStation = Object.fromEntries(Object.keys(CATEGORIES).map((k) => [k, 0]));
    const byConnector = new Map();
    for (const place of places) {
      byStation[category(place.online, place.connectors)] += 1;
      if (!place.online && place.connectors.every((s) => s === "Unknown")) continue;
      for (const status of place.connectors) {
        const key = place.online ? status : "Offline";
        byConnector.set(key, (byConnector.get(key) || 0) + 1);
      }
    }
    const connected = places.filter((p) => p.online).length;
    const active = [...store.get().alarms.values()].filter((a) => !a.cleared_at).length;
    counts.replaceChildren(
      h("h2", { id: "counts-title" }, "Network"),
      h("dl", { class: "figures" },
        h("div", {}, h("dt", {}, "Stations online"), h("dd", { id: "fig-online" }, `${number(connected)}`)),
        h("div", {}, h("dt", {}, "Active alarms"), h("dd", { id: "fig-alarms" }, number(active))),
        h("div", {}, h("dt", {}, "Connectors in use"),
          h("dd", {}, number(["Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Finishing"]
            .reduce((n, s) => n + (byConnector.get(s) || 0), 0))))),
      h("table", { class: "counts", id: "station-counts" },
        h("caption", {}, "Stations by status"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Stations"))),
        h("tbody", {}, Object.entries(CATEGORIES).map(([key, c]) =>
          h("tr", {}, h("th", { scope: "row" }, h("span", { class: `dot dot-${key}`, "aria-hidden": "true" }), c.label),
            h("td", { class: "num" }, number(byStation[key])))))),
      h("table", { class: "counts", id: "connector-counts" },
        h("caption", {}, "Connectors of connected stations by status"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Connectors"))),
        h("tbody", {}, [...byConnector.entries()].sort((a, b) => b[1] - a[1]).map(([status, n]) =>
          h("tr", {}, h("th", { scope: "row" }, status), h("td", { class: "num" }, number(n)))))),
      h("p", { class: "hint" }, "A station counts as available while one of its connectors is free, as in use when none is."),
    );
  }

  /** Who took an active alarm in hand, or the button to take it. */
  function taken(a) {
    if (a.acknowledged_at) {
      const who = a.acknowledged_by === store.get().account?.id ? "you" : "another operator";
      return h("span", { class: "taken" }, `· acknowledged by ${who} at ${clock(a.acknowledged_at)}`);
    }
    const where = a.evse_id ? `${a.station_id} connector ${a.evse_id}` : a.station_id;
    const button = h("button", { type: "button", "aria-label": `Acknowledge the ${a.code} alarm of ${where}` }, "Acknowledge");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        store.alarm(await api.acknowledgeAlarm(a.id));
      } catch (error) {
        button.disabled = false;
        button.after(problem(error));
      }
    });
    return button;
  }

  function drawAlarms() {
    const { alarms, feed } = store.get();
    const active = [...alarms.values()].filter((a) => !a.cleared_at)
      .sort((a, b) => b.raised_at.localeCompare(a.raised_at));
    activeList.replaceChildren(...(active.length ? active.map((a) => h("li", { class: `alarm ${a.severity}` },
      h("a", { href: `#/stations/${encodeURIComponent(a.station_id)}` }, a.station_id),
      a.evse_id ? ` connector ${a.evse_id}` : "", ` · ${a.code} · ${a.severity} · since ${clock(a.raised_at)} `,
      taken(a)))
      : [h("li", { class: "quiet" }, "No active alarm.")]));
    const said = { raised: "Raised", cleared: "Cleared", acknowledged: "Acknowledged" };
    feedList.replaceChildren(...(feed.length ? feed.map((item) => h("li", { class: `feed-${item.event}` },
      h("strong", {}, said[item.event]), ` ${clock(item.at)} · `,
      h("a", { href: `#/stations/${encodeURIComponent(item.alarm.station_id)}` }, item.alarm.station_id),
      item.alarm.evse_id ? ` connector ${item.alarm.evse_id}` : "", ` · ${item.alarm.code}`))
      : [h("li", { class: "quiet" }, "Alarms raised and cleared while the console is open appear here.")]));
  }

  function drawToday(f) {
    const figure = (id, label, value) => h("div", {}, h("dt", {}, label), h("dd", { id }, value));
    const started = new Date(f.day_start);
    today.replaceChildren(
      h("h2", { id: "today-title" }, "Today"),
      h("dl", { class: "figures" },
        figure("today-sessions", "Sessions", number(f.sessions)),
        figure("today-energy", "Energy", `${number(f.energy_wh / 1000, 1)} kWh`),
        figure("today-utilisation", "Utilisation", `${number(f.charging_share * 100, 1)} %`),
        figure("today-idle", "Idle chargers", `${number(f.idle_connectors)} of ${number(f.connectors)}`),
        figure("today-bookings", "Bookings", number(f.bookings)),
        figure("today-no-shows", "No-shows", number(f.no_shows)),
        figure("today-offers-sent", "Offers sent", number(f.offers_sent)),
        figure("today-offers-redeemed", "Offers redeemed", number(f.offers_redeemed))),
      h("p", { class: "hint" },
        `Since midnight ${f.time_zone} (${clock(started.toISOString())} here), as of ${clock(f.until)}. `,
        "Utilisation is the share of the connectors' known time spent charging; an idle charger is a connector that has not charged today. Energy is that of the sessions begun today."));
  }

  async function loadToday() {
    try {
      const f = await api.figuresToday();
      if (!closed) drawToday(f);
      read.today = true;
    } catch (error) {
      // The server cannot be reached: the last figures stay (the header says they may be old).
      if (error.status === 0 && read.today) return;
      today.replaceChildren(h("h2", { id: "today-title" }, "Today"), problem(error));
    }
  }

  async function load() {
    loadToday();
    try {
      const [found, active] = await Promise.all([api.network(), api.alarms()]);
      if (closed || !mapBox.isConnected) return;
      places = found.items;
      store.activeAlarms(active.items);
      drawCounts();
      drawMap();
      drawAlarms();
      read.network = true;
    } catch (error) {
      if (error.status === 0 && read.network) return;
      counts.replaceChildren(h("h2", { id: "counts-title" }, "Network"), problem(error));
    }
  }

  showNever.addEventListener("change", drawMap);
  const unsubscribe = store.subscribe(() => {
    drawAlarms();
    drawCounts();
  });
  // Statuses arrive live for the area the map shows (at most 50 km around its centre).
  let unfollow = () => {};
  function followView() {
    unfollow();
    const c = map.getCenter();
    unfollow = api.follow(`area:${c.lat.toFixed(4)},${c.lng.toFixed(4)},50000`);
  }
  await load();
  followView();
  map.on("moveend", followView);
  // A status change or an alarm seen live reloads the network (at most once every two
  // seconds): the counts cover the whole network, the followed area only the map's view.
  let pending = null;
  let lastStatus = store.get().lastStatusAt;
  const redraw = store.subscribe((state) => {
    if (state.lastStatusAt === lastStatus) return;
    lastStatus = state.lastStatusAt;
    if (pending === null) pending = setTimeout(() => { pending = null; load(); }, 2000);
  });
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    closed = true;
    clearInterval(timer);
    clearTimeout(pending);
    unsubscribe();
    redraw();
    unfollow();
    map.remove();
  };
}
