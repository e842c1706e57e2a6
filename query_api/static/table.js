// Tables: one place for the header row, numeric columns and row attributes, so every page
// writes only its columns and its rows.
import { h } from "./dom.js";

/** A column's title, and whether its figures are right-aligned. */
export const num = (title) => ({ title, num: true });

/** A cell with attributes of its own (a class, a row header): `cell("th", {scope: "row"}, k)`. */
export const cell = (tag, attrs, ...children) => h(tag, attrs, ...children);

/**
 * A table.
 * - `columns`: titles (text, or `num(title)` for figures); none for a table of row headers.
 * - `rows`: each an array of cells, or `{ attrs, cells }` for attributes on the row. A cell is
 *   text, a node, an array of them, or a `<td>`/`<th>` made with `cell`.
 */
export function table({ caption, columns = [], rows, attrs = {} }) {
  const numeric = columns.map((c) => typeof c === "object" && c.num);
  const titles = columns.map((c) => (typeof c === "object" ? c.title : c));
  return h(
    "table",
    attrs,
    caption ? h("caption", {}, caption) : null,
    titles.length
      ? h(
          "thead",
          {},
          h(
            "tr",
            {},
            titles.map((t) => h("th", { scope: "col" }, t)),
          ),
        )
      : null,
    h(
      "tbody",
      {},
      rows.map((row) => {
        const { attrs: rowAttrs = {}, cells } = Array.isArray(row) ? { cells: row } : row;
        return h(
          "tr",
          rowAttrs,
          cells.map((c, i) =>
            c instanceof HTMLTableCellElement ? c : h("td", numeric[i] ? { class: "num" } : {}, c),
          ),
        );
      }),
    ),
  );
}
