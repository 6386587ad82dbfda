// Leaflet maps for the console: tiles when configured, a plain background otherwise.
import * as L from "/vendor/leaflet-1.9.4/leaflet-src.esm.js";
import * as api from "./api.js";

let config = null;

async function tiles() {
  if (config === null) {
    try {
      config = await api.consoleConfig();
    } catch {
      config = { tile_url: "", tile_attribution: "" };
    }
  }
  return config;
}

/** A map in `element`; markers draw on one canvas, so thousands of stations stay fast. */
export async function createMap(element, { label, center = [42.3555, -71.0605], zoom = 11 } = {}) {
  element.classList.add("map");
  element.setAttribute("role", "region");
  element.setAttribute("aria-label", label);
  const map = L.map(element, { preferCanvas: true, renderer: L.canvas(), center, zoom });
  const { tile_url: url, tile_attribution: attribution } = await tiles();
  if (url) {
    L.tileLayer(url, { attribution, maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add("no-tiles");
  }
  return map;
}

export { L };
