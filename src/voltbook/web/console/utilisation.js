// Utilisation of one station, or one of its connectors: the share of time in each of the seven
// charger states per hour of day and per day (tables, and hour by hour on a uPlot chart), and
// the station's status history, one row per change. From /api/v1/operator/utilisation (hour
// buckets, summed here into hours of the day and days in the operator's time zone) and
// /api/v1/operator/utilisation/status-history.
import * as api from "./api.js";
import { field, h, number, problem, select, when } from "./dom.js";
import { timeChart } from "./charts.js";
import { STATES } from "./status.js";

const HOUR = 3600 * 1000;
const RANGES = [["1", "The last 24 hours"], ["7", "The last 7 days"], ["30", "The last 30 days"]];
const HISTORY_ROWS = 500;
const KEYS = Object.keys(STATES);
const day = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric" });

function duration(seconds) {
  if (seconds < 60) return `${number(seconds)} s`;
  if (seconds < 3600) return `${number(seconds / 60)} min`;
  return `${number(seconds / 3600, 1)} h`;
}

function share(seconds, total) {
  return total ? `${number((seconds / total) * 100, 1)} %` : "—";
}

/** The local calendar day of a moment, as YYYY-MM-DD. */
function dayKey(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function hourName(hour) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(hour)}:00–${pad((hour + 1) % 24)}:00`;
}

function connectorName(evse, connector) {
  if (evse === 0) return "The station";
  return connector === null || connector === undefined ? `EVSE ${evse}` : `EVSE ${evse} · connector ${connector}`;
}

/** Seconds per state summed by a key of each hour bucket, in key order. */
function sumBy(items, keyOf) {
  const rows = new Map();
  for (const item of items) {
    const key = keyOf(new Date(item.bucket_start));
    const row = rows.get(key) || Object.fromEntries(KEYS.map((k) => [k, 0]));
    for (const k of KEYS) row[k] += item.seconds[k] || 0;
    rows.set(key, row);
  }
  return [...rows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function sharesTable({ id, caption, heading, rows, name, attribute }) {
  return h("table", { class: "list shares", id },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, heading),
      ...KEYS.map((k) => h("th", { scope: "col", class: "num", "data-state": k }, STATES[k].label)),
      h("th", { scope: "col", class: "num" }, "Time observed"))),
    h("tbody", {}, rows.map(([key, seconds]) => {
      const total = KEYS.reduce((n, k) => n + seconds[k], 0);
      return h("tr", { [attribute]: key },
        h("th", { scope: "row" }, name(key)),
        ...KEYS.map((k) => h("td", { class: "num", "data-state": k }, share(seconds[k], total))),
        h("td", { class: "num" }, duration(total)));
    })));
}

export async function render(root, [stationId]) {
  const station = h("input", { type: "search", name: "station_id", autocomplete: "off", maxlength: 48, required: true, value: stationId || "" });
  const connector = select("connector", [["", "All connectors"]], "");
  const range = select("days", RANGES, "1");
  const form = h("form", { class: "filters", "aria-label": "What to show" },
    field("Station id", station), field("Connector", connector), field("Period", range),
    h("button", { type: "submit" }, "Show utilisation"));
  const result = h("p", { role: "status", class: "result" });
  const body = h("div", { id: "utilisation-body" });
  root.append(h("h1", {}, "Utilisation"),
    h("p", { class: "hint spaced" }, "The share of a station's time in each state, by hour of the day and by day, from its status history; hours and days are in your time zone. Hours with no observed time are left out."),
    form, result, body);
  let chart = null;
  let left = false;
  let loaded = null; // the station whose connectors fill the list

  async function connectors(id) {
    if (loaded === id) return;
    const found = await api.station(id);
    const seen = new Set();
    const options = [["", "All connectors"]];
    for (const c of found.connectors) {
      const value = `${c.evse_id}:${c.connector_id}`;
      if (seen.has(value)) continue;
      seen.add(value);
      options.push([value, connectorName(c.evse_id, c.connector_id)]);
    }
    connector.replaceChildren(...options.map(([value, text]) => h("option", { value }, text)));
    loaded = id;
  }

  async function load() {
    const id = station.value.trim();
    if (!id) return;
    const to = new Date();
    const from = new Date(to.getTime() - Number(range.value) * 24 * HOUR);
    const span = { station_id: id, from: from.toISOString(), to: to.toISOString() };
    let usage;
    let history;
    try {
      await connectors(id);
      [usage, history] = await Promise.all([
        api.utilisation({ ...span, bucket: "hour" }),
        api.statusHistory({ ...span, limit: HISTORY_ROWS }),
      ]);
    } catch (error) {
      result.replaceChildren(problem(error));
      body.replaceChildren();
      return;
    }
    if (left) return;
    const [evse, plug] = connector.value ? connector.value.split(":").map(Number) : [null, null];
    // A 1.6 station names its connectors by EVSE alone (no connector id).
    const mine = (row) => evse === null || (row.evse_id === evse && (row.connector_id ?? plug) === plug);
    const items = usage.items.filter(mine);
    const changes = history.items.filter((c) => c.evse_id === 0 || mine(c));
    const what = `${id}${evse === null ? "" : `, ${connectorName(evse, plug)}`}`;
    const period = RANGES.find(([v]) => v === range.value)[1].toLowerCase();
    draw(items, changes, what, period, { from, to });
  }

  /** Every hour of the range, oldest first (the chart's times; unobserved ones stay empty). */
  function hoursOf({ from, to }) {
    const times = [];
    for (let t = Math.floor(from.getTime() / HOUR) * HOUR; t < to.getTime(); t += HOUR) {
      times.push(new Date(t).toISOString());
    }
    return times;
  }

  function draw(items, changes, what, period, span) {
    if (chart) chart.destroy();
    chart = null;
    const overall = sumBy(items, () => "all")[0]?.[1];
    const total = overall ? KEYS.reduce((n, k) => n + overall[k], 0) : 0;
    result.textContent = total
      ? `${what}: ${duration(total)} observed over ${period}; ${KEYS.filter((k) => overall[k]).map((k) => `${STATES[k].label.toLowerCase()} ${share(overall[k], total)}`).join(", ")}.`
      : `${what}: no time observed over ${period}.`;
    const parts = [];
    if (total) {
      const byHour = sumBy(items, (d) => d.getHours());
      const byDay = sumBy(items, dayKey);
      const observed = new Map(sumBy(items, (d) => d.toISOString()));
      const times = hoursOf(span);
      const width = Math.max(480, Math.min(1100, body.clientWidth - 40));
      chart = timeChart({
        id: "chart-utilisation", title: "Time in each state, hour by hour", unit: "%", width,
        times,
        lines: KEYS.map((k) => ({
          label: STATES[k].label, colour: STATES[k].colour, digits: 1,
          values: times.map((t) => {
            const s = observed.get(t);
            const all = s ? KEYS.reduce((n, key) => n + s[key], 0) : 0;
            return all ? (s[k] / all) * 100 : null;
          }),
        })),
        summary: `the share of each observed hour ${what} spent in each state`,
      });
      parts.push(
        h("section", { class: "panel", "aria-labelledby": "by-hour-title" },
          h("h2", { id: "by-hour-title" }, "By hour of the day"),
          sharesTable({ id: "utilisation-by-hour", caption: `Share of time in each state by hour of the day, ${what}, ${period}`,
            heading: "Hour", rows: byHour, name: hourName, attribute: "data-hour" })),
        h("section", { class: "panel", "aria-labelledby": "by-day-title" },
          h("h2", { id: "by-day-title" }, "By day"),
          sharesTable({ id: "utilisation-by-day", caption: `Share of time in each state by day, ${what}, ${period}`,
            heading: "Day", rows: byDay, name: (key) => day.format(new Date(`${key}T12:00:00`)), attribute: "data-day" })),
        h("section", { class: "panel", "aria-labelledby": "hourly-title" },
          h("h2", { id: "hourly-title" }, "Hour by hour"), chart.figure));
    }
    parts.push(h("section", { class: "panel", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title" }, "Status history"),
      h("p", { class: "hint" }, changes.length >= HISTORY_ROWS
        ? `The newest ${number(HISTORY_ROWS)} changes of the period.`
        : "Every change of the period, newest first; “The station” rows are the station going offline and coming back."),
      h("table", { class: "list", id: "status-history" },
        h("caption", {}, `Status history of ${what}, ${period}: one row per change, newest first`),
        h("thead", {}, h("tr", {}, ["Since", "Connector", "State", "Station's word"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, changes.length
          ? changes.map((c) => h("tr", { "data-at": c.at, "data-evse": c.evse_id },
            h("th", { scope: "row" }, when(c.at)),
            h("td", {}, connectorName(c.evse_id, c.connector_id)),
            h("td", { "data-state": c.state }, h("span", { class: "dot", "data-colour": STATES[c.state].colour }), STATES[c.state].label),
            h("td", {}, c.status || "—")))
          : h("tr", {}, h("td", { colspan: 4 }, "No change in this period."))))));
    body.replaceChildren(...parts);
    for (const dot of body.querySelectorAll(".dot[data-colour]")) dot.style.background = dot.dataset.colour;
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
  return () => {
    left = true;
    if (chart) chart.destroy();
  };
}
