// Sign-in screen: the operator's account (a driver's account is refused with a clear message).
import * as api from "./api.js";
import { field, h, problem } from "./dom.js";

let reason = "";

export function setReason(text) {
  reason = text;
}

export function render(root, { onSignedIn }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const message = h("div", { class: "messages" }, reason ? h("p", { class: "note", role: "status" }, reason) : null);
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to the operator console"),
    message,
    field("Email", email),
    field("Password", password),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    try {
      const me = await api.signIn(email.value.trim(), password.value);
      reason = "";
      onSignedIn(me);
    } catch (error) {
      const text = error.status === 401
        ? "Wrong email or password."
        : error.status === 429
          ? "Too many attempts: wait a minute and try again."
          : error.message;
      message.replaceChildren(problem({ message: text }));
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form);
  email.focus();
}
