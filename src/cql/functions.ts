/**
 * The CQL functions of SPEC 4: `now()`, `uuid()`, `toTimestamp()`, `toDate()`,
 * `currentTimestamp()`, `minTimeuuid()`, `maxTimeuuid()` (plus `currentDate()` and
 * `currentTimeUUID()`, Cassandra's aliases).
 *
 * Each function has fixed argument and result types, so a call type-checks against the column
 * it is assigned to before it runs. Time comes from the injected clock and randomness from the
 * injected `Random`: a test can pin both.
 *
 * `now()` makes version-1 UUIDs that are unique and increasing on this node: the 100 ns tick
 * counter never repeats or goes back (it moves one tick past the last one when the clock stalls
 * or steps back), and the clock-sequence-and-node half is random per node (with the RFC 4122
 * variant bits), as Cassandra does.
 */
import { InvalidRequest } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import type { ListPositionClock } from './row-codec.js';
import { clockSeqAndNode, makeRandomUuid, makeTimeUuid, maxTimeUuid, minTimeUuid, timeUuidUnixMs } from '../schema/timeuuid.js';

const MS_PER_DAY = 86_400_000;
const TICKS_PER_MS = 10_000;

export const TIMEUUID: CqlType = { kind: 'native', name: 'timeuuid' };
export const UUID: CqlType = { kind: 'native', name: 'uuid' };
export const TIMESTAMP: CqlType = { kind: 'native', name: 'timestamp' };
export const DATE: CqlType = { kind: 'native', name: 'date' };

/**
 * Issues version-1 UUIDs that never repeat on this node: within a millisecond the 100 ns
 * ticks count up (10,000 per millisecond, then the next millisecond is borrowed), and a clock
 * that stalls or steps back continues from the last one issued. Milliseconds and ticks are
 * kept apart because their product (about 1.7e16 today) is beyond a double's exact integers.
 */
export class TimeUuidGenerator {
  private lastMs = Number.NEGATIVE_INFINITY;
  private lastTick = 0;
  private readonly clockSeqAndNode: bigint;

  constructor(
    private readonly clock: Clock,
    random: Random,
  ) {
    const bytes = random.nextBytes(8);
    // 14 random bits of clock sequence, 48 random bits of node, and the RFC 4122 variant.
    this.clockSeqAndNode = clockSeqAndNode(bytes.readUInt16BE(0) & 0x3fff, bytes.readBigUInt64BE(0) & 0xffff_ffff_ffffn);
  }

  next(): string {
    const ms = this.clock.nowMs();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.lastTick = 0;
    } else if (++this.lastTick === TICKS_PER_MS) {
      this.lastMs++;
      this.lastTick = 0;
    }
    return makeTimeUuid(this.lastMs, this.lastTick, this.clockSeqAndNode);
  }
}

export interface FunctionContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly timeUuids: TimeUuidGenerator;
  /** List element positions (not a CQL function, but per-node state of the same kind). */
  readonly listPositions: ListPositionClock;
}

interface CqlFunction {
  /** Argument types; a single entry `[a, b]` lists overloads for one argument. */
  readonly args: readonly (readonly CqlType[])[];
  readonly result: CqlType;
  call(ctx: FunctionContext, args: readonly { type: CqlType; value: CqlValue }[]): CqlValue;
}

function nativeName(t: CqlType): string {
  return t.kind === 'native' ? t.name : t.kind;
}

const FUNCTIONS: ReadonlyMap<string, CqlFunction> = new Map<string, CqlFunction>([
  ['now', { args: [], result: TIMEUUID, call: (ctx) => ctx.timeUuids.next() }],
  ['currenttimeuuid', { args: [], result: TIMEUUID, call: (ctx) => ctx.timeUuids.next() }],
  ['uuid', { args: [], result: UUID, call: (ctx) => makeRandomUuid(ctx.random.nextBytes(16)) }],
  ['currenttimestamp', { args: [], result: TIMESTAMP, call: (ctx) => ctx.clock.nowMs() }],
  ['currentdate', { args: [], result: DATE, call: (ctx) => Math.floor(ctx.clock.nowMs() / MS_PER_DAY) }],
  [
    'totimestamp',
    {
      args: [[TIMEUUID, DATE]],
      result: TIMESTAMP,
      call: (_ctx, [a]) => (a!.value === null ? null : nativeName(a!.type) === 'date' ? (a!.value as number) * MS_PER_DAY : timeUuidUnixMs(a!.value as string)),
    },
  ],
  [
    'todate',
    {
      args: [[TIMEUUID, TIMESTAMP]],
      result: DATE,
      call: (_ctx, [a]) => {
        if (a!.value === null) return null;
        const ms = nativeName(a!.type) === 'timestamp' ? (a!.value as number) : timeUuidUnixMs(a!.value as string);
        return Math.floor(ms / MS_PER_DAY);
      },
    },
  ],
  ['mintimeuuid', { args: [[TIMESTAMP]], result: TIMEUUID, call: (_ctx, [a]) => (a!.value === null ? null : minTimeUuid(a!.value as number)) }],
  ['maxtimeuuid', { args: [[TIMESTAMP]], result: TIMEUUID, call: (_ctx, [a]) => (a!.value === null ? null : maxTimeUuid(a!.value as number)) }],
]);

export function lookupFunction(name: string, arity: number): CqlFunction {
  const f = FUNCTIONS.get(name);
  if (f === undefined) throw new InvalidRequest(`Unknown function '${name}'`);
  if (f.args.length !== arity) throw new InvalidRequest(`Invalid number of arguments in call to function ${name}: ${f.args.length} required but ${arity} provided`);
  return f;
}

export function typesEqual(a: CqlType, b: CqlType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'native':
      return a.name === (b as typeof a).name;
    case 'list':
    case 'set':
      return typesEqual(a.element, (b as typeof a).element);
    case 'map':
      return typesEqual(a.key, (b as typeof a).key) && typesEqual(a.value, (b as typeof a).value);
  }
}

/** Whether a value of type `from` may be stored in a column of type `to` (uuid accepts timeuuid). */
export function assignable(from: CqlType, to: CqlType): boolean {
  if (typesEqual(from, to)) return true;
  return from.kind === 'native' && to.kind === 'native' && from.name === 'timeuuid' && to.name === 'uuid';
}
