// My vehicle: add vehicles, report the state of charge, and the chargers within reach.
import * as api from "../api.js";
import { store, update } from "../store.js";
import { distance, errorText, field, h, show, toast } from "../ui.js";

const PLUGS = ["CCS1", "J1772", "NACS", "CHAdeMO", "Type 2", "CCS2"];

export async function vehicleScreen() {
  const message = h("p", { role: "status" });
  const list = h("div");
  const advice = h("div", { "aria-live": "polite" });

  async function load() {
    const page = await api.vehicles();
    const vehicles = page.items;
    const chosen = vehicles.find((v) => v.id === store.vehicleId) || vehicles[0];
    update({ vehicles, vehicleId: chosen ? chosen.id : null });
    list.replaceChildren(...vehicles.map(card));
    if (chosen) recommend(chosen);
  }

  function card(v) {
    const soc = h("input", { type: "number", min: 0, max: 100, step: 1, inputmode: "numeric", id: `soc-${v.id}`, value: v.soc_percent ?? "" });
    return h("form", { class: "card", onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api.reportVehicle(v.id, { soc_percent: Number(soc.value) });
        api.live.answer({ type: "vehicle", vehicle_id: v.id, soc_percent: Number(soc.value) });
        toast("Battery level saved");
        load();
      } catch (error) { message.textContent = errorText(error); }
    } },
    h("h3", {}, v.name, v.id === store.vehicleId ? " (used for suggestions)" : ""),
    h("p", { class: "small muted" }, `${v.battery_kwh} kWh · ${v.standard_names.join(", ")} · AC ${v.max_ac_kw ?? "–"} kW · DC ${v.max_dc_kw ?? "–"} kW`),
    v.range_km != null ? h("p", { class: "small" }, `About ${Math.round(v.range_km)} km left`) : null,
    field("Battery level now (%)", soc),
    h("div", { class: "row" },
      h("button", { type: "submit" }, "Save level"),
      v.id === store.vehicleId ? null : h("button", { type: "button", class: "secondary", onclick: () => { update({ vehicleId: v.id }); load(); } }, "Use for suggestions")));
  }

  async function recommend(v) {
    advice.replaceChildren(h("p", { class: "muted" }, "Looking for chargers within reach…"));
    try {
      const found = await api.recommendations(v.id, store.position || store.place);
      const seen = new Set(); // the best connector of each site
      const items = (found.items || []).filter((r) => !seen.has(r.site.id) && seen.add(r.site.id));
      advice.replaceChildren(h("h3", {}, "Chargers within reach"), items.length
        ? h("ul", { class: "list" }, items.map((r) => h("li", {},
          h("a", { class: "station available", href: `#/station/${r.site.id}` },
            h("strong", {}, r.site.name), h("br"),
            h("span", { class: "small" }, [distance(r.distance_m), `connector ${r.connector_id} (${r.standard_name})`, r.power_kw ? `${r.power_kw} kW for this car` : "",
              ...r.offers.map((o) => `Offer: ${o.title}`)].filter(Boolean).join(" · "))))))
        : h("p", { class: "muted" }, "No free charger for this vehicle within reach right now."));
    } catch (error) {
      advice.replaceChildren(h("p", { class: "muted" }, errorText(error)));
    }
  }

  const name = h("input", { id: "v-name", required: true, maxlength: 60, placeholder: "e.g. My Model 3" });
  const battery = h("input", { id: "v-battery", type: "number", min: 1, max: 300, step: "0.1", required: true, inputmode: "decimal" });
  const ac = h("input", { id: "v-ac", type: "number", min: 1, max: 50, step: "0.1", inputmode: "decimal" });
  const dc = h("input", { id: "v-dc", type: "number", min: 1, max: 500, step: 1, inputmode: "numeric" });
  const plugs = PLUGS.map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", value: p, name: "plug" }), p));

  async function add(event) {
    event.preventDefault();
    const standards = [...event.currentTarget.querySelectorAll("input[name=plug]:checked")].map((i) => i.value);
    if (!standards.length) { message.textContent = "Tick at least one plug your car takes."; return; }
    try {
      const made = await api.addVehicle({ name: name.value, battery_kwh: Number(battery.value), standards,
        max_ac_kw: ac.value ? Number(ac.value) : null, max_dc_kw: dc.value ? Number(dc.value) : null });
      update({ vehicleId: made.id });
      event.target.reset();
      toast("Vehicle added");
      load();
    } catch (error) { message.textContent = errorText(error); }
  }

  show(
    h("h2", {}, "My vehicle"),
    message,
    list,
    advice,
    h("details", { class: "card" }, h("summary", {}, "Add a vehicle"),
      h("form", { onsubmit: add },
        field("Name", name), field("Battery size (kWh)", battery),
        h("fieldset", {}, h("legend", {}, "Plugs it takes"), plugs),
        field("Max AC power (kW)", ac), field("Max DC power (kW)", dc),
        h("button", { type: "submit", class: "wide" }, "Add vehicle"))),
  );
  try { await load(); } catch (error) { message.textContent = errorText(error); }
}
