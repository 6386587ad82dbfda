// Printable QR labels, one per EVSE: each opens the driver app on that connector. The codes are
// the server's (GET …/evses/{evse}/qr.svg): the console draws none of its own.
import * as api from "./api.js";
import { h, problem } from "./dom.js";

/** An SVG answer as a data: image, which the strict CSP allows (a blob: one it would not). */
function svgImage(svg) {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

function label(stationId, evse) {
  const name = `${stationId} · EVSE ${evse}`;
  const link = h("span", { class: "link" }, "…");
  const code = h("div", { class: "code" }, h("p", { class: "quiet" }, "Loading the QR code…"));
  const figure = h("figure", { class: "label", "data-evse": evse, "aria-busy": "true" },
    code, h("figcaption", {}, h("strong", {}, name), h("br"), link));
  Promise.all([api.qrSvg(stationId, evse), api.qrTarget(stationId, evse)])
    .then(([svg, target]) => {
      code.replaceChildren(h("img", { src: svgImage(svg), alt: `QR code for ${name}: opens ${target.url}`, width: 174, height: 174 }));
      link.textContent = target.url;
    })
    .catch((error) => code.replaceChildren(problem(error)))
    .finally(() => figure.removeAttribute("aria-busy"));
  return figure;
}

/** A section with one label per EVSE and a button that prints them alone. */
export function labels(station) {
  const evses = [...new Set(station.connectors.map((c) => c.evse_id))].sort((a, b) => a - b);
  const print = h("button", { type: "button" }, "Print the labels");
  print.addEventListener("click", () => {
    document.body.classList.add("printing-labels");
    window.print();
    document.body.classList.remove("printing-labels");
  });
  return h("section", { class: "panel labels", id: "labels", "aria-labelledby": "labels-title" },
    h("h2", { id: "labels-title" }, "QR labels for drivers"),
    h("p", { class: "hint" }, "Stick one on each charging point: a driver's phone camera opens the app on that connector."),
    evses.length ? print : h("p", { class: "quiet" }, "No EVSE yet: the labels appear once the station reports its connectors."),
    h("div", { class: "label-sheet" }, evses.map((evse) => label(station.id, evse))));
}
