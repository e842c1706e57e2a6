// Why a record belongs to the person, and the person's merge history: the resolver's own
// explanation as the API words it (mast_core/linkage/explanation.py), a sentence with each
// field's part on demand.
import { errorBox, h, section } from "./dom.js";
import { label, when } from "./format.js";

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** A weight in bits as a signed figure: "+12.4", "−3.0". */
const signed = (weight) => `${weight < 0 ? "−" : "+"}${Math.abs(weight).toFixed(1)}`;

function evidenceList(contributions) {
  return h(
    "ul",
    { class: "evidence" },
    contributions.map((c) =>
      c.level === "missing"
        ? h("li", { class: "muted" }, capitalised(c.words))
        : h(
            "li",
            { class: c.weight < 0 ? "against" : "for" },
            capitalised(c.words),
            " ",
            h("span", { class: "bits" }, `(${signed(c.weight)})`),
          ),
    ),
  );
}

/** The sentence, and when there was a comparison, each field's part in a disclosure. */
export function why(explanation) {
  if (!explanation) return "—";
  return h(
    "div",
    { class: "why" },
    h("span", { class: "why-sentence" }, capitalised(explanation.sentence)),
    explanation.contributions.length
      ? h(
          "details",
          {},
          h("summary", {}, "Evidence by field"),
          evidenceList(explanation.contributions),
          explanation.match_weight === null
            ? null
            : h(
                "p",
                { class: "hint" },
                `Match weight ${signed(explanation.match_weight)}: each figure is that ` +
                  "field's weight, for (+) or against (−) one person.",
              ),
        )
      : null,
  );
}

function trigger(t) {
  if (!t) return ".";
  if (t.agency) return `, when ${label(t.agency)}'s record ${t.event_id} matched both.`;
  return `, when records kept apart were judged again (while resolving event ${t.event_id}).`;
}

function splitEntry(e) {
  const records = e.moved_records === 1 ? "1 record" : `${e.moved_records} records`;
  return h(
    "li",
    { class: "split" },
    h("h3", {}, `Split ${when(e.at)}`),
    h(
      "p",
      {},
      `A data steward undid the merge ${e.merge_id} (below): ${records} went back to ` +
        `${e.restored_person_id}, ` +
        `a person apart from ${e.surviving_person_id}, and the two will not be merged again.`,
    ),
  );
}

function entry(e) {
  if (e.kind === "split") return splitEntry(e);
  if (e.kind !== "merge") return h("li", {}, h("h3", {}, `${label(e.kind)} ${when(e.at)}`));
  return h(
    "li",
    {},
    h("h3", {}, `Merged ${when(e.at)}`),
    h(
      "p",
      {},
      `The records held as ${e.retired_person_id} joined those of ${e.surviving_person_id}`,
      trigger(e.triggered_by),
    ),
    why(e.why),
  );
}

/** The merges and splits this person's ids took part in, latest first, each merge with
 * its evidence. */
export function historySection(history) {
  return section(
    "History",
    history.entries.length
      ? h("ol", { class: "history" }, history.entries.map(entry))
      : h("p", {}, "No merges: this person's records were linked as they arrived."),
  );
}

export const historyLoading = () =>
  section("History", h("p", { class: "loading" }, "Loading the history…"));

export const historyError = (message) => section("History", errorBox(message));
