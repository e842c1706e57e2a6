// A person or address page as it stood at an earlier time (a case review: "what could the
// practitioner have seen on 3 April?"), opened by a manager from the audit. The API answers
// exactly what it answered then; the page says so in a banner, and keeps its links in time.
import { h, subjectLink } from "./dom.js";
import { exactly } from "./format.js";

/** The body of a page's POST …/view: the purpose, and the time when there is one. */
export const viewBody = (purpose, at) => (at ? { ...purpose, as_at: at } : purpose);

/** The banner over a page shown as it stood at `page.as_at`; nothing for a page as it
 * stands. */
export function asAtBanner(kind, id, page) {
  if (!page.as_at) return null;
  return h(
    "p",
    { class: "as-at", role: "note" },
    h("strong", {}, `As it stood at ${exactly(page.as_at)}`),
    ": the page exactly as MAST showed it then, for a case review. Records a partner has " +
      "withdrawn since are not shown. ",
    subjectLink(kind, id, "See it as it stands now"),
    ".",
  );
}
