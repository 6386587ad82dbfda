// What the screens say about a site: one status for all its connectors, its running offers.
import { store } from "../store.js";

const ORDER = ["Available", "Charging", "Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Faulted", "Unavailable"];

/** The site's most useful status: free if any connector is free, else busy, reserved … */
export function siteStatus(site) {
  const statuses = site.stations.flatMap((s) => s.connectors.map((c) => c.status));
  for (const status of ORDER) if (statuses.includes(status)) return status;
  return "Unknown";
}

/** Offers the driver received that name one of the site's stations and still run. */
export function offersFor(site) {
  const ids = new Set(site.stations.map((s) => s.id));
  const now = Date.now();
  return store.inbox.filter((n) => n.type === "offer" && ids.has(n.station_id) && (!n.ends_at || Date.parse(n.ends_at) > now));
}
