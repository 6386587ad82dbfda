// Small helpers to build the DOM without HTML strings (no injection, no inline handlers).

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace the main area with a screen: its title gets focus, for screen readers. */
export function show(...content) {
  const main = document.getElementById("main");
  main.replaceChildren(...content.flat());
  const title = main.querySelector("h2");
  if (title) { title.setAttribute("tabindex", "-1"); title.focus({ preventScroll: true }); }
  window.scrollTo(0, 0);
}

let toastTimer = null;
/** A short message at the bottom; `action` adds one button ({label, run}). */
export function toast(text, action) {
  const box = document.getElementById("toast");
  box.replaceChildren(h("span", {}, text));
  if (action) box.append(h("button", { type: "button", onclick: () => { box.hidden = true; action.run(); } }, action.label));
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, action ? 9000 : 5000);
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const parts = [h("label", { for: id }, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { id: hintId, class: "muted small" }, hint));
  }
  return parts;
}

export function errorText(error) {
  const problem = error && error.problem;
  if (problem && Array.isArray(problem.errors) && problem.errors.length) {
    return problem.errors.map((e) => e.detail || e.msg || "").filter(Boolean).join("; ") || error.message;
  }
  return (error && error.message) || "Something went wrong";
}

// Connector status → the colour class, and the words a driver reads.
const STATUS = {
  Available: ["available", "Free"],
  Preparing: ["busy", "Plugged in"],
  Charging: ["busy", "Charging"],
  SuspendedEV: ["busy", "Charging (paused by car)"],
  SuspendedEVSE: ["busy", "Charging (paused)"],
  Finishing: ["busy", "Finishing"],
  Reserved: ["reserved", "Reserved"],
  Unavailable: ["fault", "Out of service"],
  Faulted: ["fault", "Faulted"],
  Unknown: ["unknown", "No live status"],
};

export function statusClass(status) { return (STATUS[status] || STATUS.Unknown)[0]; }
export function statusWords(status) { return (STATUS[status] || [null, status || "Unknown"])[1]; }
export function statusBadge(status) {
  return h("span", { class: `status ${statusClass(status)}` }, statusWords(status));
}

export function distance(metres) {
  if (metres === null || metres === undefined) return "";
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function when(iso) {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? `today ${clock(iso)}` : at.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
}

export function kwh(wh) { return `${((wh || 0) / 1000).toFixed(2)} kWh`; }
export function kw(w) { return w === null || w === undefined ? "–" : `${(w / 1000).toFixed(1)} kW`; }
export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
