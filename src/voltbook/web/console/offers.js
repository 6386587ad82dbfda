// Offers: the list, and one offer's form with its area drawn on the map, trigger, limits, figures.
import * as api from "./api.js";
import { announce, confirmDialog, field, h, number, problem, select, when } from "./dom.js";
import { createMap, L } from "./map.js";
import { overTime } from "./offer_figures.js";

const TRIGGERS = [["area_entry", "A driver enters the area"], ["idle_station", "A charger in the area sits idle"], ["low_soc", "A driver's battery runs low in the area"]];
const KINDS = [["percent_off", "Percent off"], ["price_per_kwh", "Price per kWh"]];

export async function render(root, [which]) {
  if (which === undefined) return list(root);
  return edit(root, which === "new" ? null : Number(which));
}

async function list(root) {
  const body = h("tbody");
  root.append(h("h1", {}, "Offers"), h("p", {}, h("a", { href: "#/offers/new", class: "button" }, "New offer")),
    h("table", { class: "list", id: "offers" },
      h("caption", { class: "visually-hidden" }, "Offers, newest first"),
      h("thead", {}, h("tr", {}, ["Offer", "Status", "Trigger", "Value", "Area", "Ends"].map((t) => h("th", { scope: "col" }, t)))),
      body));
  try {
    const page = await api.offers();
    body.replaceChildren(...(page.items.length ? page.items.map((o) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `#/offers/${o.id}` }, o.title)),
      h("td", {}, h("span", { class: `badge ${o.status}` }, o.status)),
      h("td", {}, TRIGGERS.find(([k]) => k === o.trigger)[1]),
      h("td", {}, value(o)),
      h("td", {}, `${number(o.area.radius_m)} m around ${o.area.lat.toFixed(4)}, ${o.area.lon.toFixed(4)}`),
      h("td", {}, when(o.ends_at))))
      : [h("tr", {}, h("td", { colspan: 6 }, "No offer yet."))]));
  } catch (error) {
    root.append(problem(error));
  }
}

function value(o) {
  return o.kind === "percent_off" ? `${number(o.value, 1)} % off` : `${number(o.value, 2)} per kWh`;
}

function localInput(iso) {
  const d = new Date(iso);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

async function edit(root, offerId) {
  let offer = null;
  if (offerId !== null) {
    try {
      offer = await api.offer(offerId);
    } catch (error) {
      root.append(problem(error));
      return undefined;
    }
  }
  const now = new Date();
  const v = (name, fallback) => (offer && offer[name] !== null && offer[name] !== undefined ? offer[name] : fallback);
  const title = h("input", { name: "title", required: true, maxlength: 100, value: v("title", "") });
  const kind = select("kind", KINDS, v("kind", "percent_off"));
  const amount = h("input", { name: "value", type: "number", step: "0.01", min: 0, required: true, value: v("value", 20) });
  const trigger = select("trigger", TRIGGERS, v("trigger", "area_entry"));
  const idle = h("input", { name: "idle_minutes", type: "number", min: 1, value: v("idle_minutes", "") });
  const soc = h("input", { name: "soc_below", type: "number", min: 1, max: 100, value: v("soc_below", "") });
  const lat = h("input", { name: "lat", type: "number", step: "any", required: true, value: offer ? offer.area.lat : "" });
  const lon = h("input", { name: "lon", type: "number", step: "any", required: true, value: offer ? offer.area.lon : "" });
  const radius = h("input", { name: "radius_m", type: "number", min: 1000, max: 50000, step: 100, required: true, value: offer ? offer.area.radius_m : 1500 });
  const starts = h("input", { name: "starts_at", type: "datetime-local", value: offer ? localInput(offer.starts_at) : "" });
  const ends = h("input", { name: "ends_at", type: "datetime-local", required: true,
    value: localInput(v("ends_at", new Date(now.getTime() + 7 * 86400000).toISOString())) });
  const perDriver = h("input", { name: "max_per_driver", type: "number", min: 1, max: 1000, required: true, value: v("max_per_driver", 1) });
  const maxRedemptions = h("input", { name: "max_redemptions", type: "number", min: 1, value: v("max_redemptions", "") });
  const stationIds = h("input", { name: "station_ids", autocomplete: "off", value: offer ? offer.station_ids.join(", ") : "" });
  const out = h("div", { "aria-live": "polite" });
  const mapBox = h("div", { id: "offer-map" });
  const areaSummary = h("p", { id: "area-summary", role: "status" }, "No area yet: click the map or type its centre.");
  const editable = !offer || offer.status === "active" || offer.status === "scheduled";
  const save = h("button", { type: "submit", disabled: !editable }, offer ? "Save changes" : "Create offer");
  const form = h("form", { class: "offer-form", id: "offer-form", "aria-labelledby": "offer-title" },
    h("h1", { id: "offer-title" }, offer ? `Offer: ${offer.title}` : "New offer"),
    offer ? h("p", {}, h("span", { class: `badge ${offer.status}` }, offer.status), ` · created ${when(offer.created_at)}`) : null,
    h("div", { class: "columns" },
      h("fieldset", {}, h("legend", {}, "What"), field("Title (drivers see it)", title), field("Kind", kind), field("Value", amount, "Percent off, or the price per kWh.")),
      h("fieldset", {}, h("legend", {}, "When it is sent"), field("Trigger", trigger),
        field("Idle minutes", idle, "For an idle charger: minutes Available before the offer goes out."),
        field("Battery below (%)", soc, "For a low battery: the state of charge that triggers it."))),
    h("fieldset", { class: "area" }, h("legend", {}, "Area"),
      h("p", { class: "hint", id: "area-hint" }, "Click the map to set the centre, or type it; the radius sets the circle."),
      h("div", { class: "row" }, field("Centre latitude", lat), field("Centre longitude", lon), field("Radius (metres)", radius, "1,000 to 50,000.")),
      mapBox, areaSummary),
    h("div", { class: "columns" },
      h("fieldset", {}, h("legend", {}, "Limits"), field("Starts", starts, "Empty: now."), field("Ends", ends),
        field("Times one driver may get it", perDriver), field("Redemptions in all", maxRedemptions, "Empty: no limit.")),
      h("fieldset", {}, h("legend", {}, "Chargers"), field("Station ids", stationIds, "Comma-separated; empty: every station in the area."))),
    save, out);
  root.append(h("p", {}, h("a", { href: "#/offers" }, "← All offers")), form);
  const timeline = offer ? overTime(offer) : null;
  if (offer) root.append(figures(offer), timeline.section, ending(offer));

  const map = await createMap(mapBox, { label: "Offer area: click to set its centre", zoom: 13,
    center: offer ? [offer.area.lat, offer.area.lon] : undefined });
  mapBox.setAttribute("aria-describedby", "area-hint");
  // Without tiles the stations are the only landmarks: draw the connected ones.
  const context = L.layerGroup().addTo(map);
  let closed = false;
  api.network().then(({ items }) => {
    if (closed) return;
    const points = items.filter((p) => p.lat !== null && p.connectors.some((s) => s !== "Unknown"));
    for (const p of points) {
      L.circleMarker([p.lat, p.lon], { radius: 4, color: "#4b4f58", weight: 1, fillColor: "#1c7c3c", fillOpacity: 0.9, interactive: false })
        .addTo(context);
    }
    if (!circle && points.length) map.fitBounds(points.map((p) => [p.lat, p.lon]), { padding: [30, 30], maxZoom: 15, animate: false });
  }).catch(() => {});
  let circle = null;
  function drawArea() {
    const la = Number(lat.value);
    const lo = Number(lon.value);
    if (!lat.value || !lon.value || !Number.isFinite(la) || !Number.isFinite(lo)) return;
    const r = Number(radius.value) || 0;
    areaSummary.textContent = `Area: ${number(r)} m around ${la.toFixed(5)}, ${lo.toFixed(5)}`;
    if (circle) circle.setLatLng([la, lo]).setRadius(r);
    else circle = L.circle([la, lo], { radius: r, color: "#1f5fbf", weight: 2, fillOpacity: 0.15 }).addTo(map);
  }
  map.on("click", (event) => {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    drawArea();
    announce(`Centre set to ${lat.value}, ${lon.value}`);
  });
  for (const control of [lat, lon, radius]) control.addEventListener("input", drawArea);
  drawArea();
  if (circle) map.fitBounds(circle.getBounds(), { padding: [20, 20] });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      title: title.value.trim(), kind: kind.value, value: Number(amount.value), trigger: trigger.value,
      area: { lat: Number(lat.value), lon: Number(lon.value), radius_m: Number(radius.value) },
      idle_minutes: idle.value ? Number(idle.value) : null,
      soc_below: soc.value ? Number(soc.value) : null,
      starts_at: starts.value ? new Date(starts.value).toISOString() : null,
      ends_at: new Date(ends.value).toISOString(),
      max_per_driver: Number(perDriver.value),
      max_redemptions: maxRedemptions.value ? Number(maxRedemptions.value) : null,
      station_ids: stationIds.value.trim() ? stationIds.value.split(",").map((s) => s.trim()).filter(Boolean) : null,
    };
    if (!offer && body.starts_at === null) delete body.starts_at;
    if (offer && body.starts_at === null) delete body.starts_at;
    try {
      const saved = offer ? await api.updateOffer(offer.id, body) : await api.createOffer(body);
      announce(offer ? "Offer saved" : "Offer created");
      if (offer) out.replaceChildren(h("p", { class: "ok", role: "status" }, "Saved."));
      else location.hash = `#/offers/${saved.id}`;
    } catch (error) {
      out.replaceChildren(problem(error));
    }
  });
  return () => {
    closed = true;
    if (timeline) timeline.destroy();
    map.remove();
  };
}

function figures(offer) {
  const s = offer.stats || { sent: 0, opened: 0, redeemed: 0, idle_minutes_filled: 0 };
  const top = Math.max(1, s.sent);
  const bar = (label, n, id) => h("div", { class: "bar-row" },
    h("dt", {}, label), h("dd", { id }, h("span", { class: "bar", "data-share": Math.round((100 * n) / top) }), number(n)));
  const box = h("section", { class: "panel", "aria-labelledby": "figures-title" },
    h("h2", { id: "figures-title" }, "What this offer did"),
    h("dl", { class: "bars" }, bar("Sent", s.sent, "fig-sent"), bar("Opened", s.opened, "fig-opened"), bar("Redeemed", s.redeemed, "fig-redeemed")),
    h("p", {}, `Idle minutes filled: ${number(s.idle_minutes_filled, 1)}`));
  for (const span of box.querySelectorAll(".bar")) span.style.width = `${span.dataset.share}%`;
  return box;
}

function ending(offer) {
  if (offer.status !== "active" && offer.status !== "scheduled") return h("p", {}, `Ended ${when(offer.ended_at || offer.ends_at)}.`);
  const button = h("button", { type: "button", class: "danger" }, "End this offer now");
  const out = h("div", { "aria-live": "polite" });
  button.addEventListener("click", async () => {
    if (!(await confirmDialog("End this offer now?", "It is sent no more and no longer redeems.", "End offer"))) return;
    try {
      await api.endOffer(offer.id);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      out.replaceChildren(problem(error));
    }
  });
  return h("section", { class: "panel" }, h("h2", {}, "End"), button, out);
}
