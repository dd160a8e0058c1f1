/**
 * Node settings: the typed source of truth (SPEC §5).
 *
 * `Settings` is what a running node reads. `SETTING_SPECS` gives, per setting, its type and
 * bounds (ARCHITECTURE rule 4: every queue, rate and size has a limit in config); the compiler
 * keeps it in step with `Settings`. Defaults and one-line descriptions live in
 * `config/default.json`, and a unit test keeps that file in step with this table.
 * `SETTING_RELATIONS` are the relations between limits checked at start-up (STYLE.md §3).
 * `load-config.ts` layers defaults, a node's file and `--set` overrides and checks them all.
 */

export const MIB = 1024 * 1024;

export const COMMITLOG_SYNC_MODES = ['periodic', 'group', 'batch'] as const;
export type CommitlogSync = (typeof COMMITLOG_SYNC_MODES)[number];

/** SPEC §6.3 levels usable as a default for both reads and writes (`ANY` is write-only). */
export const DEFAULT_CONSISTENCY_LEVELS = [
  'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM',
] as const;
export type DefaultConsistency = (typeof DEFAULT_CONSISTENCY_LEVELS)[number];

export const AUTHENTICATORS = ['AllowAll', 'Password'] as const;
export type Authenticator = (typeof AUTHENTICATORS)[number];

/** pino's levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AuthSettings {
  readonly authenticator: Authenticator;
}

/** Keys are exactly the setting names of SPEC §5 and config/default.json. */
export interface Settings {
  readonly cluster_name: string;
  readonly node_name: string;
  readonly listen_address: string;
  readonly internode_port: number;
  readonly http_address: string;
  readonly http_port: number;
  readonly seeds: readonly string[];
  readonly data_dir: string;
  readonly num_tokens: number;
  readonly auto_bootstrap: boolean;
  readonly ring_delay_ms: number;
  readonly stream_throughput_mb_per_s: number;
  readonly datacenter: string;
  readonly rack: string;
  readonly gossip_interval_ms: number;
  readonly phi_convict_threshold: number;
  readonly write_request_timeout_ms: number;
  readonly read_request_timeout_ms: number;
  readonly hinted_handoff_enabled: boolean;
  readonly max_hint_window_ms: number;
  readonly hint_replay_bytes_per_s: number;
  readonly max_hints_size_mb: number;
  readonly commitlog_sync: CommitlogSync;
  readonly commitlog_sync_period_ms: number;
  readonly commitlog_sync_group_window_ms: number;
  readonly commitlog_segment_size_mb: number;
  readonly memtable_flush_threshold_mb: number;
  readonly memtable_total_space_mb: number;
  readonly compaction_throughput_mb_per_s: number;
  readonly http_max_body_bytes: number;
  readonly internode_max_message_bytes: number;
  readonly max_inflight_requests: number;
  readonly internode_queue_max_messages: number;
  readonly default_consistency: DefaultConsistency;
  readonly internode_secret: string;
  readonly auth: AuthSettings;
  readonly log_level: LogLevel;
}

export type SettingName = keyof Settings;

// ---- the spec of one setting -------------------------------------------------------------

export interface StringSpec { readonly type: 'string'; readonly nonEmpty?: boolean }
export interface IntegerSpec { readonly type: 'integer'; readonly min: number; readonly max: number }
export interface NumberSpec { readonly type: 'number'; readonly min: number; readonly max: number }
export interface BooleanSpec { readonly type: 'boolean' }
export interface EnumSpec<T extends string = string> { readonly type: 'enum'; readonly values: readonly T[] }
/** `item: 'host:port'` requires each entry to be an endpoint such as `127.0.0.1:7000` or `[::1]:7000`. */
export interface StringListSpec { readonly type: 'string_list'; readonly maxItems: number; readonly item?: 'host:port' }
/** The spec of a field inside an object setting. */
export type FieldSpec = StringSpec | IntegerSpec | NumberSpec | BooleanSpec | EnumSpec | StringListSpec;
/** An object setting: known fields only; a partial object overrides just the fields it names. */
export interface ObjectSpec { readonly type: 'object'; readonly properties: Readonly<Record<string, FieldSpec>> }
export type SettingSpec = FieldSpec | ObjectSpec;

interface TypedObjectSpec<T> {
  readonly type: 'object';
  readonly properties: { readonly [K in keyof T]-?: SpecFor<T[K]> };
}

/** The spec kinds that fit a value type (non-distributive, so enum unions stay whole). */
type SpecFor<T> = [T] extends [boolean]
  ? BooleanSpec
  : [T] extends [number]
    ? IntegerSpec | NumberSpec
    : [T] extends [readonly string[]]
      ? StringListSpec
      : [T] extends [string]
        ? string extends T ? StringSpec : EnumSpec<T>
        : TypedObjectSpec<T>;

const port: IntegerSpec = { type: 'integer', min: 0, max: 65535 };
const name: StringSpec = { type: 'string', nonEmpty: true };
const GIB = 1024 * MIB;

/** Type and bounds of every setting. 0 as a port means "any free port" (tests, `--ports auto`). */
export const SETTING_SPECS: { readonly [K in SettingName]: SpecFor<Settings[K]> } = {
  cluster_name: name,
  node_name: { type: 'string' },
  listen_address: name,
  internode_port: port,
  http_address: name,
  http_port: port,
  seeds: { type: 'string_list', maxItems: 64, item: 'host:port' },
  data_dir: name,
  num_tokens: { type: 'integer', min: 1, max: 1536 }, // Cassandra's own upper bound
  auto_bootstrap: { type: 'boolean' },
  ring_delay_ms: { type: 'integer', min: 0, max: 600_000 },
  stream_throughput_mb_per_s: { type: 'integer', min: 0, max: 1024 * 1024 },
  datacenter: name,
  rack: name,
  gossip_interval_ms: { type: 'integer', min: 10, max: 60_000 },
  phi_convict_threshold: { type: 'number', min: 1, max: 16 },
  write_request_timeout_ms: { type: 'integer', min: 1, max: 600_000 },
  read_request_timeout_ms: { type: 'integer', min: 1, max: 600_000 },
  hinted_handoff_enabled: { type: 'boolean' },
  max_hint_window_ms: { type: 'integer', min: 0, max: 30 * 24 * 3_600_000 },
  hint_replay_bytes_per_s: { type: 'integer', min: 1, max: GIB },
  max_hints_size_mb: { type: 'integer', min: 4, max: 1024 * 1024 },
  commitlog_sync: { type: 'enum', values: COMMITLOG_SYNC_MODES },
  commitlog_sync_period_ms: { type: 'integer', min: 1, max: 600_000 },
  commitlog_sync_group_window_ms: { type: 'integer', min: 0, max: 60_000 },
  commitlog_segment_size_mb: { type: 'integer', min: 1, max: 2047 }, // segments stay < 2 GiB
  memtable_flush_threshold_mb: { type: 'integer', min: 1, max: 1024 * 1024 },
  memtable_total_space_mb: { type: 'integer', min: 1, max: 1024 * 1024 },
  compaction_throughput_mb_per_s: { type: 'integer', min: 0, max: 1024 * 1024 },
  http_max_body_bytes: { type: 'integer', min: 1024, max: GIB },
  internode_max_message_bytes: { type: 'integer', min: 1024, max: GIB },
  max_inflight_requests: { type: 'integer', min: 1, max: 1_000_000 },
  internode_queue_max_messages: { type: 'integer', min: 1, max: 10_000_000 },
  default_consistency: { type: 'enum', values: DEFAULT_CONSISTENCY_LEVELS },
  internode_secret: { type: 'string' },
  auth: { type: 'object', properties: { authenticator: { type: 'enum', values: AUTHENTICATORS } } },
  log_level: { type: 'enum', values: LOG_LEVELS },
};

export const SETTING_NAMES = Object.keys(SETTING_SPECS) as readonly SettingName[];

/** The spec of `key`, or undefined when no such setting exists. */
export function settingSpec(key: string): SettingSpec | undefined {
  const specs: Readonly<Record<string, SettingSpec>> = SETTING_SPECS;
  return Object.hasOwn(specs, key) ? specs[key] : undefined;
}

/** A short human label of a spec: `integer 0..65535`, `one of periodic|group|batch`, … */
export function specLabel(spec: SettingSpec): string {
  switch (spec.type) {
    case 'string':
      return spec.nonEmpty === true ? 'non-empty string' : 'string';
    case 'integer':
    case 'number':
      return `${spec.type} ${spec.min}..${spec.max}`;
    case 'boolean':
      return 'boolean (true|false)';
    case 'enum':
      return `one of ${spec.values.join('|')}`;
    case 'string_list':
      return `list of ${spec.item ?? 'string'} (at most ${spec.maxItems})`;
    case 'object': {
      const fields = Object.entries(spec.properties).map(([k, s]) => `${k}: ${specLabel(s)}`);
      return `object {${fields.join(', ')}}`;
    }
  }
}

// ---- relations between limits ------------------------------------------------------------

export interface SettingRelation {
  readonly keys: readonly SettingName[];
  /** The rule in words, shown when it is broken. */
  readonly rule: string;
  readonly holds: (settings: Settings) => boolean;
}

const maxMutationBytes = (s: Settings): number => (s.commitlog_segment_size_mb * MIB) / 2;
const anyAddress = (address: string): boolean => address === '0.0.0.0' || address === '::';

/**
 * Only relations that are true whatever the workload. Size relations are necessary, not
 * sufficient: the commit log still rejects an encoded mutation larger than half a segment.
 */
export const SETTING_RELATIONS: readonly SettingRelation[] = [
  {
    keys: ['http_max_body_bytes', 'commitlog_segment_size_mb'],
    rule: 'a request body must fit in half a commit-log segment (Cassandra\'s max mutation size): ' +
      'http_max_body_bytes <= commitlog_segment_size_mb * 1048576 / 2',
    holds: (s) => s.http_max_body_bytes <= maxMutationBytes(s),
  },
  {
    keys: ['internode_max_message_bytes', 'commitlog_segment_size_mb'],
    rule: 'a replica must be able to receive the largest mutation its commit log accepts: ' +
      'internode_max_message_bytes >= commitlog_segment_size_mb * 1048576 / 2',
    holds: (s) => s.internode_max_message_bytes >= maxMutationBytes(s),
  },
  {
    keys: ['memtable_total_space_mb', 'memtable_flush_threshold_mb'],
    rule: 'one full memtable must fit in the space of all memtables: ' +
      'memtable_total_space_mb >= memtable_flush_threshold_mb',
    holds: (s) => s.memtable_total_space_mb >= s.memtable_flush_threshold_mb,
  },
  {
    keys: ['commitlog_sync_group_window_ms', 'write_request_timeout_ms'],
    rule: 'with commitlog_sync = group a write waits for the group fsync, so ' +
      'commitlog_sync_group_window_ms < write_request_timeout_ms',
    holds: (s) => s.commitlog_sync !== 'group' || s.commitlog_sync_group_window_ms < s.write_request_timeout_ms,
  },
  {
    keys: ['internode_port', 'http_port'],
    rule: 'the internode and HTTP listeners cannot share a port on the same address',
    holds: (s) =>
      s.internode_port === 0 ||
      s.internode_port !== s.http_port ||
      (s.listen_address !== s.http_address && !anyAddress(s.listen_address) && !anyAddress(s.http_address)),
  },
];
