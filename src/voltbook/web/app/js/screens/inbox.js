// Inbox: offers and notices, newest first; they also pop up as they arrive.
import { markRead, store } from "../store.js";
import { h, show, when } from "../ui.js";

const EVENTS = {
  created: "Booking made", held: "Your charger is held", moved: "Your booking moved to another connector",
  starting_soon: "Your booking starts soon", fulfilled: "Charging started with your booking",
  expired: "Your booking expired", cancelled: "Your booking was cancelled", failed: "Your booking failed",
};

/** A notice's title and the screen it leads to. */
export function describeNotice(notice) {
  if (notice.type === "offer") {
    const value = notice.kind === "percent_off" ? `${notice.value}% off` : `${notice.value} per kWh`;
    return { title: `Offer: ${notice.title} (${value})`, screen: "#/inbox" };
  }
  if (notice.type === "reservation.updated") {
    const r = notice.reservation || {};
    return { title: `${EVENTS[notice.event] || "Booking updated"}${r.station_id ? ` (${r.station_id})` : ""}`, screen: `#/reservations/${r.id || ""}` };
  }
  if (notice.type === "charge.finished") {
    return { title: `Charging finished: ${((notice.energy_wh || 0) / 1000).toFixed(2)} kWh at ${notice.station_id}`, screen: "#/charge" };
  }
  if (notice.type === "alarm") return { title: `Alarm at ${notice.station_id || "a charger"}`, screen: null };
  return { title: "Notice", screen: null };
}

export async function inboxScreen() {
  const items = store.inbox;
  show(
    h("h2", {}, "Inbox"),
    items.length
      ? h("ul", { class: "list" }, items.map((notice) => {
        const { title, screen } = describeNotice(notice);
        return h("li", { class: "card" },
          h("p", {}, h("strong", {}, title)),
          notice.type === "offer" && notice.ends_at ? h("p", { class: "small muted" }, `Until ${when(notice.ends_at)}${notice.station_id ? ` at charger ${notice.station_id}` : ""}`) : null,
          notice.reason ? h("p", { class: "small" }, notice.reason) : null,
          h("p", { class: "small muted" }, `Received ${when(notice.received_at)}`),
          screen && screen !== "#/inbox" ? h("a", { href: screen }, "Open") : null);
      }))
      : h("p", { class: "card" }, "Nothing yet. Offers near you and news of your bookings arrive here."),
  );
  markRead();
}
