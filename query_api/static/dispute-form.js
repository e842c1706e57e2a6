// "Not this person", for a person page: a checkbox for each of the person's records, a
// reason, and a button that disputes the checked records (POST /persons/{id}/disputes,
// with the session's declared purpose, so the dispute is audited like the view). A steward
// decides it in the disputes queue; this says the dispute's id.
import { api as request } from "./api.js";
import { errorBox, field, h } from "./dom.js";
import { day, label } from "./format.js";
import { currentPurpose } from "./state.js";

let forms = 0;

/** The record in words: "Police · Incident · 9 Apr 2026 (event P-123)". */
function recordText(r) {
  const parts = [label(r.agency), r.event_type ? label(r.event_type) : null, day(r.occurred_at)];
  return `${parts.filter(Boolean).join(" · ")} (event ${r.event_id})`;
}

/**
 * A section headed "Not this person" (level 2) whose form disputes records of `personId`.
 * - `records`: the page's `interactions` (each with `event_id`, `agency`, `event_type`,
 *   `occurred_at`).
 * - `options.view`: the page's View, so the request is cancelled when the user moves on;
 *   `options.purpose`: `{purpose, purpose_detail}`, the session's declared one by default.
 * - `options.onRaised(dispute)`: called with the API's answer once the dispute is raised.
 */
export function disputeForm(personId, records, { view, purpose, onRaised } = {}) {
  forms += 1;
  const id = `not-this-person-${forms}`;
  const boxes = records.map((r) =>
    h(
      "div",
      { class: "check" },
      h(
        "label",
        {},
        h("input", { type: "checkbox", name: "event_ids", value: r.event_id }),
        ` ${recordText(r)}`,
      ),
    ),
  );
  const reason = h("textarea", { name: "reason", maxlength: "500", rows: "3", required: true });
  const outcome = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Dispute these records");
  const form = h(
    "form",
    { class: "dispute-form", "aria-labelledby": `${id}-heading` },
    h(
      "fieldset",
      {},
      h("legend", {}, "Records that are not this person"),
      boxes.length ? boxes : h("p", {}, "No records to dispute."),
    ),
    field(
      "Reason",
      reason,
      "Why these records are someone else's (for example a different date of birth the " +
        "agency has confirmed). A steward reads it when deciding.",
    ),
    button,
    outcome,
  );
  const show = (...content) => {
    if (!view || view.live) outcome.replaceChildren(...content);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const eventIds = new FormData(form).getAll("event_ids");
    if (!eventIds.length || !reason.value.trim()) {
      show(errorBox("Tick at least one record and give a reason."));
      return;
    }
    const declared = purpose || currentPurpose();
    if (!declared) {
      show(errorBox("Declare the purpose of this look-up first."));
      return;
    }
    const send = view ? view.api.bind(view) : request;
    button.disabled = true;
    try {
      const dispute = await send(`/persons/${encodeURIComponent(personId)}/disputes`, {
        method: "POST",
        body: { event_ids: eventIds, reason: reason.value, ...declared },
      });
      show(
        h(
          "p",
          { role: "status", class: "raised" },
          `Dispute ${dispute.dispute_id} raised for ${eventIds.length} ` +
            `${eventIds.length === 1 ? "record" : "records"}: a steward will decide.`,
        ),
      );
      for (const box of form.querySelectorAll("input[type=checkbox]")) box.checked = false;
      reason.value = "";
      if (onRaised) onRaised(dispute);
    } catch (error) {
      show(errorBox(error.message));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "section",
    { "aria-labelledby": `${id}-heading`, class: "not-this-person" },
    h("h2", { id: `${id}-heading` }, "Not this person"),
    h(
      "details",
      {},
      h("summary", {}, "Mark records that belong to someone else"),
      h(
        "p",
        { class: "hint" },
        "A steward compares them with this person's other records and the evidence that " +
          "linked them, and decides. Your dispute is recorded in the audit with your purpose.",
      ),
      form,
    ),
  );
}
