/**
 * The `WITH …` options of keyspace and table DDL: replication strategies and table parameters.
 *
 * Each function takes the parser's `Property` list and returns validated metadata, or throws
 * `ConfigurationError` with Cassandra's wording for the usual mistakes. Options Cassandra has
 * but ringtail does not use (caching, compression, …) are accepted and ignored, so DDL copied
 * from a Cassandra cluster runs; anything else is refused by name.
 */
import type { Property, Term } from '../cql/ast.js';
import { ConfigurationError } from '../errors.js';
import type { CompactionParams, Replication, TableParams } from './schema.js';

const MAX_REPLICATION_FACTOR = 32;
/** SSTables one compaction may merge at most (Cassandra has no cap; a merge's fan-in needs one). */
const MAX_COMPACTION_THRESHOLD = 1024;
/** Cassandra's cap on default_time_to_live and on TTLs: 20 years. */
export const MAX_TTL_SECONDS = 20 * 365 * 24 * 3600;

export const DEFAULT_TABLE_PARAMS: TableParams = Object.freeze({
  comment: '',
  defaultTimeToLive: 0,
  gcGraceSeconds: 864000,
  conflictResolution: 'lww',
  readRepair: 'BLOCKING',
  speculativeRetry: '99p',
  compaction: Object.freeze({ class: 'SizeTieredCompactionStrategy', enabled: true, minThreshold: 4, maxThreshold: 32 }),
});

/** Table options that Cassandra accepts and ringtail ignores. */
const IGNORED_TABLE_OPTIONS = new Set([
  'bloom_filter_fp_chance',
  'caching',
  'cdc',
  'compression',
  'crc_check_chance',
  'dclocal_read_repair_chance',
  'read_repair_chance',
  'max_index_interval',
  'min_index_interval',
  'memtable_flush_period_in_ms',
  'additional_write_policy',
  'extensions',
  'memtable',
]);

type OptionValue = string | Map<string, string>;

/** Reads a property's value as Cassandra does: constants become strings, maps string → string. */
function optionValue(p: Property): OptionValue {
  if (p.value.kind === 'map') {
    const m = new Map<string, string>();
    for (const { key, value } of p.value.entries) m.set(constantText(key, p.name), constantText(value, p.name));
    return m;
  }
  return constantText(p.value, p.name);
}

function constantText(t: Term, option: string): string {
  switch (t.kind) {
    case 'string':
      return t.value;
    case 'integer':
    case 'float':
    case 'uuid':
      return t.text;
    case 'boolean':
      return String(t.value);
    default:
      throw new ConfigurationError(`Invalid value for property '${option}': constants expected`);
  }
}

function propertyMap(properties: readonly Property[]): Map<string, OptionValue> {
  const out = new Map<string, OptionValue>();
  for (const p of properties) {
    if (out.has(p.name)) throw new ConfigurationError(`Multiple definitions for property '${p.name}'`);
    out.set(p.name, optionValue(p));
  }
  return out;
}

function asMap(v: OptionValue, name: string): Map<string, string> {
  if (typeof v === 'string') throw new ConfigurationError(`Invalid value for property '${name}': a map is expected`);
  return v;
}

function asString(v: OptionValue, name: string): string {
  if (typeof v !== 'string') throw new ConfigurationError(`Invalid value for property '${name}': a constant is expected, not a map`);
  return v;
}

/** An int32 option, as Cassandra's `PropertyDefinitions.getInt` reads it. */
function asInteger(v: OptionValue, name: string): number {
  const s = asString(v, name);
  const n = /^-?\d{1,10}$/.test(s.trim()) ? Number(s.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) throw new ConfigurationError(`Invalid integer value ${s} for '${name}'`);
  return n;
}

/** A table option with Cassandra's range check and wording (`TableParams.validate`). */
function boundedOption(v: OptionValue, name: string, max: number): number {
  const n = asInteger(v, name);
  if (n < 0) throw new ConfigurationError(`${name} must be greater than or equal to 0 (got ${n})`);
  if (n > max) throw new ConfigurationError(`${name} must be less than or equal to ${max} (got ${n})`);
  return n;
}

const LOCATOR_PACKAGE = 'org.apache.cassandra.locator.';

function strategyClass(name: string): string {
  return name.startsWith(LOCATOR_PACKAGE) ? name.slice(LOCATOR_PACKAGE.length) : name;
}

function replicationFactor(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ConfigurationError(`Replication factor must be numeric; found ${text}`);
  const n = Number(text);
  if (n < 0) throw new ConfigurationError(`Replication factor must be non-negative; found ${text}`);
  if (n > MAX_REPLICATION_FACTOR) throw new ConfigurationError(`Replication factor must be at most ${MAX_REPLICATION_FACTOR}; found ${text}`);
  return n;
}

export function parseReplication(options: Map<string, string>, keyspace: string): Replication {
  const cls = options.get('class');
  if (cls === undefined) throw new ConfigurationError('Missing replication strategy class');
  switch (strategyClass(cls)) {
    case 'SimpleStrategy': {
      const rf = options.get('replication_factor');
      if (rf === undefined) throw new ConfigurationError('SimpleStrategy requires a replication_factor strategy option.');
      for (const k of options.keys()) {
        if (k !== 'class' && k !== 'replication_factor') throw new ConfigurationError(`Unrecognized strategy option {${k}} passed to SimpleStrategy for keyspace ${keyspace}`);
      }
      return { class: 'SimpleStrategy', replicationFactor: replicationFactor(rf) };
    }
    case 'NetworkTopologyStrategy': {
      const datacenters: Record<string, number> = {};
      for (const [k, v] of options) {
        if (k === 'class') continue;
        if (k === 'replication_factor') throw new ConfigurationError('replication_factor is not a datacenter name: give NetworkTopologyStrategy one factor per datacenter');
        datacenters[k] = replicationFactor(v);
      }
      return { class: 'NetworkTopologyStrategy', datacenters };
    }
    default:
      throw new ConfigurationError(`Unable to find replication strategy class '${cls.includes('.') ? cls : LOCATOR_PACKAGE + cls}'`);
  }
}

export interface KeyspaceOptions {
  readonly replication?: Replication;
  readonly durableWrites?: boolean;
}

/** CREATE/ALTER KEYSPACE options; CREATE must give `replication` (the caller checks). */
export function parseKeyspaceOptions(properties: readonly Property[], keyspace: string): KeyspaceOptions {
  const out: { replication?: Replication; durableWrites?: boolean } = {};
  for (const [name, value] of propertyMap(properties)) {
    if (name === 'replication') out.replication = parseReplication(asMap(value, name), keyspace);
    else if (name === 'durable_writes') {
      const s = asString(value, name).toLowerCase();
      if (s !== 'true' && s !== 'false') throw new ConfigurationError(`Invalid value for property 'durable_writes': ${s}`);
      out.durableWrites = s === 'true';
    } else throw new ConfigurationError(`Unknown property '${name}'`);
  }
  return out;
}

function parseCompaction(options: Map<string, string>, current: CompactionParams): CompactionParams {
  const cls = options.get('class');
  if (cls === undefined) throw new ConfigurationError('Missing sub-option \'class\' for the \'compaction\' option.');
  const short = cls.startsWith('org.apache.cassandra.db.compaction.') ? cls.slice('org.apache.cassandra.db.compaction.'.length) : cls;
  if (short !== 'SizeTieredCompactionStrategy') throw new ConfigurationError(`Unable to find compaction strategy class '${cls}' (ringtail has SizeTieredCompactionStrategy)`);
  let { enabled, minThreshold, maxThreshold } = current.class === short ? current : DEFAULT_TABLE_PARAMS.compaction;
  const threshold = (v: string, k: string): number => {
    if (!/^-?\d{1,10}$/.test(v)) throw new ConfigurationError(`Invalid value ${v} for '${k}' compaction sub-option - must be an integer`);
    return Number(v);
  };
  for (const [k, v] of options) {
    if (k === 'class') continue;
    if (k === 'enabled') {
      if (v !== 'true' && v !== 'false') throw new ConfigurationError(`enabled should either be 'true' or 'false', not ${v}`);
      enabled = v === 'true';
    } else if (k === 'min_threshold') minThreshold = threshold(v, k);
    else if (k === 'max_threshold') maxThreshold = threshold(v, k);
    else throw new ConfigurationError(`Properties specified [${k}] are not understood by SizeTieredCompactionStrategy`);
  }
  if (minThreshold <= 0 || maxThreshold <= 0) {
    throw new ConfigurationError("Disabling compaction by setting compaction thresholds to 0 has been removed, set the compaction option 'enabled' to false instead.");
  }
  if (minThreshold <= 1) throw new ConfigurationError(`Min compaction threshold cannot be less than 2 (got ${minThreshold})`);
  if (minThreshold > maxThreshold) throw new ConfigurationError(`Min compaction threshold (got ${minThreshold}) cannot be greater than max compaction threshold (got ${maxThreshold})`);
  if (maxThreshold > MAX_COMPACTION_THRESHOLD) throw new ConfigurationError(`Max compaction threshold cannot be more than ${MAX_COMPACTION_THRESHOLD} (got ${maxThreshold})`);
  return { class: 'SizeTieredCompactionStrategy', enabled, minThreshold, maxThreshold };
}

function parseSpeculativeRetry(text: string): string {
  const s = text.trim();
  const upper = s.toUpperCase();
  if (upper === 'NONE' || upper === 'ALWAYS') return upper;
  let m = /^(\d+(?:\.\d+)?)\s*MS$/i.exec(s);
  if (m !== null) return `${Number(m[1])}ms`;
  m = /^(\d+(?:\.\d+)?)\s*(?:P|PERCENTILE)$/i.exec(s);
  if (m !== null && Number(m[1]) > 0 && Number(m[1]) < 100) return `${Number(m[1])}p`;
  throw new ConfigurationError(`Invalid value ${text} for option 'speculative_retry'`);
}

/** Applies CREATE TABLE / ALTER TABLE … WITH options on top of `base`. */
export function parseTableParams(properties: readonly Property[], base: TableParams = DEFAULT_TABLE_PARAMS): TableParams {
  const p: { -readonly [K in keyof TableParams]: TableParams[K] } = { ...base };
  for (const [name, value] of propertyMap(properties)) {
    switch (name) {
      case 'comment':
        p.comment = asString(value, name);
        break;
      case 'default_time_to_live':
        p.defaultTimeToLive = boundedOption(value, name, MAX_TTL_SECONDS);
        break;
      case 'gc_grace_seconds':
        p.gcGraceSeconds = boundedOption(value, name, 2 ** 31 - 1);
        break;
      case 'conflict_resolution': {
        const s = asString(value, name).toLowerCase();
        if (s !== 'lww' && s !== 'siblings') throw new ConfigurationError(`Invalid value '${s}' for option 'conflict_resolution': 'lww' or 'siblings'`);
        p.conflictResolution = s;
        break;
      }
      case 'read_repair': {
        const s = asString(value, name).toUpperCase();
        if (s !== 'BLOCKING' && s !== 'NONE') throw new ConfigurationError(`Invalid value '${s}' for option 'read_repair': 'BLOCKING' or 'NONE'`);
        p.readRepair = s;
        break;
      }
      case 'speculative_retry':
        p.speculativeRetry = parseSpeculativeRetry(asString(value, name));
        break;
      case 'compaction':
        p.compaction = parseCompaction(asMap(value, name), base.compaction);
        break;
      default:
        if (!IGNORED_TABLE_OPTIONS.has(name)) throw new ConfigurationError(`Unknown property '${name}'`);
    }
  }
  return p;
}
