// Printable QR labels, one per EVSE: each opens the driver app on that connector.
import qrcode from "/vendor/qrcode-generator-2.0.4/qrcode.mjs";
import { h } from "./dom.js";

/** The driver app's address for one EVSE (the app's #/charge/{station}/{evse} screen). */
export function evseLink(stationId, evseId) {
  return `${location.origin}/#/charge/${encodeURIComponent(stationId)}/${evseId}`;
}

function image(text) {
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  return code.createDataURL(6, 4); // a GIF as a data: URL (the CSP allows data: images)
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
    print,
    h("div", { class: "label-sheet" }, evses.map((evse) => {
      const link = evseLink(station.id, evse);
      return h("figure", { class: "label" },
        h("img", { src: image(link), alt: `QR code for ${station.id}, EVSE ${evse}`, width: 174, height: 174 }),
        h("figcaption", {}, h("strong", {}, `${station.id} · EVSE ${evse}`), h("br"), h("span", { class: "link" }, link)));
    })));
}
