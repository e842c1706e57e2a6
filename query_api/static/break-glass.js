// Shielded records (docs/api.md, "Shielding and break-glass"). A shielded person or address
// is refused (403) with who holds the record and whom to call; in an emergency the user may
// break the glass: say why, and the page opens for a short time, audited and reviewed by the
// organisation that holds the record and the data protection officer. A page opened so
// carries a banner saying until when.
import { errorBox, field, h } from "./dom.js";
import { when } from "./format.js";
import { purposeFields, purposeLabel } from "./purpose.js";

const MIN_REASON = 10;

/** The API refused the page because its subject is shielded. */
export const isShielded = (error) => error?.status === 403 && /is shielded/.test(error.message);

/** The refusal's own words, without the API's instructions to programs: "This person is
 * shielded" and each "A record is held by …" (whom to call). */
function refusal(detail) {
  const [said] = String(detail).split(" In an emergency");
  const parts = /^(This \w+ is shielded\.)\s*(.+?)\.?$/.exec(said.trim());
  if (!parts) return [h("p", {}, h("strong", {}, said))];
  return [
    h("p", {}, h("strong", {}, parts[1])),
    h(
      "ul",
      { class: "held-by" },
      parts[2].split("; ").map((sentence) => h("li", {}, sentence)),
    ),
  ];
}

let forms = 0;

/**
 * What a page shows instead of a shielded subject: the refusal (who holds the record, whom
 * to call) and a form to break the glass (POST /break-glass), which calls `reopen` once
 * access is granted.
 * - `kind`: "person" or "address"; `id`: its MAST id; `error`: the 403's ApiError.
 * - `purpose`: the purpose the page declared ({purpose, purpose_detail}); none: the form
 *   asks for one.
 */
export function shieldedNotice(view, { kind, id, error, purpose, reopen }) {
  return [
    h("div", { class: "notice shielded", role: "note" }, refusal(error.message)),
    breakGlassForm(view, { kind, id, purpose, reopen }),
  ];
}

/**
 * The form to break the glass into one person or address (POST /break-glass), which calls
 * `reopen` once access is granted; the same arguments as `shieldedNotice`, but the error.
 */
export function breakGlassForm(view, { kind, id, purpose, reopen }) {
  forms += 1;
  const headingId = `break-glass-${forms}`;
  const reason = h("textarea", {
    name: "reason",
    rows: "3",
    minlength: String(MIN_REASON),
    maxlength: "1000",
    required: true,
  });
  const said = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Break glass and open");
  const form = h(
    "form",
    { class: "card narrow break-glass-form", "aria-labelledby": headingId },
    h("h2", { id: headingId }, "Open it in an emergency"),
    h(
      "p",
      {},
      "Only if you must see this record now to keep someone safe and cannot wait to call. " +
        "Access is for a short time, to this record only. It is recorded in the audit, and " +
        "the organisation that holds the record and the data protection officer review it.",
    ),
    purpose
      ? h(
          "p",
          { class: "purpose-line" },
          `Purpose: ${purposeLabel(purpose.purpose)}`,
          purpose.purpose_detail ? ` (${purpose.purpose_detail})` : "",
          ".",
        )
      : purposeFields(),
    field(
      "Why you must see it now",
      reason,
      `At least ${MIN_REASON} characters, in words a reviewer can check.`,
    ),
    button,
    said,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (reason.value.trim().length < MIN_REASON) {
      view.fill(
        said,
        errorBox(`Write why you must see it now: at least ${MIN_REASON} characters.`),
      );
      return;
    }
    const data = new FormData(form);
    const declared = purpose || {
      purpose: data.get("purpose"),
      purpose_detail: data.get("purpose_detail"),
    };
    button.disabled = true;
    try {
      const grant = await view.api("/break-glass", {
        method: "POST",
        body: { [`${kind}_id`]: id, reason: reason.value, ...declared },
      });
      view.announce(`Access granted until ${when(grant.expires_at)} UTC`);
      await reopen({ ...grant, reason: reason.value });
    } catch (problem) {
      button.disabled = false;
      view.fill(said, errorBox(problem.message));
    }
  });
  return form;
}

/** The banner over a page opened by break-glass (the page's `break_glass`: its message,
 * expiry and reason); nothing for any other page. */
export function breakGlassBanner(page) {
  const grant = page.break_glass;
  if (!grant) return null;
  return h(
    "div",
    { class: "break-glass", role: "note", "aria-label": "Opened by break-glass" },
    h("p", {}, h("strong", {}, grant.message)),
    h("p", {}, h("strong", {}, "Access ends: "), `${when(grant.expires_at)} UTC`),
    h("p", {}, h("strong", {}, "Your reason: "), grant.reason),
  );
}

/** A page's `break_glass` made from the grant just given (`reopen`'s argument), for an
 * answer that carries no banner of its own (the subject access report). */
export const grantBanner = (grant) => ({
  message:
    "Shielded record opened by break-glass. This access is audited and will be reviewed by " +
    "the organisation that holds the record and the data protection officer.",
  expires_at: grant.expires_at,
  reason: grant.reason,
});
