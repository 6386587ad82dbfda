// Charging: the charger's QR code opens #/charge/{station}/{evse} (or the driver types its
// EVSE ID); then plug in → starting → charging from what the charger reports, live energy,
// power and state of charge, stop; and my sessions.
import * as api from "../api.js";
import { errorText, field, h, kw, kwh, minutes, show, toast, when } from "../ui.js";

const STEPS = [["plug_in", "Plug in"], ["starting", "Starting"], ["charging", "Charging"], ["finished", "Done"]];
const SAYS = {
  requested: "Asking the charger…",
  plug_in: "Plug the cable into your car: charging starts by itself.",
  starting: "Cable in: the charger is starting.",
  charging: "Charging.",
  stopping: "Stopping…",
  finished: "Charging finished.",
  failed: "Charging did not start.",
};

export async function chargeScreen(stationId, evseId) {
  let timer = null;
  let key = api.newKey(); // one per start: a double tap sends the same key and starts once
  const panel = h("div", { "aria-live": "polite" });
  const sessions = h("div");

  async function history() {
    try {
      const page = await api.charges();
      sessions.replaceChildren(h("h3", {}, "My sessions"), page.items.length
        ? h("ul", { class: "list" }, page.items.map((c) => h("li", { class: "card" },
          h("p", {}, h("strong", {}, c.site_name || `Charger ${c.station_id}`), ` · connector ${c.evse_id}`),
          h("p", { class: "small" }, `${when(c.created_at)} · ${kwh(c.energy_wh)} · ${minutes(c.duration_s)} · ${SAYS[c.state] ? c.state.replace("_", " ") : c.state}`),
          c.reason && c.state === "failed" ? h("p", { class: "small error" }, c.reason) : null,
          c.state === "charging" || c.state === "plug_in" || c.state === "starting"
            ? h("a", { href: `#/charge/${encodeURIComponent(c.station_id)}/${c.evse_id}` }, "Open") : null)))
        : h("p", { class: "muted" }, "No sessions yet."));
      return page.items;
    } catch (error) {
      sessions.replaceChildren(h("p", { class: "error" }, errorText(error)));
      return [];
    }
  }

  function steps(state) {
    const at = STEPS.findIndex(([name]) => name === (state === "stopping" ? "charging" : state));
    return h("ol", { class: "steps", "aria-label": "Progress" }, STEPS.map(([name, label], i) =>
      h("li", { class: i < at ? "done" : i === at ? "now" : "", "aria-current": i === at ? "step" : false }, label)));
  }

  function render(c) {
    const running = c.state === "charging" || c.state === "stopping";
    panel.replaceChildren(h("section", { class: "card", "aria-label": "Your charge" },
      c.state === "failed" ? null : steps(c.state),
      h("p", { class: c.state === "failed" ? "error" : "", id: "charge-state", dataset: { state: c.state } },
        SAYS[c.state] || c.state, c.reason && c.state === "failed" ? ` Because ${c.reason}.` : ""),
      running || c.state === "finished" ? h("dl", { class: "figures" },
        h("div", {}, h("dt", {}, "Energy"), h("dd", { id: "energy" }, kwh(c.energy_wh))),
        h("div", {}, h("dt", {}, "Power"), h("dd", {}, kw(c.power_w))),
        h("div", {}, h("dt", {}, "Battery"), h("dd", {}, c.soc_percent == null ? "–" : `${Math.round(c.soc_percent)}%`))) : null,
      running || c.state === "finished" ? h("p", { class: "small muted" }, `Charging for ${minutes(c.duration_s)}`) : null,
      c.state === "charging" ? h("button", { type: "button", class: "danger wide", onclick: () => stop(c) }, "Stop charging") : null,
      c.state === "failed" ? h("button", { type: "button", class: "wide", onclick: () => { key = api.newKey(); start(); } }, "Try again") : null));
  }

  async function follow(id) {
    clearTimeout(timer);
    try {
      const c = await api.charge(id);
      render(c);
      if (c.state === "finished") { toast(`Charging finished: ${kwh(c.energy_wh)}`); history(); return; }
      if (c.state === "failed") { history(); return; }
    } catch (error) {
      panel.prepend(h("p", { class: "error" }, errorText(error)));
    }
    timer = setTimeout(() => follow(id), 1500);
  }

  async function start() {
    panel.replaceChildren(h("p", { class: "card" }, SAYS.requested));
    try {
      const c = await api.startCharge(stationId, Number(evseId), key);
      render(c);
      follow(c.id);
      history();
    } catch (error) {
      panel.replaceChildren(h("p", { class: "card error" }, errorText(error)),
        h("button", { type: "button", class: "secondary", onclick: start }, "Try again"));
    }
  }

  async function stop(c) {
    try { render(await api.stopCharge(c.id)); } catch (error) { toast(errorText(error)); }
  }

  if (stationId && evseId) {
    show(h("h2", {}, "Charge"),
      h("p", {}, `Charger ${stationId}, connector ${evseId}`),
      panel,
      sessions);
    const items = await history();
    const running = items.find((c) => c.station_id === stationId && String(c.evse_id) === String(evseId) && !["finished", "failed"].includes(c.state));
    if (running) {
      render(running);
      follow(running.id);
    } else {
      panel.replaceChildren(h("div", { class: "card" },
        h("p", {}, "Plug in (before or after) and tap start. Your app token pays; nothing else to show."),
        h("button", { type: "button", class: "wide", id: "start", onclick: (event) => { event.currentTarget.disabled = true; start(); } }, "Start charging")));
    }
  } else {
    const station = h("input", { id: "evse-station", autocomplete: "off", required: true, placeholder: "e.g. BOS-0001" });
    const evse = h("input", { id: "evse-number", type: "number", min: 1, inputmode: "numeric", required: true, value: "1" });
    show(h("h2", {}, "Charge"),
      h("p", {}, "Scan the QR code on the charger with your camera, or type what its label says."),
      h("form", { class: "card", onsubmit: (event) => { event.preventDefault(); location.hash = `#/charge/${encodeURIComponent(station.value.trim())}/${Number(evse.value)}`; } },
        field("Charger ID", station), field("Connector number", evse), h("button", { type: "submit", class: "wide" }, "Continue")),
      panel,
      sessions);
    const items = await history();
    const running = items.find((c) => !["finished", "failed"].includes(c.state));
    if (running) { render(running); follow(running.id); }
  }
  return () => clearTimeout(timer);
}
