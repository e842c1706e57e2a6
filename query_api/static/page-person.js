// A person: details, alerts (with who follows each up), open cases, the timeline, addresses,
// records by agency and why each is theirs, the history of merges and splits, every
// interaction, and a way to say that some of them are not this person's. Opened with a time
// (`#/person/<id>/<time>`, from the audit), the page as it stood then (as-at.js). A shielded
// person is refused with whom to call, and opened only by break-glass (break-glass.js).
import { asAtBanner, viewBody } from "./as-at.js";
import { breakGlassBanner, isShielded, shieldedNotice } from "./break-glass.js";
import { disputeForm } from "./dispute-form.js";
import { errorBox, h, section, subjectLinkAt } from "./dom.js";
import { addressText, birthDate, day, fullName, label, when } from "./format.js";
import { purposeGate, purposeLine } from "./purpose.js";
import { alertsSection, interactionsSection, openCases, recordsSection } from "./sections.js";
import { currentPurpose, session } from "./state.js";
import { table } from "./table.js";
import { timelineSection } from "./timeline.js";
import { historyError, historyLoading, historySection } from "./why.js";

export async function renderPerson(view, id, at = "") {
  const purpose = currentPurpose();
  if (!purpose) return purposeGate(view, "Open a person", () => renderPerson(view, id, at));
  view.loading();
  let page;
  try {
    page = await view.api(`/persons/${encodeURIComponent(id)}/view`, {
      method: "POST",
      body: viewBody(purpose, at),
    });
  } catch (error) {
    if (!isShielded(error)) return view.show("Person", errorBox(error.message));
    const reopen = () => renderPerson(view, id, at);
    return view.show(
      "Shielded person",
      ...shieldedNotice(view, { kind: "person", id, error, purpose, reopen }),
    );
  }
  const d = page.details;
  const history = h("div", {}, page.as_at ? null : historyLoading());
  // for the organisation holding one of the person's open cases: who else looked lately
  const ours = !page.as_at && page.open_cases.some((c) => c.agency === session.me.organisation);
  const othersLooked = h("div");
  view.show(
    fullName(d),
    breakGlassBanner(page),
    asAtBanner("person", id, page),
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
    othersLooked,
    timelineSection(page.timeline),
    section(
      "Addresses",
      withheld(page.withheld_addresses),
      page.addresses.length
        ? h(
            "ul",
            {},
            page.addresses.map((a) =>
              h(
                "li",
                {},
                subjectLinkAt("address", a.address_id, page.as_at, addressText(a)),
                ` — last seen ${day(a.last_seen)}`,
              ),
            ),
          )
        : page.withheld_addresses
          ? null
          : h("p", {}, "No usable address recorded."),
    ),
    recordsSection(page.records),
    history,
    interactionsSection(page.interactions),
    // records that are someone else's: a steward decides (a split goes through the pipeline);
    // not on a page as it stood, which is for reading
    page.as_at ? null : disputeForm(page.person_id, page.interactions, { view, purpose }),
  );
  if (page.as_at) return; // the history of merges and splits is the history as it stands
  if (ours) showOtherViews(view, id, purpose, othersLooked);
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

/** "1 address not shown: shielded": addresses of the person's records hidden because
 * someone with a record there is shielded (those records are listed without an address). */
function withheld(count) {
  if (!count) return null;
  return h(
    "p",
    { class: "notice" },
    h("strong", {}, `${count} ${count === 1 ? "address" : "addresses"} not shown: shielded.`),
    " The records there are listed without an address.",
  );
}

/** "Recent views by other agencies", asked with the page's purpose (audited on its own). */
async function showOtherViews(view, id, purpose, into) {
  try {
    const seen = await view.api(`/persons/${encodeURIComponent(id)}/views-by-other-agencies/view`, {
      method: "POST",
      body: purpose,
    });
    if (!seen.case_holder) return;
    view.fill(
      into,
      section(
        "Recent views by other agencies",
        seen.views.length
          ? table({
              caption: "Who of other organisations opened this page lately",
              columns: ["When", "Who", "Organisation", "Purpose"],
              rows: seen.views.map((v) => [
                when(v.at),
                `${v.username} (${v.role})`,
                label(v.organisation),
                v.purpose || "—",
              ]),
            })
          : h("p", {}, "No one from another organisation has opened it lately."),
      ),
    );
  } catch (error) {
    view.fill(into, errorBox(error.message));
  }
}
