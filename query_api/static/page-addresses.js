// Search addresses by free text or postcode; each address names the people linked to it.
import { field, h, subjectLink } from "./dom.js";
import { addressText, birthDate, confidence, fullName } from "./format.js";
import { purposeFields, takePurpose } from "./purpose.js";
import { searchForm } from "./search-form.js";
import { num, table } from "./table.js";

export function renderAddressSearch(view) {
  const form = h(
    "form",
    { class: "card", role: "search", "aria-label": "Search addresses" },
    purposeFields(),
    field(
      "Address or postcode",
      h("input", { name: "q", maxlength: "300", autocomplete: "off" }),
      "As you would write it: 7 Larch Close, Walsall WS3 1EE — or just the postcode.",
    ),
    h("button", { type: "submit" }, "Search"),
  );
  const results = searchForm(view, form, {
    path: "/search/addresses",
    body: () => {
      const q = new FormData(form).get("q");
      return { ...takePurpose(form), ...(q ? { q } : {}) };
    },
    draw: addressResults,
    found: (n) => `${n} ${n === 1 ? "address" : "addresses"} found`,
  });
  view.show("Search addresses", form, results);
}

/** A resident: a link to them by name, with their date of birth. */
function resident(p) {
  const born = p.date_of_birth ? [", born ", birthDate(p.date_of_birth)] : "";
  return h("li", {}, subjectLink("person", p.person_id, fullName(p)), born);
}

function addressResults(found) {
  if (!found.length) return h("p", {}, "No address matches. Try the postcode alone.");
  return table({
    caption: `${found.length} ${found.length === 1 ? "address" : "addresses"}, best match first`,
    columns: ["Address", "People", num("Events"), num("Match")],
    rows: found.map((a) => [
      subjectLink("address", a.address_id, addressText(a)),
      a.people.length ? h("ul", { class: "residents" }, a.people.map(resident)) : "—",
      a.events,
      confidence(a.confidence),
    ]),
  });
}
