// An address: the people linked to it, its alerts, timeline and interactions; opened with a
// time (`#/address/<id>/<time>`, from the audit), as it stood then (as-at.js). A shielded
// address is refused with whom to call, and opened only by break-glass (break-glass.js).
import { asAtBanner, viewBody } from "./as-at.js";
import { breakGlassBanner, breakGlassForm, isShielded, shieldedNotice } from "./break-glass.js";
import { errorBox, h, section, subjectLinkAt } from "./dom.js";
import { addressText, birthDate, fullName, label } from "./format.js";
import { purposeGate, purposeLine } from "./purpose.js";
import { alertsSection, interactionsSection } from "./sections.js";
import { currentPurpose } from "./state.js";
import { num, table } from "./table.js";
import { timelineSection } from "./timeline.js";

export async function renderAddress(view, id, at = "") {
  const purpose = currentPurpose();
  if (!purpose) return purposeGate(view, "Open an address", () => renderAddress(view, id, at));
  view.loading();
  let page;
  try {
    page = await view.api(`/addresses/${encodeURIComponent(id)}/view`, {
      method: "POST",
      body: viewBody(purpose, at),
    });
  } catch (error) {
    const reopen = () => renderAddress(view, id, at);
    if (isShielded(error)) {
      return view.show(
        "Shielded address",
        ...shieldedNotice(view, { kind: "address", id, error, purpose, reopen }),
      );
    }
    if (error.status === 404 && !at) {
      // a shielded address is answered as one MAST does not hold: its id can be worked out
      // from the address, and any other answer would say where a refuge is
      return view.show(
        "No such address",
        h(
          "p",
          { class: "notice", role: "note" },
          "MAST holds no address with this id, or the address is shielded: a shielded " +
            "address is answered as one MAST does not hold, so that nobody can learn it " +
            "from MAST. If you reached it from an alert about a shielded address and must " +
            "see it now, you may break the glass.",
        ),
        breakGlassForm(view, { kind: "address", id, purpose, reopen }),
      );
    }
    return view.show("Address", errorBox(error.message));
  }
  view.show(
    addressText(page.address),
    breakGlassBanner(page),
    asAtBanner("address", id, page),
    purposeLine(purpose),
    section(
      "People linked to this address",
      table({
        columns: ["Name", "Date of birth", "Known to", num("Events")],
        rows: page.people.map((p) => [
          subjectLinkAt("person", p.person_id, page.as_at, fullName(p)),
          birthDate(p.date_of_birth),
          p.agencies.map(label).join(", "),
          p.events,
        ]),
      }),
    ),
    alertsSection(page.alerts, page.interactions, { self: page.address_id, people: page.people }),
    timelineSection(page.timeline),
    interactionsSection(page.interactions, page.people),
  );
}
