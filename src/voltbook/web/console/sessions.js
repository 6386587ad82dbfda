// Charging sessions: the filtered list (server-side filters, newest first), a CSV export, one
// session's figures, and closing one the station never reported the end of. A driver is given
// by e-mail address (looked up as an account) or by account id.
import * as api from "./api.js";
import { announce, confirmDialog, field, h, number, problem, select, when } from "./dom.js";
import { timeChart } from "./charts.js";

const CHART_REFRESH_MS = 15000; // a running session's chart follows its readings

export async function render(root, [sessionId]) {
  return sessionId ? one(root, sessionId) : list(root);
}

/** The start of a local day (`after` days later) as the API's aware timestamp. */
function localMidnight(day, after = 0) {
  if (!day) return null;
  const start = new Date(`${day}T00:00:00`);
  start.setDate(start.getDate() + after);
  return start.toISOString();
}

function kwh(wh) {
  return `${number(wh / 1000, 2)} kWh`;
}

async function list(root) {
  const station = h("input", { type: "search", name: "station_id", autocomplete: "off", maxlength: 48 });
  const tag = h("input", { type: "search", name: "id_tag", autocomplete: "off", maxlength: 36 });
  const driver = h("input", { type: "search", name: "driver", autocomplete: "off", maxlength: 254 });
  const state = select("active", [["", "Running and ended"], ["true", "Running only"], ["false", "Ended only"]], "");
  const since = h("input", { type: "date", name: "since" });
  const until = h("input", { type: "date", name: "until" });
  const apply = h("button", { type: "submit" }, "Show sessions");
  const exportButton = h("button", { type: "button" }, "Export these sessions as CSV");
  const download = h("a", { hidden: true, download: "sessions.csv", href: "#" }, "sessions.csv");
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter sessions" },
    field("Station id (exact)", station), field("Card or token (id tag)", tag),
    field("Driver", driver, "E-mail address or account id"),
    field("State", state),
    field("Started on or after", since), field("Started on or before", until), apply);
  const result = h("p", { role: "status", class: "result" });
  const tbody = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Load older sessions");
  root.append(h("h1", {}, "Sessions"), filters,
    h("p", { class: "buttons" }, exportButton, " ", download), result,
    h("table", { class: "list", id: "sessions-table" },
      h("thead", {}, h("tr", {}, ["Session", "Station", "EVSE", "Id tag", "Started", "Ended", "Energy", "Stop reason"]
        .map((t) => h("th", { scope: "col" }, t)))), tbody), more);

  let items = [];
  let cursor = null;
  let shown = {}; // the filters of the list on screen: the export is of the same sessions
  const query = async () => ({
    station_id: station.value.trim(), id_tag: tag.value.trim(), driver_id: await driverId(driver.value.trim()),
    active: state.value, since: localMidnight(since.value), until: localMidnight(until.value, 1),
  });

  function draw() {
    result.textContent = items.length
      ? `${number(items.length)} session${items.length === 1 ? "" : "s"} shown, newest first${cursor ? " (older ones below)" : ""}`
      : "No session matches these filters.";
    tbody.replaceChildren(...items.map((s) => h("tr", { "data-id": s.id },
      h("th", { scope: "row" }, h("a", { href: `#/sessions/${s.id}` }, `#${s.id}`)),
      h("td", {}, h("a", { href: `#/stations/${encodeURIComponent(s.station_id)}` }, s.station_id)),
      h("td", {}, s.evse_id), h("td", {}, s.id_tag || "—"), h("td", {}, when(s.started_at)),
      h("td", {}, s.stopped_at ? when(s.stopped_at) : h("span", { class: "badge active" }, "running")),
      h("td", { class: "num" }, kwh(s.energy_wh)), h("td", {}, s.stop_reason || "—"))));
    more.hidden = !cursor;
  }

  async function load(next) {
    try {
      if (!next) shown = await query();
      const page = await api.sessions({ ...shown, cursor: next ? cursor : null });
      items = next ? [...items, ...page.items] : page.items;
      cursor = page.next_cursor;
      draw();
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  }

  filters.addEventListener("submit", (event) => { event.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  exportButton.addEventListener("click", async () => {
    // The export needs the operator's token, so it is fetched here and handed over as a file.
    try {
      const text = await api.sessionsCsv(shown);
      download.href = `data:text/csv;charset=utf-8,${encodeURIComponent(text)}`;
      download.hidden = false;
      download.click();
      announce("Sessions exported as sessions.csv");
    } catch (error) {
      result.replaceChildren(problem(error));
    }
  });
  await load(false);
}

/** The account id of a driver given by e-mail address (or the id itself). */
async function driverId(given) {
  if (!given.includes("@")) return given;
  try {
    return (await api.accountByEmail(given)).id;
  } catch (error) {
    if (error.status === 404) throw new Error(`No account has the e-mail address ${given}.`);
    throw error;
  }
}

async function one(root, sessionId) {
  const heading = h("h1", {}, `Session #${sessionId}`);
  const facts = h("dl", { class: "facts", id: "session-facts" });
  const closing = h("section", { class: "panel", id: "close-session", "aria-labelledby": "close-title" });
  const charts = h("section", { class: "panel", id: "session-charts", "aria-labelledby": "charts-title" },
    h("h2", { id: "charts-title" }, "Meter values"), h("p", { class: "quiet" }, "Loading…"));
  root.append(h("p", {}, h("a", { href: "#/sessions" }, "← All sessions")), heading, facts, charts, closing);
  let drawn = [];
  let timer = null;
  let left = false;

  async function drawCharts() {
    let series;
    try {
      series = await api.sessionMeterValues(sessionId);
    } catch (error) {
      if (error.status === 0 && drawn.length) return; // offline: the last charts stay
      charts.replaceChildren(h("h2", { id: "charts-title" }, "Meter values"), problem(error));
      return;
    }
    if (left) return;
    for (const chart of drawn) chart.destroy();
    drawn = meterCharts(series.points, Math.max(320, Math.min(560, (charts.clientWidth - 80) / 2)));
    charts.replaceChildren(h("h2", { id: "charts-title" }, "Meter values"),
      h("p", { class: "hint", id: "chart-summary" }, series.points.length > 1
        ? `${number(series.points.length)} readings from ${when(series.points[0].at)} to ${when(series.points.at(-1).at)}, as the station sent them (written within a second or two).`
        : "The station has sent no meter reading for this session yet."),
      h("div", { class: "charts-row" }, ...drawn.map((c) => c.figure)));
  }

  function draw(s) {
    const rows = [
      ["Station", h("a", { href: `#/stations/${encodeURIComponent(s.station_id)}` }, s.station_id)],
      ["EVSE / connector", `${s.evse_id} / ${s.connector_id ?? "—"}`],
      ["State", s.stopped_at ? "ended" : "running"],
      ["Id tag", s.id_tag || "—"], ["Transaction id (the station's)", s.transaction_id],
      ["Reservation", s.reservation_id ? `#${s.reservation_id}` : "—"],
      ["Started", when(s.started_at)], ["Ended", when(s.stopped_at)],
      ["Energy", kwh(s.energy_wh)], ["Power at the last reading", s.power_w === null ? "—" : `${number(s.power_w / 1000, 1)} kW`],
      ["Battery at the last reading", s.soc_percent === null ? "—" : `${number(s.soc_percent)} %`],
      ["Last reading", when(s.last_sample_at)], ["Stop reason", s.stop_reason || "—"],
    ];
    facts.replaceChildren(...rows.map(([dt, dd]) => h("div", {}, h("dt", {}, dt), h("dd", {}, dd))));
    closing.replaceChildren(h("h2", { id: "close-title" }, "Close this session"));
    closing.hidden = Boolean(s.stopped_at); // an ended session has nothing to close
    if (s.stopped_at) return;
    const reason = h("input", { name: "reason", required: true, maxlength: 32, pattern: "[A-Za-z0-9 ._:\\-]+", autocomplete: "off" });
    const form = h("form", { class: "inline", "aria-label": "Close this session" },
      field("Reason (kept as its stop reason)", reason, "Letters, digits, spaces and . _ : - (at most 32 characters)."),
      h("button", { type: "submit", class: "danger" }, "Close session"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const ok = await confirmDialog(`Close session #${s.id}?`,
        `Use this only when station ${s.station_id} never reported the end of this session: it is recorded as ended now, with the reason "${reason.value.trim()}".`,
        "Close session");
      if (!ok) return;
      try {
        draw(await api.closeSession(s.id, reason.value.trim()));
        announce(`Session ${s.id} closed`);
      } catch (error) {
        closing.append(problem(error));
      }
    });
    closing.append(h("p", { class: "hint" },
      "Only for a session stuck open (the station never reported its end). To end a charge in progress, use Remote stop on ",
      h("a", { href: `#/stations/${encodeURIComponent(s.station_id)}` }, `station ${s.station_id}`), "."), form);
  }

  try {
    const s = await api.session(sessionId);
    draw(s);
    await drawCharts();
    if (!s.stopped_at && !left) timer = setInterval(drawCharts, CHART_REFRESH_MS);
  } catch (error) {
    facts.replaceChildren(problem(error));
  }
  return () => {
    left = true;
    clearInterval(timer);
    for (const chart of drawn) chart.destroy();
  };
}

/** Energy, power and state of charge, each on its own chart (those the station sent). */
function meterCharts(points, width) {
  const times = points.map((p) => p.at);
  const pick = (key, scale) => points.map((p) => (p[key] === null ? null : p[key] / scale));
  const last = (values) => values.filter((v) => v !== null).at(-1);
  const made = [];
  const energy = pick("energy_wh", 1000);
  if (energy.some((v) => v !== null)) {
    made.push(timeChart({ id: "chart-energy", title: "Energy", unit: "kWh", times,
      lines: [{ label: "Energy delivered", values: energy, digits: 2 }],
      summary: `${number(last(energy), 2)} kWh delivered at the last reading`, width }));
  }
  const power = pick("power_w", 1000);
  if (power.some((v) => v !== null)) {
    const known = power.filter((v) => v !== null);
    made.push(timeChart({ id: "chart-power", title: "Power", unit: "kW", times,
      lines: [{ label: "Power", values: power, digits: 1 }],
      summary: `highest ${number(Math.max(...known), 1)} kW, last ${number(last(power), 1)} kW`, width }));
  }
  const soc = pick("soc_percent", 1);
  if (soc.some((v) => v !== null)) {
    const known = soc.filter((v) => v !== null);
    made.push(timeChart({ id: "chart-soc", title: "State of charge", unit: "%", times,
      lines: [{ label: "Battery", values: soc, digits: 1 }],
      summary: `from ${number(known[0], 1)} % to ${number(last(soc), 1)} %`, width }));
  }
  return made;
}
