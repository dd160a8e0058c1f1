/**
 * The serialized partition key: the bytes Murmur3 hashes and the storage engine keys on.
 *
 * Cassandra concept: a table's partition key is one column (`PRIMARY KEY (id, …)`) or several
 * (`PRIMARY KEY ((a, b), …)`). Cassandra serializes it as
 * - one column: the column value's native serialization, as is;
 * - several columns (`CompositeType`): for each component, a 2-byte big-endian length, the
 *   component bytes and an end-of-component byte 0x00.
 * Tokens (SPEC 6.1) are the Murmur3 hash of exactly these bytes, so they must match Cassandra's
 * byte for byte. Component bytes are the CQL native serialization of each value, made by the
 * caller (src/schema/values.ts); this module never interprets them.
 *
 * Bounds (Cassandra's, checked here as client errors): a serialized key is at most
 * `MAX_PARTITION_KEY_BYTES` (65535, an unsigned short) long, so each composite component fits
 * its 2-byte length; a single-column key may not be empty (an empty key would take the ring's
 * minimum token, which Cassandra reserves).
 */
import { InvalidRequest } from '../errors.js';
import { assert } from '../util/assert.js';
import { CorruptDataError } from '../util/bytes.js';

/** Largest serialized partition key, as in Cassandra (FBUtilities.MAX_UNSIGNED_SHORT). */
export const MAX_PARTITION_KEY_BYTES = 65535;

const COMPONENT_OVERHEAD_BYTES = 3; // 2-byte length + end-of-component byte
const END_OF_COMPONENT = 0x00;

function keyTooLong(length: number): InvalidRequest {
  return new InvalidRequest(`Key length of ${length} is longer than maximum of ${MAX_PARTITION_KEY_BYTES}`);
}

/**
 * The serialized partition key of one row: `components` holds each partition key column's
 * serialized value in key order (at least one). A single component is returned as is (not
 * copied); a composite key is a new buffer.
 */
export function serializePartitionKey(components: readonly Buffer[]): Buffer {
  assert(components.length > 0, 'a partition key has at least one column');
  if (components.length === 1) {
    const only = components[0]!;
    if (only.length === 0) throw new InvalidRequest('Key may not be empty');
    if (only.length > MAX_PARTITION_KEY_BYTES) throw keyTooLong(only.length);
    return only;
  }
  let total = 0;
  for (const c of components) total += COMPONENT_OVERHEAD_BYTES + c.length;
  if (total > MAX_PARTITION_KEY_BYTES) throw keyTooLong(total);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const c of components) {
    out.writeUInt16BE(c.length, pos);
    c.copy(out, pos + 2);
    pos += 2 + c.length;
    out[pos++] = END_OF_COMPONENT;
  }
  return out;
}

/**
 * The inverse of `serializePartitionKey` for a table whose key has `componentCount` columns:
 * views into `key` (no copy). Throws `CorruptDataError` when the bytes are not such a key.
 */
export function deserializePartitionKey(key: Buffer, componentCount: number): Buffer[] {
  assert(Number.isInteger(componentCount) && componentCount > 0, 'a partition key has at least one column');
  if (componentCount === 1) return [key];
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; i < componentCount; i++) {
    if (pos + 2 > key.length) throw new CorruptDataError(`truncated composite partition key at component ${i}`);
    const length = key.readUInt16BE(pos);
    const end = pos + 2 + length;
    if (end + 1 > key.length) throw new CorruptDataError(`truncated composite partition key at component ${i}`);
    if (key[end] !== END_OF_COMPONENT) throw new CorruptDataError(`bad end-of-component byte in partition key component ${i}`);
    out.push(key.subarray(pos + 2, end));
    pos = end + 1;
  }
  if (pos !== key.length) throw new CorruptDataError(`${key.length - pos} trailing bytes after a ${componentCount}-column partition key`);
  return out;
}
