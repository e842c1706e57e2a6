// Sign-in: the notice, which must be accepted, then username and password.
import { API } from "./api.js";
import { errorBox, field, h } from "./dom.js";
import { keepToken } from "./state.js";

export async function renderSignIn(view, message, signedIn) {
  let notice;
  try {
    notice = (await view.api("/auth/notice")).notice;
  } catch (error) {
    view.replace("Sign in", errorBox(`MAST cannot be reached: ${error.message}`));
    return;
  }
  const problem = h("div");
  if (message) problem.append(errorBox(message));
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    h("div", { class: "notice", id: "notice" }, h("strong", {}, "Notice. "), notice),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field(
      "Password",
      h("input", {
        name: "password",
        type: "password",
        autocomplete: "current-password",
        required: true,
      }),
    ),
    h(
      "div",
      { class: "check" },
      h("input", {
        type: "checkbox",
        id: "notice-accepted",
        name: "notice_accepted",
        required: true,
        "aria-describedby": "notice",
      }),
      h("label", { for: "notice-accepted" }, "I have read the notice and accept it"),
    ),
    problem,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = new URLSearchParams({
      username: data.get("username"),
      password: data.get("password"),
      notice_accepted: data.get("notice_accepted") ? "true" : "false",
    });
    const response = await fetch(`${API}/auth/token`, { method: "POST", body });
    if (!response.ok) {
      const detail = (await response.json().catch(() => ({}))).detail;
      problem.replaceChildren(errorBox(typeof detail === "string" ? detail : "Sign-in failed."));
      return;
    }
    keepToken((await response.json()).access_token);
    await signedIn();
  });
  view.replace("Sign in", form);
}
