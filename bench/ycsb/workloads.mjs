/**
 * YCSB's CoreWorkload: the six core workloads (A–F) as property sets, and `Workload`, which turns
 * properties into the stream of operations, keys, field values and scan lengths a benchmark
 * client issues.
 *
 * Semantics follow YCSB's CoreWorkload:
 *   - operations are drawn by weight (read/update/insert/scan/readmodifywrite proportions);
 *   - keys read, updated or scanned come from the request distribution and are never above the
 *     last *acknowledged* run-phase insert (rejection, as YCSB's nextKeynum);
 *   - run-phase inserts take the next key number from an AcknowledgedCounter that starts after
 *     the loaded records, and the caller acknowledges each insert when it succeeds (workload D's
 *     "latest" then favours the newest acknowledged keys);
 *   - reads read all fields (readallfields=true), updates write one random field
 *     (writeallfields=false), inserts write every field; read-modify-write reads then updates
 *     the same key; scans start at a request-distribution key with a length drawn uniformly in
 *     [minscanlength, maxscanlength].
 * Record numbers loaded: [insertStart, insertStart + recordCount); keys are YCSB's hashed
 * "user<fnv64>" names (insertorder=hashed) or "user<n>" (insertorder=ordered).
 *
 * Deterministic given `seed` (separate seeded streams for operations, keys and values, so a
 * change in one does not shift the others). Bounds: one shared value pool (64 KiB + fieldlength
 * characters); key rejection gives up after MAX_KEY_REJECTIONS draws.
 */
import { fmix32 } from '../lib/workload.mjs';
import { AcknowledgedCounter, UniformChooser, ZipfianChooser, createKeyChooser, keyName, prng, randomBelow, randomDouble } from './generators.mjs';

/** CoreWorkload's defaults, for properties a workload does not set. */
export const DEFAULT_PROPERTIES = Object.freeze({
  fieldcount: 10,
  fieldlength: 100,
  fieldlengthdistribution: 'constant',
  fieldnameprefix: 'field',
  readallfields: true,
  writeallfields: false,
  readproportion: 0.95,
  updateproportion: 0.05,
  insertproportion: 0,
  scanproportion: 0,
  readmodifywriteproportion: 0,
  requestdistribution: 'uniform',
  minscanlength: 1,
  maxscanlength: 1000,
  scanlengthdistribution: 'uniform',
  insertorder: 'hashed',
});

const common = { fieldcount: 10, fieldlength: 100, readallfields: true, writeallfields: false, insertorder: 'hashed' };

/** YCSB's workloads/workload{a..f} property files. */
export const CORE_WORKLOADS = Object.freeze({
  a: Object.freeze({ ...common, readproportion: 0.5, updateproportion: 0.5, scanproportion: 0, insertproportion: 0, readmodifywriteproportion: 0, requestdistribution: 'zipfian' }),
  b: Object.freeze({ ...common, readproportion: 0.95, updateproportion: 0.05, scanproportion: 0, insertproportion: 0, readmodifywriteproportion: 0, requestdistribution: 'zipfian' }),
  c: Object.freeze({ ...common, readproportion: 1, updateproportion: 0, scanproportion: 0, insertproportion: 0, readmodifywriteproportion: 0, requestdistribution: 'zipfian' }),
  d: Object.freeze({ ...common, readproportion: 0.95, updateproportion: 0, scanproportion: 0, insertproportion: 0.05, readmodifywriteproportion: 0, requestdistribution: 'latest' }),
  e: Object.freeze({ ...common, readproportion: 0, updateproportion: 0, scanproportion: 0.95, insertproportion: 0.05, readmodifywriteproportion: 0, requestdistribution: 'zipfian', maxscanlength: 100, scanlengthdistribution: 'uniform' }),
  f: Object.freeze({ ...common, readproportion: 0.5, updateproportion: 0, scanproportion: 0, insertproportion: 0, readmodifywriteproportion: 0.5, requestdistribution: 'zipfian' }),
});

/** One line per core workload, for usage text and reports. */
export const CORE_WORKLOAD_DESCRIPTIONS = Object.freeze({
  a: 'update heavy: 50% reads, 50% updates, zipfian',
  b: 'read mostly: 95% reads, 5% updates, zipfian',
  c: 'read only: 100% reads, zipfian',
  d: 'read latest: 95% reads, 5% inserts, latest',
  e: 'short ranges: 95% scans (1..100 rows), 5% inserts, zipfian',
  f: 'read-modify-write: 50% reads, 50% read-modify-writes, zipfian',
});

/** The operation names, in YCSB's DiscreteGenerator order. */
export const OPERATIONS = Object.freeze(['READ', 'UPDATE', 'INSERT', 'SCAN', 'READMODIFYWRITE']);

const MAX_KEY_REJECTIONS = 10_000;
const VALUE_POOL_CHARS = 64 * 1024;
/** Printable ASCII without quote and backslash, so values need no escaping anywhere. */
const VALUE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~';

/** Derives an independent stream seed (Murmur3 finalizer over seed ⊕ a per-stream constant). */
function streamSeed(seed, stream) {
  return fmix32((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0);
}

/**
 * Resolves a core workload name ('a'…'f', 'workloada', case-insensitive) or a property object
 * (merged over CoreWorkload's defaults; numbers may be strings, as in a .properties file).
 * @param {string | Record<string, unknown>} nameOrProps
 */
export function resolveProperties(nameOrProps) {
  let props;
  if (typeof nameOrProps === 'string') {
    const name = nameOrProps.toLowerCase().replace(/^workload/, '');
    props = CORE_WORKLOADS[name];
    if (!props) throw new Error(`unknown workload '${nameOrProps}' (a, b, c, d, e or f)`);
  } else {
    props = nameOrProps ?? {};
  }
  const merged = { ...DEFAULT_PROPERTIES, ...props };
  for (const k of Object.keys(merged)) {
    const d = DEFAULT_PROPERTIES[k];
    const v = merged[k];
    if (typeof d === 'number' && typeof v === 'string') merged[k] = Number(v);
    if (typeof d === 'boolean' && typeof v === 'string') merged[k] = v === 'true';
  }
  return validate(merged);
}

function validate(p) {
  const proportions = ['readproportion', 'updateproportion', 'insertproportion', 'scanproportion', 'readmodifywriteproportion'];
  for (const k of proportions) if (!(Number.isFinite(p[k]) && p[k] >= 0)) throw new Error(`${k} must be a number >= 0, got ${p[k]}`);
  if (proportions.reduce((s, k) => s + p[k], 0) <= 0) throw new Error('the operation proportions sum to 0');
  for (const k of ['fieldcount', 'fieldlength', 'minscanlength', 'maxscanlength']) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 1) throw new Error(`${k} must be a positive integer, got ${p[k]}`);
  }
  if (p.maxscanlength < p.minscanlength) throw new Error(`maxscanlength (${p.maxscanlength}) < minscanlength (${p.minscanlength})`);
  if (!['uniform', 'zipfian', 'latest'].includes(p.requestdistribution)) throw new Error(`requestdistribution must be uniform, zipfian or latest, got '${p.requestdistribution}'`);
  if (!['uniform', 'zipfian'].includes(p.scanlengthdistribution)) throw new Error(`scanlengthdistribution must be uniform or zipfian, got '${p.scanlengthdistribution}'`);
  if (!['constant', 'uniform'].includes(p.fieldlengthdistribution)) throw new Error(`fieldlengthdistribution must be constant or uniform, got '${p.fieldlengthdistribution}'`);
  if (!['hashed', 'ordered'].includes(p.insertorder)) throw new Error(`insertorder must be hashed or ordered, got '${p.insertorder}'`);
  return p;
}

export class Workload {
  /**
   * @param {string | Record<string, unknown>} nameOrProps a core workload name or YCSB properties
   * @param {{ recordCount: number, insertStart?: number, seed?: number, operationCount?: number }} opts
   *   `operationCount` sizes the zipfian key space for run-phase inserts (YCSB: operationcount ×
   *   insertproportion × 2 extra keys); without it new keys are inserted but not requested.
   */
  constructor(nameOrProps, { recordCount, insertStart = 0, seed = 1, operationCount = 0 }) {
    if (!Number.isSafeInteger(recordCount) || recordCount < 1) throw new Error(`recordCount must be a positive integer, got ${recordCount}`);
    if (!Number.isSafeInteger(insertStart) || insertStart < 0) throw new Error(`insertStart must be a non-negative integer, got ${insertStart}`);
    this.name = typeof nameOrProps === 'string' ? nameOrProps.toLowerCase().replace(/^workload/, '') : 'custom';
    this.properties = resolveProperties(nameOrProps);
    this.recordCount = recordCount;
    this.insertStart = insertStart;
    this.seed = seed >>> 0;
    const p = this.properties;

    this.fieldNames = Array.from({ length: p.fieldcount }, (_, i) => `${p.fieldnameprefix}${i}`);
    this.operationRandom = prng(streamSeed(this.seed, 1));
    this.keyRandom = prng(streamSeed(this.seed, 2));
    this.valueRandom = prng(streamSeed(this.seed, 3));

    this.weights = [p.readproportion, p.updateproportion, p.insertproportion, p.scanproportion, p.readmodifywriteproportion];
    this.totalWeight = this.weights.reduce((s, w) => s + w, 0);

    this.loadCursor = insertStart;
    this.insertCounter = new AcknowledgedCounter(insertStart + recordCount);
    const expectedNewKeys = Math.floor(operationCount * p.insertproportion * 2);
    this.keyChooser = createKeyChooser(p.requestdistribution, {
      recordCount,
      counter: this.insertCounter,
      random: this.keyRandom,
      insertStart,
      expectedNewKeys,
    });
    this.scanLengthChooser =
      p.scanlengthdistribution === 'zipfian'
        ? new ZipfianChooser({ min: p.minscanlength, itemCount: p.maxscanlength - p.minscanlength + 1, random: this.keyRandom })
        : new UniformChooser({ min: p.minscanlength, max: p.maxscanlength, random: this.keyRandom });

    // Field values are views into one seeded pool: cheap to build and still differ per write.
    let pool = '';
    for (let i = 0; i < VALUE_POOL_CHARS + p.fieldlength; i++) pool += VALUE_ALPHABET[randomBelow(this.valueRandom, VALUE_ALPHABET.length)];
    this.valuePool = pool;
  }

  /** The key of record number n under this workload's insert order. */
  keyFor(n) {
    return this.properties.insertorder === 'ordered' ? `user${n}` : keyName(n);
  }

  /** The next operation, drawn by the workload's proportions. */
  nextOperation() {
    let u = randomDouble(this.operationRandom) * this.totalWeight;
    for (let i = 0; i < OPERATIONS.length; i++) {
      if (u < this.weights[i]) return OPERATIONS[i];
      u -= this.weights[i];
    }
    // Float rounding can leave u just past the last positive weight.
    for (let i = OPERATIONS.length - 1; i >= 0; i--) if (this.weights[i] > 0) return OPERATIONS[i];
    throw new Error('unreachable: no positive weight');
  }

  /** A record number for read/update/scan/read-modify-write: never above the last acknowledged insert. */
  nextKeyNumber() {
    const limit = this.insertCounter.lastAcknowledged();
    for (let i = 0; i < MAX_KEY_REJECTIONS; i++) {
      const n = this.keyChooser.nextKeyNumber();
      if (n <= limit) return n;
    }
    throw new Error(`no key at or below ${limit} after ${MAX_KEY_REJECTIONS} draws (request distribution ${this.properties.requestdistribution})`);
  }

  /** The key for a read, update, scan start or read-modify-write. */
  nextKeyForRead() {
    return this.keyFor(this.nextKeyNumber());
  }

  /** The key for a run-phase insert; call `acknowledgeInsert(keyNumber)` once it succeeded. */
  nextKeyForInsert() {
    const keyNumber = this.insertCounter.next();
    return { key: this.keyFor(keyNumber), keyNumber };
  }

  /** Marks a run-phase insert as done, making its key eligible for reads. */
  acknowledgeInsert(keyNumber) {
    this.insertCounter.acknowledge(keyNumber);
  }

  /**
   * The next record of the load phase, in order from insertStart; null once recordCount records
   * were handed out.
   * @returns {{ key: string, keyNumber: number } | null}
   */
  nextKeyForLoad() {
    if (this.loadCursor >= this.insertStart + this.recordCount) return null;
    const keyNumber = this.loadCursor++;
    return { key: this.keyFor(keyNumber), keyNumber };
  }

  /** The number of rows a scan asks for. */
  scanLength() {
    return this.scanLengthChooser.next();
  }

  /** The fields a read or scan asks for: null = all (readallfields), else one random field. */
  readFields() {
    if (this.properties.readallfields) return null;
    return [this.fieldNames[randomBelow(this.valueRandom, this.fieldNames.length)]];
  }

  /**
   * Field values for an insert (allFields = true) or an update (allFields = writeallfields;
   * false writes one random field).
   * @param {boolean} [allFields]
   * @returns {Record<string, string>}
   */
  buildValues(allFields = this.properties.writeallfields) {
    /** @type {Record<string, string>} */
    const values = {};
    if (allFields) {
      for (const f of this.fieldNames) values[f] = this.#value();
    } else {
      values[this.fieldNames[randomBelow(this.valueRandom, this.fieldNames.length)]] = this.#value();
    }
    return values;
  }

  #value() {
    const p = this.properties;
    const length = p.fieldlengthdistribution === 'uniform' ? 1 + randomBelow(this.valueRandom, p.fieldlength) : p.fieldlength;
    const offset = randomBelow(this.valueRandom, VALUE_POOL_CHARS);
    return this.valuePool.slice(offset, offset + length);
  }

  /** A summary of the workload for reports and result files. */
  describe() {
    return {
      name: this.name,
      description: CORE_WORKLOAD_DESCRIPTIONS[this.name] ?? null,
      recordCount: this.recordCount,
      insertStart: this.insertStart,
      seed: this.seed,
      properties: { ...this.properties },
    };
  }
}

