/**
 * The YCSB DB binding for ringtail: YCSB's `usertable` over `POST /v1/cql`, one keep-alive
 * undici Pool per node, the same few statement texts every time (the node caches them as
 * prepared statements, keyed by text) with bound parameters.
 *
 * Cassandra concept: a driver's load-balancing policy. Round-robin (the default) spreads
 * requests over the given hosts, and each coordinator forwards to the replicas; token-aware
 * routing (`tokenAware`) sends each request straight to a replica of its key, which saves the
 * coordinator's hop, as the DataStax drivers' TokenAwarePolicy does. The key's token is the
 * Murmur3 token of its serialized partition key (a one-column text key: its UTF-8 bytes), from
 * the node's own partitioner in dist/; the ring (token → host id) is read once at `setup()` from
 * `GET /v1/ring?keyspace=ycsb` and the host ids' HTTP endpoints from `GET /v1/status`. A ring
 * that changes during the run is not followed: requests then still succeed through the
 * coordinator that receives them, just with one more hop.
 *
 * Mapping (as YCSB's cassandra-cql binding): insert = INSERT of every field; read = SELECT by
 * key (all fields or the named ones); update = UPDATE of the given fields; scan = SELECT …
 * WHERE token(y_id) >= <start key's token> LIMIT count (token order, as Cassandra's YCSB scan;
 * computed client-side because token() takes no function on its right-hand side here).
 *
 * Bounds: at most `connectionsPerHost` connections per node; every request has headers and
 * body timeouts (`requestTimeoutMs`); statement texts are built once per field set
 * (at most 2^fieldCount + a few, in practice a dozen).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Pool, request as undiciRequest } from 'undici';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(HERE, '..', '..', '..', 'dist');

export const KEYSPACE = 'ycsb';
export const TABLE = 'usertable';
export const KEY_COLUMN = 'y_id';
const DEFAULT_FIELD_COUNT = 10;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long setup waits for every node to know the new table. */
const SCHEMA_WAIT_MS = 30_000;

let murmur3Token = null;

/** The partitioner of the node itself (dist/ring/murmur3.js), loaded once. */
export async function loadPartitioner() {
  if (murmur3Token === null) {
    const mod = await import(pathToFileURL(path.join(DIST, 'ring', 'murmur3.js')).href);
    murmur3Token = mod.murmur3Token;
  }
  return murmur3Token;
}

/** The token of a one-column text partition key (its serialized form is its UTF-8 bytes). */
export function tokenOfKey(key) {
  if (murmur3Token === null) throw new Error('tokenOfKey: call loadPartitioner() first');
  return murmur3Token(Buffer.from(key, 'utf8'));
}

/**
 * The replicas of a token under SimpleStrategy (the keyspace the binding creates): from the first
 * ring token ≥ the key's token (wrapping), the first `replicationFactor` distinct hosts.
 * `ring`: [{ token: bigint, hostId }] sorted by token.
 */
export class TokenRouter {
  /**
   * @param {{ ring: { token: bigint, hostId: string }[], replicationFactor: number }} opts
   */
  constructor({ ring, replicationFactor }) {
    if (ring.length === 0) throw new Error('TokenRouter: empty ring');
    const sorted = [...ring].sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
    this.tokens = sorted.map((e) => e.token);
    this.owners = sorted.map((e) => e.hostId);
    this.replicationFactor = Math.max(1, replicationFactor);
  }

  /** Index of the first ring token ≥ token, wrapping to 0 past the last (binary search). */
  firstIndexAtOrAfter(token) {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tokens[mid] < token) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.tokens.length ? 0 : lo;
  }

  /** Host ids replicating `token`, primary first. */
  replicas(token) {
    const start = this.firstIndexAtOrAfter(token);
    const out = [];
    for (let step = 0; step < this.owners.length && out.length < this.replicationFactor; step++) {
      const owner = this.owners[(start + step) % this.owners.length];
      if (!out.includes(owner)) out.push(owner);
    }
    return out;
  }
}

class CqlError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.name = 'CqlError';
    this.code = code;
    this.status = status;
  }
}

export class RingtailBinding {
  /**
   * @param {{ hosts: string[], consistency?: string, tokenAware?: boolean, connectionsPerHost?: number,
   *           fieldCount?: number, requestTimeoutMs?: number }} opts
   */
  constructor({ hosts, consistency = 'QUORUM', tokenAware = false, connectionsPerHost = 16, fieldCount = DEFAULT_FIELD_COUNT, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS }) {
    if (!Array.isArray(hosts) || hosts.length === 0) throw new Error('RingtailBinding: at least one host URL is needed');
    this.name = 'ringtail';
    this.hosts = hosts.map((h) => h.replace(/\/+$/, ''));
    this.consistency = consistency;
    this.tokenAware = tokenAware;
    this.connectionsPerHost = connectionsPerHost;
    this.fieldCount = fieldCount;
    this.requestTimeoutMs = requestTimeoutMs;
    this.fieldNames = Array.from({ length: fieldCount }, (_, i) => `field${i}`);
    /** @type {Map<string, Pool>} http URL → pool */
    this.pools = new Map();
    this.roundRobin = [];
    this.nextHost = 0;
    this.router = null;
    /** host id → http URL (token-aware only) */
    this.httpByHostId = new Map();
    this.replicationFactor = null;
    this.statements = new Map();
    this.routed = { tokenAware: 0, roundRobin: 0 };
    for (const h of this.hosts) this.roundRobin.push(this.poolOf(h));
  }

  poolOf(url) {
    let pool = this.pools.get(url);
    if (pool === undefined) {
      pool = new Pool(url, { connections: this.connectionsPerHost, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs });
      this.pools.set(url, pool);
    }
    return pool;
  }

  describe() {
    return {
      name: this.name,
      hosts: this.hosts,
      consistency: this.consistency,
      routing: this.tokenAware ? 'token-aware' : 'round-robin',
      connectionsPerHost: this.connectionsPerHost,
      replicationFactor: this.replicationFactor,
      routed: { ...this.routed },
    };
  }

  /** Creates keyspace `ycsb` and `usertable` (if missing), waits until every host knows them, reads the ring. */
  async setup({ replicationFactor, recordCount: _recordCount } = {}) {
    const rf = replicationFactor ?? Math.min(3, this.hosts.length);
    this.replicationFactor = rf;
    const first = this.hosts[0];
    await this.execOn(first, `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${rf}}`, [], 'ALL');
    const columns = this.fieldNames.map((f) => `${f} text`).join(', ');
    await this.execOn(first, `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.${TABLE} (${KEY_COLUMN} text PRIMARY KEY, ${columns})`, [], 'ALL');
    await this.waitForSchema(SCHEMA_WAIT_MS);
    if (this.tokenAware) await this.loadRing(first);
  }

  async waitForSchema(timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    for (const host of this.hosts) {
      for (;;) {
        const schema = await getJson(`${host}/v1/schema`, this.requestTimeoutMs);
        if (schema.keyspaces?.some((k) => k.name === KEYSPACE && k.tables?.some((t) => t.name === TABLE))) break;
        if (performance.now() > deadline) throw new Error(`${host} does not know ${KEYSPACE}.${TABLE} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Reads the ring and the nodes' endpoints once (token-aware routing). */
  async loadRing(host) {
    await loadPartitioner();
    const [ring, status] = await Promise.all([
      getJson(`${host}/v1/ring?keyspace=${KEYSPACE}`, this.requestTimeoutMs),
      getJson(`${host}/v1/status`, this.requestTimeoutMs),
    ]);
    this.useRing({ ring, nodes: status.nodes, replicationFactor: this.replicationFactor });
  }

  /**
   * Token-aware routing from a ring (`GET /v1/ring` entries: { token, host_id }) and the nodes
   * (`GET /v1/status` nodes: { host_id, http }). Public so it can be given a ring directly.
   */
  useRing({ ring, nodes, replicationFactor }) {
    this.router = new TokenRouter({ ring: ring.map((e) => ({ token: BigInt(e.token), hostId: e.host_id })), replicationFactor });
    this.httpByHostId = new Map(nodes.map((n) => [n.host_id, n.http.replace(/\/+$/, '')]));
    this.tokenAware = true;
  }

  /**
   * The HTTP endpoint a request for `key` goes to: with token-aware routing, a replica of the
   * key (spread over its replicas by `spread`, so one hot key does not load only its primary);
   * otherwise the next host round-robin.
   */
  hostForKey(key, spread = 0) {
    if (this.router !== null && key !== null) {
      const replicas = this.router.replicas(tokenOfKey(key));
      for (let i = 0; i < replicas.length; i++) {
        const url = this.httpByHostId.get(replicas[(spread + i) % replicas.length]);
        if (url !== undefined) return url;
      }
    }
    return null;
  }

  poolForKey(key) {
    if (this.router !== null) {
      const url = this.hostForKey(key, this.nextHost++);
      if (url !== null) {
        this.routed.tokenAware++;
        return this.poolOf(url);
      }
    }
    this.routed.roundRobin++;
    const pool = this.roundRobin[this.nextHost++ % this.roundRobin.length];
    if (this.nextHost > 1e15) this.nextHost = 0;
    return pool;
  }

  statement(kind, fields) {
    const id = `${kind}:${fields === null ? '*' : fields.join(',')}`;
    let text = this.statements.get(id);
    if (text !== undefined) return text;
    const t = `${KEYSPACE}.${TABLE}`;
    switch (kind) {
      case 'insert':
        text = `INSERT INTO ${t} (${KEY_COLUMN}, ${fields.join(', ')}) VALUES (?${', ?'.repeat(fields.length)})`;
        break;
      case 'read':
        text = `SELECT ${fields === null ? '*' : fields.join(', ')} FROM ${t} WHERE ${KEY_COLUMN} = ?`;
        break;
      case 'update':
        text = `UPDATE ${t} SET ${fields.map((f) => `${f} = ?`).join(', ')} WHERE ${KEY_COLUMN} = ?`;
        break;
      case 'scan':
        text = `SELECT ${fields === null ? '*' : `${KEY_COLUMN}, ${fields.join(', ')}`} FROM ${t} WHERE token(${KEY_COLUMN}) >= ? LIMIT ?`;
        break;
      default:
        throw new Error(`unknown statement kind ${kind}`);
    }
    this.statements.set(id, text);
    return text;
  }

  async execOn(host, query, params, consistency = this.consistency) {
    return this.exec(this.poolOf(host), query, params, consistency);
  }

  async exec(pool, query, params, consistency = this.consistency) {
    const res = await pool.request({
      path: '/v1/cql',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, params, consistency }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let code = `HTTP${res.statusCode}`;
      let message = text.slice(0, 200);
      try {
        const e = JSON.parse(text).error;
        if (e?.code) {
          code = e.code;
          message = e.message;
        }
      } catch {
        // not JSON: keep the status and the text
      }
      throw new CqlError(code, message, res.statusCode);
    }
    return JSON.parse(text);
  }

  async insert(key, values) {
    const fields = Object.keys(values);
    await this.exec(this.poolForKey(key), this.statement('insert', fields), [key, ...fields.map((f) => values[f])]);
  }

  async read(key, fields) {
    const r = await this.exec(this.poolForKey(key), this.statement('read', fields), [key]);
    const row = r.rows?.[0];
    if (row === undefined) return null;
    const { [KEY_COLUMN]: _key, ...values } = row;
    return values;
  }

  async update(key, values) {
    const fields = Object.keys(values);
    await this.exec(this.poolForKey(key), this.statement('update', fields), [...fields.map((f) => values[f]), key]);
  }

  async scan(startKey, count, fields) {
    if (murmur3Token === null) await loadPartitioner();
    const token = tokenOfKey(startKey).toString();
    const r = await this.exec(this.poolForKey(startKey), this.statement('scan', fields), [token, count]);
    return (r.rows ?? []).map((row) => {
      const { [KEY_COLUMN]: _key, ...values } = row;
      return values;
    });
  }

  async close() {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
}

async function getJson(url, timeoutMs) {
  const res = await undiciRequest(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}
