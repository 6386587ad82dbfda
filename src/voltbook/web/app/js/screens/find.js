// Find: chargers around the driver (browser position or a typed place), on a map and in a
// list coloured by live status, updated live through the live channel's area topic.
import * as api from "../api.js";
import { store, subscribe, update } from "../store.js";
import { distance, errorText, field, h, show, statusBadge, statusClass } from "../ui.js";
import { siteStatus, offersFor } from "./sites.js";

const RADIUS_M = 5000;
const STANDARDS = [["", "Any plug"], ["CCS1", "CCS1 (Combo 1)"], ["J1772", "J1772 (Type 1)"], ["NACS", "NACS (Tesla)"],
  ["CHAdeMO", "CHAdeMO"], ["Type 2", "Type 2"], ["CCS2", "CCS2 (Combo 2)"]];
const POWERS = [["", "Any power"], ["7", "7 kW or more"], ["22", "22 kW or more"], ["50", "50 kW or more"], ["150", "150 kW or more"]];

export async function findScreen() {
  const results = h("div");
  const nearestBox = h("div", { "aria-live": "polite" });
  const mapBox = h("div", { id: "map", role: "region", "aria-label": "Map of the chargers found" });
  const note = h("p", { class: "muted small", role: "status" });
  const placeInput = h("input", { type: "search", id: "place", autocomplete: "off", placeholder: "City, postcode or street", list: "place-list" });
  const placeList = h("datalist", { id: "place-list" });
  let suggestions = [];
  let map = null;
  let layer = null;
  let topic = null;

  const connector = h("select", { id: "f-connector", onchange: () => refilter({ connector: connector.value }) },
    STANDARDS.map(([value, label]) => h("option", { value, selected: store.filters.connector === value }, label)));
  const power = h("select", { id: "f-power", onchange: () => refilter({ minPowerKw: power.value }) },
    POWERS.map(([value, label]) => h("option", { value, selected: String(store.filters.minPowerKw) === value }, label)));
  const available = h("input", { type: "checkbox", id: "f-available", checked: store.filters.available,
    onchange: () => refilter({ available: available.checked }) });

  function refilter(change) {
    update({ filters: { ...store.filters, ...change } });
    search();
  }

  function centre() {
    return store.place || store.position;
  }

  function locate() {
    if (!navigator.geolocation) { note.textContent = "This browser cannot tell where you are: type a place."; return; }
    note.textContent = "Finding where you are…";
    navigator.geolocation.getCurrentPosition((found) => {
      const { latitude: lat, longitude: lon, accuracy } = found.coords;
      update({ position: { lat, lon, accuracy_m: accuracy }, place: null });
      if (store.account && store.account.consent_location) {
        api.live.answer({ type: "location", lat, lon, accuracy_m: accuracy }); // offers nearby
      }
      placeInput.value = "";
      search();
    }, () => {
      note.textContent = window.isSecureContext
        ? "Location is off for voltbook: type a place instead."
        : "Location needs a secure (https) connection: type a place instead.";
    }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 0 });
  }

  let typing = null;
  placeInput.addEventListener("input", () => {
    clearTimeout(typing);
    const text = placeInput.value.trim();
    const chosen = suggestions.find((p) => p.label === placeInput.value);
    if (chosen) { pick(chosen); return; }
    if (text.length < 2) return;
    typing = setTimeout(async () => {
      try {
        suggestions = (await api.places(text)).items;
        placeList.replaceChildren(...suggestions.map((p) => h("option", { value: p.label })));
      } catch (_) { /* offline: nothing to suggest */ }
    }, 250);
  });

  async function placeSubmit(event) {
    event.preventDefault();
    const text = placeInput.value.trim();
    if (text.length < 2) { note.textContent = "Type at least 2 letters of a place."; return; }
    try {
      const found = suggestions.find((p) => p.label === text) || (await api.places(text)).items[0];
      if (!found) { note.textContent = `No chargers known near “${text}”. Try a city or postcode.`; return; }
      pick(found);
    } catch (error) {
      note.textContent = errorText(error);
    }
  }

  function pick(place) {
    placeInput.value = place.label;
    update({ place: { label: place.label, lat: place.lat, lon: place.lon } });
    search();
  }

  async function search() {
    const at = centre();
    if (!at) {
      results.replaceChildren(h("p", { class: "card" }, "Share your location or type a place to see chargers around it."));
      return;
    }
    note.textContent = "Searching…";
    try {
      const answer = await api.nearby({
        lat: at.lat, lon: at.lon, radiusM: RADIUS_M, connector: store.filters.connector,
        minPowerKw: store.filters.minPowerKw, available: store.filters.available,
      });
      update({ results: answer.items });
      note.textContent = answer.offline ? "Offline: these are the last results you saw." : `${answer.items.length} places within ${RADIUS_M / 1000} km of ${store.place ? store.place.label : "you"}.`;
      follow(at);
    } catch (error) {
      note.textContent = errorText(error);
    }
    render();
  }

  function follow(at) {
    const next = `area:${at.lat.toFixed(5)},${at.lon.toFixed(5)},${RADIUS_M}`;
    if (topic === next) return;
    if (topic) api.live.unfollow(topic);
    topic = next;
    api.live.follow(topic);
  }

  function render() {
    const sites = store.results;
    if (!sites.length) {
      nearestBox.replaceChildren();
      results.replaceChildren(h("p", { class: "card" }, "No charger fits these filters here. Try another plug or less power, or clear “Free now only”."));
      drawMap([]);
      return;
    }
    const nearestFree = sites.find((s) => siteStatus(s) === "Available");
    nearestBox.replaceChildren(nearestFree
      ? h("a", { class: "button wide nearest", href: `#/station/${nearestFree.id}`, id: "nearest" },
        h("span", {}, "Nearest free charger", h("br"), h("small", {}, `${nearestFree.name} · ${distance(nearestFree.distance_m)}`)))
      : h("p", { class: "card" }, "Nothing free right now in this list: book one for later from its page."));
    results.replaceChildren(
      h("h3", {}, "Chargers"),
      h("ul", { class: "list" }, sites.map(siteItem)),
    );
    drawMap(sites);
  }

  function siteItem(site) {
    const status = siteStatus(site);
    const connectors = site.stations.flatMap((s) => s.connectors);
    const plugs = [...new Set(connectors.map((c) => c.standard_name || c.standard).filter(Boolean))].join(", ");
    const maxKw = Math.max(0, ...connectors.map((c) => c.max_power_kw || 0));
    const free = connectors.filter((c) => c.status === "Available").length;
    const offer = offersFor(site)[0];
    return h("li", {},
      h("a", { class: `station ${statusClass(status)}`, href: `#/station/${site.id}`, dataset: { site: site.id } },
        h("span", { class: "row" }, h("strong", { class: "grow" }, site.name), statusBadge(status)),
        h("span", { class: "muted small" }, `${distance(site.distance_m)} · ${site.address || site.city}`),
        h("br"),
        h("span", { class: "small" }, `${plugs || "plugs not listed"} · ${maxKw ? `up to ${maxKw} kW` : "power not listed"} · ${free} of ${connectors.length} free`),
        offer ? h("span", {}, " ", h("span", { class: "offer" }, `Offer: ${offer.title}`)) : null));
  }

  function drawMap(sites) {
    if (!window.L) return; // the map script failed to load: the list is enough
    const at = centre();
    if (!map) {
      map = window.L.map(mapBox, { zoomControl: true, attributionControl: Boolean(tileUrl()) });
      if (tileUrl()) {
        window.L.tileLayer(tileUrl(), { maxZoom: 19, attribution: document.documentElement.dataset.tileAttribution || "" }).addTo(map);
      }
      layer = window.L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    if (at) {
      window.L.marker([at.lat, at.lon], { icon: window.L.divIcon({ className: "", html: "", iconSize: [16, 16] }), keyboard: false, interactive: false })
        .addTo(layer).getElement()?.classList.add("me-pin");
    }
    for (const site of sites) {
      const icon = window.L.divIcon({ className: `pin ${statusClass(siteStatus(site))}`, iconSize: [18, 18] });
      const marker = window.L.marker([site.lat, site.lon], { icon, title: `${site.name}: ${siteStatus(site)}`, alt: site.name, keyboard: true });
      marker.on("click", () => { location.hash = `#/station/${site.id}`; });
      marker.addTo(layer);
    }
    const points = sites.map((s) => [s.lat, s.lon]);
    if (at) points.push([at.lat, at.lon]);
    map.invalidateSize(); // the container may have just been laid out
    if (points.length) map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
  }

  const stopLive = api.live.on("station.status", (change) => {
    let touched = false;
    for (const site of store.results) {
      for (const station of site.stations) {
        if (station.id !== change.station_id) continue;
        for (const c of station.connectors) {
          if (c.evse_id === change.evse_id && (change.connector_id == null || c.connector_id === change.connector_id)) {
            c.status = change.status;
            touched = true;
          }
        }
      }
    }
    if (touched) render();
  });
  const stopStore = subscribe((_, changes) => { if ("inbox" in changes && store.results.length) render(); });

  show(
    h("h2", {}, "Find a charger"),
    h("div", { class: "card" },
      h("button", { type: "button", class: "wide", onclick: locate }, "Use my location"),
      h("form", { onsubmit: placeSubmit, role: "search" },
        h("label", { for: "place" }, "Or search around a place"),
        h("div", { class: "row nowrap" }, placeInput, h("button", { type: "submit", class: "secondary" }, "Search")),
        placeList),
      h("div", { class: "filters" },
        h("div", {}, field("Plug", connector)),
        h("div", {}, field("Power", power)),
        h("label", { class: "check full", for: "f-available" }, available, "Free now only")),
      note),
    nearestBox,
    mapBox,
    h("p", { class: "legend small", "aria-hidden": "true" },
      [["available", "free"], ["busy", "in use"], ["reserved", "reserved"], ["fault", "out of service"], ["unknown", "no live status"]]
        .map(([kind, words]) => h("span", {}, h("i", { class: `dot ${kind}` }), words))),
    results,
  );
  if (centre()) {
    if (store.place) placeInput.value = store.place.label;
    if (store.results.length) render();
    search();
  } else {
    locate();
    render();
  }
  return () => {
    stopLive();
    stopStore();
    if (topic) api.live.unfollow(topic);
    if (map) map.remove();
  };
}

function tileUrl() {
  return document.documentElement.dataset.tileUrl || "";
}
