// What the user is looking at now. Every navigation starts a new View and cancels the one
// before: its requests are aborted, and whatever it still tries to draw (a slow answer, an
// error) is dropped, so a late response can never draw over the page the user moved to.
import { api } from "./api.js";
import { announce, h, mainElement } from "./dom.js";

let current = null;

/** What a page draws: arrays flattened, and nothing for null, undefined or false (a part a
 * page does not have), which replaceChildren would otherwise write out as "null". */
const present = (content) =>
  content
    .flat(Number.POSITIVE_INFINITY)
    .filter((part) => part !== null && part !== undefined && part !== false);

export class View {
  constructor() {
    this.controller = new AbortController();
  }

  get signal() {
    return this.controller.signal;
  }

  /** Still the page the user is on. */
  get live() {
    return current === this && !this.signal.aborted;
  }

  /** A request that is cancelled when the user moves on. */
  api(path, options = {}) {
    return api(path, { ...options, signal: this.signal });
  }

  /** Draws the page (a level-1 heading, then `content`), focuses and announces it; nothing
   * once the user has moved on. */
  show(title, ...content) {
    if (!this.live) return false;
    document.title = `${title} — MAST`;
    const target = mainElement();
    target.removeAttribute("aria-busy");
    target.replaceChildren(h("h1", {}, title), ...present(content));
    target.focus();
    announce(title);
    return true;
  }

  /** Draws a page that has its own heading (the sign-in form). */
  replace(title, ...content) {
    if (!this.live) return false;
    document.title = `${title} — MAST`;
    const target = mainElement();
    target.removeAttribute("aria-busy");
    target.replaceChildren(...present(content));
    return true;
  }

  /** While the page's data is on its way. */
  loading() {
    if (!this.live) return;
    const target = mainElement();
    target.setAttribute("aria-busy", "true");
    target.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  }

  /** Replaces what `target` (a part of this page) shows; nothing once the user has moved on. */
  fill(target, ...content) {
    if (this.live) target.replaceChildren(...present(content));
  }

  announce(text) {
    if (this.live) announce(text);
  }
}

/** A new View for a new page; the one before is cancelled. */
export function navigate() {
  if (current) current.controller.abort();
  current = new View();
  return current;
}
