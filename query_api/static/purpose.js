// The purpose of a look-up: chosen once, kept for the session, shown on every page and sent
// (and so audited) with every search and view.
import { field, h } from "./dom.js";
import { currentPurpose, keepPurpose, session } from "./state.js";

export function purposeFields() {
  const saved = currentPurpose() || {};
  const select = h(
    "select",
    { name: "purpose", id: "purpose", required: true },
    h("option", { value: "" }, "Choose the purpose…"),
    session.purposes.map((p) =>
      h("option", { value: p.code, selected: p.code === saved.purpose }, p.label),
    ),
  );
  const detail = h("input", {
    name: "purpose_detail",
    id: "purpose-detail",
    maxlength: "500",
    value: saved.purpose_detail || "",
  });
  return h(
    "fieldset",
    { class: "purpose" },
    h("legend", {}, "Purpose of this look-up"),
    field("Purpose", select, "Recorded in the audit with what you search and open."),
    field("Detail (optional)", detail, "For example a case or referral reference."),
  );
}

/** The purpose the form declares, kept for the rest of the session. */
export function takePurpose(form) {
  const data = new FormData(form);
  const purpose = { purpose: data.get("purpose"), purpose_detail: data.get("purpose_detail") };
  keepPurpose(purpose);
  return purpose;
}

export function purposeLabel(code) {
  return session.purposes.find((p) => p.code === code)?.label || code || "—";
}

export function purposeLine(purpose) {
  return h(
    "p",
    { class: "purpose-line" },
    `Opened for: ${purposeLabel(purpose.purpose)}`,
    purpose.purpose_detail ? ` (${purpose.purpose_detail})` : "",
    ". This view is recorded in the audit.",
  );
}

/** Asks for the purpose before a record is opened, then calls `then`. */
export function purposeGate(view, title, then) {
  const form = h(
    "form",
    { class: "card narrow" },
    h("p", {}, "Declare why you are opening this record before it is shown."),
    purposeFields(),
    h("button", { type: "submit" }, "Open"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    takePurpose(form);
    then();
  });
  view.show(title, form);
}
