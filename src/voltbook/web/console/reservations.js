// Reservations: every booking with filters, each one's history, and cancel.
import * as api from "./api.js";
import { announce, confirmDialog, field, h, number, problem, select, when } from "./dom.js";

const STATUSES = ["scheduled", "held", "fulfilled", "expired", "cancelled", "failed"];
const LIVE = new Set(["scheduled", "held"]);

export async function render(root) {
  const status = select("status", [["", "Any status"], ...STATUSES.map((s) => [s, s])], "");
  const station = h("input", { type: "search", name: "station", autocomplete: "off" });
  const day = h("input", { type: "date", name: "day" });
  const result = h("p", { role: "status", class: "result" });
  const list = h("div", { id: "reservations" });
  const more = h("button", { type: "button", hidden: true }, "Load older bookings");
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter reservations" },
    field("Status", status), field("Station", station), field("Starting on", day));
  root.append(h("h1", {}, "Reservations"), filters, result, list, more);

  let items = [];
  let cursor = null;

  function draw() {
    const q = station.value.trim().toLowerCase();
    const matches = items.filter((r) => (!status.value || r.status === status.value)
      && (!q || r.station_id.toLowerCase().includes(q))
      && (!day.value || localDay(r.start) === day.value));
    result.textContent = `${number(matches.length)} of ${number(items.length)} loaded bookings shown`;
    list.replaceChildren(...matches.map(row));
    more.hidden = !cursor;
  }

  function row(r) {
    const cancel = LIVE.has(r.status) ? h("button", { type: "button", class: "danger" }, "Cancel booking") : null;
    cancel?.addEventListener("click", async () => {
      const ok = await confirmDialog(`Cancel booking ${r.id}?`,
        `The driver is told, and station ${r.station_id} is asked to release connector ${r.connector_id}.`, "Cancel booking");
      if (!ok) return;
      try {
        const done = await api.cancelReservation(r.id);
        items = items.map((x) => (x.id === done.id ? done : x));
        announce(`Booking ${r.id} cancelled`);
        draw();
      } catch (error) {
        box.append(problem(error));
      }
    });
    const box = h("details", { class: "booking", "data-id": r.id },
      h("summary", {},
        h("span", { class: `badge ${r.status}` }, r.status), ` #${r.id} · ${r.station_id} connector ${r.any_connector ? "any" : r.connector_id} · ${when(r.start)} – ${when(r.end)}`),
      h("dl", { class: "facts" },
        ...[["Created", when(r.created_at)], ["No-show after", when(r.no_show_at)], ["Id tag", r.id_tag], ["Vehicle", r.vehicle_id || "—"]]
          .map(([dt, dd]) => h("div", {}, h("dt", {}, dt), h("dd", {}, dd)))),
      h("table", { class: "list" },
        h("caption", {}, "History"),
        h("thead", {}, h("tr", {}, ["When", "Status", "Change", "Where", "Why"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, r.history.map((e) => h("tr", {}, h("td", {}, when(e.at)), h("td", {}, e.status), h("td", {}, e.change || "—"),
          h("td", {}, e.station_id ? `${e.station_id}${e.connector_id ? ` / ${e.connector_id}` : ""}` : "—"), h("td", {}, e.reason))))),
      r.alternatives.length ? h("p", {}, `Alternatives offered: ${r.alternatives.map((a) => `${a.name} (${a.station_id}, ${number(a.distance_m)} m)`).join("; ")}`) : null,
      cancel);
    return box;
  }

  async function load() {
    try {
      const page = await api.reservations(cursor);
      items = items.concat(page.items);
      cursor = page.next_cursor;
      draw();
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  }

  for (const control of [status, station, day]) control.addEventListener("input", draw);
  filters.addEventListener("submit", (event) => event.preventDefault());
  more.addEventListener("click", load);
  await load();
}

function localDay(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
