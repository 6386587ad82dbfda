// One station: connectors live, every command with the station's own answer, configuration.
import * as api from "./api.js";
import * as store from "./store.js";
import { announce, clear, confirmDialog, field, h, problem, select, when } from "./dom.js";
import { CATEGORIES, busy, category } from "./status.js";
import { passwordBox } from "./stations.js";
import { labels } from "./labels.js";

export async function render(root, [stationId]) {
  const heading = h("h1", {}, `Station ${stationId}`);
  const facts = h("dl", { class: "facts" });
  const connectorsBody = h("tbody");
  const answer = h("section", { class: "panel answer", id: "answer", "aria-labelledby": "answer-title", "aria-live": "polite" },
    h("h2", { id: "answer-title" }, "Station's answer"), h("p", { class: "quiet" }, "Send a command: the station's own answer shows here."));
  const config = h("section", { class: "panel", "aria-labelledby": "config-title" });
  const authList = h("section", { class: "panel", id: "auth-list", "aria-labelledby": "auth-list-title" });
  const qr = h("div", { id: "labels-box" });
  const journal = h("section", { class: "panel", id: "journal", "aria-labelledby": "journal-title" });
  root.append(
    h("p", {}, h("a", { href: "#/stations" }, "← All stations")),
    heading, facts,
    h("p", {}, h("a", { href: `#/utilisation/${encodeURIComponent(stationId)}` }, "Utilisation and status history")),
    h("section", { class: "panel", "aria-labelledby": "connectors-title" },
      h("h2", { id: "connectors-title" }, "Connectors"),
      h("table", { class: "list", id: "connectors" },
        h("thead", {}, h("tr", {}, ["EVSE", "Connector", "Standard", "Power", "Status", "Since", "Error"].map((t) => h("th", { scope: "col" }, t)))),
        connectorsBody)),
    h("div", { class: "columns" }, commands(), answer),
    config,
    journal,
    authList,
    qr,
  );

  let station = null;
  let place = null;
  let labelled = null;
  async function load() {
    try {
      station = await api.station(stationId);
      if (station.site_id && place === null) {
        place = await api.site(station.site_id).catch(() => ({ name: `site ${station.site_id}` }));
      }
      drawStation();
      const evses = [...new Set(station.connectors.map((c) => c.evse_id))].join(",");
      if (evses !== labelled) { // one label per EVSE: drawn again only when the EVSEs change
        labelled = evses;
        qr.replaceChildren(labels(station));
      }
    } catch (error) {
      facts.replaceChildren(problem(error));
    }
  }

  function drawStation() {
    const kind = category(station.online, station.connectors.map((c) => c.status));
    facts.replaceChildren(
      ...[["Status", h("span", {}, h("span", { class: `dot dot-${kind}`, "aria-hidden": "true" }), CATEGORIES[kind].label)],
        ["Connection", station.online ? "online" : "offline"],
        ["Last heard from", when(station.last_seen)],
        ["OCPP", station.ocpp_version || "—"],
        ["Vendor / model", [station.vendor, station.model].filter(Boolean).join(" / ") || "—"],
        ["Firmware", station.firmware || "—"],
        ["Site", place ? [place.name, place.address, place.city].filter(Boolean).join(", ") : "—"]]
        .map(([dt, dd]) => h("div", {}, h("dt", {}, dt), h("dd", {}, dd))));
    connectorsBody.replaceChildren(...station.connectors.map((c) => h("tr", { "data-evse": c.evse_id },
      h("td", {}, c.evse_id), h("td", {}, c.connector_id), h("td", {}, c.standard_name || c.standard || "—"),
      h("td", {}, c.max_power_kw ? `${c.max_power_kw} kW ${c.power_type || ""}` : c.power_type || "—"),
      h("td", { class: "status" }, c.status), h("td", {}, when(c.status_since)), h("td", {}, c.error_code || "—"))));
  }

  function running(evseId) {
    if (!station) return [];
    return station.connectors.filter((c) => busy(c.status) && (!evseId || c.evse_id === evseId));
  }

  async function send(name, body, interrupts) {
    const at = interrupts === true ? running() : interrupts ? running(interrupts) : [];
    if (at.length) {
      const where = at.map((c) => `connector ${c.evse_id} (${c.status})`).join(", ");
      const ok = await confirmDialog(
        "This interrupts a running session",
        `A vehicle is charging or plugged in at ${where}. Sending this command will interrupt its session.`,
        "Send anyway",
      );
      if (!ok) return;
    }
    answer.replaceChildren(h("h2", { id: "answer-title" }, "Station's answer"), h("p", {}, `Sending ${name}…`));
    try {
      const out = await api.command(stationId, name, body);
      showAnswer(out);
      if (name === "get_configuration" || name === "get_base_report") drawConfiguration(out.response);
    } catch (error) {
      answer.replaceChildren(h("h2", { id: "answer-title" }, "Station's answer"), problem(error));
    }
    setTimeout(load, 1000);
    for (const wait of [1500, 4000]) setTimeout(drawJournal, wait); // written about once a second
  }

  function showAnswer(out) {
    answer.replaceChildren(
      h("h2", { id: "answer-title" }, "Station's answer"),
      h("p", { class: `verdict ${out.status === "Accepted" ? "ok" : "refused"}`, id: "answer-status" },
        `${out.action}: ${out.status ?? "answered"}`),
      // A long answer scrolls: focusable, so the keyboard scrolls it too.
      h("pre", { class: "payload", tabindex: "0", "aria-label": "The station's whole answer" }, JSON.stringify(out.response, null, 2)));
    announce(`${out.action}: ${out.status ?? "answered"}`);
  }

  function commands() {
    const evse = () => h("input", { type: "number", min: 1, name: "evse_id", inputmode: "numeric" });
    const section = h("section", { class: "panel commands", "aria-labelledby": "commands-title" },
      h("h2", { id: "commands-title" }, "Commands"));
    const form = (title, controls, label, onSubmit) => {
      const f = h("form", { class: "command", "aria-label": title }, h("h3", {}, title), controls, h("button", { type: "submit" }, label));
      f.addEventListener("submit", (event) => { event.preventDefault(); onSubmit(); });
      section.append(f);
    };
    const hard = select("hard", [["soft", "Soft (when idle)"], ["hard", "Hard (now)"]], "soft");
    form("Reset", field("Kind", hard), "Reset", () => send("reset", { hard: hard.value === "hard" }, true));
    const availEvse = evse();
    const operative = select("operative", [["false", "Out of service"], ["true", "In service"]], "false");
    form("Availability", [field("EVSE (empty: whole station)", availEvse), field("Set", operative)], "Change availability", () => {
      const id = availEvse.value ? Number(availEvse.value) : null;
      send("change_availability", { operative: operative.value === "true", evse_id: id }, operative.value === "false" ? (id || true) : 0);
    });
    const unlockEvse = evse();
    unlockEvse.required = true;
    form("Unlock connector", field("EVSE", unlockEvse), "Unlock", () =>
      send("unlock_connector", { evse_id: Number(unlockEvse.value) }, Number(unlockEvse.value)));
    const tag = h("input", { name: "id_tag", required: true, maxlength: 20, autocomplete: "off" });
    const startEvse = evse();
    form("Remote start", [field("Id tag", tag), field("EVSE (empty: any)", startEvse)], "Start", () =>
      send("remote_start", { id_tag: tag.value.trim(), evse_id: startEvse.value ? Number(startEvse.value) : null }, 0));
    const tx = h("input", { name: "transaction_id", required: true, maxlength: 36, autocomplete: "off" });
    form("Remote stop", field("Transaction id", tx), "Stop", () => send("remote_stop", { transaction_id: tx.value.trim() }, true));
    // The station's own holds, outside voltbook's bookings (which make theirs themselves).
    const holdId = h("input", { type: "number", min: 0, name: "reservation_id", required: true, inputmode: "numeric" });
    const holdTag = h("input", { name: "hold_id_tag", required: true, maxlength: 20, autocomplete: "off" });
    const holdUntil = h("input", { type: "datetime-local", name: "expires_at", required: true });
    const holdEvse = evse();
    form("Reserve now", [field("Reservation id (one no booking uses)", holdId), field("Id tag", holdTag),
      field("Until", holdUntil), field("EVSE (empty: any)", holdEvse)], "Reserve", () =>
      send("reserve_now", {
        reservation_id: Number(holdId.value), id_tag: holdTag.value.trim(),
        expires_at: new Date(holdUntil.value).toISOString(),
        evse_id: holdEvse.value ? Number(holdEvse.value) : null,
      }, 0));
    const cancelId = h("input", { type: "number", min: 0, name: "cancel_reservation_id", required: true, inputmode: "numeric" });
    form("Cancel reservation", field("Reservation id", cancelId), "Cancel reservation", () =>
      send("cancel_reservation", { reservation_id: Number(cancelId.value) }, 0));
    const message = select("message", ["StatusNotification", "BootNotification", "Heartbeat", "MeterValues"].map((m) => [m, m]), "StatusNotification");
    form("Trigger message", field("Message", message), "Trigger", () => send("trigger_message", { message: message.value }, 0));
    form("Authorization cache", [], "Clear cache", () => send("clear_cache", {}, 0));
    const password = h("div", { "aria-live": "polite" });
    const rotate = h("button", { type: "button" }, "Replace the password (locks the charger out)");
    rotate.addEventListener("click", async () => {
      const ok = await confirmDialog("Make a new station password?",
        "The old password stops working at once: the charger cannot reconnect until it is given the new one.", "Make a new password");
      if (!ok) return;
      try {
        password.replaceChildren(passwordBox(await api.newPassword(stationId)));
      } catch (error) {
        password.replaceChildren(problem(error));
      }
    });
    const over = h("button", { type: "button", id: "rotate-password" }, "Send the charger a new password");
    over.addEventListener("click", async () => {
      const ok = await confirmDialog("Send the charger a new password?",
        "The new password goes over the open connection. The old one keeps working until the charger connects with the new one.", "Send it");
      if (!ok) return;
      try {
        const out = await api.rotatePassword(stationId);
        showAnswer(out);
        password.replaceChildren(out.password
          ? h("div", { class: "secret", role: "status" },
            h("p", {}, "The charger took it. Its new password, shown only this once:"),
            h("p", {}, h("code", { class: "password" }, out.password)),
            h("p", { class: "hint" }, "The old password works until the charger connects with this one."))
          : h("p", { role: "status" }, `The charger answered ${out.status ?? "without a status"}: nothing changed.`));
      } catch (error) {
        password.replaceChildren(problem(error));
      }
    });
    section.append(h("div", { class: "command" }, h("h3", {}, "Credentials"), over, " ", rotate, password));
    return section;
  }

  function drawConfiguration(response) {
    const name = (c, v) => `${c?.name}${c?.evse ? ` (EVSE ${c.evse.id})` : ""}.${v?.name}`;
    const keys = response.configurationKey || (response.reportData
      ? response.reportData.map((r) => ({ key: name(r.component, r.variable), value: r.variableAttribute?.[0]?.value,
        readonly: r.variableAttribute?.[0]?.mutability === "ReadOnly" }))
      : (response.getVariableResult || []).map((v) => ({
        key: name(v.component, v.variable), value: v.attributeValue, readonly: false,
      })));
    const unknown = response.unknownKey || [];
    clear(config, h("h2", { id: "config-title" }, "Configuration"), configForms(),
      h("table", { class: "list", id: "configuration" },
        h("thead", {}, h("tr", {}, ["Key", "Value", "Read-only"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, keys.map((k) => h("tr", {}, h("th", { scope: "row" }, k.key), h("td", {}, k.value ?? "—"), h("td", {}, k.readonly ? "yes" : "no"))))),
      unknown.length ? h("p", {}, `Unknown keys: ${unknown.join(", ")}`) : null);
  }

  function configForms() {
    const keys = h("input", { name: "keys", autocomplete: "off" });
    const read = h("form", { class: "inline", "aria-label": "Read configuration" },
      field("Keys (comma-separated; empty: all, on OCPP 1.6)", keys), h("button", { type: "submit" }, "Read configuration"));
    read.addEventListener("submit", (event) => {
      event.preventDefault();
      send("get_configuration", { keys: keys.value.split(",").map((k) => k.trim()).filter(Boolean) }, 0);
    });
    const key = h("input", { name: "key", required: true, autocomplete: "off" });
    const value = h("input", { name: "value", autocomplete: "off" });
    const change = h("form", { class: "inline", "aria-label": "Change configuration" },
      field("Key (2.0.1: Component.Variable)", key), field("New value", value), h("button", { type: "submit" }, "Change"));
    change.addEventListener("submit", (event) => {
      event.preventDefault();
      send("change_configuration", { key: key.value.trim(), value: value.value }, 0);
    });
    const whole = h("button", { type: "button", id: "read-whole-configuration" }, "Read the whole configuration (2.0.1)");
    whole.addEventListener("click", () => send("get_base_report", { report_base: "FullInventory" }, 0));
    return h("div", { class: "config-forms" }, read, whole, change);
  }

  config.append(h("h2", { id: "config-title" }, "Configuration"), configForms());

  async function drawAuthList(report) {
    const title = h("h2", { id: "auth-list-title" }, "Authorization list");
    try {
      const state = await api.stationList(stationId);
      const sync = h("button", { type: "button" }, "Update the list now");
      const full = h("button", { type: "button" }, "Send the whole list");
      const run = async (whole) => {
        try {
          const done = await api.syncStationList(stationId, whole);
          drawAuthList(`${done.outcome}: ${done.messages} message${done.messages === 1 ? "" : "s"} sent`);
        } catch (error) {
          authList.append(problem(error));
        }
      };
      sync.addEventListener("click", () => run(false));
      full.addEventListener("click", () => run(true));
      clear(authList, title,
        h("dl", { class: "facts" }, ...[["Version", state.version ?? "unknown"], ["Cards", state.entries],
          ["Station's last answer", state.outcome], ["Sent", when(state.synced_at)]]
          .map(([dt, dd]) => h("div", {}, h("dt", {}, dt), h("dd", {}, String(dd))))),
        report ? h("p", { role: "status" }, report) : null, h("div", { class: "buttons" }, sync, " ", full));
    } catch (error) {
      clear(authList, title, problem(error));
    }
  }
  drawAuthList();

  async function drawJournal() {
    const title = h("h2", { id: "journal-title" }, "Message journal");
    const refresh = h("button", { type: "button" }, "Refresh");
    refresh.addEventListener("click", drawJournal);
    try {
      const { items } = await api.messages(stationId);
      // Frames are shown as plain text (textContent), never parsed as markup.
      clear(journal, title, h("p", { class: "hint" }, "The last OCPP messages, newest first; passwords appear as ***."), refresh,
        h("table", { class: "list journal" },
          h("thead", {}, h("tr", {}, ["Time", "Direction", "Action", "Message"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, items.map((m) => h("tr", {}, h("td", {}, when(m.at)), h("td", {}, m.direction === "in" ? "from station" : "to station"),
            h("td", {}, m.action || m.kind), h("td", {}, h("code", { class: "frame" }, m.text)))))));
    } catch (error) {
      clear(journal, title, problem(error));
    }
  }
  drawJournal();
  await load();
  const unfollow = api.follow(`station:${stationId}`);
  let last = store.get().lastStatusAt;
  const unsubscribe = store.subscribe((state) => {
    if (state.lastStatusAt === last || !station) return;
    last = state.lastStatusAt;
    let changed = false;
    for (const c of station.connectors) {
      const live = state.statuses.get(`${stationId}/${c.evse_id}/${c.connector_id}`)
        || state.statuses.get(`${stationId}/${c.evse_id}/1`);
      if (live && live.status !== c.status && (!c.status_since || live.at >= c.status_since)) {
        c.status = live.status;
        c.status_since = live.at;
        changed = true;
      }
    }
    if (changed) drawStation();
  });
  return () => {
    unfollow();
    unsubscribe();
  };
}
