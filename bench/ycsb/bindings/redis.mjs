/**
 * The YCSB DB interface over Redis (node-redis v5), a reference system for `ringtail bench
 * --compare`. It maps the operations the way YCSB's own redis binding does, so the figures are
 * comparable with published YCSB-on-Redis runs:
 *
 * - a record is a hash: insert and update are `HSET key field value …` (update sends only the
 *   fields it changes: Redis updates in place, like a CQL UPDATE of some columns);
 * - read is `HGETALL` (all fields) or `HMGET` (some); a record with no field does not exist;
 * - Redis has no ordered key space, so every insert also adds the key to one sorted set,
 *   `_indices`, scored by the key's Java `String.hashCode()`; a scan is `ZRANGEBYSCORE _indices
 *   hash(start) +inf LIMIT 0 count` followed by a read of each key (sent together: node-redis
 *   pipelines concurrent commands on a connection). The scan order is that hash's order, not the
 *   keys' order, exactly as in YCSB: it reads `count` existing records, which is what workload E
 *   measures.
 *
 * Bounds: `connections` clients (default 8), chosen round-robin per operation; node-redis queues
 * and pipelines the commands of concurrent operations on each. A scan reads at most `count` keys.
 */
import { createClient } from 'redis';

/** The sorted set YCSB's redis binding keeps every key in, for scans. */
export const INDEX_KEY = '_indices';

/** Java's `String.hashCode()` (signed 32-bit, over UTF-16 code units): YCSB's scan score. */
export function javaStringHash(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

export class RedisBinding {
  name = 'redis';

  /**
   * @param {{ url: string, connections?: number, durability?: string, version?: string }} options
   *   `durability` and `version` only feed `describe()` (the server is configured by whoever starts it).
   */
  constructor({ url, connections = 8, durability = 'unknown', version = 'unknown' }) {
    if (!url) throw new Error('RedisBinding: url is required');
    if (!Number.isInteger(connections) || connections < 1 || connections > 1024) {
      throw new Error(`RedisBinding: connections must be an integer in 1..1024, got ${connections}`);
    }
    this.url = url;
    this.connectionCount = connections;
    this.durability = durability;
    this.version = version;
    /** @type {Promise<import('redis').RedisClientType[]> | null} */
    this.connecting = null;
    this.clients = [];
    this.nextClient = 0;
  }

  describe() {
    return {
      name: this.name,
      system: 'redis',
      version: this.version,
      url: this.url,
      connections: this.connectionCount,
      topology: 'one node, no replication',
      durability: this.durability,
      consistency: 'single node: every read sees the last acknowledged write',
      mapping: {
        insert: `HSET key f v … + ZADD ${INDEX_KEY} hashCode(key) key`,
        read: 'HGETALL key, or HMGET key fields…',
        update: 'HSET key (only the updated fields)',
        scan: `ZRANGEBYSCORE ${INDEX_KEY} hashCode(start) +inf LIMIT 0 count, then a read of each key (YCSB's redis binding: hash order, not key order)`,
      },
    };
  }

  /** Connects the pool (once) and checks the server answers; Redis needs no schema. */
  async setup() {
    const clients = await this.connect();
    await Promise.all(clients.map((c) => c.ping()));
  }

  async insert(key, values) {
    const client = await this.client();
    await Promise.all([client.hSet(key, values), client.zAdd(INDEX_KEY, { score: javaStringHash(key), value: key })]);
  }

  async read(key, fields) {
    return readWith(await this.client(), key, fields);
  }

  async update(key, values) {
    const client = await this.client();
    await client.hSet(key, values);
  }

  async scan(startKey, count, fields) {
    const client = await this.client();
    const keys = await client.zRangeByScore(INDEX_KEY, javaStringHash(startKey), '+inf', { LIMIT: { offset: 0, count } });
    const records = await Promise.all(keys.map((k) => readWith(client, k, fields)));
    return records.filter((r) => r !== null);
  }

  async close() {
    const connecting = this.connecting;
    this.connecting = null;
    this.clients = [];
    if (connecting === null) return;
    const clients = await connecting.catch(() => []);
    await Promise.all(clients.map((c) => c.close().catch(() => c.destroy())));
  }

  /** @returns {Promise<import('redis').RedisClientType[]>} */
  connect() {
    if (this.connecting === null) {
      this.connecting = (async () => {
        const clients = [];
        try {
          for (let i = 0; i < this.connectionCount; i++) {
            // No endless reconnect loop: a benchmark against a dead server must fail, not hang.
            const client = createClient({ url: this.url, socket: { connectTimeout: 5000, reconnectStrategy: (retries) => (retries < 3 ? 100 : false) } });
            client.on('error', () => {}); // surfaced by the failing command; an unhandled 'error' would crash the run
            clients.push(client);
            await client.connect();
          }
        } catch (err) {
          for (const c of clients) c.destroy();
          this.connecting = null;
          throw err;
        }
        this.clients = clients;
        return clients;
      })();
    }
    return this.connecting;
  }

  async client() {
    const clients = this.clients.length > 0 ? this.clients : await this.connect();
    const client = clients[this.nextClient];
    this.nextClient = (this.nextClient + 1) % clients.length;
    return client;
  }
}

async function readWith(client, key, fields) {
  if (fields === null || fields === undefined) {
    const all = await client.hGetAll(key);
    const names = Object.keys(all);
    return names.length === 0 ? null : Object.fromEntries(names.map((n) => [n, all[n]]));
  }
  const got = await client.hmGet(key, fields);
  if (got.every((v) => v === null)) return null;
  const record = {};
  fields.forEach((f, i) => {
    if (got[i] !== null) record[f] = got[i];
  });
  return record;
}
