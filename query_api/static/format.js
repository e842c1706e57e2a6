// How values read on screen: agency and status codes as words, every date in one form
// (14 Jun 1951), names, addresses and contacts.
import { h } from "./dom.js";

const ACRONYMS = new Set(["ED", "GP", "ASB", "LAC", "CIN", "MASH", "NHS", "DA"]);

/** A code as words: ADULT_SOCIAL_CARE → "Adult social care". */
export const label = (code) =>
  String(code || "")
    .split("_")
    .map((word) => (ACRONYMS.has(word) ? word : word.toLowerCase()))
    .join(" ")
    .replace(/^\w/, (c) => c.toUpperCase());

const MONTH_NAMES = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

const dayText = (year, month, dayOfMonth) => `${dayOfMonth} ${MONTH_NAMES[month - 1]} ${year}`;

/** The day of an ISO timestamp from the API, as "12 Jan 2026" (the day in UTC, as sent). */
export function day(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
  return match ? dayText(Number(match[1]), Number(match[2]), Number(match[3])) : "";
}

/** An ISO timestamp as "12 Jan 2026 10:00" (UTC, as sent). */
export function when(iso) {
  const time = /T(\d{2}:\d{2})/.exec(String(iso || ""));
  const date = day(iso);
  return date && time ? `${date} ${time[1]}` : date;
}

/** An ISO timestamp to the second, as "3 Apr 2026 17:00:05 UTC" (a page as it stood). */
export function exactly(iso) {
  const instant = new Date(String(iso || ""));
  if (Number.isNaN(instant.getTime())) return String(iso || "");
  const text = instant.toISOString();
  return `${day(text)} ${text.slice(11, 19)} UTC`;
}

// Dates of birth as partners write them, read as MAST's resolver reads them
// (mast_core/normalise/dates.py, parse_birth_date): ISO, day first, compact, or with the
// month's name; a month over 12 with a day of 12 or less is day and month swapped; a year
// outside 1880..this year, or a placeholder for "not known", is no date.
const ISO = /^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})(?:[T ].*)?$/;
const DAY_FIRST = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?";
const DAY_MONTH_NAME = new RegExp(`^(\\d{1,2})(?:st|nd|rd|th)?[ -/]*${MONTH}[ ,-/]*(\\d{4})$`);
const MONTH_NAME_DAY = new RegExp(`^${MONTH}[ -/]*(\\d{1,2})(?:st|nd|rd|th)?[ ,-/]*(\\d{4})$`);
const PLACEHOLDERS = new Set(["1900-1-1", "1899-12-31", "1899-12-30"]);

function dateParts(text) {
  const trimmed = String(text).trim();
  const lower = trimmed.toLowerCase();
  const numeric = ISO.exec(trimmed) || COMPACT.exec(trimmed);
  if (numeric) return numeric.slice(1, 4).map(Number);
  const named = DAY_MONTH_NAME.exec(lower) || MONTH_NAME_DAY.exec(lower);
  if (named) {
    const [first, second, year] = named.slice(1, 4);
    const [name, number] = /^\d/.test(first) ? [second, first] : [first, second];
    return [Number(year), MONTHS.indexOf(name) + 1, Number(number)];
  }
  const dayFirst = DAY_FIRST.exec(trimmed);
  if (!dayFirst) return null;
  const [dayOfMonth, month, year] = dayFirst.slice(1, 4).map(Number);
  return [year, month, dayOfMonth];
}

/** A date of birth as written, read as `{ year, month, day, valid }`; null when it is not
 * one. `valid` is false for a date no calendar has (30 Feb). */
export function parseBirthDate(text) {
  if (!text) return null;
  const parts = dateParts(text);
  if (!parts) return null;
  let [year, month, dayOfMonth] = parts;
  if (
    year < 1880 ||
    year > new Date().getFullYear() ||
    month === 0 ||
    dayOfMonth === 0 ||
    dayOfMonth > 31
  ) {
    return null;
  }
  if (month > 12 && dayOfMonth <= 12) [month, dayOfMonth] = [dayOfMonth, month];
  if (month > 12 || PLACEHOLDERS.has(`${year}-${month}-${dayOfMonth}`)) return null;
  const date = new Date(Date.UTC(year, month - 1, dayOfMonth));
  const valid = date.getUTCMonth() === month - 1 && date.getUTCDate() === dayOfMonth;
  return { year, month, day: dayOfMonth, valid };
}

/** A date of birth in the page's one form ("14 Jun 1951"), or as written when it is not a
 * date a calendar has; "" when none was given. */
export function birthDateText(text) {
  const parsed = parseBirthDate(text);
  if (parsed?.valid) return dayText(parsed.year, parsed.month, parsed.day);
  return text ? String(text).trim() : "";
}

/** A date of birth as an element: "14 Jun 1951", with the form the partner wrote in its
 * title when that differs ("As written: 14/06/1951"); "—" when none was given. */
export function birthDate(text) {
  if (!text) return "—";
  const written = String(text).trim();
  const parsed = parseBirthDate(written);
  if (!parsed?.valid) {
    return h(
      "span",
      { class: "as-written", title: "As the partner wrote it: not a date MAST can read" },
      written,
    );
  }
  const shown = dayText(parsed.year, parsed.month, parsed.day);
  const iso = [parsed.year, parsed.month, parsed.day]
    .map((n, i) => String(n).padStart(i ? 2 : 4, "0"))
    .join("-");
  return h(
    "time",
    { datetime: iso, title: shown === written ? null : `As written: ${written}` },
    shown,
  );
}

export const fullName = (p) =>
  [p.given_name, p.family_name].filter(Boolean).join(" ") || "(no name)";

export const addressText = (a) =>
  [a.line1, a.line2, a.town, a.postcode].filter(Boolean).join(", ") || "(no text)";

export const confidence = (c) => `${(100 * c).toFixed(c > 0.999 && c < 1 ? 2 : 0)}%`;

export function contactText(contact) {
  const parts = [contact.name, contact.team, contact.phone, contact.email].filter(Boolean);
  return parts.length ? `contact: ${parts.join(", ")}` : "no contact recorded";
}
