/**
 * Small text formatters shared by the ring-inspection commands (nodetool's conventions):
 * loads in binary units, ownership as a percentage, left-aligned columns.
 *
 * Pure: values in, strings out.
 */

const LOAD_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `512 B`, `1.2 MiB`: one decimal from KiB up, as nodetool's load columns read. */
export function formatLoad(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(Number.isFinite(bytes) ? bytes : 0))} B`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < LOAD_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${LOAD_UNITS[unit]}`;
}

/** A fraction of the ring as a percentage (`33.3%`); `?` when unknown. */
export function formatOwns(owns: number | null | undefined): string {
  return owns === null || owns === undefined || !Number.isFinite(owns) ? '?' : `${(owns * 100).toFixed(1)}%`;
}

/** Rows of cells as lines: every column left-aligned to its widest cell, two spaces apart. */
export function renderColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** A title underlined with `=` as long as it, as nodetool heads each datacenter. */
export function heading(title: string): string[] {
  return [title, '='.repeat(title.length)];
}
