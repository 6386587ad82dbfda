// Privacy and account: consent switches (effective at once), quiet hours, forget my
// location, change password, delete my account.
import * as api from "../api.js";
import { forgetAll, store, update } from "../store.js";
import { errorText, field, h, show, toast } from "../ui.js";

export async function privacyScreen() {
  const account = await api.me();
  update({ account });
  const message = h("p", { role: "status" });

  function consent(name, label, hint) {
    const box = h("input", { type: "checkbox", id: `c-${name}`, checked: account[name], "aria-describedby": `c-${name}-hint`, onchange: async () => {
      try {
        update({ account: await api.updateMe({ [name]: box.checked }) });
        toast(box.checked ? `${label}: on` : `${label}: off`);
      } catch (error) { box.checked = !box.checked; message.textContent = errorText(error); }
    } });
    return h("div", {}, h("label", { class: "check", for: box.id }, box, label), h("p", { class: "muted small", id: `c-${name}-hint` }, hint));
  }

  const quiet = h("input", { id: "quiet", placeholder: "22:00-07:00", value: account.quiet_hours || "", pattern: "\\d\\d:\\d\\d-\\d\\d:\\d\\d" });
  const current = h("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const confirmDelete = h("input", { id: "del-confirm", type: "checkbox", required: true });

  show(
    h("h2", {}, "Privacy and account"),
    message,
    h("section", { class: "card", "aria-label": "Consents" },
      consent("consent_location", "Share my location", "Only your last position is kept, and only for a short while: for offers and suggestions nearby."),
      consent("consent_offers", "Send me offers", "Discounts at chargers near you, a few a day at most."),
      h("form", { onsubmit: async (event) => {
        event.preventDefault();
        try {
          update({ account: await api.updateMe({ quiet_hours: quiet.value || null, time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone }) });
          toast("Quiet hours saved");
        } catch (error) { message.textContent = errorText(error); }
      } }, field("Quiet hours (no offers then)", quiet, "Like 22:00-07:00; empty for none."), h("button", { type: "submit", class: "secondary" }, "Save quiet hours")),
      h("h3", {}, "My location"),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await api.forgetLocation(); update({ position: null }); toast("Your location is forgotten"); } catch (error) { message.textContent = errorText(error); }
      } }, "Forget my location")),
    h("form", { class: "card", onsubmit: async (event) => {
      event.preventDefault();
      try { await api.changePassword(current.value, next.value); event.target.reset(); toast("Password changed"); } catch (error) { message.textContent = errorText(error); }
    } }, h("h3", {}, "Change password"), field("Current password", current), field("New password", next, "At least 8 characters."), h("button", { type: "submit" }, "Change password")),
    h("form", { class: "card", onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api.deleteAccount();
        forgetAll();
        location.hash = "#/signin"; // signed out: the route shows the sign-in
      } catch (error) { message.textContent = errorText(error); }
    } }, h("h3", {}, "Delete my account"),
    h("p", { class: "small" }, "Your bookings are cancelled, your vehicles, location and notices deleted. Charging records the operator must keep stay, without your name."),
    h("label", { class: "check", for: "del-confirm" }, confirmDelete, "Yes, delete my account for good"),
    h("button", { type: "submit", class: "danger" }, "Delete my account")),
  );
  return () => { if (store.account) update({ account: store.account }); };
}
