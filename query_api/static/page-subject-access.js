// Subject access: the data protection officer finds the person a request is about, then
// makes the report of everything MAST holds about them and every access to it, as the
// officer's copy or the person's (staff named by organisation), to print or as a CSV file.
// A shielded person is found by id only, and their report is made only by break-glass.
import { breakGlassBanner, grantBanner, isShielded, shieldedNotice } from "./break-glass.js";
import { errorBox, field, h, section } from "./dom.js";
import { addressText, birthDate, day, fullName, label, when } from "./format.js";
import { num, table } from "./table.js";

const SAR = { purpose: "subject_access_request" };
const COPIES = [
  ["officer", "Officer's copy (as held)"],
  ["person", "The person's copy (staff named by organisation)"],
];

export async function renderSubjectAccess(view, personId) {
  if (personId) return showReport(view, personId);
  const input = (name) => h("input", { name, autocomplete: "off" });
  const given = input("given_name");
  const family = input("family_name");
  const born = input("date_of_birth");
  const postcode = input("postcode");
  const results = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Find the person a request is about" },
    h(
      "div",
      { class: "row" },
      field("Given name", given),
      field("Family name", family),
      field("Date of birth", born, "For example 13/02/1957."),
      field("Postcode", postcode),
    ),
    h("button", { type: "submit" }, "Find"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const el of [given, family, born, postcode]) if (el.value.trim()) body[el.name] = el.value;
    try {
      const found = await view.api("/subject-access/search", { method: "POST", body });
      view.fill(
        results,
        found.length
          ? table({
              caption: `${found.length} ${found.length === 1 ? "person" : "people"} found`,
              columns: ["Name", "Date of birth", "Postcode", num("Records"), "Report"],
              rows: found.map((p) => [
                p.shielded ? h("strong", {}, "Shielded") : fullName(p),
                p.shielded ? "—" : birthDate(p.date_of_birth),
                p.postcode || "—",
                String(p.records),
                h(
                  "a",
                  { href: `#/subject-access/${encodeURIComponent(p.person_id)}` },
                  `Report on ${p.person_id}`,
                ),
              ]),
            })
          : h("p", {}, "Nobody found."),
      );
      view.announce(`${found.length} found`);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  });
  view.show(
    "Subject access",
    h(
      "p",
      {},
      "Find the person a subject access request is about, then make the report of " +
        "everything MAST holds about them and every access to it. Every search and report " +
        "is recorded in the audit.",
    ),
    form,
    results,
  );
}

async function showReport(view, personId) {
  const copy = h(
    "select",
    { name: "copy" },
    COPIES.map(([value, text]) => h("option", { value }, text)),
  );
  const report = h("div");
  let grant = null; // a break-glass made on this page, for its banner
  const load = async () => {
    try {
      const made = await view.api(`/subject-access/${encodeURIComponent(personId)}`, {
        params: { ...SAR, copy: copy.value },
      });
      const opened = made.break_glass || (grant && grantBanner(grant));
      view.fill(report, breakGlassBanner({ break_glass: opened }), ...reportParts(made));
      view.announce(
        `Report made: ${made.records.length} records, ${made.accesses.length} accesses`,
      );
    } catch (error) {
      if (!isShielded(error)) return view.fill(report, errorBox(error.message));
      // the officer breaks the glass with a declared purpose (none is asked for here)
      view.fill(
        report,
        ...shieldedNotice(view, {
          kind: "person",
          id: personId,
          error,
          reopen: (made) => {
            grant = made;
            return load();
          },
        }),
      );
    }
  };
  const download = async () => {
    try {
      const response = await view.api(`/subject-access/${encodeURIComponent(personId)}`, {
        params: { ...SAR, copy: copy.value, format: "csv" },
        raw: true,
      });
      const href = URL.createObjectURL(await response.blob());
      h("a", { href, download: `subject-access-${personId}-${copy.value}.csv` }).click();
      URL.revokeObjectURL(href);
    } catch (error) {
      view.fill(report, errorBox(error.message));
    }
  };
  const form = h(
    "form",
    { class: "card row no-print", "aria-label": "Make the report" },
    field("Copy", copy),
    h("button", { type: "submit" }, "Make report"),
    h("button", { type: "button", class: "secondary", onclick: download }, "Download CSV"),
    h("button", { type: "button", class: "secondary", onclick: () => window.print() }, "Print"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show(`Subject access report: ${personId}`, form, report);
  await load();
}

function reportParts(r) {
  return [
    h(
      "p",
      {},
      `Made ${when(new Date().toISOString())} for person ${r.person_id}` +
        (r.ids.length > 1 ? ` (also known by ${r.ids.slice(1).join(", ")})` : "") +
        `. ${r.made_for === "person" ? "The person's copy." : "The officer's copy."}`,
    ),
    section(
      `Records held (${r.records.length})`,
      table({
        caption: "Each partner's record, oldest first, and why MAST linked it",
        columns: [
          "When",
          "Agency",
          "Name",
          "Date of birth",
          "Address",
          "Case",
          "Contact",
          "Why linked",
        ],
        rows: r.records.map((x) => [
          day(x.occurred_at),
          [
            label(x.agency),
            h("div", { class: "hint" }, `${x.source_system || ""} ${x.source_record_id || ""}`),
          ],
          fullName(x),
          birthDate(x.date_of_birth),
          addressText(x.address),
          x.case_status || "—",
          [x.contact.name, x.contact.team, x.contact.phone].filter(Boolean).join(", ") || "—",
          x.linked_because,
        ]),
      }),
    ),
    section(
      `Links between the person's records (${r.links.length})`,
      r.links.length
        ? h(
            "ul",
            {},
            r.links.map((l) => h("li", {}, `${day(l.at)}: ${l.because}`)),
          )
        : h("p", {}, "None."),
    ),
    section(
      `Alerts (${r.alerts.length})`,
      r.alerts.length
        ? h(
            "ul",
            {},
            r.alerts.map((a) => h("li", {}, `${day(a.raised_at)}: ${a.summary} (${a.severity})`)),
          )
        : h("p", {}, "None."),
    ),
    section(
      `Who looked (${r.accesses.length})`,
      table({
        caption: "Every audited look-up that named the person, oldest first",
        columns: ["When", "Who", "Organisation", "What", "Purpose", "Outcome"],
        rows: r.accesses.map((a) => [
          when(a.at),
          a.who,
          label(a.organisation),
          a.action,
          a.purpose || "—",
          a.outcome,
        ]),
      }),
    ),
  ];
}
