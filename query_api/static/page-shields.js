// Shields placed by hand: a steward or a manager shields a person or an address no partner
// marked sensitive (a witness, someone who fled), or lifts such a shield; administrators
// and the data protection officer see the list. A shielded person is found only as held by
// an agency, with whom to call, and their pages and addresses open only by break-glass. A
// partner's own mark is lifted only by that partner. Every listing and decision is audited.
import { errorBox, field, h } from "./dom.js";
import { label, when } from "./format.js";
import { mayShield } from "./state.js";
import { table } from "./table.js";

const KINDS = [
  ["person", "A person"],
  ["address", "An address"],
];

export async function renderShields(view) {
  const list = h("div");
  view.loading();
  const load = async () => {
    try {
      const shields = await view.api("/shields");
      view.fill(list, shieldTable(shields));
      return shields;
    } catch (error) {
      view.fill(list, errorBox(error.message));
      return null;
    }
  };
  view.show(
    "Shields",
    h(
      "p",
      {},
      "A shielded person is found only as held by an agency, with whom to call; their " +
        "pages, and every address where they have a record, open only by break-glass. " +
        "Records a partner marked sensitive are shielded by that partner and are not " +
        "listed here.",
    ),
    mayShield()
      ? decideForm(view, load)
      : h("p", { class: "hint" }, "Stewards and managers place and lift shields."),
    list,
  );
  const shields = await load();
  if (shields) view.announce(`${shields.length} ${shields.length === 1 ? "shield" : "shields"}`);
}

function shieldTable(shields) {
  if (!shields.length) return h("p", {}, "No shields placed by hand.");
  return table({
    caption: `${shields.length} ${shields.length === 1 ? "shield" : "shields"} placed by hand and in force, newest first`,
    columns: ["Shielded", "MAST id", "Reason", "Placed by", "When"],
    rows: shields.map((s) => ({
      attrs: { "data-shield": s.subject_id },
      cells: [
        label(s.subject_kind),
        h("code", {}, s.subject_id),
        s.reason,
        `${s.decided_by}, ${label(s.organisation)}`,
        `${when(s.at)} UTC`,
      ],
    })),
  });
}

function decideForm(view, reload) {
  const kind = h(
    "select",
    { name: "kind" },
    KINDS.map(([value, text]) => h("option", { value }, text)),
  );
  const id = h("input", {
    name: "subject_id",
    maxlength: "64",
    autocomplete: "off",
    required: true,
    pattern: "\\S+",
  });
  const reason = h("textarea", {
    name: "reason",
    rows: "2",
    minlength: "10",
    maxlength: "1000",
    required: true,
  });
  const said = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card narrow shield-form", "aria-labelledby": "shield-form-heading" },
    h("h2", { id: "shield-form-heading" }, "Place or lift a shield"),
    h("div", { class: "row" }, field("Shield", kind), field("MAST id", id, "From its page.")),
    field("Reason", reason, "Why, in words a reviewer can check (at least 10 characters)."),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", name: "action", value: "place" }, "Place shield"),
      h(
        "button",
        { type: "submit", name: "action", value: "lift", class: "secondary" },
        "Lift shield",
      ),
    ),
    said,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter?.value === "lift" ? "lift" : "place";
    if (!id.value.trim() || reason.value.trim().length < 10) {
      view.fill(said, errorBox("Give the MAST id, and a reason of at least 10 characters."));
      return;
    }
    try {
      const made = await view.api(`/shields/${action}`, {
        method: "POST",
        body: { [`${kind.value}_id`]: id.value.trim(), reason: reason.value },
      });
      view.fill(said, h("p", { class: "decision" }, decided(made)));
      form.reset();
      await reload();
    } catch (error) {
      view.fill(said, errorBox(error.message));
    }
  });
  return form;
}

/** What was done, in words: "Person P1 shielded (ids P1, P2)." */
function decided(d) {
  const what = `${label(d.subject_kind)} ${d.subject_id}`;
  const ids = d.ids.length > 1 ? ` (every id: ${d.ids.join(", ")})` : "";
  if (d.action === "shield") return `${what} shielded${ids}.`;
  return d.still_shielded
    ? `Shield lifted from ${what}${ids}, but it is still shielded: a partner marked a ` +
        "record sensitive, or someone with a record there is shielded."
    : `Shield lifted from ${what}${ids}.`;
}
