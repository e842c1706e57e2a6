// What both search pages do with their form: send it, say it is searching, and draw the
// results — or the problem — only while the user is still on the page.
import { errorBox, h } from "./dom.js";

/** Wires `form` to POST `body()` to `path`; returns the element the results go in. */
export function searchForm(view, form, { path, body, draw, found }) {
  const results = h("div", { id: "results" });
  let latest = 0; // only the latest search's answer is drawn
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const request = body();
    latest += 1;
    const mine = latest;
    view.fill(results, h("p", {}, "Searching…"));
    try {
      const answer = await view.api(path, { method: "POST", body: request });
      if (mine !== latest) return;
      view.fill(results, draw(answer));
      view.announce(found(answer.length));
    } catch (error) {
      if (mine === latest) view.fill(results, errorBox(error.message));
    }
  });
  return results;
}
