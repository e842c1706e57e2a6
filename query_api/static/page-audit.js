// The audit, for managers: who looked at what, for what purpose; filters and CSV export; and
// for each person or address page shown, a link that opens it as it stood then.
import { errorBox, field, h, subjectLinkAt } from "./dom.js";
import { label, when } from "./format.js";
import { purposeLabel } from "./purpose.js";
import { isManager, session } from "./state.js";
import { cell, table } from "./table.js";

export function renderAudit(view) {
  if (!isManager()) return view.show("Audit", errorBox("Only managers can see the audit."));
  const results = h("div");
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter the audit" },
    field("User", h("input", { name: "username", maxlength: "64" })),
    field("Person looked at (MAST id)", h("input", { name: "person_id", maxlength: "64" })),
    field("From", h("input", { name: "since", type: "date" })),
    field("To", h("input", { name: "until", type: "date" })),
    h("button", { type: "submit" }, "Show"),
    h("button", { type: "button", class: "secondary", onclick: () => exportCsv() }, "Export CSV"),
  );
  const params = () => Object.fromEntries(new FormData(form));
  const load = async () => {
    try {
      const entries = await view.api("/audit", { params: params() });
      view.fill(results, auditTable(entries));
      view.announce(`${entries.length} audit entries`);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  const exportCsv = async () => {
    try {
      const response = await view.api("/audit", {
        params: { ...params(), format: "csv" },
        raw: true,
      });
      const href = URL.createObjectURL(await response.blob());
      h("a", { href, download: `mast-audit-${session.me.organisation}.csv` }).click();
      URL.revokeObjectURL(href);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show(`Audit: ${label(session.me.organisation)}`, form, results);
  load();
}

/** The page each view action shows. */
const PAGE_OF = {
  view_person: "person",
  view_person_as_at: "person",
  view_address: "address",
  view_address_as_at: "address",
};

/** A link to the page a view showed, as it stood when it was shown (the API records the
 * time its data stood at, `data_as_at`); nothing for other entries or refusals, nor for a
 * reader of the audit who opens no pages (the data protection officer). */
function asItStood(entry) {
  const kind = PAGE_OF[entry.action];
  if (!kind || entry.outcome !== "shown" || !isManager()) return "";
  let asked;
  try {
    asked = typeof entry.asked === "string" ? JSON.parse(entry.asked) : entry.asked;
  } catch (_) {
    return "";
  }
  const id = asked?.[`${kind}_id`];
  const at = asked?.data_as_at;
  if (!id || !at) return "";
  return subjectLinkAt(kind, id, at, "Open as it stood");
}

function auditTable(entries) {
  if (!entries.length) return h("p", {}, "No entries match.");
  return table({
    caption: `${entries.length} entries, newest first`,
    attrs: { class: "audit" },
    columns: ["When", "User", "Action", "Outcome", "Purpose", "Asked", "People shown", "Page"],
    rows: entries.map((e) => [
      when(e.at),
      e.username,
      label(e.action),
      e.outcome,
      [purposeLabel(e.purpose), e.purpose_detail ? ` (${e.purpose_detail})` : ""],
      cell(
        "td",
        { class: "asked" },
        typeof e.asked === "string" ? e.asked : JSON.stringify(e.asked),
      ),
      e.person_ids.join(", "),
      asItStood(e),
    ]),
  });
}
