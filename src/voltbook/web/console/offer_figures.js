// One offer's figures over time (sent, opened, redeemed; idle minutes filled) by day or hour,
// charted with uPlot from /api/v1/operator/offers/{id}/figures.
import * as api from "./api.js";
import { h, number, problem, select } from "./dom.js";
import { timeChart } from "./charts.js";

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const MAX_RANGE = 92 * DAY;

/** The range to chart: the offer's life so far (by hour: its last two days of it). */
function range(offer, bucket) {
  const end = Math.min(Date.now(), Date.parse(offer.ended_at || offer.ends_at)) + 1000;
  const begun = Date.parse(offer.starts_at);
  const span = bucket === "hour" ? 2 * DAY : MAX_RANGE;
  const start = Math.max(begun, end - span);
  return { from: new Date(Math.min(start, end - HOUR)).toISOString(), to: new Date(end).toISOString() };
}

export function overTime(offer) {
  const life = Math.min(Date.now(), Date.parse(offer.ends_at)) - Date.parse(offer.starts_at);
  const bucket = select("bucket", [["day", "By day"], ["hour", "By hour (last two days)"]], life > 2 * DAY ? "day" : "hour");
  const label = h("label", { for: "offer-bucket" }, "Show");
  bucket.id = "offer-bucket";
  const body = h("div", { id: "offer-charts" }, h("p", { class: "quiet" }, "Loading…"));
  const section = h("section", { class: "panel", id: "offer-over-time", "aria-labelledby": "over-time-title" },
    h("h2", { id: "over-time-title" }, "Over time"), h("div", { class: "check" }, label, bucket), body);
  let drawn = [];
  let left = false;

  async function draw() {
    let found;
    try {
      found = await api.offerFigures(offer.id, { ...range(offer, bucket.value), bucket: bucket.value });
    } catch (error) {
      body.replaceChildren(problem(error));
      return;
    }
    if (left) return;
    for (const chart of drawn) chart.destroy();
    const items = found.items;
    const times = items.map((b) => b.bucket_start);
    const total = (key) => items.reduce((n, b) => n + b[key], 0);
    const width = Math.max(320, Math.min(560, (section.clientWidth - 80) / 2));
    drawn = [
      timeChart({ id: "chart-offer-counts", title: "Deliveries", unit: "count", times, width,
        lines: [
          { label: "Sent", values: items.map((b) => b.sent), digits: 0 },
          { label: "Opened", values: items.map((b) => b.opened), digits: 0 },
          { label: "Redeemed", values: items.map((b) => b.redeemed), digits: 0 },
        ],
        summary: `${number(total("sent"))} sent, ${number(total("opened"))} opened, ${number(total("redeemed"))} redeemed in the range` }),
      timeChart({ id: "chart-offer-idle", title: "Idle minutes filled", unit: "min", times, width,
        lines: [{ label: "Idle minutes filled", values: items.map((b) => b.idle_minutes_filled), digits: 1 }],
        summary: `${number(total("idle_minutes_filled"), 1)} minutes of chargers' idle time filled by redemptions` }),
    ];
    body.replaceChildren(
      h("p", { class: "hint" }, `Each delivery counts when it was sent, opened and redeemed; ${bucket.value === "day" ? "days" : "hours"} begin in ${found.time_zone}.`),
      h("div", { class: "charts-row" }, ...drawn.map((c) => c.figure)));
  }

  bucket.addEventListener("change", draw);
  draw();
  return {
    section,
    destroy() {
      left = true;
      for (const chart of drawn) chart.destroy();
    },
  };
}
