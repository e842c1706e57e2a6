// A person: details, alerts (with who follows each up), open cases, the timeline, addresses,
// records by agency and why each is theirs, the history of merges and splits, every
// interaction, and a way to say that some of them are not this person's.
import { disputeForm } from "./dispute-form.js";
import { errorBox, h, section, subjectLink } from "./dom.js";
import { addressText, birthDate, day, fullName } from "./format.js";
import { purposeGate, purposeLine } from "./purpose.js";
import { alertsSection, interactionsSection, openCases, recordsSection } from "./sections.js";
import { currentPurpose } from "./state.js";
import { timelineSection } from "./timeline.js";
import { historyError, historyLoading, historySection } from "./why.js";

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
  const history = h("div", {}, historyLoading());
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
    history,
    interactionsSection(page.interactions),
    // records that are someone else's: a steward decides (a split goes through the pipeline)
    disputeForm(page.person_id, page.interactions, { view, purpose }),
  );
  // the merges, asked for with the same purpose (and so audited as a look-up of their own)
  try {
    const merges = await view.api(`/persons/${encodeURIComponent(id)}/history/view`, {
      method: "POST",
      body: purpose,
    });
    view.fill(history, historySection(merges));
  } catch (error) {
    view.fill(history, historyError(error.message));
  }
}
