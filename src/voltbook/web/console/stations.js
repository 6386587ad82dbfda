// Stations: search and filter the whole network; register a station (its password shown once).
import * as api from "./api.js";
import { field, h, number, problem, select } from "./dom.js";
import { CATEGORIES, category } from "./status.js";

const PAGE = 100;

export async function render(root) {
  const search = h("input", { type: "search", name: "q", placeholder: "id, site or city" });
  const status = select("status", [["", "Any status"], ...Object.entries(CATEGORIES).map(([k, c]) => [k, c.label])], "");
  const connectedOnly = h("input", { type: "checkbox", id: "connected-only", checked: true });
  const result = h("p", { role: "status", class: "result" });
  const tbody = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter stations" },
    field("Search", search), field("Status", status),
    h("div", { class: "check" }, connectedOnly, h("label", { for: "connected-only" }, "Only stations that have connected")));
  root.append(
    h("h1", {}, "Stations"),
    filters,
    result,
    h("table", { class: "list", id: "stations-table" },
      h("caption", { class: "visually-hidden" }, "Stations"),
      h("thead", {}, h("tr", {}, ["Station", "Site", "City", "Status", "Connectors"].map((t) => h("th", { scope: "col" }, t)))),
      tbody),
    more,
    registerForm(),
  );

  let places = [];
  let shown = PAGE;
  function draw() {
    const q = search.value.trim().toLowerCase();
    const wanted = status.value;
    const matches = places.filter((p) => {
      const kind = category(p.online, p.connectors);
      if (connectedOnly.checked && kind === "never") return false;
      if (wanted && kind !== wanted) return false;
      return !q || [p.id, p.name, p.city].some((v) => v && v.toLowerCase().includes(q));
    });
    result.textContent = `${number(matches.length)} station${matches.length === 1 ? "" : "s"} found`;
    tbody.replaceChildren(...matches.slice(0, shown).map((p) => {
      const kind = category(p.online, p.connectors);
      return h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/stations/${encodeURIComponent(p.id)}` }, p.id)),
        h("td", {}, p.name || "—"), h("td", {}, p.city || "—"),
        h("td", {}, h("span", { class: `dot dot-${kind}`, "aria-hidden": "true" }), CATEGORIES[kind].label),
        h("td", {}, summary(p.connectors)));
    }));
    more.hidden = matches.length <= shown;
  }
  search.addEventListener("input", () => { shown = PAGE; draw(); });
  status.addEventListener("change", () => { shown = PAGE; draw(); });
  connectedOnly.addEventListener("change", () => { shown = PAGE; draw(); });
  filters.addEventListener("submit", (event) => event.preventDefault());
  more.addEventListener("click", () => { shown += PAGE; draw(); });
  try {
    places = (await api.network()).items;
    draw();
  } catch (error) {
    result.replaceChildren(problem(error));
  }
  search.focus();
}

function summary(statuses) {
  const counted = new Map();
  for (const s of statuses) counted.set(s, (counted.get(s) || 0) + 1);
  return [...counted.entries()].map(([s, n]) => `${n} ${s}`).join(", ") || "none";
}

function registerForm() {
  const id = h("input", { name: "id", required: true, maxlength: 48, pattern: "[A-Za-z0-9._:\\-]+", autocomplete: "off" });
  const siteId = h("input", { name: "site_id", type: "number", min: 1, inputmode: "numeric" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel", "aria-labelledby": "register-title" },
    h("h2", { id: "register-title" }, "Register a station"),
    field("Station id (its OCPP identity)", id),
    field("Site number", siteId, "Optional: the imported site it stands at."),
    h("button", { type: "submit" }, "Register"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await api.addStation({ id: id.value.trim(), site_id: siteId.value ? Number(siteId.value) : null });
      out.replaceChildren(passwordBox(made));
      form.reset();
    } catch (error) {
      out.replaceChildren(problem(error));
    }
  });
  return form;
}

/** A station's new password, shown once: the operator copies it into the charger. */
export function passwordBox(made) {
  return h("div", { class: "secret", role: "status" },
    h("p", {}, `Station ${made.station_id} is registered. Its password, shown only this once:`),
    h("p", {}, h("code", { class: "password" }, made.password)),
    h("p", { class: "hint" }, "Set it in the charger (HTTP Basic, user name = station id). voltbook keeps only a hash."));
}
