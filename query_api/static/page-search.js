// Search people by name, date of birth and postcode. A shielded person is shown only as
// "Shielded", with who holds a record and whom to call, and a way to break the glass.
import { field, h, subjectLink } from "./dom.js";
import { birthDate, confidence, fullName, label } from "./format.js";
import { purposeFields, takePurpose } from "./purpose.js";
import { searchForm } from "./search-form.js";
import { num, table } from "./table.js";

export function renderSearch(view) {
  const form = h(
    "form",
    { class: "card", role: "search", "aria-label": "Search people" },
    purposeFields(),
    h(
      "div",
      { class: "row" },
      field("Given name", h("input", { name: "given_name", maxlength: "128" })),
      field("Family name", h("input", { name: "family_name", maxlength: "128" })),
    ),
    h(
      "div",
      { class: "row" },
      field(
        "Date of birth",
        h("input", { name: "date_of_birth", maxlength: "32" }),
        "Any usual form: 13/02/1957, 1957-02-13, 13 Feb 1957.",
      ),
      field("Postcode", h("input", { name: "postcode", maxlength: "16", autocomplete: "off" })),
    ),
    h("button", { type: "submit" }, "Search"),
  );
  const results = searchForm(view, form, {
    path: "/search/persons",
    body: () => {
      const data = new FormData(form);
      const body = { ...takePurpose(form) };
      for (const key of ["given_name", "family_name", "date_of_birth", "postcode"]) {
        if (data.get(key)) body[key] = data.get(key);
      }
      return body;
    },
    draw: personResults,
    found: (n) => `${n} ${n === 1 ? "person" : "people"} found`,
  });
  view.show("Search people", form, results);
}

function personResults(found) {
  if (!found.length) return h("p", {}, "No one matches. Try fewer details or another spelling.");
  return table({
    caption: `${found.length} ${found.length === 1 ? "person" : "people"}, best match first`,
    columns: ["Name", "Date of birth", "Postcode", "Known to", num("Records"), num("Match")],
    rows: found.map((p) => [
      p.shielded ? shielded(p) : subjectLink("person", p.person_id, fullName(p)),
      p.shielded ? "—" : birthDate(p.date_of_birth),
      p.postcode || "—",
      p.agencies.map(label).join(", "),
      p.records,
      confidence(p.confidence),
    ]),
  });
}

/** A shielded person: no details, only who holds a record and whom to call; opening the
 * page asks why (break-glass). */
function shielded(p) {
  return [
    h("strong", {}, "Shielded"),
    h("span", { class: "hint" }, ` · MAST id ${p.person_id}`),
    h(
      "ul",
      { class: "held-by" },
      p.held_by.map((holder) => h("li", {}, holder.sentence)),
    ),
    subjectLink("person", p.person_id, "Open in an emergency (break glass)"),
  ];
}
