// Match statistics: of one agency's people, how many another agency also knows.

import { agencies } from "./agencies.js";
import { errorBox, field, h } from "./dom.js";
import { label } from "./format.js";
import { session } from "./state.js";
import { cell, num, table } from "./table.js";

export async function renderStats(view) {
  view.loading();
  const results = h("div");
  const choice = h(
    "select",
    { name: "agency" },
    (await agencies(view)).map((a) =>
      h("option", { value: a, selected: a === session.me.organisation }, label(a)),
    ),
  );
  const form = h(
    "form",
    { class: "card row", "aria-label": "Choose an agency" },
    field("Agency", choice),
    h("button", { type: "submit" }, "Show"),
  );
  const load = async () => {
    try {
      const stats = await view.api("/stats/matching", { params: { agency: choice.value } });
      view.fill(results, statsTables(stats));
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show("Match statistics", form, results);
  await load();
}

const headed = (entries) =>
  entries.map(([k, v]) => [cell("th", { scope: "row" }, k), cell("td", { class: "num" }, v)]);

function statsTables(stats) {
  return h(
    "div",
    { class: "row" },
    table({
      caption: `${label(stats.agency)}: people also known to another agency`,
      rows: headed([
        ["Unique people", stats.people],
        ["Matched to another agency", stats.matched_elsewhere],
        ["Percentage matched", `${stats.percent}%`],
        ...Object.entries(stats.also_known_to).map(([a, n]) => [`Also known to ${label(a)}`, n]),
      ]),
    }),
    table({
      caption: "Addresses by number of matched incidents",
      columns: ["Matched incidents", num("Addresses")],
      rows: headed(Object.entries(stats.addresses_by_matched_incidents)),
    }),
  );
}
