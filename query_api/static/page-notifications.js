// Notifications: what changed in something the user looked at (docs/api.md, "Notifications").
// Each says what happened in words (ids and dates only, never a name) and links to the pages
// as they are now, which ask for a purpose as every person page does (a break-glass to
// review links to the review queue). Opening this page marks the notifications it shows as
// seen; the navigation shows how many are not seen yet.
import { api } from "./api.js";
import { errorBox, h, subjectLink } from "./dom.js";
import { when } from "./format.js";

/** Each kind's heading, and the word for what happened at its time. */
const KINDS = {
  corrected_person: { title: "A person you viewed has been corrected", happened: "Corrected" },
  viewed_by_other_agency: {
    title: "Another organisation viewed a person you have an open case for",
    happened: "Viewed",
  },
  break_glass: {
    title: "A shielded record was opened by break-glass: review it",
    happened: "Opened",
  },
};
const ANY_KIND = { title: "Notification", happened: "At" };
const RECHECK_MS = 60_000;

let shownCount = 0;
let checkedAt = 0;
let asked = 0; // the latest count asked for or shown wins over an answer still on its way

function setCount(unseen) {
  const badge = document.getElementById("notification-count");
  badge.textContent = unseen ? ` (${unseen} new)` : "";
  badge.hidden = !unseen;
  if (unseen && unseen !== shownCount) {
    document.getElementById("notification-status").textContent =
      `${unseen} new ${unseen === 1 ? "notification" : "notifications"}`;
  }
  shownCount = unseen;
}

/** The navigation's count of unseen notifications; a new count is announced. */
export function showCount(unseen) {
  asked += 1;
  setCount(unseen);
}

/** Asks for the count again (at most once a minute unless `force`); a failure leaves it. */
export async function refreshCount({ force = false } = {}) {
  if (!force && Date.now() - checkedAt < RECHECK_MS) return;
  checkedAt = Date.now();
  asked += 1;
  const mine = asked;
  try {
    const answer = await api("/notifications", { params: { unseen: "true", limit: 1 } });
    if (mine === asked) setCount(answer.unseen);
  } catch (_) {
    // the count stays as it was; a 401 has already signed the user out
  }
}

/** Forgets the count (on signing out). */
export function resetCount() {
  checkedAt = 0;
  showCount(0);
  document.getElementById("notification-status").textContent = "";
}

export async function renderNotifications(view) {
  view.loading();
  let answer;
  try {
    answer = await view.api("/notifications", { params: { limit: 100 } });
  } catch (error) {
    return view.show("Notifications", errorBox(error.message));
  }
  const notifications = answer.notifications;
  const unseen = notifications.filter((n) => !n.seen);
  view.show(
    "Notifications",
    h(
      "p",
      {},
      "What has changed in records you looked at, and what you are asked to review. Each " +
        "link opens the page as it is now; you declare a purpose to open a person, as always.",
    ),
    ...(notifications.length
      ? notifications.map(notificationCard)
      : [h("p", {}, "No notifications.")]),
  );
  view.announce(
    `${notifications.length} ${notifications.length === 1 ? "notification" : "notifications"}` +
      `, ${unseen.length} new`,
  );
  if (!unseen.length) {
    showCount(answer.unseen);
    return;
  }
  try {
    const marked = await view.api("/notifications/seen", {
      method: "POST",
      body: { notification_ids: unseen.map((n) => n.notification_id) },
    });
    showCount(marked.unseen);
  } catch (_) {
    // still unseen: shown as new again next time
  }
}

function notificationCard(n) {
  const headingId = `notification-${n.notification_id}`;
  const kind = KINDS[n.kind] || ANY_KIND;
  return h(
    "article",
    {
      class: "card notification",
      "aria-labelledby": headingId,
      "data-notification": n.notification_id,
    },
    h("h2", { id: headingId }, n.seen ? null : h("strong", { class: "new" }, "New: "), kind.title),
    h(
      "p",
      { class: "hint" },
      `${kind.happened} ${when(n.at)}`,
      n.viewed_at ? ` · you last viewed it ${when(n.viewed_at)}` : "",
    ),
    h("p", {}, n.message),
    n.links.length
      ? h(
          "ul",
          { class: "links" },
          n.links.map((link) => h("li", {}, linkTo(link))),
        )
      : null,
  );
}

function linkTo(link) {
  const text = `${link.label} (${link.id})`;
  if (link.kind === "person") return subjectLink("person", link.id, text);
  if (link.kind === "break_glass_review") {
    return h("a", { href: `#/break-glass/${encodeURIComponent(link.id)}` }, text);
  }
  return text;
}
