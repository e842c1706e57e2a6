// Interactions per month, stacked by agency: a chart whose bar segments name their month,
// agency and count on hover, and the same figures in a table for screen readers.
import { h, s, section } from "./dom.js";
import { label } from "./format.js";
import { num, table } from "./table.js";

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
const colour = (agency) => PALETTE[agency] || "#555";

export function timelineSection(timeline) {
  if (!timeline.length) return section("Timeline", h("p", {}, "No interactions."));
  return section("Timeline", timelineChart(timeline), timelineTable(timeline));
}

function timelineChart(timeline) {
  const months = monthsBetween(timeline[0].month, timeline[timeline.length - 1].month);
  const agencies = [...new Set(timeline.map((t) => t.agency))].sort();
  const counts = new Map(timeline.map((t) => [`${t.month}|${t.agency}`, t.count]));
  const totals = months.map((m) =>
    agencies.reduce((n, a) => n + (counts.get(`${m}|${a}`) || 0), 0),
  );
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
      const segment = (n / top) * (height - 10);
      y -= segment;
      const attrs = {
        x,
        y,
        width: bar,
        height: segment,
        fill: colour(agency),
        "data-agency": agency,
        "data-month": month,
      };
      svg.append(s("rect", attrs, s("title", {}, `${month}: ${label(agency)} ${n}`)));
    }
    if (months.length <= 12 || i % Math.ceil(months.length / 12) === 0) {
      const tick = { x: x + bar / 2, y: height + 16, class: "tick", "text-anchor": "middle" };
      svg.append(s("text", tick, month.slice(2)));
    }
  });
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    agencies.map((a) =>
      h("li", {}, h("span", { class: "swatch", style: `background:${colour(a)}` }), label(a)),
    ),
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
    table({
      columns: ["Month", "Agency", num("Interactions")],
      rows: timeline.map((t) => [t.month, label(t.agency), t.count]),
    }),
  );
}
