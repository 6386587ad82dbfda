// A site: each connector with its live status and power, the chance one is free soon,
// today's free slots, reserve now or pick a slot, charge here. A taken slot answers with the next free ones.
import * as api from "../api.js";
import { clock, errorText, h, show, statusBadge, toast } from "../ui.js";
import { offersFor } from "./sites.js";

const MINUTES = 30;

export async function stationScreen(siteId) {
  const site = await api.site(siteId);
  const message = h("div", { role: "status", "aria-live": "polite" });
  const topics = site.stations.map((s) => `station:${s.id}`);
  topics.forEach((t) => api.live.follow(t));

  async function book(stationId, connectorId, start) {
    message.replaceChildren(h("p", { class: "muted" }, "Booking…"));
    try {
      const booking = { station_id: stationId, minutes: MINUTES };
      if (connectorId) booking.connector_id = connectorId;
      if (start) booking.start = start;
      const made = await api.book(booking);
      toast(start ? `Booked for ${clock(made.start)}` : "Booked: the charger is being told to hold it");
      location.hash = `#/reservations/${made.id}`;
    } catch (error) {
      const next = (error.problem && error.problem.next_free) || [];
      message.replaceChildren(
        h("p", { class: "error" }, errorText(error)),
        next.length ? h("p", {}, "Free next:") : null,
        h("div", { class: "slots" }, next.map((slot) =>
          h("button", { type: "button", class: "secondary", onclick: () => book(stationId, slot.connector_id, slot.start) },
            `${clock(slot.start)} on connector ${slot.connector_id}`))),
      );
    }
  }

  /** One card per EVSE (what a driver books and plugs into), listing its plugs. */
  function evses(station) {
    const by = new Map();
    for (const c of station.connectors) {
      if (!by.has(c.evse_id)) by.set(c.evse_id, []);
      by.get(c.evse_id).push(c);
    }
    return [...by.values()];
  }

  function connectorRow(station, plugs) {
    const c = plugs[0];
    const names = plugs.map((p) => p.standard_name || p.standard).filter(Boolean);
    const kw = Math.max(0, ...plugs.map((p) => p.max_power_kw || 0));
    return h("li", { class: "card", dataset: { station: station.id, evse: c.evse_id } },
      h("div", { class: "row" },
        h("strong", { class: "grow" }, `Connector ${c.evse_id}`),
        h("span", { class: "live-status" }, statusBadge(c.status))),
      h("p", { class: "small" }, `${names.join(" or ") || "plug not listed"} · ${c.power_type || ""} ${kw ? `up to ${kw} kW` : "power not listed"}`),
      station.online
        ? h("div", { class: "row" },
          h("button", { type: "button", onclick: () => book(station.id, c.evse_id) }, `Reserve now (${MINUTES} min)`),
          h("a", { class: "button secondary", href: `#/charge/${encodeURIComponent(station.id)}/${c.evse_id}` }, "Charge here"))
        : h("p", { class: "muted small" }, "This place has no live charger: it cannot be booked from the app."));
  }

  /** "Likely free in 30 min: 80 %" from the station's availability forecast (15 and
   * 60 minutes beside it); until a model is trained, what the last value says. */
  async function outlook(station) {
    const line = h("p", { class: "small forecast" });
    try {
      const f = await api.forecast(station.id);
      const at = (minutes) => f.horizons.find((x) => x.minutes === minutes);
      const percent = (x) => `${Math.round(x.probability_free * 100)} %`;
      if (f.fallback === "no_history") return null;
      if (f.fallback) {
        line.replaceChildren(h("span", { class: "muted" }, "No forecast yet: connectors free now stay so, as far as anyone knows"));
      } else {
        line.replaceChildren(
          h("strong", {}, `Likely free in 30 min: ${percent(at(30))}`),
          h("span", { class: "muted" }, ` (15 min: ${percent(at(15))}, 1 h: ${percent(at(60))})`));
      }
    } catch (error) {
      return null;  // the page works without it
    }
    return line;
  }

  async function slots(station) {
    const box = h("div", { class: "slots" }, h("span", { class: "muted" }, "Loading today's free slots…"));
    const now = new Date();
    const end = new Date(now); end.setHours(23, 59, 0, 0);
    if (end - now < MINUTES * 60000) end.setTime(now.getTime() + 6 * 3600000);
    try {
      const free = await api.availability(station.id, now, end);
      const starts = [];
      for (const c of free.connectors) {
        for (const interval of c.free) {
          let at = new Date(Math.ceil(Math.max(Date.parse(interval.start), now.getTime() + 10 * 60000) / 1800000) * 1800000);
          while (at.getTime() + MINUTES * 60000 <= Date.parse(interval.end) && starts.length < 40) {
            starts.push({ connector: c.connector_id, at: new Date(at) });
            at = new Date(at.getTime() + 3600000);
          }
        }
      }
      starts.sort((a, b) => a.at - b.at);
      const seen = new Set();
      const unique = starts.filter((s) => !seen.has(s.at.getTime()) && seen.add(s.at.getTime())).slice(0, 12);
      box.replaceChildren(...(unique.length ? unique.map((s) =>
        h("button", { type: "button", class: "secondary", onclick: () => book(station.id, null, s.at.toISOString()), "aria-label": `Book ${clock(s.at.toISOString())} for ${MINUTES} minutes` },
          clock(s.at.toISOString()))) : [h("span", { class: "muted" }, "No free slot left today.")]));
    } catch (error) {
      box.replaceChildren(h("span", { class: "muted" }, errorText(error)));
    }
    return box;
  }

  const offers = offersFor(site);
  const live = site.stations.filter((s) => s.online);
  show(
    h("h2", {}, site.name),
    h("p", { class: "muted" }, [site.address, site.city, site.postal_code].filter(Boolean).join(", ")),
    offers.map((o) => h("p", { class: "offer" }, `Offer: ${o.title}`)),
    message,
    await Promise.all(site.stations.map(async (station) => h("section", { "aria-label": `Charger ${station.id}` },
      h("h3", {}, `Charger ${station.id}`, station.online ? "" : " (no live status)"),
      await outlook(station),
      h("ul", { class: "list" }, evses(station).map((plugs) => connectorRow(station, plugs)))))),
    live.length ? h("h3", {}, `Pick a slot today (${MINUTES} min)`) : null,
    await Promise.all(live.map(async (station) => h("div", { class: "card" },
      h("p", { class: "small muted" }, `Charger ${station.id}, any free connector`), await slots(station)))),
    h("a", { class: "button secondary wide", href: "#/find" }, "Back to the list"),
  );

  const stop = api.live.on("station.status", (change) => {
    const row = document.querySelector(`[data-station="${CSS.escape(change.station_id)}"][data-evse="${change.evse_id}"] .live-status`);
    if (row) row.replaceChildren(statusBadge(change.status));
  });
  return () => { stop(); topics.forEach((t) => api.live.unfollow(t)); };
}
