// Unusual-access review: the data protection officer's queue. Each finding says which rule
// made it of whose look-ups, lists the audit entries behind it, and takes an outcome with a
// note (no concern, advice given, referred); every listing and outcome is audited.
import { errorBox, field, h } from "./dom.js";
import { label, when } from "./format.js";
import { num, table } from "./table.js";

const STATUSES = [
  ["open", "Not reviewed yet"],
  ["reviewed", "Reviewed"],
  ["all", "All"],
];
const OUTCOMES = [
  ["no_concern", "No concern", "A good reason for the look-ups was found."],
  ["advice_given", "Advice given", "The user was advised."],
  ["referred", "Referred", "Referred for investigation under the partnership's procedure."],
];
const ACTIONS = {
  search_persons: "Searched people",
  search_addresses: "Searched addresses",
  view_person: "Opened a person page",
  view_address: "Opened an address page",
  view_identity_history: "Opened a person's history",
};

export async function renderAccessReview(view) {
  const results = h("div");
  const status = h(
    "select",
    { name: "status" },
    STATUSES.map(([value, text]) => h("option", { value }, text)),
  );
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter findings" },
    field("Show", status),
    h("button", { type: "submit" }, "Show"),
  );
  view.loading();
  const load = async () => {
    try {
      const findings = await view.api("/access-review", {
        params: { status: status.value, limit: 100 },
      });
      view.fill(
        results,
        ...(findings.length
          ? findings.map((f) => findingCard(view, f))
          : [h("p", {}, "No findings to show.")]),
      );
      view.announce(`${findings.length} ${findings.length === 1 ? "finding" : "findings"}`);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show(
    "Access review",
    h(
      "p",
      {},
      "Patterns in the audit log that need a look: many people viewed without an open case " +
        "or an alert, bursts of look-ups out of hours, someone viewing a person of their own " +
        "family name, repeated searches that found nobody. Check each with the user's " +
        "manager and record what you found.",
    ),
    form,
    results,
  );
  await load();
}

function findingCard(view, f) {
  const headingId = `finding-${f.finding_id}`;
  return h(
    "article",
    { class: "card finding", "aria-labelledby": headingId, "data-finding": f.finding_id },
    h("h2", { id: headingId }, `${f.summary}: ${f.username}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Organisation"),
      h("dd", {}, label(f.organisation)),
      h("dt", {}, "When"),
      h("dd", {}, `${when(f.first_at)} to ${when(f.last_at)}`),
      h("dt", {}, "Counted"),
      h("dd", {}, String(f.count)),
      h("dt", {}, "Rule"),
      h("dd", {}, f.rule_id),
    ),
    table({
      caption: `The ${f.entries.length} audit entries behind it`,
      columns: ["When", "What", num("People named"), "Audit entry"],
      rows: f.entries.map((e) => [
        when(e.at),
        ACTIONS[e.action] || e.action,
        String(e.person_ids.length),
        h("code", {}, e.audit_id),
      ]),
    }),
    f.outcome ? outcomeText(f.outcome) : outcomeForm(view, f, headingId),
  );
}

function outcomeText(o) {
  const [, text] = OUTCOMES.find(([value]) => value === o.outcome) || [o.outcome, o.outcome];
  return h(
    "p",
    { class: "decision" },
    h("strong", {}, text),
    ` by ${o.reviewed_by} on ${when(o.reviewed_at)}: `,
    o.note,
  );
}

function outcomeForm(view, f, headingId) {
  const name = `${headingId}-outcome`;
  const choice = ([value, text, hint]) =>
    h(
      "div",
      { class: "check" },
      h("label", {}, h("input", { type: "radio", name, value, required: true }), ` ${text}`),
      h("p", { class: "hint" }, hint),
    );
  const note = h("textarea", { name: "note", maxlength: "2000", rows: "2", required: true });
  const said = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "decide", "aria-labelledby": `${name}-legend` },
    h(
      "fieldset",
      {},
      h("legend", { id: `${name}-legend` }, `Outcome of reviewing finding ${f.finding_id}`),
      OUTCOMES.map(choice),
    ),
    field("Note", note, "What you checked, and with whom (recorded with the outcome)."),
    h("button", { type: "submit" }, "Record outcome"),
    said,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const outcome = new FormData(form).get(name);
    if (!outcome || !note.value.trim()) {
      view.fill(said, errorBox("Choose an outcome, and write a note."));
      return;
    }
    try {
      const made = await view.api(`/access-review/${encodeURIComponent(f.finding_id)}/outcome`, {
        method: "POST",
        body: { outcome, note: note.value },
      });
      const summary = outcomeText(made);
      summary.tabIndex = -1;
      view.fill(part, summary);
      if (view.live) summary.focus();
      view.announce("Outcome recorded");
    } catch (error) {
      view.fill(said, errorBox(error.message));
    }
  });
  const part = h("div", {}, form);
  return part;
}
