// Break-glass reviews: every time someone opened a shielded person or address, for the
// managers of the organisations that hold the record and for the data protection officer.
// Each says who, of which organisation and role, when, into what, why and for what purpose,
// and takes an outcome with a note; every listing and outcome is audited. Opened with a
// grant's id (`#/break-glass/<grant id>`, from a notification), that one break-glass.
import { errorBox, field, h } from "./dom.js";
import { label, when } from "./format.js";
import { purposeLabel } from "./purpose.js";

const STATUSES = [
  ["open", "Not reviewed yet"],
  ["reviewed", "Reviewed"],
  ["all", "All"],
];
const OUTCOMES = [
  ["justified", "Justified", "The reason held: the record had to be seen then."],
  ["not_justified", "Not justified", "The reason did not hold; tell the user's organisation."],
  ["referred", "Referred", "Referred for investigation under the partnership's procedure."],
];
const INTRO =
  "Each time someone opened a shielded person or address by breaking the glass: who, " +
  "when, and the reason they gave. Check the reason with them or their manager, and " +
  "record what you found.";

const count = (n) => `${n} ${n === 1 ? "break-glass" : "break-glasses"}`;

export async function renderBreakGlass(view, grantId) {
  if (grantId) return showOne(view, grantId);
  const results = h("div");
  const status = h(
    "select",
    { name: "status" },
    STATUSES.map(([value, text]) => h("option", { value }, text)),
  );
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter break-glass" },
    field("Show", status),
    h("button", { type: "submit" }, "Show"),
  );
  view.loading();
  const load = async () => {
    try {
      const grants = await view.api("/break-glass/reviews", { params: { status: status.value } });
      view.fill(
        results,
        ...(grants.length
          ? grants.map((g) => grantCard(view, g))
          : [h("p", {}, "No break-glass to show.")]),
      );
      view.announce(count(grants.length));
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show("Break-glass reviews", h("p", {}, INTRO), form, results);
  await load();
}

/** One break-glass, as a notification links to it (whether reviewed or not). */
async function showOne(view, grantId) {
  view.loading();
  let grants;
  try {
    grants = await view.api("/break-glass/reviews", { params: { status: "all" } });
  } catch (error) {
    return view.show("Break-glass review", errorBox(error.message));
  }
  const grant = grants.find((g) => g.grant_id === grantId);
  view.show(
    "Break-glass review",
    grant
      ? grantCard(view, grant)
      : h("p", {}, `No break-glass ${grantId} among those you review.`),
    h("p", {}, h("a", { href: "#/break-glass" }, "All break-glass to review")),
  );
}

function grantCard(view, g) {
  const headingId = `grant-${g.grant_id}`;
  const kind = g.subject_kind === "PERSON" ? "person" : "address";
  return h(
    "article",
    { class: "card grant", "aria-labelledby": headingId, "data-grant": g.grant_id },
    h("h2", { id: headingId }, `${g.username} opened a shielded ${kind}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Who"),
      h("dd", {}, `${g.username}, ${label(g.role)}, ${label(g.organisation)}`),
      h("dt", {}, "When"),
      h("dd", {}, `${when(g.granted_at)} UTC; access until ${when(g.expires_at)} UTC`),
      h("dt", {}, "Opened"),
      h("dd", {}, `${label(g.subject_kind)}, MAST id `, h("code", {}, g.subject_id)),
      h("dt", {}, "Record held by"),
      h("dd", {}, g.owners.map(label).join(", ") || "—"),
      h("dt", {}, "Purpose"),
      h("dd", {}, purposeLabel(g.purpose)),
      h("dt", {}, "Reason given"),
      h("dd", { class: "reason" }, g.reason),
    ),
    // the other role's review (managers and the officer review independently), then one's own
    ...(g.outcomes || [])
      .filter((o) => !g.outcome || o.reviewer_role !== g.outcome.reviewer_role)
      .map(outcomeText),
    g.outcome ? outcomeText(g.outcome) : outcomeForm(view, g, headingId),
  );
}

const REVIEWER_WORDS = { manager: "manager", dpo: "data protection officer" };

function outcomeText(o) {
  const [, text] = OUTCOMES.find(([value]) => value === o.outcome) || [o.outcome, o.outcome];
  const role = REVIEWER_WORDS[o.reviewer_role] || o.reviewer_role;
  return h(
    "p",
    { class: "decision" },
    h("strong", {}, text),
    ` by ${o.reviewed_by} (${role}) on ${when(o.reviewed_at)}: `,
    o.note,
  );
}

function outcomeForm(view, g, headingId) {
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
      h(
        "legend",
        { id: `${name}-legend` },
        `Outcome of reviewing the break-glass by ${g.username}`,
      ),
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
      const made = await view.api(`/break-glass/${encodeURIComponent(g.grant_id)}/review`, {
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
