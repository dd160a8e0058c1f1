/**
 * Plain-text table rendering for benchmark reports.
 *
 *   formatTable([{ header: 'phase' }, { header: 'rate', align: 'right' }], [['ingest', '91k/s']])
 *
 * Cells are strings (anything else is String()-ed); columns are padded to their widest cell.
 */

export function formatTable(columns, rows) {
  const cells = rows.map((r) => columns.map((_, i) => (r[i] == null ? '' : String(r[i]))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const pad = (s, i) => (columns[i].align === 'right' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (r) => r.map(pad).join('  ').trimEnd();
  const out = [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  return out.join('\n');
}

export function printTable(columns, rows, write = (s) => console.log(s)) {
  write(formatTable(columns, rows));
}

/** A section heading: "\n== title ==". */
export function heading(title) {
  return `\n== ${title} ==`;
}
