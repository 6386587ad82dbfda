// My reservations: every state, updated live; a failed one offers its alternatives, each
// bookable with one tap; cancel.
import * as api from "../api.js";
import { clock, distance, errorText, h, show, toast, when } from "../ui.js";

const WORDS = {
  scheduled: ["Booked", "The charger will hold it shortly before the start."],
  held: ["Held for you", "The charger keeps this connector for you: plug in and start."],
  fulfilled: ["Used", "You charged with this booking."],
  expired: ["Expired", "Nobody started charging in time, so the connector was freed."],
  cancelled: ["Cancelled", ""],
  failed: ["Failed", "The charger could not hold it."],
};
const LIVE = new Set(["scheduled", "held"]);

export async function reservationsScreen(focusId) {
  const list = h("div", { "aria-live": "polite" });
  const message = h("p", { role: "status" });

  async function load() {
    try {
      const page = await api.reservations();
      list.replaceChildren(...(page.items.length ? page.items.map(item) : [h("p", { class: "card" }, "No bookings yet. Find a charger and reserve it.")]));
      if (focusId) document.getElementById(`r-${focusId}`)?.scrollIntoView({ block: "nearest" });
    } catch (error) {
      message.textContent = errorText(error);
    }
  }

  async function cancel(r) {
    try {
      await api.cancelReservation(r.id);
      toast("Booking cancelled");
      load();
    } catch (error) { message.textContent = errorText(error); }
  }

  async function bookAlternative(r, alternative) {
    try {
      const minutes = Math.max(10, Math.round((Date.parse(r.end) - Date.parse(r.start)) / 60000));
      const made = await api.book({ station_id: alternative.station_id, minutes, vehicle_id: r.vehicle_id || undefined });
      toast(`Booked at ${alternative.name}`);
      focusId = String(made.id);
      location.hash = `#/reservations/${made.id}`;
      load();
    } catch (error) { message.textContent = errorText(error); }
  }

  function item(r) {
    const [title, explain] = WORDS[r.status] || [r.status, ""];
    const last = r.history[r.history.length - 1];
    return h("article", { class: "card", id: `r-${r.id}`, "aria-current": String(r.id) === focusId ? "true" : false },
      h("div", { class: "row" },
        h("h3", { class: "grow" }, `Charger ${r.station_id}`),
        h("span", { class: `status ${r.status === "held" ? "available" : r.status === "failed" ? "fault" : r.status === "scheduled" ? "reserved" : "unknown"}` }, title)),
      h("p", {}, `Connector ${r.connector_id}${r.any_connector ? " (any free one)" : ""} · ${when(r.start)} – ${clock(r.end)}`),
      explain ? h("p", { class: "muted small" }, explain) : null,
      last && last.reason ? h("p", { class: "small" }, last.reason) : null,
      r.status === "held" ? h("p", { class: "small" }, `Start charging before ${clock(r.no_show_at)} or it is released.`) : null,
      r.status === "held" ? h("a", { class: "button", href: `#/charge/${encodeURIComponent(r.station_id)}/${r.connector_id}` }, "Start charging") : null,
      r.alternatives.length ? h("div", {},
        h("p", {}, "Free nearby instead:"),
        h("div", { class: "slots" }, r.alternatives.map((a) => h("button", { type: "button", onclick: () => bookAlternative(r, a) },
          `Book ${a.name} (${distance(a.distance_m)})`)))) : null,
      r.history.length > 1 ? h("details", {}, h("summary", {}, "What happened"),
        h("ul", { class: "history" }, r.history.map((step) => h("li", {}, `${clock(step.at)} ${step.change || step.status}: ${step.reason}`)))) : null,
      LIVE.has(r.status) ? h("button", { type: "button", class: "secondary", onclick: () => cancel(r) }, "Cancel booking") : null);
  }

  const stop = api.live.on("reservation.updated", () => load());
  show(h("h2", {}, "My bookings"), message, list);
  await load();
  return stop;
}
