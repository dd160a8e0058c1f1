/**
 * Lays out result rows the way cqlsh does, as plain ASCII:
 *
 * ```
 *  id | name
 * ----+------
 *   1 | ada
 * ```
 *
 * one space of margin, ` | ` between columns, numbers right-aligned and everything else left,
 * each column as wide as its widest cell or name. `EXPAND ON` prints one record per row instead
 * (`@ Row 1`, then `name | value` lines). A row with concurrent versions (SPEC 6.6) carries
 * `$siblings`, shown as one more column listing each sibling as `{column: value, …}`.
 *
 * Pure: rows in, lines out (no trailing spaces, no newlines inside a line). Widths are computed
 * over the rows given, so the caller bounds a table by how many rows it passes.
 */
import { displayWidth, formatValue, isRightAligned, pad, parseCqlType, type CqlTypeTree } from './format-value.js';

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

export type ResultRow = Readonly<Record<string, unknown>>;

/** The extra field of a row that has concurrent versions (SPEC 6.6). */
export const SIBLINGS_FIELD = '$siblings';

interface LayoutColumn {
  readonly name: string;
  readonly type: CqlTypeTree | null;
  readonly siblings: boolean;
}

/**
 * The columns to print: the server's, or a row's own keys when it sent none, plus `$siblings`
 * when any row has siblings.
 */
function layoutColumns(columns: readonly ResultColumn[] | undefined, rows: readonly ResultRow[]): LayoutColumn[] {
  const declared: LayoutColumn[] = (columns ?? []).map((c) => ({ name: c.name, type: parseCqlType(c.type), siblings: false }));
  const out = declared.length > 0 ? declared : Object.keys(rows[0] ?? {}).filter((k) => k !== SIBLINGS_FIELD).map((name) => ({ name, type: null, siblings: false }));
  if (rows.some((r) => r[SIBLINGS_FIELD] !== undefined)) out.push({ name: SIBLINGS_FIELD, type: null, siblings: true });
  return out;
}

function siblingsText(value: unknown, columns: readonly LayoutColumn[]): string {
  if (!Array.isArray(value)) return formatValue(value, null);
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const one = (sibling: unknown): string => {
    if (typeof sibling !== 'object' || sibling === null) return formatValue(sibling, null, true);
    const fields = Object.entries(sibling).map(([k, v]) => `${k}: ${formatValue(v, typeOf.get(k) ?? null, true)}`);
    return `{${fields.join(', ')}}`;
  };
  return `[${value.map(one).join(', ')}]`;
}

function cellTexts(columns: readonly LayoutColumn[], rows: readonly ResultRow[]): string[][] {
  return rows.map((row) => columns.map((c) => (c.siblings ? siblingsText(row[c.name], columns) : formatValue(row[c.name], c.type))));
}

const trimEnd = (line: string): string => line.replace(/ +$/, '');

/** The aligned table; `header: false` continues a table already printed (later pages). */
export function formatTable(columns: readonly ResultColumn[] | undefined, rows: readonly ResultRow[], options: { header: boolean }): string[] {
  const layout = layoutColumns(columns, rows);
  if (layout.length === 0) return [];
  const cells = cellTexts(layout, rows);
  const widths = layout.map((c, i) => Math.max(displayWidth(c.name), ...cells.map((r) => displayWidth(r[i]!))));
  const right = layout.map((c) => isRightAligned(c.type, rows.find((r) => r[c.name] != null)?.[c.name]));
  const lines: string[] = [];
  if (options.header) {
    lines.push(trimEnd(` ${layout.map((c, i) => pad(c.name, widths[i]!, false)).join(' | ')}`));
    lines.push(`-${widths.map((w) => '-'.repeat(w)).join('-+-')}-`);
  }
  for (const r of cells) lines.push(trimEnd(` ${r.map((text, i) => pad(text, widths[i]!, right[i]!)).join(' | ')}`));
  return lines;
}

/** `EXPAND ON`: one record per row, numbered from `firstRowNumber`, each followed by a blank line. */
export function formatVertical(columns: readonly ResultColumn[] | undefined, rows: readonly ResultRow[], firstRowNumber: number): string[] {
  const layout = layoutColumns(columns, rows);
  if (layout.length === 0) return [];
  const cells = cellTexts(layout, rows);
  const nameWidth = Math.max(...layout.map((c) => displayWidth(c.name)));
  const valueWidth = Math.max(0, ...cells.flatMap((r) => r.map(displayWidth)));
  const lines: string[] = [];
  cells.forEach((r, n) => {
    lines.push(`@ Row ${firstRowNumber + n}`);
    lines.push(`-${'-'.repeat(nameWidth)}-+-${'-'.repeat(valueWidth)}-`);
    r.forEach((text, i) => lines.push(trimEnd(` ${pad(layout[i]!.name, nameWidth, false)} | ${text}`)));
    lines.push('');
  });
  return lines;
}
