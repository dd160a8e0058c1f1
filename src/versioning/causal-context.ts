/**
 * The causal context of a read, as the opaque `context` string of SPEC 3.1: for each row the
 * read returned, the version vector of what it saw (`rowContext`). A write that sends it back
 * supersedes, row by row, exactly the versions it covers (siblings mode, row-version.ts).
 *
 * Counters of a version vector count one row's events, so a context is kept per row (a join
 * over rows would claim to have seen events of one row that only happened to another, and a
 * write could then silently supersede a concurrent version it never saw).
 *
 * Rows are named by a 16-byte digest of (table id, partition key, clustering), not by their
 * keys, so a context stays small whatever the keys are; a collision of two rows' digests
 * (about 2^-64 per pair) would only make a write treat the other row's vector as its context.
 *
 * Token (format 2): base64url, no padding, of u8 2, uvarint row count, then per row the 16-byte
 * row id and the vector as uvarint length + version-vector encoding (version-vector.ts).
 * Bounds: at most MAX_CONTEXT_ROWS rows (a read returning more has no context, with a
 * warning), at most MAX_CONTEXT_CHARS characters; anything else is `InvalidRequest`.
 */
import { createHash } from 'node:crypto';
import { InvalidRequest } from '../errors.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { MAX_CONTEXT_CHARS } from './dotted-version-vector.js';
import { decode as decodeVector, encode as encodeVector, type VersionVector } from './version-vector.js';

export const CAUSAL_CONTEXT_FORMAT = 2;
/** Rows a context can describe; a larger read returns no context. */
export const MAX_CONTEXT_ROWS = 100;
const ROW_ID_BYTES = 16;

/** Per row (by `rowId`), the vector a read saw. */
export type CausalContext = ReadonlyMap<string, VersionVector>;

/** A row's name in a context: hex of the first 16 bytes of SHA-256(table id, key, clustering). */
export function rowId(tableId: string, partitionKey: Buffer, clustering: Buffer): string {
  const h = createHash('sha256');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(partitionKey.length, 0);
  lengths.writeUInt32BE(clustering.length, 4);
  h.update(tableId).update(lengths).update(partitionKey).update(clustering);
  return h.digest().subarray(0, ROW_ID_BYTES).toString('hex');
}

export function encodeCausalContext(context: CausalContext): string {
  if (context.size > MAX_CONTEXT_ROWS) throw new RangeError(`a context holds at most ${MAX_CONTEXT_ROWS} rows`);
  const w = new ByteWriter(16 + context.size * 64);
  w.u8(CAUSAL_CONTEXT_FORMAT).uvarint(context.size);
  for (const [id, vector] of context) w.bytes(Buffer.from(id, 'hex')).lbytes(encodeVector(vector));
  return w.toBuffer().toString('base64url');
}

/** A client's `context` back to per-row vectors; `InvalidRequest` when it is not a context. */
export function parseCausalContext(token: string): CausalContext {
  const invalid = (why: string): InvalidRequest => new InvalidRequest(`context is not a context returned by a read (${why})`);
  if (token.length > MAX_CONTEXT_CHARS) throw new InvalidRequest(`context is longer than ${MAX_CONTEXT_CHARS} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid('not base64url');
  const r = new ByteReader(Buffer.from(token, 'base64url'));
  try {
    if (r.u8() !== CAUSAL_CONTEXT_FORMAT) throw invalid('unknown format');
    const count = r.uvarint();
    if (count > MAX_CONTEXT_ROWS) throw invalid(`${count} rows`);
    const out = new Map<string, VersionVector>();
    for (let i = 0; i < count; i++) {
      const id = Buffer.from(r.bytes(ROW_ID_BYTES)).toString('hex');
      out.set(id, decodeVector(Buffer.from(r.lbytes())));
    }
    if (r.remaining !== 0) throw invalid('trailing bytes');
    return out;
  } catch (err) {
    if (err instanceof CorruptDataError || err instanceof RangeError) throw invalid(err.message);
    throw err;
  }
}
