// One vocabulary for how a station or connector is doing, with its colour and words.

export const IN_USE = new Set(["Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"]);

// Colours are readable on white text-free markers and distinct for common colour blindness;
// every place that shows one also shows the words.
export const CATEGORIES = {
  faulted: { label: "Faulted", colour: "#c0262d" },
  offline: { label: "Offline", colour: "#4b4f58" },
  in_use: { label: "In use", colour: "#1f5fbf" },
  available: { label: "Available", colour: "#1c7c3c" },
  reserved: { label: "Reserved", colour: "#a15c00" },
  unavailable: { label: "Unavailable", colour: "#7a3e9d" },
  never: { label: "Never connected", colour: "#9aa0a6" },
};

// The seven charger states the status history counts time in (stations/states.py), in the
// API's order, with the same words and colours as the categories above where they are one.
export const STATES = {
  available: CATEGORIES.available,
  reserved: CATEGORIES.reserved,
  charging: { label: "Charging", colour: CATEGORIES.in_use.colour },
  plugged_not_charging: { label: "Plugged in, not charging", colour: "#0f7a80" },
  faulted: CATEGORIES.faulted,
  unavailable: CATEGORIES.unavailable,
  offline: CATEGORIES.offline,
};

/** A station's category from its online flag and its connectors' statuses. */
export function category(online, statuses) {
  const known = statuses.filter((s) => s !== "Unknown");
  if (!online) return known.length ? "offline" : "never";
  if (statuses.includes("Faulted")) return "faulted";
  if (statuses.includes("Available")) return "available";
  if (statuses.some((s) => IN_USE.has(s))) return "in_use";
  if (statuses.includes("Reserved")) return "reserved";
  if (statuses.includes("Unavailable")) return "unavailable";
  return "never";
}

/** Whether a connector's status means a vehicle is charging or plugged in there. */
export function busy(status) {
  return IN_USE.has(status);
}
