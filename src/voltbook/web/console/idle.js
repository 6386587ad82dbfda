// Where chargers sit available longest (from the status history): each placed site coloured
// by the share of its connectors' time spent available, with the same places as a table.
// The view an operator places offers by.
import * as api from "./api.js";
import { h, number, problem, select } from "./dom.js";
import { createMap, L } from "./map.js";

const RANGES = [["1", "The last 24 hours"], ["7", "The last 7 days"], ["30", "The last 30 days"]];
// From rarely available (busy) to available most of the time (idle): a sequential scale
// that stays apart for common colour blindness.
const CLASSES = [
  { upTo: 0.2, colour: "#1f5fbf", label: "Available under 20 % of the time" },
  { upTo: 0.4, colour: "#5f8fcf", label: "20–40 %" },
  { upTo: 0.6, colour: "#b9a13a", label: "40–60 %" },
  { upTo: 0.8, colour: "#d9741c", label: "60–80 %" },
  { upTo: 1.01, colour: "#b0202a", label: "Available 80 % of the time or more" },
];

function duration(seconds) {
  return seconds < 3600 ? `${number(seconds / 60)} min` : `${number(seconds / 3600, 1)} h`;
}

function colourOf(share) {
  return CLASSES.find((c) => share < c.upTo).colour;
}

export async function render(root) {
  const range = select("days", RANGES, "7");
  range.id = "idle-range";
  const mapBox = h("div", { id: "idle-map" });
  const result = h("p", { role: "status", class: "result" });
  const tbody = h("tbody");
  const legend = h("ul", { class: "legend", "aria-label": "Map colours" },
    CLASSES.map((c) => h("li", {}, h("span", { class: "swatch", "data-colour": c.colour }), c.label)));
  root.append(h("h1", {}, "Idle places"),
    h("p", { class: "hint spaced" }, "Where chargers sat available longest: a site's colour is the share of its connectors' observed time spent available (from the status history). Redder places are where an offer can fill idle chargers."),
    h("div", { class: "check" }, h("label", { for: "idle-range" }, "Over"), range),
    h("section", { class: "panel map-panel", "aria-labelledby": "idle-map-title" },
      h("h2", { id: "idle-map-title" }, "Map"), legend, mapBox),
    result,
    h("table", { class: "list", id: "idle-table" },
      h("caption", {}, "Places, longest available first"),
      h("thead", {}, h("tr", {}, ["Place", "Stations", "Connectors", "Available", "Time available"]
        .map((t) => h("th", { scope: "col", class: t === "Place" || t === "Stations" ? "" : "num" }, t)))),
      tbody));
  for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;

  const map = await createMap(mapBox, { label: "Sites coloured by the share of time their chargers sat available" });
  const layer = L.layerGroup().addTo(map);
  let left = false;

  async function load() {
    const to = new Date();
    const from = new Date(to.getTime() - Number(range.value) * 24 * 3600 * 1000);
    let found;
    try {
      found = await api.idleMap({ from: from.toISOString(), to: to.toISOString() });
    } catch (error) {
      result.replaceChildren(problem(error));
      return;
    }
    if (left || !mapBox.isConnected) return;
    const spots = found.items;
    layer.clearLayers();
    const bounds = [];
    // The idlest drawn last, on top.
    for (const spot of [...spots].sort((a, b) => a.available_share - b.available_share)) {
      const name = spot.name || spot.station_ids.join(", ");
      const share = `${number(spot.available_share * 100)} %`;
      L.circleMarker([spot.lat, spot.lon], {
        radius: 5 + Math.min(6, spot.connectors), color: "#ffffff", weight: 1,
        fillColor: colourOf(spot.available_share), fillOpacity: 0.95,
      }).bindTooltip(`${name} · available ${share} of the time · ${spot.connectors} connector${spot.connectors === 1 ? "" : "s"}`)
        .addTo(layer);
      bounds.push([spot.lat, spot.lon]);
    }
    if (bounds.length) {
      map.invalidateSize();
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 16, animate: false });
    }
    result.textContent = spots.length
      ? `${number(spots.length)} place${spots.length === 1 ? "" : "s"} with chargers observed over ${RANGES.find(([v]) => v === range.value)[1].toLowerCase()}.`
      : "No placed charger was observed in this range.";
    tbody.replaceChildren(...spots.slice(0, 200).map((s) => h("tr", {},
      h("th", { scope: "row" }, s.name || "—"),
      h("td", {}, s.station_ids.map((id, i) => [i ? ", " : "", h("a", { href: `#/stations/${encodeURIComponent(id)}` }, id)]).flat()),
      h("td", { class: "num" }, number(s.connectors)),
      h("td", { class: "num" }, `${number(s.available_share * 100, 1)} %`),
      h("td", { class: "num" }, duration(s.available_seconds)))));
  }

  range.addEventListener("change", load);
  await load();
  return () => {
    left = true;
    map.remove();
  };
}
