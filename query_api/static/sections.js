// The parts person and address pages share: alerts, open cases, records by agency, and
// every interaction with whom to contact.
import { followUp, subjectText } from "./alert-text.js";
import { h, section, subjectLink } from "./dom.js";
import { addressText, birthDate, contactText, day, fullName, label, when } from "./format.js";
import { num, table } from "./table.js";
import { why } from "./why.js";

/** The alerts on a page, each with who follows it up (from the page's `interactions`). An
 * alert about someone or somewhere other than the page's own subject (`self`, its id or ids:
 * an address of the person, a person at the address) names and links it, from the page's `people` and
 * `addresses`. */
export function alertsSection(alerts, interactions, { self, people = [], addresses = [] } = {}) {
  if (!alerts.length) return section("Alerts", h("p", {}, "No alerts."));
  const known = new Map([
    ...people.map((p) => [`PERSON|${p.person_id}`, { ...p, kind: "person", text: fullName(p) }]),
    ...addresses.map((a) => [
      `ADDRESS|${a.address_id}`,
      { ...a, kind: "address", text: addressText(a) },
    ]),
  ]);
  const own = new Set([self].flat());
  const about = (a) => {
    if (own.has(a.subject_id)) return "";
    const subject = known.get(`${a.subject_kind}|${a.subject_id}`);
    if (!subject) return ` about ${subjectText(a)}`;
    return [" about ", subjectLink(subject.kind, a.subject_id, subject.text)];
  };
  return section(
    "Alerts",
    h(
      "ul",
      { class: "alerts" },
      alerts.map((a) =>
        h(
          "li",
          { class: `sev-${a.severity.toLowerCase()}` },
          h("strong", {}, `${a.severity} · ${label(a.rule_id)}`),
          about(a),
          ` — ${a.summary} (raised ${day(a.raised_at)})`,
          h(
            "div",
            { class: "follow-up" },
            h("span", { class: "follow-up-label" }, "Follow-up: "),
            followUp(a, interactions),
          ),
        ),
      ),
    ),
  );
}

export function openCases(cases) {
  if (!cases.length) return section("Open cases", h("p", {}, "No open cases."));
  return section(
    "Open cases",
    h(
      "ul",
      {},
      cases.map((c) =>
        h(
          "li",
          {},
          `${label(c.agency)} ${c.source_record_id ? `case ${c.source_record_id} ` : ""}open since ${day(c.open_since)} — `,
          contactText(c.contact),
        ),
      ),
    ),
  );
}

const WHY_HINT =
  "Why linked: the evidence that the record is this person's, as MAST's matching weighed it.";

export function recordsSection(records) {
  return section(
    "Records by agency",
    h("p", { class: "hint" }, WHY_HINT),
    table({
      columns: [
        "Agency",
        "System",
        "Reference",
        "Name",
        "Date of birth",
        "Seen",
        num("Events"),
        "Why linked",
      ],
      rows: records.map((r) => [
        label(r.agency),
        r.source_system || "—",
        r.source_record_id || "—",
        fullName(r),
        birthDate(r.date_of_birth),
        `${day(r.first_seen)} to ${day(r.last_seen)}`,
        r.events,
        why(r.why),
      ]),
    }),
  );
}

// The contact to call for each interaction: shown on hover or keyboard focus of the agency.
function contactTip(interaction, index) {
  const id = `contact-${index}`;
  return h(
    "span",
    { class: "tip" },
    h(
      "button",
      { type: "button", class: "tip-target", "aria-describedby": id },
      label(interaction.agency),
    ),
    h("span", { role: "tooltip", id, class: "tip-text" }, contactText(interaction.contact)),
  );
}

/** Every interaction; on an address page, `people` names whom each was about. On a person
 * page each interaction says why it is the person's (its `why`). */
export function interactionsSection(interactions, people) {
  const names = new Map((people || []).map((p) => [p.person_id, p]));
  const person = (i) =>
    names.has(i.person_id)
      ? subjectLink("person", i.person_id, fullName(names.get(i.person_id)))
      : "—";
  const withWhy = interactions.some((i) => i.why);
  return section(
    "Interactions",
    h("p", { class: "hint" }, "Hover over or focus an agency to see whom to contact."),
    table({
      columns: [
        "When",
        ...(people ? ["Person"] : []),
        "Agency",
        "Type",
        "Case status",
        ...(withWhy ? ["Why linked"] : []),
      ],
      rows: interactions.map((i, n) => [
        when(i.occurred_at) || "not given",
        ...(people ? [person(i)] : []),
        contactTip(i, n),
        label(i.event_type) || "—",
        label(i.case_status) || "—",
        ...(withWhy ? [why(i.why)] : []),
      ]),
    }),
  );
}
