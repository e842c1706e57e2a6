// Alerts: filters; the organisation's own first; new ones marked; what each is about in
// words (a shielded person or address is not named); who follows it up; acknowledge and
// assign where the user may act.

import { agencies } from "./agencies.js";
import { followUp, subjectLinkOf } from "./alert-text.js";
import { errorBox, field, h } from "./dom.js";
import { day, label } from "./format.js";
import { cell, table } from "./table.js";

export async function renderAlerts(view) {
  const results = h("div");
  const select = (name, options) =>
    h(
      "select",
      { name },
      h("option", { value: "" }, "Any"),
      options.map((o) => h("option", { value: o }, label(o))),
    );
  view.loading();
  const form = h(
    "form",
    { class: "card row", "aria-label": "Filter alerts" },
    field("Status", select("status", ["open", "acknowledged", "assigned", "withdrawn"])),
    field("Severity", select("severity", ["CRITICAL", "HIGH", "MEDIUM", "LOW"])),
    field("Rule", h("input", { name: "rule", maxlength: "64" })),
    field("Organisation", select("organisation", await agencies(view))),
    h("button", { type: "submit" }, "Filter"),
  );
  const load = async () => {
    const params = Object.fromEntries(new FormData(form));
    try {
      const alerts = await view.api("/alerts", { params });
      view.fill(results, alertTable(view, alerts, load));
      view.announce(`${alerts.length} ${alerts.length === 1 ? "alert" : "alerts"}`);
    } catch (error) {
      view.fill(results, errorBox(error.message));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  view.show("Alerts", form, results);
  await load();
}

/** When it happened: the window's day, or its first and last; then when it was raised. */
function when(a) {
  const [start, end] = [day(a.window_start), day(a.window_end)];
  return [
    h("span", { class: "nowrap" }, start),
    start === end ? null : [" to ", h("span", { class: "nowrap" }, end)],
    h("div", { class: "hint nowrap" }, `raised ${day(a.raised_at)}`),
  ];
}

function alertTable(view, alerts, reload) {
  if (!alerts.length) return h("p", {}, "No alerts match.");
  return table({
    caption: `${alerts.length} ${alerts.length === 1 ? "alert" : "alerts"}: your organisation's first, each latest first`,
    columns: ["When", "Severity", "Rule", "About", "Summary", "Follow-up", "Status", "Actions"],
    rows: alerts.map((a) => ({
      attrs: { class: `sev-${a.severity.toLowerCase()}` },
      cells: alertCells(view, a, reload),
    })),
  });
}

function alertCells(view, a, reload) {
  const assignee = h("input", {
    "aria-label": `Assign alert ${a.alert_id} to`,
    placeholder: "username",
    maxlength: "64",
    size: "10",
  });
  const problem = h("span", { class: "error", role: "alert" });
  const act = async (path, body) => {
    try {
      await view.api(`/alerts/${encodeURIComponent(a.alert_id)}/${path}`, { method: "POST", body });
      await reload();
    } catch (error) {
      if (view.live) problem.textContent = error.message;
    }
  };
  return [
    [a.new ? h("strong", { class: "new" }, "New ") : null, when(a)],
    a.severity,
    label(a.rule_id),
    subjectLinkOf(a),
    a.summary,
    followUp(a),
    a.status === "withdrawn"
      ? "Withdrawn: a data steward undid the link between two people it relied on"
      : [label(a.status), a.assignee ? ` to ${a.assignee}` : ""],
    a.status === "withdrawn"
      ? cell("td", { class: "muted" }, "Nothing to do")
      : a.may_act
        ? cell(
            "td",
            { class: "actions" },
            a.status === "open"
              ? h("button", { type: "button", onclick: () => act("acknowledge") }, "Acknowledge")
              : null,
            assignee,
            h(
              "button",
              {
                type: "button",
                onclick: () => assignee.value && act("assign", { assignee: assignee.value }),
              },
              "Assign",
            ),
            problem,
          )
        : cell("td", { class: "muted" }, "Another organisation's alert"),
  ];
}
