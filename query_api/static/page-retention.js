// Retention: what MAST holds, for how long, and when the oldest of it goes (GET /retention),
// for managers and the data protection officer. Every table and topic, as stated once in
// sinks/clickhouse/retention.py and enforced by TTL.
import { errorBox, h } from "./dom.js";
import { day } from "./format.js";
import { num, table } from "./table.js";

const PERIODS = {
  personal: "Partners' records (MAST_RETENTION_DAYS)",
  audit: "The audit and decisions (MAST_AUDIT_RETENTION_DAYS)",
  fixed: "Fixed",
  kept: "Kept",
};

const keptFor = (days) => (days === null ? "Not removed" : `${days.toLocaleString("en-GB")} days`);

export async function renderRetention(view) {
  view.loading();
  let held;
  try {
    held = await view.api("/retention");
  } catch (error) {
    return view.show("Retention", errorBox(error.message));
  }
  view.show(
    "Retention",
    h(
      "p",
      {},
      "What MAST holds, how long it keeps it and when the oldest of it is due to go. " +
        "ClickHouse removes expired rows when it next tidies a table, shortly after.",
    ),
    table({
      caption: "Tables",
      columns: [
        "Table",
        "Holds",
        "Personal data",
        "Period",
        "Kept for",
        num("Rows"),
        "Oldest",
        "Oldest goes",
      ],
      rows: held.tables.map((t) => ({
        attrs: { "data-table": t.table },
        cells: [
          h("code", {}, t.table),
          t.holds,
          t.personal_data ? "Yes" : "No",
          PERIODS[t.period] || t.period,
          keptFor(t.days),
          t.rows.toLocaleString("en-GB"),
          t.oldest ? day(t.oldest) : "—",
          t.oldest_goes ? day(t.oldest_goes) : "—",
        ],
      })),
    }),
    table({
      caption: "Kafka topics",
      columns: ["Topic", "Personal data", "Kept for", "Compacted"],
      rows: held.topics.map((t) => [
        h("code", {}, t.topic),
        t.personal_data ? "Yes" : "No",
        keptFor(t.days),
        t.compacted ? "Yes: the latest message of each key stays" : "No",
      ]),
    }),
  );
  view.announce(`${held.tables.length} tables, ${held.topics.length} topics`);
}
