// Sign in or create an account. Signed in, the server keeps the driver signed in with an
// HttpOnly cookie this code never reads.
import * as api from "../api.js";
import { errorText, field, h, show } from "../ui.js";

export async function signInScreen(next, started) {
  let mode = "signin";
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, id: "email" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, minlength: 8, id: "password" });
  const message = h("p", { role: "alert", class: "error" });
  const submit = h("button", { type: "submit", class: "wide" }, "Sign in");
  const title = h("h2", {}, "Sign in");
  const switcher = h("button", { type: "button", class: "secondary wide", onclick: toggle }, "New here? Create an account");

  function toggle() {
    mode = mode === "signin" ? "signup" : "signin";
    title.textContent = mode === "signin" ? "Sign in" : "Create your account";
    submit.textContent = mode === "signin" ? "Sign in" : "Create account";
    switcher.textContent = mode === "signin" ? "New here? Create an account" : "I have an account: sign in";
    password.setAttribute("autocomplete", mode === "signin" ? "current-password" : "new-password");
    message.textContent = "";
  }

  async function onsubmit(event) {
    event.preventDefault();
    message.textContent = "";
    submit.disabled = true;
    try {
      if (mode === "signin") await api.signIn(email.value, password.value);
      else await api.signUp(email.value, password.value);
      if (location.hash !== next) history.replaceState(null, "", next);
      await started();
    } catch (error) {
      message.textContent = errorText(error);
    } finally {
      submit.disabled = false;
    }
  }

  show(
    title,
    h("p", { class: "muted" }, "Find a free charger near you, book it and start charging from your phone."),
    h("form", { class: "card", id: "signin", onsubmit },
      field("E-mail address", email),
      field("Password", password, "At least 8 characters."),
      message,
      submit),
    switcher,
  );
}
