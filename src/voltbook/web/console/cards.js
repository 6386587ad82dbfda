// Cards: RFID cards and app tokens — list, add, block, unblock, expire, renew, assign — and
// which stations hold them in their authorization lists.
import * as api from "./api.js";
import { announce, confirmDialog, field, h, number, problem, select, when } from "./dom.js";

export async function render(root) {
  const standing = select("standing", [["", "Any"], ["Accepted", "Accepted"], ["Blocked", "Blocked"], ["Expired", "Expired"]], "");
  const kind = select("kind", [["", "Any"], ["rfid", "RFID card"], ["app", "App token"]], "");
  const prefix = h("input", { type: "search", name: "prefix", autocomplete: "off" });
  const driver = h("input", { type: "search", name: "driver_id", autocomplete: "off" });
  const result = h("p", { role: "status", class: "result" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter cards" },
    field("Standing", standing), field("Kind", kind), field("Starts with", prefix), field("Driver id", driver),
    h("button", { type: "submit" }, "Filter"));
  root.append(h("h1", {}, "Cards and app tokens"), addForm(), filters, result,
    h("table", { class: "list", id: "cards" },
      h("caption", { class: "visually-hidden" }, "Cards and app tokens"),
      h("thead", {}, h("tr", {}, ["Token", "Kind", "Standing", "Driver", "Expires", "Added", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      body),
    more, await ruleForm());

  let items = [];
  let cursor = null;
  async function load(reset = true) {
    try {
      const page = await api.idTokens({
        standing: standing.value, kind: kind.value, prefix: prefix.value.trim(),
        driver_id: driver.value.trim(), cursor: reset ? null : cursor,
      });
      items = reset ? page.items : items.concat(page.items);
      cursor = page.next_cursor;
      draw();
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  }

  function draw() {
    result.textContent = `${number(items.length)} shown${cursor ? " (more to load)" : ""}`;
    more.hidden = !cursor;
    body.replaceChildren(...items.map(row));
  }

  async function act(token, action, words) {
    try {
      const changed = await action();
      items = items.map((t) => (t.token === changed.token ? changed : t));
      draw();
      announce(`${token}: ${words}`);
      body.querySelector(`tr[data-token="${CSS.escape(token)}"] button`)?.focus();
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  }

  function row(t) {
    const buttons = [];
    const button = (label, onClick, danger = false) => {
      const b = h("button", { type: "button", class: danger ? "danger" : null, "aria-label": `${label} ${t.token}` }, label);
      b.addEventListener("click", onClick);
      buttons.push(b);
    };
    if (t.blocked) button("Unblock", () => act(t.token, () => api.unblockIdToken(t.token), "unblocked"));
    else button("Block", async () => {
      const ok = await confirmDialog(`Block ${t.token}?`,
        "It is refused everywhere from now on, and stations are told to forget it from their authorization caches.", "Block");
      if (ok) act(t.token, () => api.blockIdToken(t.token), "blocked");
    }, true);
    if (t.expires_at) button("Renew", () => act(t.token, () => api.renewIdToken(t.token), "renewed"));
    else button("Expire now", () => act(t.token, () => api.expireIdToken(t.token), "expired"));
    const assignee = h("input", { name: "driver_id", autocomplete: "off", size: 14, value: t.driver_id || "", placeholder: "driver id", "aria-label": `Driver id for ${t.token}` });
    const assign = h("form", { class: "assign", "aria-label": `Assign ${t.token}` }, assignee,
      h("button", { type: "submit" }, "Assign"));
    assign.addEventListener("submit", (event) => {
      event.preventDefault();
      act(t.token, () => api.assignIdToken(t.token, assignee.value.trim() || null), "assigned");
    });
    return h("tr", { "data-token": t.token },
      h("th", { scope: "row" }, h("code", {}, t.token)), h("td", {}, t.kind === "rfid" ? "RFID card" : "App token"),
      h("td", {}, h("span", { class: `badge ${t.standing.toLowerCase()}` }, t.standing)),
      h("td", {}, t.driver_id || "—"), h("td", {}, when(t.expires_at)), h("td", {}, when(t.created_at)),
      h("td", { class: "actions" }, buttons, assign));
  }

  function addForm() {
    const token = h("input", { name: "token", required: true, maxlength: 36, autocomplete: "off", pattern: "[A-Za-z0-9._:\\-]+" });
    const newKind = select("kind", [["rfid", "RFID card"], ["app", "App token"]], "rfid");
    const owner = h("input", { name: "driver_id", autocomplete: "off" });
    const expires = h("input", { name: "expires_at", type: "datetime-local" });
    const out = h("div", { "aria-live": "polite" });
    const form = h("form", { class: "panel inline", id: "add-card", "aria-labelledby": "add-card-title" },
      h("h2", { id: "add-card-title" }, "Add a card"),
      field("Card number (id tag)", token), field("Kind", newKind), field("Driver id", owner, "Optional."),
      field("Expires", expires, "Optional."), h("button", { type: "submit" }, "Add card"), out);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const made = await api.addIdToken({
          token: token.value.trim(), kind: newKind.value, driver_id: owner.value.trim() || null,
          expires_at: expires.value ? new Date(expires.value).toISOString() : null,
        });
        out.replaceChildren(h("p", { class: "ok" }, `Card ${made.token} added: ${made.standing}.`));
        form.reset();
        await load();
      } catch (error) {
        out.replaceChildren(problem(error));
      }
    });
    return form;
  }

  filters.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  more.addEventListener("click", () => load(false));
  await load();
}

async function ruleForm() {
  const mode = select("mode", [["all", "Every station holds every card"], ["sites", "Only stations at these sites"], ["none", "No station holds a list"]], "all");
  const siteIds = h("input", { name: "site_ids", autocomplete: "off" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel", id: "list-rule", "aria-labelledby": "rule-title" },
    h("h2", { id: "rule-title" }, "Authorization lists"),
    h("p", { class: "hint" }, "Stations keep a local list of cards so they can accept them while offline."),
    field("Which stations hold the list", mode), field("Site numbers", siteIds, "Comma-separated; for “only stations at these sites”."),
    h("button", { type: "submit" }, "Save rule"), out);
  try {
    const rule = await api.listRule();
    mode.value = rule.mode;
    siteIds.value = rule.site_ids.join(", ");
  } catch (error) {
    out.replaceChildren(problem(error));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const ids = siteIds.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
      await api.setListRule({ mode: mode.value, site_ids: ids });
      out.replaceChildren(h("p", { class: "ok", role: "status" }, "Saved: online stations follow now."));
    } catch (error) {
      out.replaceChildren(problem(error));
    }
  });
  return form;
}
