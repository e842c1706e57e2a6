// What an alert is about and who follows it up, in words a practitioner recognises.
import { h, subjectLink } from "./dom.js";
import { addressText, birthDateText, fullName, label } from "./format.js";

const kindPath = (alert) => (alert.subject_kind === "PERSON" ? "person" : "address");

/** The subject in words: "Edna Wren, born 4 Mar 1950", or the address. Uses the API's
 * `subject_person` / `subject_address` when it sends them; otherwise only the MAST id is
 * known. A shielded subject is never named: "Shielded person (MAST id …)". */
export function subjectText(alert) {
  if (alert.shielded) return `Shielded ${kindPath(alert)} (MAST id ${alert.subject_id})`;
  const person = alert.subject_person;
  const address = alert.subject_address;
  if (alert.subject_kind === "PERSON" && person) {
    const born = birthDateText(person.date_of_birth);
    return born ? `${fullName(person)}, born ${born}` : fullName(person);
  }
  if (alert.subject_kind === "ADDRESS" && address) return addressText(address);
  return `${label(alert.subject_kind)} (MAST id ${alert.subject_id})`;
}

/** A link to the subject's page, named as `subjectText` names it; for a shielded subject,
 * with a word that its page opens only by break-glass. */
export function subjectLinkOf(alert) {
  const link = subjectLink(kindPath(alert), alert.subject_id, subjectText(alert));
  if (!alert.shielded) return link;
  return [link, h("div", { class: "hint" }, "Not named: opened only by break-glass.")];
}

/** For each agency that owns the alert, whom to call there: the API's `contacts` when it
 * sends them; otherwise the contact of that agency's latest interaction among the alert's
 * evidence in `interactions` (a person or address page has them, latest first). */
export function owners(alert, interactions = []) {
  const agencies = alert.owners || Object.keys(alert.counts_by_agency || {}).sort();
  const contacts = new Map();
  for (const c of alert.contacts || []) if (!contacts.has(c.agency)) contacts.set(c.agency, c);
  const evidence = new Set(alert.evidence_event_ids || []);
  for (const i of interactions) {
    if (evidence.has(i.event_id) && !contacts.has(i.agency)) contacts.set(i.agency, i.contact);
  }
  return agencies.map((agency) => ({ agency, contact: contacts.get(agency) || null }));
}

/** "Adult social care: Adults East (Adults East duty, 01384 222333)". */
export function ownerText({ agency, contact }) {
  if (!contact) return label(agency);
  const team = contact.team || contact.name;
  const rest = [contact.team ? contact.name : null, contact.phone, contact.email].filter(Boolean);
  if (!team) return rest.length ? `${label(agency)} (${rest.join(", ")})` : label(agency);
  return `${label(agency)}: ${team}${rest.length ? ` (${rest.join(", ")})` : ""}`;
}

/** Who follows the alert up, as a list (one line per owning agency). */
export function followUp(alert, interactions) {
  const all = owners(alert, interactions);
  if (!all.length) return "—";
  return h(
    "ul",
    { class: "owners" },
    all.map((owner) => h("li", {}, ownerText(owner))),
  );
}
