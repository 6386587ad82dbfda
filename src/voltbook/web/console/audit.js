// Audit: every operator action (who, what, when, on what, and the station's answer), newest first.
import * as api from "./api.js";
import * as store from "./store.js";
import { clear, field, h, number, problem, when } from "./dom.js";

export async function render(root) {
  const mine = h("input", { type: "checkbox", name: "mine" });
  const station = h("input", { type: "search", name: "station", autocomplete: "off", maxlength: 48 });
  const since = h("input", { type: "date", name: "since" });
  const until = h("input", { type: "date", name: "until" });
  const result = h("p", { role: "status", class: "result" });
  const body = h("tbody");
  const table = h("table", { class: "list", id: "audit" },
    h("thead", {}, h("tr", {}, ["When", "Operator", "Action", "Target", "HTTP", "Outcome", "Details"].map((t) => h("th", { scope: "col" }, t)))),
    body);
  const more = h("button", { type: "button", hidden: true }, "Load older entries");
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter the audit log" },
    h("div", { class: "field check" }, mine, h("label", { for: (mine.id = "audit-mine") }, "Only my actions")),
    field("Station", station), field("From (day)", since), field("Until (day, included)", until),
    h("button", { type: "submit" }, "Show"));
  root.append(h("h1", {}, "Audit log"),
    h("p", { class: "hint" }, "Every operator action, newest first. Passwords and other secrets appear as ***."),
    filters, result, table, more);

  let cursor = null;
  let shown = 0;

  function query() {
    const q = {};
    const me = store.get().account;
    if (mine.checked && me) q.actor_id = me.id;
    if (station.value.trim()) q.station_id = station.value.trim();
    if (since.value) q.since = new Date(`${since.value}T00:00`).toISOString();
    if (until.value) {
      const end = new Date(`${until.value}T00:00`);
      end.setDate(end.getDate() + 1);
      q.until = end.toISOString();
    }
    return q;
  }

  function row(e) {
    const you = store.get().account?.id === e.actor_id ? " (you)" : "";
    const details = h("details", {},
      h("summary", {}, "Request and answer"),
      h("pre", { class: "payload", tabindex: "0", "aria-label": `Request of entry ${e.id}` }, e.request ?? "(no body)"),
      h("pre", { class: "payload", tabindex: "0", "aria-label": `Answer of entry ${e.id}` }, e.answer ?? "(no body)"));
    return h("tr", { "data-id": e.id },
      h("td", {}, when(e.at)), h("td", {}, `${e.actor_email ?? e.actor_id}${you}`, h("br"), h("span", { class: "quiet" }, e.actor_role)),
      h("td", {}, h("code", {}, e.action)),
      h("td", {}, e.station_id ? h("a", { href: `#/stations/${encodeURIComponent(e.station_id)}` }, e.station_id) : (e.target || "—")),
      h("td", {}, String(e.status_code)), h("td", { class: "outcome" }, e.outcome ?? "—"), h("td", {}, details));
  }

  async function load(fresh) {
    try {
      if (fresh) {
        cursor = null;
        shown = 0;
        body.replaceChildren();
      }
      const page = await api.audit({ ...query(), cursor });
      body.append(...page.items.map(row));
      shown += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      result.textContent = `${number(shown)} entr${shown === 1 ? "y" : "ies"} shown${cursor ? "; older ones follow" : ""}`;
    } catch (error) {
      clear(result, problem(error));
    }
  }

  filters.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more.addEventListener("click", () => load(false));
  await load(true);
}
