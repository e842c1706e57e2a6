// A person: details, alerts (with who follows each up), open cases, the timeline, addresses,
// records by agency and every interaction.
import { errorBox, h, section, subjectLink } from "./dom.js";
import { addressText, birthDate, day, fullName } from "./format.js";
import { purposeGate, purposeLine } from "./purpose.js";
import { alertsSection, interactionsSection, openCases, recordsSection } from "./sections.js";
import { currentPurpose } from "./state.js";
import { timelineSection } from "./timeline.js";

export async function renderPerson(view, id) {
  const purpose = currentPurpose();
  if (!purpose) return purposeGate(view, "Open a person", () => renderPerson(view, id));
  view.loading();
  let page;
  try {
    page = await view.api(`/persons/${encodeURIComponent(id)}/view`, {
      method: "POST",
      body: purpose,
    });
  } catch (error) {
    return view.show("Person", errorBox(error.message));
  }
  const d = page.details;
  view.show(
    fullName(d),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Date of birth"),
      h("dd", {}, birthDate(d.date_of_birth)),
      h("dt", {}, "Gender"),
      h("dd", {}, d.gender || "—"),
      h("dt", {}, "MAST id"),
      h("dd", {}, page.person_id),
      page.merged_ids.length
        ? [h("dt", {}, "Also recorded as"), h("dd", {}, page.merged_ids.join(", "))]
        : null,
    ),
    purposeLine(purpose),
    alertsSection(page.alerts, page.interactions, {
      self: [page.person_id, ...page.merged_ids],
      addresses: page.addresses,
    }),
    openCases(page.open_cases),
    timelineSection(page.timeline),
    section(
      "Addresses",
      page.addresses.length
        ? h(
            "ul",
            {},
            page.addresses.map((a) =>
              h(
                "li",
                {},
                subjectLink("address", a.address_id, addressText(a)),
                ` — last seen ${day(a.last_seen)}`,
              ),
            ),
          )
        : h("p", {}, "No usable address recorded."),
    ),
    recordsSection(page.records),
    interactionsSection(page.interactions),
  );
}
