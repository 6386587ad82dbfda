// Me: the account, links to the vehicle and privacy screens, notifications, sign out.
import * as api from "../api.js";
import { forgetAll, store } from "../store.js";
import { errorText, h, show, toast } from "../ui.js";

function base64Url(text) {
  const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
}

async function enablePush(button) {
  try {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      throw new Error("This browser cannot notify you while the app is closed (on iPhone: add voltbook to the Home Screen first).");
    }
    if ((await Notification.requestPermission()) !== "granted") throw new Error("Notifications are blocked for voltbook in the browser settings.");
    const registration = await navigator.serviceWorker.ready;
    const { public_key: key } = await api.pushKey();
    const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64Url(key) });
    await api.pushSubscribe(subscription.toJSON());
    button.textContent = "Notifications are on";
    button.disabled = true;
  } catch (error) {
    toast(errorText(error));
  }
}

export async function meScreen() {
  const account = store.account || (await api.me());
  const pushButton = h("button", { type: "button", class: "secondary wide", onclick: () => enablePush(pushButton) }, "Notify me when the app is closed");
  show(
    h("h2", {}, "Me"),
    h("p", { class: "card" }, "Signed in as ", h("strong", {}, account.email)),
    h("ul", { class: "list" },
      h("li", {}, h("a", { class: "button secondary wide", href: "#/vehicle" }, "My vehicle")),
      h("li", {}, h("a", { class: "button secondary wide", href: "#/charge" }, "My sessions")),
      h("li", {}, h("a", { class: "button secondary wide", href: "#/privacy" }, "Privacy and account"))),
    pushButton,
    window.isSecureContext ? null : h("p", { class: "muted small" }, "Over plain http on another address the browser turns off location, installing and notifications: open voltbook over https."),
    h("h3", {}, "Sign out"),
    h("button", { type: "button", class: "secondary wide", onclick: async () => {
      try { await api.signOut(); } catch (error) { toast(errorText(error)); }
      forgetAll();
      location.hash = "#/signin"; // signed out: the route shows the sign-in
    } }, "Sign out"),
  );
}
