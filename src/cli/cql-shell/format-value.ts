/**
 * Turns one value of a result, as the HTTP API encodes it in JSON (SPEC 3.1), into the text
 * cqlsh would show for it, guided by the column's CQL type string (`int`, `map<text, int>`, …).
 *
 * What cqlsh does and we copy: text at the top level is shown bare, inside a collection quoted
 * with `'` (a `'` doubled); booleans are `True`/`False`; timestamps read
 * `2024-01-02 03:04:05.678000+0000`; a set prints as `{…}`, a list as `[…]`, a map as
 * `{k: v}`; control characters are escaped (`\n`, `\x07`) so a value never breaks a table's
 * lines. A missing type, or one this file does not know, is formatted from the JSON value alone.
 *
 * Display width counts terminal columns (wide East Asian characters take two, combining marks
 * none), so tables stay aligned for non-ASCII text.
 */

/** A parsed CQL type: a name and its parameters (`map<text, int>` → map [text, int]). */
export interface CqlTypeTree {
  readonly name: string;
  readonly params: readonly CqlTypeTree[];
}

const NUMERIC_TYPES = new Set(['int', 'bigint', 'smallint', 'tinyint', 'varint', 'float', 'double', 'decimal', 'counter']);
const QUOTED_WHEN_NESTED = new Set(['text', 'varchar', 'ascii', 'inet', 'timestamp', 'date', 'time']);
/** A type string nests at most this deep; deeper input is treated as unknown. */
const MAX_TYPE_DEPTH = 16;

/** Parses `list<frozen<map<text, int>>>`; returns null for anything it cannot read. */
export function parseCqlType(type: string): CqlTypeTree | null {
  let pos = 0;
  const src = type.trim().toLowerCase();
  const parse = (depth: number): CqlTypeTree | null => {
    if (depth > MAX_TYPE_DEPTH) return null;
    const match = /^\s*([a-z_][a-z0-9_]*)\s*/.exec(src.slice(pos));
    if (match === null) return null;
    pos += match[0].length;
    const params: CqlTypeTree[] = [];
    if (src[pos] === '<') {
      pos++;
      for (;;) {
        const param = parse(depth + 1);
        if (param === null) return null;
        params.push(param);
        while (src[pos] === ' ') pos++;
        if (src[pos] === ',') pos++;
        else if (src[pos] === '>') {
          pos++;
          break;
        } else return null;
      }
      while (src[pos] === ' ') pos++;
    }
    return { name: match[1]!, params };
  };
  const tree = parse(0);
  return tree !== null && pos === src.length ? tree : null;
}

/** `frozen<T>` formats as T. */
function unfrozen(type: CqlTypeTree | null): CqlTypeTree | null {
  let t = type;
  while (t !== null && t.name === 'frozen' && t.params.length === 1) t = t.params[0]!;
  return t;
}

/** Whether a column's values line up on the right in a table (numbers, as in most tools). */
export function isRightAligned(type: CqlTypeTree | null, sample: unknown): boolean {
  const t = unfrozen(type);
  if (t === null) return typeof sample === 'number';
  return NUMERIC_TYPES.has(t.name);
}

/** Escapes control characters and backslashes so a value stays on one line. */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\\]/g, (ch) => {
    switch (ch) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\\':
        return '\\\\';
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

function quote(text: string): string {
  return `'${escapeControl(text).replace(/'/g, "''")}'`;
}

/** `2024-01-02T03:04:05.678Z` → `2024-01-02 03:04:05.678000+0000`; other text unchanged. */
export function formatTimestamp(iso: string): string {
  const m = /^(\d{4,}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (m === null) return iso;
  return `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0')}+0000`;
}

/** Formats one value; `nested` is true inside a collection, where text is quoted. */
export function formatValue(value: unknown, type: CqlTypeTree | null, nested = false): string {
  if (value === null || value === undefined) return 'null';
  const t = unfrozen(type);
  if (t !== null) {
    const typed = formatTyped(value, t, nested);
    if (typed !== null) return typed;
  }
  return formatUntyped(value, nested);
}

/** Returns null when the value does not have the JSON shape its type promises. */
function formatTyped(value: unknown, t: CqlTypeTree, nested: boolean): string | null {
  const [first, second] = [t.params[0] ?? null, t.params[1] ?? null];
  switch (t.name) {
    case 'list':
      return Array.isArray(value) ? `[${value.map((v) => formatValue(v, first, true)).join(', ')}]` : null;
    case 'set':
      return Array.isArray(value) ? `{${value.map((v) => formatValue(v, first, true)).join(', ')}}` : null;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      return `{${Object.entries(value).map(([k, v]) => `${formatMapKey(k, first)}: ${formatValue(v, second, true)}`).join(', ')}}`;
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 'True' : 'False') : null;
    case 'timestamp':
      return typeof value === 'string' ? formatText(formatTimestamp(value), nested) : null;
    default:
      if (typeof value === 'string') return QUOTED_WHEN_NESTED.has(t.name) ? formatText(value, nested) : escapeControl(value);
      if (typeof value === 'number') return String(value);
      return null;
  }
}

/** Map keys arrive as object keys: text as is, other types as their JSON encoding (SPEC 3.1). */
function formatMapKey(key: string, keyType: CqlTypeTree | null): string {
  const t = unfrozen(keyType);
  if (t !== null && QUOTED_WHEN_NESTED.has(t.name) && t.name !== 'timestamp') return quote(key);
  try {
    return formatValue(JSON.parse(key) as unknown, t, true);
  } catch {
    return formatValue(key, t, true);
  }
}

function formatText(text: string, nested: boolean): string {
  return nested ? quote(text) : escapeControl(text);
}

function formatUntyped(value: unknown, nested: boolean): string {
  if (typeof value === 'string') return formatText(value, nested);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v, null, true)).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${quote(k)}: ${formatValue(v, null, true)}`).join(', ')}}`;
  }
  return String(value);
}

/** Terminal columns a string takes: wide East Asian characters count 2, combining marks 0. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isCombining(cp)) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isCombining(cp: number): boolean {
  return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f);
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Pads to `width` display columns, on the left when `right` is set. */
export function pad(text: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? fill + text : text + fill;
}
