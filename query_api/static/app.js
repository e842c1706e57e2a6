// MAST web app: a thin client of the JSON API under /api/v1. Every element is built with
// textContent (never innerHTML), so a name a partner sent can never become markup.
"use strict";

const API = "/api/v1";
const store = window.sessionStorage; // cleared when the tab closes
const main = () => document.getElementById("main");

// --- DOM helpers ------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  for (const child of children.flat()) {
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function show(title, ...content) {
  document.title = `${title} — MAST`;
  const target = main();
  target.replaceChildren(h("h1", {}, title), ...content);
  target.focus();
  announce(title);
}

function announce(text) {
  document.getElementById("status").textContent = text;
}

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), hintEl, input);
}

function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}

const ACRONYMS = new Set(["ED", "GP", "ASB", "LAC", "CIN", "MASH", "NHS", "DA"]);
const label = (code) =>
  String(code || "")
    .split("_")
    .map((word) => (ACRONYMS.has(word) ? word : word.toLowerCase()))
    .join(" ")
    .replace(/^\w/, (c) => c.toUpperCase());
const day = (iso) => (iso ? String(iso).slice(0, 10) : "");
const when = (iso) => (iso ? String(iso).slice(0, 16).replace("T", " ") : "");

// --- API ----------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body, params, raw = false } = {}) {
  const url = new URL(API + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const headers = {};
  const token = store.getItem("mast.token");
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/auth/token") {
    signOut("Your session has ended. Sign in again.");
    throw new ApiError(401, "Sign in again.");
  }
  if (!response.ok) {
    let message = `The request failed (${response.status}).`;
    try {
      const detail = (await response.json()).detail;
      message = Array.isArray(detail)
        ? detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ")
        : detail || message;
    } catch (_) {
      /* not JSON */
    }
    throw new ApiError(response.status, message);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

// --- Session ------------------------------------------------------------------------------
let me = null;
let purposes = [];

function signOut(message) {
  store.removeItem("mast.token");
  store.removeItem("mast.purpose");
  me = null;
  document.getElementById("nav").hidden = true;
  renderSignIn(message);
}

async function renderSignIn(message) {
  const notice = await api("/auth/notice").then((n) => n.notice);
  const error = h("div");
  if (message) error.append(errorBox(message));
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    h("div", { class: "notice", id: "notice" }, h("strong", {}, "Notice. "), notice),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field(
      "Password",
      h("input", {
        name: "password",
        type: "password",
        autocomplete: "current-password",
        required: true,
      }),
    ),
    h(
      "div",
      { class: "check" },
      h("input", {
        type: "checkbox",
        id: "notice-accepted",
        name: "notice_accepted",
        required: true,
        "aria-describedby": "notice",
      }),
      h("label", { for: "notice-accepted" }, "I have read the notice and accept it"),
    ),
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = new URLSearchParams({
      username: data.get("username"),
      password: data.get("password"),
      notice_accepted: data.get("notice_accepted") ? "true" : "false",
    });
    const response = await fetch(`${API}/auth/token`, { method: "POST", body });
    if (!response.ok) {
      const detail = (await response.json().catch(() => ({}))).detail;
      error.replaceChildren(errorBox(typeof detail === "string" ? detail : "Sign-in failed."));
      return;
    }
    store.setItem("mast.token", (await response.json()).access_token);
    await start();
  });
  document.title = "Sign in — MAST";
  main().replaceChildren(form);
}

async function start() {
  try {
    me = await api("/me");
    purposes = await api("/purposes");
  } catch (_) {
    return;
  }
  const nav = document.getElementById("nav");
  nav.hidden = false;
  document.getElementById("who").textContent =
    `${me.username} · ${label(me.organisation)} · ${me.role}`;
  for (const item of nav.querySelectorAll("[data-role=manager]")) {
    item.hidden = !["manager", "admin"].includes(me.role);
  }
  if (!window.location.hash || window.location.hash === "#/") window.location.hash = "#/search";
  else route();
}

// --- Purpose ------------------------------------------------------------------------------
function currentPurpose() {
  const saved = store.getItem("mast.purpose");
  return saved ? JSON.parse(saved) : null;
}

function purposeFields() {
  const saved = currentPurpose() || {};
  const select = h(
    "select",
    { name: "purpose", id: "purpose", required: true },
    h("option", { value: "" }, "Choose the purpose…"),
    purposes.map((p) =>
      h("option", { value: p.code, selected: p.code === saved.purpose }, p.label),
    ),
  );
  const detail = h("input", {
    name: "purpose_detail",
    id: "purpose-detail",
    maxlength: "500",
    value: saved.purpose_detail || "",
  });
  return h(
    "fieldset",
    { class: "purpose" },
    h("legend", {}, "Purpose of this look-up"),
    field("Purpose", select, "Recorded in the audit with what you search and open."),
    field("Detail (optional)", detail, "For example a case or referral reference."),
  );
}

function takePurpose(form) {
  const data = new FormData(form);
  const purpose = { purpose: data.get("purpose"), purpose_detail: data.get("purpose_detail") };
  store.setItem("mast.purpose", JSON.stringify(purpose));
  return purpose;
}

function purposeGate(title, then) {
  const error = h("div");
  const form = h(
    "form",
    { class: "card narrow" },
    h("p", {}, "Declare why you are opening this record before it is shown."),
    purposeFields(),
    error,
    h("button", { type: "submit" }, "Open"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    takePurpose(form);
    then();
  });
  show(title, form);
}

// --- Search people ------------------------------------------------------------------------
function renderSearch() {
  const results = h("div", { id: "results" });
  const form = h(
    "form",
    { class: "card", role: "search", "aria-label": "Search people" },
    purposeFields(),
    h(
      "div",
      { class: "row" },
      field("Given name", h("input", { name: "given_name", maxlength: "128" })),
      field("Family name", h("input", { name: "family_name", maxlength: "128" })),
    ),
    h(
      "div",
      { class: "row" },
      field(
        "Date of birth",
        h("input", { name: "date_of_birth", maxlength: "32" }),
        "Any usual form: 13/02/1957, 1957-02-13, 13 Feb 1957.",
      ),
      field("Postcode", h("input", { name: "postcode", maxlength: "16", autocomplete: "off" })),
    ),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { ...takePurpose(form) };
    for (const key of ["given_name", "family_name", "date_of_birth", "postcode"]) {
      if (data.get(key)) body[key] = data.get(key);
    }
    results.replaceChildren(h("p", {}, "Searching…"));
    try {
      const found = await api("/search/persons", { method: "POST", body });
      results.replaceChildren(personResults(found));
      announce(`${found.length} people found`);
    } catch (error) {
      results.replaceChildren(errorBox(error.message));
    }
  });
  show("Search people", form, results);
}

function personResults(found) {
  if (!found.length) return h("p", {}, "No one matches. Try fewer details or another spelling.");
  return h(
    "table",
    {},
    h("caption", {}, `${found.length} ${found.length === 1 ? "person" : "people"}, best match first`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Name", "Date of birth", "Postcode", "Known to", "Records", "Match"].map((t) =>
          h("th", { scope: "col" }, t),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      found.map((p) =>
        h(
          "tr",
          {},
          h(
            "td",
            {},
            h("a", { href: `#/person/${encodeURIComponent(p.person_id)}` }, fullName(p)),
          ),
          h("td", {}, p.date_of_birth || "—"),
          h("td", {}, p.postcode || "—"),
          h("td", {}, p.agencies.map(label).join(", ")),
          h("td", { class: "num" }, p.records),
          h("td", { class: "num" }, confidence(p.confidence)),
        ),
      ),
    ),
  );
}

const fullName = (p) => [p.given_name, p.family_name].filter(Boolean).join(" ") || "(no name)";
const confidence = (c) => `${(100 * c).toFixed(c > 0.999 && c < 1 ? 2 : 0)}%`;

// --- Search addresses ---------------------------------------------------------------------
function renderAddressSearch() {
  const results = h("div", { id: "results" });
  const form = h(
    "form",
    { class: "card", role: "search", "aria-label": "Search addresses" },
    purposeFields(),
    field(
      "Address or postcode",
      h("input", { name: "q", maxlength: "300", autocomplete: "off" }),
      "As you would write it: 7 Larch Close, Walsall WS3 1EE — or just the postcode.",
    ),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { ...takePurpose(form) };
    if (data.get("q")) body.q = data.get("q");
    results.replaceChildren(h("p", {}, "Searching…"));
    try {
      const found = await api("/search/addresses", { method: "POST", body });
      results.replaceChildren(addressResults(found));
      announce(`${found.length} addresses found`);
    } catch (error) {
      results.replaceChildren(errorBox(error.message));
    }
  });
  show("Search addresses", form, results);
}

const addressText = (a) =>
  [a.line1, a.line2, a.town, a.postcode].filter(Boolean).join(", ") || "(no text)";

function addressResults(found) {
  if (!found.length) return h("p", {}, "No address matches. Try the postcode alone.");
  return h(
    "table",
    {},
    h("caption", {}, `${found.length} addresses, best match first`),
    h(
      "thead",
      {},
      h("tr", {}, ["Address", "People", "Events", "Match"].map((t) => h("th", { scope: "col" }, t))),
    ),
    h(
      "tbody",
      {},
      found.map((a) =>
        h(
          "tr",
          {},
          h(
            "td",
            {},
            h("a", { href: `#/address/${encodeURIComponent(a.address_id)}` }, addressText(a)),
          ),
          h(
            "td",
            {},
            a.people.map((p, i) => [
              i ? ", " : "",
              h("a", { href: `#/person/${encodeURIComponent(p.person_id)}` }, fullName(p)),
            ]),
          ),
          h("td", { class: "num" }, a.events),
          h("td", { class: "num" }, confidence(a.confidence)),
        ),
      ),
    ),
  );
}

// --- Person and address pages -------------------------------------------------------------
async function renderPerson(id) {
  const purpose = currentPurpose();
  if (!purpose) return purposeGate("Open a person", () => renderPerson(id));
  let page;
  try {
    page = await api(`/persons/${encodeURIComponent(id)}`, { params: purpose });
  } catch (error) {
    return show("Person", errorBox(error.message));
  }
  const d = page.details;
  show(
    fullName(d),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Date of birth"),
      h("dd", {}, d.date_of_birth || "—"),
      h("dt", {}, "Gender"),
      h("dd", {}, d.gender || "—"),
      h("dt", {}, "MAST id"),
      h("dd", {}, page.person_id),
      page.merged_ids.length ? [h("dt", {}, "Also recorded as"), h("dd", {}, page.merged_ids.join(", "))] : null,
    ),
    purposeLine(purpose),
    alertsSection(page.alerts),
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
                h("a", { href: `#/address/${encodeURIComponent(a.address_id)}` }, addressText(a)),
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

async function renderAddress(id) {
  const purpose = currentPurpose();
  if (!purpose) return purposeGate("Open an address", () => renderAddress(id));
  let page;
  try {
    page = await api(`/addresses/${encodeURIComponent(id)}`, { params: purpose });
  } catch (error) {
    return show("Address", errorBox(error.message));
  }
  show(
    addressText(page.address),
    purposeLine(purpose),
    section(
      "People linked to this address",
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Name", "Date of birth", "Known to", "Events"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          page.people.map((p) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `#/person/${encodeURIComponent(p.person_id)}` }, fullName(p))),
              h("td", {}, p.date_of_birth || "—"),
              h("td", {}, p.agencies.map(label).join(", ")),
              h("td", { class: "num" }, p.events),
            ),
          ),
        ),
      ),
    ),
    alertsSection(page.alerts),
    timelineSection(page.timeline),
    interactionsSection(page.interactions, page.people),
  );
}

function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

function purposeLine(purpose) {
  const known = purposes.find((p) => p.code === purpose.purpose);
  return h(
    "p",
    { class: "purpose-line" },
    `Opened for: ${known ? known.label : purpose.purpose}`,
    purpose.purpose_detail ? ` (${purpose.purpose_detail})` : "",
    ". This view is recorded in the audit.",
  );
}

function alertsSection(alerts) {
  if (!alerts.length) return section("Alerts", h("p", {}, "No alerts."));
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
          ` — ${a.summary} (raised ${day(a.raised_at)})`,
        ),
      ),
    ),
  );
}

function openCases(cases) {
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

function contactText(contact) {
  const parts = [contact.name, contact.team, contact.phone, contact.email].filter(Boolean);
  return parts.length ? `contact: ${parts.join(", ")}` : "no contact recorded";
}

const PALETTE = {
  POLICE: "#1d4e89",
  FIRE: "#c0392b",
  HEALTH: "#1e7b4f",
  CHILDREN_SOCIAL_CARE: "#8e44ad",
  ADULT_SOCIAL_CARE: "#b9770e",
  EDUCATION: "#117a8b",
  HOUSING: "#6d4c41",
  PROBATION: "#37474f",
  OTHER: "#7f8c8d",
};

function timelineSection(timeline) {
  if (!timeline.length) return section("Timeline", h("p", {}, "No interactions."));
  return section("Timeline", timelineChart(timeline), timelineTable(timeline));
}

// Interactions per month, stacked by agency. Each bar segment names its month, agency and
// count on hover; the same figures are in the table below for screen readers.
function timelineChart(timeline) {
  const months = monthsBetween(timeline[0].month, timeline[timeline.length - 1].month);
  const agencies = [...new Set(timeline.map((t) => t.agency))].sort();
  const counts = new Map(timeline.map((t) => [`${t.month}|${t.agency}`, t.count]));
  const totals = months.map((m) => agencies.reduce((n, a) => n + (counts.get(`${m}|${a}`) || 0), 0));
  const top = Math.max(...totals, 1);
  const bar = 28;
  const gap = 8;
  const height = 160;
  const width = Math.max(months.length * (bar + gap) + 40, 240);
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height + 40}`,
    width,
    height: height + 40,
    class: "chart",
    role: "img",
    "aria-label": `Interactions per month by agency, ${months[0]} to ${months[months.length - 1]}`,
  });
  svg.append(s("line", { x1: 30, y1: height, x2: width, y2: height, class: "axis" }));
  svg.append(s("text", { x: 0, y: 12, class: "tick" }, top));
  months.forEach((month, i) => {
    const x = 34 + i * (bar + gap);
    let y = height;
    for (const agency of agencies) {
      const n = counts.get(`${month}|${agency}`) || 0;
      if (!n) continue;
      const h_ = (n / top) * (height - 10);
      y -= h_;
      svg.append(
        s(
          "rect",
          { x, y, width: bar, height: h_, fill: PALETTE[agency] || "#555", "data-agency": agency, "data-month": month },
          s("title", {}, `${month}: ${label(agency)} ${n}`),
        ),
      );
    }
    if (months.length <= 12 || i % Math.ceil(months.length / 12) === 0) {
      svg.append(s("text", { x: x + bar / 2, y: height + 16, class: "tick", "text-anchor": "middle" }, month.slice(2)));
    }
  });
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    agencies.map((a) => h("li", {}, h("span", { class: "swatch", style: `background:${PALETTE[a] || "#555"}` }), label(a))),
  );
  return h("figure", {}, svg, legend);
}

function monthsBetween(first, last) {
  const months = [];
  let [year, month] = first.split("-").map(Number);
  const [endYear, endMonth] = last.split("-").map(Number);
  while (year < endYear || (year === endYear && month <= endMonth)) {
    months.push(`${year}-${String(month).padStart(2, "0")}`);
    month += 1;
    if (month > 12) [year, month] = [year + 1, 1];
  }
  return months;
}

function timelineTable(timeline) {
  return h(
    "details",
    {},
    h("summary", {}, "Timeline as a table"),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["Month", "Agency", "Interactions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, timeline.map((t) => h("tr", {}, h("td", {}, t.month), h("td", {}, label(t.agency)), h("td", { class: "num" }, t.count)))),
    ),
  );
}

function recordsSection(records) {
  return section(
    "Records by agency",
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["Agency", "System", "Reference", "Name", "Date of birth", "Seen", "Events"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        records.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, label(r.agency)),
            h("td", {}, r.source_system || "—"),
            h("td", {}, r.source_record_id || "—"),
            h("td", {}, fullName(r)),
            h("td", {}, r.date_of_birth || "—"),
            h("td", {}, `${day(r.first_seen)} to ${day(r.last_seen)}`),
            h("td", { class: "num" }, r.events),
          ),
        ),
      ),
    ),
  );
}

// The contact to call for each interaction: shown on hover or keyboard focus of the agency.
function contactTip(interaction, index) {
  const id = `contact-${index}`;
  return h(
    "span",
    { class: "tip" },
    h("button", { type: "button", class: "tip-target", "aria-describedby": id }, label(interaction.agency)),
    h("span", { role: "tooltip", id, class: "tip-text" }, contactText(interaction.contact)),
  );
}

// On an address page, ``people`` names whom each interaction was about.
function interactionsSection(interactions, people) {
  const names = new Map((people || []).map((p) => [p.person_id, p]));
  const columns = ["When", ...(people ? ["Person"] : []), "Agency", "Type", "Case status"];
  return section(
    "Interactions",
    h("p", { class: "hint" }, "Hover over or focus an agency to see whom to contact."),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, columns.map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        interactions.map((i, n) =>
          h(
            "tr",
            {},
            h("td", {}, when(i.occurred_at) || "not given"),
            people
              ? h(
                  "td",
                  {},
                  names.has(i.person_id)
                    ? h("a", { href: `#/person/${encodeURIComponent(i.person_id)}` }, fullName(names.get(i.person_id)))
                    : "—",
                )
              : null,
            h("td", {}, contactTip(i, n)),
            h("td", {}, label(i.event_type) || "—"),
            h("td", {}, label(i.case_status) || "—"),
          ),
        ),
      ),
    ),
  );
}

// --- Alerts -------------------------------------------------------------------------------
async function renderAlerts() {
  const results = h("div");
  const select = (name, options) =>
    h("select", { name }, h("option", { value: "" }, "Any"), options.map((o) => h("option", { value: o }, label(o))));
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter alerts" },
    field("Status", select("status", ["open", "acknowledged", "assigned"])),
    field("Severity", select("severity", ["CRITICAL", "HIGH", "MEDIUM", "LOW"])),
    field("Rule", h("input", { name: "rule", maxlength: "64" })),
    field("Organisation", select("organisation", await agencies())),
    h("button", { type: "submit" }, "Filter"),
  );
  const load = async () => {
    const params = Object.fromEntries(new FormData(form));
    try {
      const alerts = await api("/alerts", { params });
      results.replaceChildren(alertTable(alerts, load));
      announce(`${alerts.length} alerts`);
    } catch (error) {
      results.replaceChildren(errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  show("Alerts", form, results);
  await load();
}

let agencyList = null;
async function agencies() {
  agencyList = agencyList || (await api("/agencies"));
  return agencyList;
}

function alertTable(alerts, reload) {
  if (!alerts.length) return h("p", {}, "No alerts match.");
  return h(
    "table",
    {},
    h("caption", {}, `${alerts.length} alerts: your organisation's first, each latest first`),
    h("thead", {}, h("tr", {}, ["When", "Severity", "Rule", "About", "Summary", "Status", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      alerts.map((a) => {
        const target = a.subject_kind === "PERSON" ? "person" : "address";
        const assignee = h("input", { "aria-label": `Assign alert ${a.alert_id} to`, placeholder: "username", maxlength: "64", size: "10" });
        const problem = h("span", { class: "error", role: "alert" });
        const act = async (path, body) => {
          try {
            await api(`/alerts/${encodeURIComponent(a.alert_id)}/${path}`, { method: "POST", body });
            await reload();
          } catch (error) {
            problem.textContent = error.message;
          }
        };
        return h(
          "tr",
          { class: `sev-${a.severity.toLowerCase()}` },
          h(
            "td",
            {},
            a.new ? h("strong", { class: "new" }, "New ") : null,
            day(a.window_start) === day(a.window_end)
              ? day(a.window_end)
              : `${day(a.window_start)} to ${day(a.window_end)}`,
          ),
          h("td", {}, a.severity),
          h("td", {}, label(a.rule_id)),
          h("td", {}, h("a", { href: `#/${target}/${encodeURIComponent(a.subject_id)}` }, `${label(a.subject_kind)} ${a.subject_id}`)),
          h("td", {}, a.summary),
          h("td", {}, label(a.status), a.assignee ? ` to ${a.assignee}` : ""),
          a.may_act
            ? h(
                "td",
                { class: "actions" },
                a.status === "open" ? h("button", { type: "button", onclick: () => act("acknowledge") }, "Acknowledge") : null,
                assignee,
                h("button", { type: "button", onclick: () => assignee.value && act("assign", { assignee: assignee.value }) }, "Assign"),
                problem,
              )
            : h("td", { class: "muted" }, "Another organisation's alert"),
        );
      }),
    ),
  );
}

// --- Statistics ---------------------------------------------------------------------------
async function renderStats() {
  const results = h("div");
  const choice = h("select", { name: "agency" }, (await agencies()).map((a) => h("option", { value: a, selected: a === me.organisation }, label(a))));
  const form = h("form", { class: "card row", "aria-label": "Choose an agency" }, field("Agency", choice), h("button", { type: "submit" }, "Show"));
  const load = async () => {
    try {
      const stats = await api("/stats/matching", { params: { agency: choice.value } });
      results.replaceChildren(statsTables(stats));
    } catch (error) {
      results.replaceChildren(errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  show("Match statistics", form, results);
  await load();
}

function statsTables(stats) {
  const rows = (entries) => entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "num" }, v)));
  return h(
    "div",
    { class: "row" },
    h(
      "table",
      {},
      h("caption", {}, `${label(stats.agency)}: people also known to another agency`),
      h(
        "tbody",
        {},
        rows([
          ["Unique people", stats.people],
          ["Matched to another agency", stats.matched_elsewhere],
          ["Percentage matched", `${stats.percent}%`],
          ...Object.entries(stats.also_known_to).map(([a, n]) => [`Also known to ${label(a)}`, n]),
        ]),
      ),
    ),
    h(
      "table",
      {},
      h("caption", {}, "Addresses by number of matched incidents"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Matched incidents"), h("th", { scope: "col" }, "Addresses"))),
      h("tbody", {}, rows(Object.entries(stats.addresses_by_matched_incidents))),
    ),
  );
}

// --- Audit (managers) ---------------------------------------------------------------------
function renderAudit() {
  if (!["manager", "admin"].includes(me.role)) {
    return show("Audit", errorBox("Only managers can see the audit."));
  }
  const results = h("div");
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter the audit" },
    field("User", h("input", { name: "username", maxlength: "64" })),
    field("Person looked at (MAST id)", h("input", { name: "person_id", maxlength: "64" })),
    field("From", h("input", { name: "since", type: "date" })),
    field("To", h("input", { name: "until", type: "date" })),
    h("button", { type: "submit" }, "Show"),
    h("button", { type: "button", class: "secondary", onclick: () => exportCsv() }, "Export CSV"),
  );
  const params = () => Object.fromEntries(new FormData(form));
  const load = async () => {
    try {
      const entries = await api("/audit", { params: params() });
      results.replaceChildren(auditTable(entries));
      announce(`${entries.length} audit entries`);
    } catch (error) {
      results.replaceChildren(errorBox(error.message));
    }
  };
  const exportCsv = async () => {
    const response = await api("/audit", { params: { ...params(), format: "csv" }, raw: true });
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `mast-audit-${me.organisation}.csv` });
    link.click();
    URL.revokeObjectURL(link.href);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  show(`Audit: ${label(me.organisation)}`, form, results);
  load();
}

function auditTable(entries) {
  if (!entries.length) return h("p", {}, "No entries match.");
  const purposeLabel = (code) => (purposes.find((p) => p.code === code) || {}).label || code || "—";
  return h(
    "table",
    { class: "audit" },
    h("caption", {}, `${entries.length} entries, newest first`),
    h("thead", {}, h("tr", {}, ["When", "User", "Action", "Outcome", "Purpose", "Asked", "People shown"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      entries.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, when(e.at)),
          h("td", {}, e.username),
          h("td", {}, label(e.action)),
          h("td", {}, e.outcome),
          h("td", {}, purposeLabel(e.purpose), e.purpose_detail ? ` (${e.purpose_detail})` : ""),
          h("td", { class: "asked" }, typeof e.asked === "string" ? e.asked : JSON.stringify(e.asked)),
          h("td", {}, e.person_ids.join(", ")),
        ),
      ),
    ),
  );
}

// --- Routing ------------------------------------------------------------------------------
function route() {
  if (!me) return;
  const [, page, id] = window.location.hash.split("/");
  const arg = id ? decodeURIComponent(id) : "";
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${page}`);
  }
  const pages = {
    search: renderSearch,
    addresses: renderAddressSearch,
    person: () => renderPerson(arg),
    address: () => renderAddress(arg),
    alerts: renderAlerts,
    stats: renderStats,
    audit: renderAudit,
  };
  (pages[page] || renderSearch)();
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  if (store.getItem("mast.token")) start();
  else renderSignIn();
});
