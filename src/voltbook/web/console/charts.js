// Time charts drawn with uPlot (vendored, pinned). Each chart is a figure with a caption that
// says in words what it shows, and the figures as a table for those who cannot see it.
import uPlot from "/vendor/uplot-1.6.32/uPlot.esm.js";
import { h, number, when } from "./dom.js";

const COLOURS = ["#1a56b8", "#b0202a", "#17692f", "#8a4f00", "#6b2fa0"];

/**
 * A figure charting `lines` against time. `times` are ISO texts; each line is
 * { label, values, digits, colour? } (values null where there is no reading).
 * Returns { figure, destroy }.
 */
export function timeChart({ id, title, unit, times, lines, summary, width = 640, height = 220 }) {
  const plotBox = h("div", { class: "chart-plot", "aria-hidden": "true" });
  const table = h("table", { class: "list chart-data" },
    h("caption", {}, `${title}: the figures`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"),
      ...lines.map((l) => h("th", { scope: "col", class: "num" }, `${l.label} (${unit})`)))),
    h("tbody", {}, times.map((t, i) => h("tr", {}, h("th", { scope: "row" }, when(t)),
      ...lines.map((l) => h("td", { class: "num" }, number(l.values[i], l.digits ?? 1)))))));
  const figure = h("figure", { class: "chart", id },
    h("figcaption", {}, h("strong", {}, title), ` — ${summary}`),
    plotBox,
    h("details", {}, h("summary", {}, `${title} as a table`), table));
  let plot = null;
  if (times.length) {
    const data = [times.map((t) => Date.parse(t) / 1000), ...lines.map((l) => l.values)];
    plot = new uPlot({
      width, height,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...lines.map((l, i) => ({
        label: l.label, stroke: l.colour || COLOURS[i % COLOURS.length], width: 2, spanGaps: true,
        points: { show: times.length < 60 },
        value: (u, v) => (v === null || v === undefined ? "—" : `${number(v, l.digits ?? 1)} ${unit}`),
      }))],
    }, data, plotBox);
  }
  return { figure, destroy: () => plot && plot.destroy() };
}
