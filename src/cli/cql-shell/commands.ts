/**
 * Recognises the shell's own commands (cqlsh's, SPEC 2.4) in a complete statement and parses
 * them; anything else is CQL for the server. Keywords are case-insensitive, the trailing `;` is
 * optional, and names follow CQL: unquoted ones fold to lower case, `"Quoted"` ones keep case
 * (with `""` for a quote inside).
 *
 * `USE ks` is CQL (the server checks the keyspace and answers `set_keyspace`), but it is also
 * accepted without `;` on a line of its own, so `isShellCommandLine` knows it.
 *
 * Pure functions over strings. A command used wrongly parses to `{kind: 'usage'}` with the
 * message to show, never throws.
 */

/** SPEC 6.3. */
export const CONSISTENCY_LEVELS = ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];

export function parseConsistencyLevel(text: string): ConsistencyLevel | null {
  const upper = text.trim().toUpperCase();
  return (CONSISTENCY_LEVELS as readonly string[]).includes(upper) ? (upper as ConsistencyLevel) : null;
}

export interface QualifiedName {
  readonly keyspace: string | null;
  readonly name: string;
}

export type DescribeTarget =
  | { readonly kind: 'keyspaces' }
  | { readonly kind: 'keyspace'; readonly name: string | null }
  | { readonly kind: 'tables' }
  | { readonly kind: 'table'; readonly table: QualifiedName }
  | { readonly kind: 'schema'; readonly full: boolean }
  | { readonly kind: 'cluster' }
  /** `DESCRIBE x`: a keyspace if one has that name, else a table. */
  | { readonly kind: 'name'; readonly target: QualifiedName };

export type PagingSetting = 'show' | 'on' | 'off' | number;

export type ShellCommand =
  | { readonly kind: 'consistency'; readonly level: ConsistencyLevel | null }
  | { readonly kind: 'paging'; readonly setting: PagingSetting }
  | { readonly kind: 'expand'; readonly on: boolean | null }
  | { readonly kind: 'tracing'; readonly on: boolean | null }
  | { readonly kind: 'describe'; readonly target: DescribeTarget }
  | { readonly kind: 'help'; readonly topic: string | null }
  | { readonly kind: 'exit' }
  | { readonly kind: 'source'; readonly path: string }
  | { readonly kind: 'clear' }
  | { readonly kind: 'usage'; readonly message: string };

const SHELL_KEYWORDS = new Set(['consistency', 'paging', 'expand', 'tracing', 'describe', 'desc', 'help', '?', 'exit', 'quit', 'source', 'clear', 'cls']);

/** Drops the terminating `;` and surrounding blanks. */
function body(statement: string): string {
  return statement.trim().replace(/;\s*$/, '').trim();
}

function firstWord(text: string): string {
  return (/^\S+/.exec(text)?.[0] ?? '').toLowerCase();
}

/**
 * Whether one line typed on its own is a complete shell command without `;` (`EXIT`,
 * `CONSISTENCY QUORUM`, `USE ks`). A bare `USE` is not: it may go on with the keyspace on the next line.
 */
export function isShellCommandLine(line: string): boolean {
  const text = body(line);
  // More than one statement on the line: leave it to the statement splitter.
  if (text.includes('\n') || text.includes(';')) return false;
  const word = firstWord(text);
  if (word === 'use') return /^use\s+\S/i.test(text);
  return SHELL_KEYWORDS.has(word);
}

/** The shell command in `statement`, or null when it is CQL for the server. */
export function parseShellCommand(statement: string): ShellCommand | null {
  const text = body(statement);
  const word = firstWord(text);
  if (!SHELL_KEYWORDS.has(word)) return null;
  const rest = text.slice(word.length).trim();
  const args = rest === '' ? [] : rest.split(/\s+/);
  switch (word) {
    case 'consistency':
      return parseConsistency(args);
    case 'paging':
      return parsePaging(args);
    case 'expand':
    case 'tracing':
      return parseOnOff(word, args);
    case 'describe':
    case 'desc':
      return parseDescribe(rest);
    case 'help':
    case '?':
      return { kind: 'help', topic: rest === '' ? null : rest.toUpperCase().replace(/\s+/g, ' ') };
    case 'exit':
    case 'quit':
      return { kind: 'exit' };
    case 'source':
      return parseSource(rest);
    default:
      return { kind: 'clear' };
  }
}

function usage(message: string): ShellCommand {
  return { kind: 'usage', message };
}

function parseConsistency(args: string[]): ShellCommand {
  if (args.length === 0) return { kind: 'consistency', level: null };
  const level = args.length === 1 ? parseConsistencyLevel(args[0]!) : null;
  if (level === null) return usage(`Improper CONSISTENCY command: unknown level '${args.join(' ')}' (expected one of ${CONSISTENCY_LEVELS.join(', ')})`);
  return { kind: 'consistency', level };
}

function parsePaging(args: string[]): ShellCommand {
  if (args.length === 0) return { kind: 'paging', setting: 'show' };
  const arg = args.length === 1 ? args[0]!.toLowerCase() : '';
  if (arg === 'on' || arg === 'off') return { kind: 'paging', setting: arg };
  if (/^\d+$/.test(arg)) return { kind: 'paging', setting: Number.parseInt(arg, 10) };
  return usage('Improper PAGING command: use PAGING ON, PAGING OFF or PAGING <page size>');
}

function parseOnOff(word: 'expand' | 'tracing', args: string[]): ShellCommand {
  const arg = args.length === 1 ? args[0]!.toLowerCase() : args.length === 0 ? '' : '?';
  const on = arg === 'on' ? true : arg === 'off' ? false : arg === '' ? null : undefined;
  if (on === undefined) return usage(`Improper ${word.toUpperCase()} command: use ${word.toUpperCase()} ON or ${word.toUpperCase()} OFF`);
  return word === 'expand' ? { kind: 'expand', on } : { kind: 'tracing', on };
}

function parseSource(rest: string): ShellCommand {
  const quoted = /^'((?:[^']|'')*)'$/.exec(rest);
  const path = quoted !== null ? quoted[1]!.replace(/''/g, "'") : rest;
  if (path === '' || (quoted === null && /\s/.test(path))) return usage("Improper SOURCE command: use SOURCE 'file'");
  return { kind: 'source', path };
}

function parseDescribe(rest: string): ShellCommand {
  const improper = usage('Improper DESCRIBE command: use DESCRIBE KEYSPACES | KEYSPACE [ks] | TABLES | TABLE t | SCHEMA | CLUSTER');
  const word = firstWord(rest);
  const after = rest.slice(word.length).trim();
  const target = (t: DescribeTarget): ShellCommand => ({ kind: 'describe', target: t });
  switch (word) {
    case '':
      return improper;
    case 'keyspaces':
      return after === '' ? target({ kind: 'keyspaces' }) : improper;
    case 'tables':
    case 'columnfamilies':
      return after === '' ? target({ kind: 'tables' }) : improper;
    case 'cluster':
      return after === '' ? target({ kind: 'cluster' }) : improper;
    case 'schema':
      return after === '' ? target({ kind: 'schema', full: false }) : improper;
    case 'full':
      return after.toLowerCase() === 'schema' ? target({ kind: 'schema', full: true }) : improper;
    case 'keyspace': {
      if (after === '') return target({ kind: 'keyspace', name: null });
      const name = parseQualifiedName(after);
      return name !== null && name.keyspace === null ? target({ kind: 'keyspace', name: name.name }) : improper;
    }
    case 'table':
    case 'columnfamily': {
      const name = parseQualifiedName(after);
      return name !== null ? target({ kind: 'table', table: name }) : improper;
    }
    default: {
      const name = parseQualifiedName(rest);
      return name !== null ? target({ kind: 'name', target: name }) : improper;
    }
  }
}

const IDENTIFIER = String.raw`(?:[A-Za-z][A-Za-z0-9_]*|"(?:[^"]|"")+")`;
const QUALIFIED = new RegExp(String.raw`^(${IDENTIFIER})(?:\s*\.\s*(${IDENTIFIER}))?$`);

/** A CQL identifier as the server sees it: `Users` → `users`, `"Users"` → `Users`. */
export function identifierValue(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text.toLowerCase();
}

/** `t`, `ks.t`, `"Ks"."T"`; null when it is not a (qualified) name. */
export function parseQualifiedName(text: string): QualifiedName | null {
  const m = QUALIFIED.exec(text.trim());
  if (m === null) return null;
  return m[2] === undefined ? { keyspace: null, name: identifierValue(m[1]!) } : { keyspace: identifierValue(m[1]!), name: identifierValue(m[2]) };
}

/** The CQL spelling of a name: bare when it reads back the same, else double-quoted. */
export function quoteIdentifier(name: string): string {
  return /^[a-z][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
