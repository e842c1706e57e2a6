// Disputes: the stewards' queue. Each dispute shows the records a practitioner marked as
// not this person beside the person's other records (the minimum dataset: no contacts, no
// case status), the evidence that linked them, and the two decisions with a note: split
// (a correction the resolver applies) or keep. The resolver's possible matches (records it
// kept for review) are in the same queue, the two people side by side with the evidence, and
// a steward decides merge (the same person) or different.
import { errorBox, field, h } from "./dom.js";
import { addressText, birthDate, day, fullName, label, when } from "./format.js";
import { num, table } from "./table.js";

const STATUSES = [
  ["all", "Open first, then decided"],
  ["open", "Open"],
  ["decided", "Decided"],
];

export async function renderDisputes(view) {
  const results = h("div");
  const status = h(
    "select",
    { name: "status" },
    STATUSES.map(([value, text]) => h("option", { value }, text)),
  );
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter disputes" },
    field("Show", status),
    h("button", { type: "submit" }, "Show"),
  );
  view.loading();
  const load = async () => {
    try {
      const disputes = await view.api("/disputes", {
        params: { status: status.value, limit: 100 },
      });
      view.fill(
        results,
        ...(disputes.length
          ? disputes.map((d) =>
              d.kind === "possible_match" ? possibleCard(view, d) : disputeCard(view, d),
            )
          : [h("p", {}, "Nothing to show.")]),
      );
      const open = disputes.filter((d) => d.status === "open").length;
      view.announce(`${disputes.length} in the queue, ${open} open`);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show(
    "Disputes",
    h(
      "p",
      {},
      "Records a practitioner marked as not the person whose page showed them: compare them " +
        "with the person's other records and the evidence that linked them, then split them " +
        "off or keep them, with a note. Possible matches: records MAST kept for review " +
        "because they resemble another person; compare the two and decide whether they are " +
        "the same person. Every decision is recorded in the audit.",
    ),
    form,
    results,
  );
  await load();
}

const STATUS_WORDS = {
  open: "Open",
  split: "Split",
  kept: "Kept",
  merged: "Merged",
  different: "Different people",
};
const CORRECTION_STATE_WORDS = {
  pending: "Not applied yet: the resolver has not taken it in, or its effect is not stored yet.",
  applied: "Applied: the people are as decided.",
  refused:
    "Not applied: the resolver could not apply it (the people changed meanwhile). An operator has the details; look at the entry again.",
};
const DECISION_WORDS = {
  split: "Split",
  keep: "Kept",
  merge: "Merged: the same person",
  different: "Marked as different people",
};

function possibleCard(view, d) {
  const headingId = `possible-${d.dispute_id}`;
  const side = (id, title, records, empty) =>
    h(
      "section",
      // scrolls sideways on a narrow screen: focusable, so a keyboard can scroll it too
      { "aria-labelledby": id, tabindex: "0" },
      h("h3", { id }, title),
      records.length ? recordTable(records, title) : h("p", {}, empty),
    );
  const kept = d.record ? [d.record, ...d.person_records] : d.person_records;
  return h(
    "article",
    { class: "card dispute", "aria-labelledby": headingId, "data-dispute": d.dispute_id },
    h("h2", { id: headingId }, `${STATUS_WORDS[d.status]}: possible match ${d.dispute_id}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Kept for review"),
      h(
        "dd",
        {},
        d.record
          ? `${label(d.record.agency)} record ${d.record.event_id}, ${when(d.found_at)}`
          : `${when(d.found_at)} (the record is no longer held)`,
      ),
      h("dt", {}, "Why"),
      h("dd", {}, `${d.reason} (weight ${signed(d.match_weight)})`),
    ),
    h(
      "div",
      { class: "side-by-side" },
      side(
        `${headingId}-person`,
        `Person ${d.person_id}: the record kept for review first (${kept.length})`,
        kept,
        "No records held.",
      ),
      side(
        `${headingId}-candidate`,
        `Person ${d.candidate_person_id}, who it may be (${d.candidate_records.length})`,
        d.candidate_records,
        "No records held.",
      ),
    ),
    d.evidence.length
      ? table({
          caption: `Evidence for possible match ${d.dispute_id}`,
          columns: ["Field", "Agreement", num("Weight")],
          rows: d.evidence.map((c) => [label(c.field), label(c.level), signed(c.weight)]),
        })
      : h("p", { class: "hint" }, "No evidence by field was stored."),
    d.decision
      ? decided(d.decision)
      : decisionForm(view, d, headingId, [
          ["merge", "Same person: merge them", "The resolver merges the two people."],
          [
            "different",
            "Different people",
            "The resolver never links them; later records stay apart.",
          ],
        ]),
  );
}

function disputeCard(view, d) {
  const headingId = `dispute-${d.dispute_id}`;
  return h(
    "article",
    { class: "card dispute", "aria-labelledby": headingId, "data-dispute": d.dispute_id },
    h("h2", { id: headingId }, `${STATUS_WORDS[d.status]}: dispute ${d.dispute_id}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Reason"),
      h("dd", {}, d.reason),
      h("dt", {}, "Raised"),
      h("dd", {}, `${when(d.raised_at)} by ${d.raised_by} (${label(d.raised_org)})`),
      h("dt", {}, "Person"),
      h(
        "dd",
        {},
        d.current_person_id,
        d.person_ids.length > 1 ? ` (also recorded as ${d.person_ids.slice(1).join(", ")})` : "",
      ),
    ),
    h(
      "div",
      { class: "side-by-side" },
      h(
        "section",
        // scrolls sideways on a narrow screen: focusable, so a keyboard can scroll it too
        { "aria-labelledby": `${headingId}-disputed`, tabindex: "0" },
        h("h3", { id: `${headingId}-disputed` }, `Disputed records (${d.disputed.length})`),
        d.disputed.length
          ? recordTable(d.disputed, "Disputed records")
          : h("p", {}, "None of the disputed records is held any more."),
      ),
      h(
        "section",
        { "aria-labelledby": `${headingId}-others`, tabindex: "0" },
        h(
          "h3",
          { id: `${headingId}-others` },
          d.other_records.length < d.other_records_total
            ? `The person's other records (latest ${d.other_records.length} of ${d.other_records_total})`
            : `The person's other records (${d.other_records_total})`,
        ),
        d.other_records.length
          ? recordTable(d.other_records, "The person's other records")
          : h("p", {}, "None."),
      ),
    ),
    mergesPart(d, headingId),
    d.decision ? decided(d.decision) : decisionForm(view, d, headingId),
  );
}

/** How a record is linked, in words, with its stored reason and weight. */
function linked(r) {
  const how = {
    directly: "Linked directly",
    by_merge: `Came with merge ${r.merge_id || "(unknown)"}`,
    no_longer: "No longer this person's",
  }[r.linked];
  const weight = r.match_weight === null ? "" : ` (weight ${r.match_weight.toFixed(1)})`;
  return [h("div", {}, how), h("div", { class: "hint" }, `${r.match_reason}${weight}`)];
}

function recordTable(records, caption) {
  return table({
    caption,
    columns: [
      "Agency",
      "System and reference",
      "Name",
      "Date of birth",
      "Gender",
      "Address",
      "When",
      "Type",
      "Held as",
      "How linked",
    ],
    rows: records.map((r) => [
      label(r.agency),
      [r.source_system || "—", h("div", { class: "hint" }, r.source_record_id || "no reference")],
      fullName(r),
      birthDate(r.date_of_birth),
      r.gender,
      addressText(r.address),
      day(r.occurred_at || r.event_time),
      label(r.event_type) || "—",
      r.held_as,
      linked(r),
    ]),
  });
}

const signed = (weight) => `${weight < 0 ? "−" : "+"}${Math.abs(weight).toFixed(1)}`;

function mergesPart(d, headingId) {
  const id = `${headingId}-merges`;
  if (!d.merges.length) {
    return h(
      "section",
      { "aria-labelledby": id },
      h("h3", { id }, "Merges"),
      h("p", {}, "No merges: every record was linked to this person as it arrived."),
    );
  }
  return h(
    "section",
    { "aria-labelledby": id },
    h("h3", { id }, "Merges and their evidence"),
    h(
      "ul",
      { class: "merges" },
      d.merges.map((m) =>
        h(
          "li",
          {},
          h(
            "p",
            {},
            `${when(m.merged_at)}: ${m.retired_person_id} joined ${m.surviving_person_id} ` +
              `(merge ${m.merge_id}${m.match_weight === null ? "" : `, weight ${signed(m.match_weight)}`})`,
            m.undone_by_split ? h("strong", {}, " — a split undoes this merge") : "",
          ),
          m.evidence.length
            ? table({
                caption: `Evidence for merge ${m.merge_id}`,
                columns: ["Field", "Agreement", num("Weight")],
                rows: m.evidence.map((c) => [label(c.field), label(c.level), signed(c.weight)]),
              })
            : h("p", { class: "hint" }, "No evidence by field was stored with this merge."),
        ),
      ),
    ),
  );
}

function decided(decision) {
  return h(
    "p",
    { class: "decision" },
    h("strong", {}, DECISION_WORDS[decision.decision] || decision.decision),
    ` by ${decision.decided_by} (${label(decision.decided_org)}) on ${when(decision.decided_at)}: `,
    decision.note,
    decision.correction_id ? ` Correction ${decision.correction_id} sent to the resolver.` : "",
    decision.correction_state ? ` ${CORRECTION_STATE_WORDS[decision.correction_state]}` : "",
  );
}

function decisionForm(view, d, headingId, choices = null) {
  const name = `${headingId}-decision`;
  const choice = (value, text, hint, disabled) =>
    h(
      "div",
      { class: "check" },
      h(
        "label",
        {},
        h("input", { type: "radio", name, value, required: true, disabled }),
        ` ${text}`,
      ),
      hint ? h("p", { class: "hint" }, hint) : null,
    );
  const note = h("textarea", { name: "note", maxlength: "500", rows: "2", required: true });
  const outcome = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "decide", "aria-labelledby": `${name}-legend` },
    h(
      "fieldset",
      {},
      h(
        "legend",
        { id: `${name}-legend` },
        `Decision on ${choices ? "possible match" : "dispute"} ${d.dispute_id}`,
      ),
      ...(choices
        ? choices.map(([value, text, hint]) => choice(value, text, hint, false))
        : [
            choice(
              "split",
              "Split: these records are not this person",
              d.split.possible
                ? `Undoes ${d.split.merge_ids.join(", ")} for the resolver.`
                : `Not possible: ${d.split.explanation}.`,
              !d.split.possible,
            ),
            choice("keep", "Keep: they are this person", "Nothing changes."),
          ]),
    ),
    field("Note", note, "Why you decided so (recorded with the decision)."),
    h("button", { type: "submit" }, "Record decision"),
    outcome,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = new FormData(form).get(name);
    if (!decision || !note.value.trim()) {
      view.fill(outcome, errorBox("Choose a decision, and write a note."));
      return;
    }
    try {
      const made = await view.api(`/disputes/${encodeURIComponent(d.dispute_id)}/decision`, {
        method: "POST",
        body: { decision, note: note.value },
      });
      const summary = decided(made);
      summary.tabIndex = -1;
      view.fill(part, summary);
      if (view.live) summary.focus();
      view.announce(`${DECISION_WORDS[made.decision]}: recorded`);
    } catch (error) {
      view.fill(outcome, errorBox(error.message));
    }
  });
  const part = h("div", {}, form);
  return part;
}
