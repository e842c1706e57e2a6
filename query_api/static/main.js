// MAST web app: a thin client of the JSON API under /api/v1, in ES modules with no build
// step. This module signs in and out and routes `#/page/id` to the page's module; every
// navigation is a new View (view.js), so a slow answer cannot draw over a later page.
import { onUnauthorised } from "./api.js";
import { errorBox } from "./dom.js";
import { label } from "./format.js";
import { renderAccessReview } from "./page-access-review.js";
import { renderAddress } from "./page-address.js";
import { renderAddressSearch } from "./page-addresses.js";
import { renderAlerts } from "./page-alerts.js";
import { renderAudit } from "./page-audit.js";
import { renderBreakGlass } from "./page-break-glass.js";
import { renderDisputes } from "./page-disputes.js";
import { refreshCount, renderNotifications, resetCount } from "./page-notifications.js";
import { renderPerson } from "./page-person.js";
import { renderRetention } from "./page-retention.js";
import { renderSearch } from "./page-search.js";
import { renderShields } from "./page-shields.js";
import { renderSignIn } from "./page-signin.js";
import { renderStats } from "./page-stats.js";
import { renderSubjectAccess } from "./page-subject-access.js";
import {
  forget,
  isDpo,
  isManager,
  isReviewer,
  isSteward,
  seesShields,
  session,
  token,
} from "./state.js";
import { navigate } from "./view.js";

const PAGES = {
  search: renderSearch,
  addresses: renderAddressSearch,
  person: renderPerson,
  address: renderAddress,
  alerts: renderAlerts,
  stats: renderStats,
  audit: renderAudit,
  disputes: renderDisputes,
  notifications: renderNotifications,
  "access-review": renderAccessReview,
  retention: renderRetention,
  "subject-access": renderSubjectAccess,
  "break-glass": renderBreakGlass,
  shields: renderShields,
};

/** Which navigation items each role sees (`data-role` in index.html). */
const SHOWN = {
  "look-up": () => !isSteward() && !isDpo(),
  manager: () => isManager() || isDpo(),
  steward: isSteward,
  dpo: isDpo,
  reviewer: isReviewer,
  shields: seesShields,
};

const home = () => (isSteward() ? "disputes" : isDpo() ? "access-review" : "search");

function signOut(message) {
  forget();
  resetCount();
  document.getElementById("nav").hidden = true;
  renderSignIn(navigate(), message, start);
}

async function start() {
  const view = navigate();
  try {
    session.me = await view.api("/me");
    session.purposes = await view.api("/purposes");
  } catch (_) {
    return; // a 401 has already shown the sign-in form
  }
  const nav = document.getElementById("nav");
  nav.hidden = false;
  document.getElementById("who").textContent =
    `${session.me.username} · ${label(session.me.organisation)} · ${session.me.role}`;
  for (const item of nav.querySelectorAll("[data-role]")) item.hidden = !SHOWN[item.dataset.role]();
  refreshCount({ force: true });
  if (!window.location.hash || window.location.hash === "#/") window.location.hash = `#/${home()}`;
  else route();
}

function route() {
  if (!session.me) return;
  const [, page, id, at] = window.location.hash.split("/"); // at: a page as it stood then
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${page}`);
  }
  if (page !== "notifications") refreshCount(); // that page counts for itself
  const view = navigate();
  const render = PAGES[page] || PAGES[home()];
  Promise.resolve()
    .then(() => render(view, id ? decodeURIComponent(id) : "", at ? decodeURIComponent(at) : ""))
    .catch((error) => view.show("Something went wrong", errorBox(error.message)));
}

onUnauthorised(signOut);
window.addEventListener("hashchange", route);
document.getElementById("sign-out").addEventListener("click", () => signOut());
if (token()) start();
else renderSignIn(navigate(), undefined, start);
