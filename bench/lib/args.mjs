/**
 * Command-line options for a benchmark, declared once and used for parsing, validation and
 * the usage text.
 *
 *   const spec = { records: { kind: 'int', default: 1000, min: 1, help: 'rows to write' } };
 *   const opts = parseOptions(argv, spec); // --records 5000 → { records: 5000 }
 *
 * `defaultText` overrides how the default is shown in the usage text.
 * Kinds: 'int', 'number', 'string', 'list' (comma-separated), 'flag' (boolean).
 * Option names are --kebab-case on the command line and camelCase in the result.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  name = 'UsageError';
}

const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

export function parseOptions(argv, spec) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec)) options[name] = { type: o.kind === 'flag' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const out = { help: parsed.values.help === true };
  for (const [name, o] of Object.entries(spec)) {
    const raw = parsed.values[name];
    out[camel(name)] = raw === undefined ? o.default : convert(name, o, raw);
  }
  return out;
}

function convert(name, o, raw) {
  switch (o.kind) {
    case 'flag':
      return raw;
    case 'string':
      return raw;
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (o.choices) {
        for (const it of items) if (!o.choices.includes(it)) throw new UsageError(`--${name}: unknown '${it}' (choose from ${o.choices.join(', ')})`);
      }
      return items;
    }
    case 'int':
    case 'number': {
      const v = Number(raw.replace(/_/g, ''));
      if (!Number.isFinite(v) || (o.kind === 'int' && !Number.isInteger(v))) throw new UsageError(`--${name}: expected ${o.kind === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      if (o.min !== undefined && v < o.min) throw new UsageError(`--${name}: must be at least ${o.min}, got ${v}`);
      if (o.max !== undefined && v > o.max) throw new UsageError(`--${name}: must be at most ${o.max}, got ${v}`);
      return v;
    }
    default:
      throw new Error(`option --${name}: unknown kind ${o.kind}`);
  }
}

export function usageText(spec) {
  const rows = Object.entries(spec).map(([name, o]) => {
    const arg = o.kind === 'flag' ? '' : o.kind === 'list' ? ' A,B' : o.kind === 'string' ? ' S' : ' N';
    const shown = o.defaultText ?? (Array.isArray(o.default) ? o.default.join(',') : o.default);
    const def = shown === undefined || o.kind === 'flag' ? '' : ` (default ${shown})`;
    return [`  --${name}${arg}`, `${o.help}${def}`];
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join('\n');
}
