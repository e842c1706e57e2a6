// Building the page: every element is made with createElement and text nodes (never
// innerHTML), so a name a partner sent can never become markup.

/** An element: attributes (`on…` for listeners; null, undefined and false left out, true as
 * an empty attribute) and children (text, nodes, or arrays of them at any depth). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element, as `h` makes HTML ones. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  append(el, children);
  return el;
}

// Nested arrays are flattened at every depth: a list of [separator, link] pairs must become
// text and links, never the arrays' string form.
function append(el, children) {
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const mainElement = () => document.getElementById("main");

/** Says `text` to screen readers through the page's polite live region. */
export function announce(text) {
  document.getElementById("status").textContent = text;
}

let fieldCount = 0;

/** A labelled form field, with an optional hint the input is described by. */
export function field(label, input, hint) {
  fieldCount += 1;
  input.id = input.id || `f-${fieldCount}`;
  const hintEl = hint ? h("span", { class: "hint", id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), hintEl, input);
}

export function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}

/** A section headed by `title` (level 2), labelled by its heading. */
export function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

/** A link to a person or an address page. */
export function subjectLink(kind, id, ...text) {
  return h("a", { href: `#/${kind}/${encodeURIComponent(id)}` }, ...text);
}

/** A link to a person or an address page as it stood at `at` (an ISO time; none: as it
 * stands). The time and the id are no one's personal details, so they may sit in the URL. */
export function subjectLinkAt(kind, id, at, ...text) {
  if (!at) return subjectLink(kind, id, ...text);
  const href = `#/${kind}/${encodeURIComponent(id)}/${encodeURIComponent(at)}`;
  return h("a", { href }, ...text);
}
