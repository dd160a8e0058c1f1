/**
 * The YCSB DB interface over etcd v3 (the JSON gRPC gateway every etcd ≥ 3.4 member serves on its
 * client URL), a reference system for `ringtail bench --compare`. etcd is the replicated store a
 * user would pick for strongly consistent keys: Raft (a Replicated Log with a leader, majority
 * quorum) versus ringtail's leaderless Quorum of replicas.
 *
 * Mapping (etcd has flat keys and opaque values, no columns):
 * - a record is one key whose value is the JSON of its fields; insert = `PUT /v3/kv/put`;
 * - read = `POST /v3/kv/range` of the key, fields picked client side. Reads are linearizable
 *   (etcd's default, `serializable: false`: the member confirms with the leader through a
 *   ReadIndex round) so they are comparable with ringtail's QUORUM reads;
 * - update = read-modify-write: etcd cannot change part of a value, so the binding reads the
 *   record, merges the new fields and writes it back in a `/v3/kv/txn` guarded by the
 *   mod_revision it read (compare-and-set; when a concurrent writer got there first, the failed
 *   txn returns the current record and the merge is retried, at most UPDATE_ATTEMPTS times).
 *   That is two round trips where ringtail and Redis need one. Updates of one key from this
 *   client are queued one behind the other, so only other clients make the CAS retry;
 * - scan = one range from the start key to the end of the key space (`range_end` "\0") with
 *   `limit` = count: keys in byte order.
 *
 * Every request goes to the next member round-robin (as etcdctl with several --endpoints spreads
 * its connections); followers forward writes to the leader. Bounds: per member an undici Pool of
 * `connectionsPerEndpoint` keep-alive connections; every request has `requestTimeoutMs` for headers
 * and body; update retries at most UPDATE_ATTEMPTS times.
 */
import { Pool } from 'undici';

/** Compare-and-set attempts of one update before it fails (contention on one key). */
export const UPDATE_ATTEMPTS = 10;

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');
/** range_end "\0" = every key ≥ the start key. */
const TO_END_OF_KEYSPACE = b64('\0');

export class EtcdBinding {
  name = 'etcd';

  /**
   * @param {{ endpoints: string[], connectionsPerEndpoint?: number, requestTimeoutMs?: number, version?: string }} options
   *   endpoints: the members' client URLs (`http://127.0.0.1:2379`); `version` only feeds `describe()`.
   */
  constructor({ endpoints, connectionsPerEndpoint = 8, requestTimeoutMs = 10_000, version = 'unknown' }) {
    if (!Array.isArray(endpoints) || endpoints.length === 0) throw new Error('EtcdBinding: endpoints must be a non-empty array of client URLs');
    if (!Number.isInteger(connectionsPerEndpoint) || connectionsPerEndpoint < 1 || connectionsPerEndpoint > 1024) {
      throw new Error(`EtcdBinding: connectionsPerEndpoint must be an integer in 1..1024, got ${connectionsPerEndpoint}`);
    }
    this.endpoints = endpoints.map((e) => e.replace(/\/+$/, ''));
    this.connectionsPerEndpoint = connectionsPerEndpoint;
    this.requestTimeoutMs = requestTimeoutMs;
    this.version = version;
    this.pools = this.endpoints.map((e) => new Pool(e, { connections: connectionsPerEndpoint, pipelining: 1, keepAliveTimeout: 60_000 }));
    this.nextPool = 0;
    /** Updates that lost a compare-and-set race and were retried (reported by describe()). */
    this.updateRetries = 0;
    /** key → the last queued update of it; bounded by the updates in flight. */
    this.updatesByKey = new Map();
  }

  describe() {
    return {
      name: this.name,
      system: 'etcd',
      version: this.version,
      endpoints: this.endpoints,
      connectionsPerEndpoint: this.connectionsPerEndpoint,
      topology: `${this.endpoints.length} members, Raft (one leader; writes commit on a majority)`,
      consistency: 'linearizable reads (etcd default, ReadIndex through the leader), comparable with QUORUM',
      durability: "etcd's default: the Raft log is fsync'd before a write is acknowledged",
      api: 'v3 JSON gRPC gateway (POST /v3/kv/*), round-robin over the members',
      mapping: {
        insert: 'PUT key = JSON of the record',
        read: 'RANGE key (linearizable); fields picked client side',
        update: 'read-modify-write: RANGE, then TXN(mod_revision unchanged → PUT merged record); etcd has no partial update, so an update costs 2 round trips',
        scan: 'RANGE from key to the end of the key space with limit = count (byte order)',
      },
      updateRetries: this.updateRetries,
    };
  }

  /** Checks every member answers; etcd needs no schema. */
  async setup() {
    await Promise.all(this.pools.map((_, i) => this.post('/v3/maintenance/status', {}, i)));
  }

  async insert(key, values) {
    await this.post('/v3/kv/put', { key: b64(key), value: b64(JSON.stringify(values)) });
  }

  async read(key, fields) {
    const kv = await this.get(key);
    return kv === null ? null : pick(kv.record, fields);
  }

  /**
   * Updates of one key from this client run one after another: the benchmark's threads share
   * this binding, and letting them race each other's compare-and-set would turn a hot zipfian key
   * into retries and spurious failures that measure the binding, not etcd.
   */
  async update(key, values) {
    const previous = this.updatesByKey.get(key);
    const mine = (previous ? previous.catch(() => {}) : Promise.resolve()).then(() => this.compareAndSetUpdate(key, values));
    this.updatesByKey.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.updatesByKey.get(key) === mine) this.updatesByKey.delete(key);
    }
  }

  async compareAndSetUpdate(key, values) {
    let kv = await this.get(key);
    for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
      const merged = { ...(kv?.record ?? {}), ...values };
      const res = await this.post('/v3/kv/txn', {
        // mod_revision 0 = the key does not exist: an update of a missing record creates it, as HSET does.
        compare: [{ key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: kv?.modRevision ?? '0' }],
        success: [{ request_put: { key: b64(key), value: b64(JSON.stringify(merged)) } }],
        // On a lost race the same round trip brings back the current record for the next attempt.
        failure: [{ request_range: { key: b64(key) } }],
      });
      if (res.succeeded === true) return;
      this.updateRetries++;
      kv = decodeKv(res.responses?.[0]?.response_range?.kvs?.[0]);
    }
    throw new Error(`etcd update of ${key}: the record changed under ${UPDATE_ATTEMPTS} compare-and-set attempts`);
  }

  async scan(startKey, count, fields) {
    const res = await this.post('/v3/kv/range', { key: b64(startKey), range_end: TO_END_OF_KEYSPACE, limit: count });
    return (res.kvs ?? []).map((kv) => pick(JSON.parse(unb64(kv.value ?? '')), fields));
  }

  async close() {
    await Promise.all(this.pools.map((p) => p.close()));
  }

  /** @returns {Promise<{ record: Record<string,string>, modRevision: string } | null>} */
  async get(key) {
    const res = await this.post('/v3/kv/range', { key: b64(key) });
    return decodeKv(res.kvs?.[0]);
  }

  /** POSTs to one member (the next round-robin unless `member` is given); throws on a non-200. */
  async post(path, body, member) {
    const index = member ?? this.nextPool;
    if (member === undefined) this.nextPool = (this.nextPool + 1) % this.pools.length;
    const res = await this.pools[index].request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`etcd ${this.endpoints[index]}${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }
}

/** A gateway KeyValue (base64 value, int64 as a string) → the record and its mod_revision; null if absent. */
function decodeKv(kv) {
  return kv === undefined ? null : { record: JSON.parse(unb64(kv.value ?? '')), modRevision: kv.mod_revision };
}

function pick(record, fields) {
  if (fields === null || fields === undefined) return record;
  const out = {};
  for (const f of fields) if (Object.hasOwn(record, f)) out[f] = record[f];
  return out;
}
