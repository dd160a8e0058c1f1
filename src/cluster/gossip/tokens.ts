/**
 * A node's vnode tokens: chosen at random at first start, then persisted by the driver and
 * announced in the TOKENS application state.
 *
 * Cassandra concept: `num_tokens` random tokens (`BootStrapper.getRandomTokens`) on the
 * Murmur3 ring, whose tokens are signed 64-bit integers. −2^63 is the partitioner's minimum
 * token, which no node owns, so tokens are drawn from [−2^63 + 1, 2^63 − 1].
 *
 * TOKENS value format, version 1: the tokens in ascending order, as signed decimal integers
 * separated by commas (`-9123…,-17…,4411…`). Decoding is strict (the value comes from a peer):
 * at most MAX_TOKENS_PER_NODE tokens, each in range, strictly ascending (so distinct); any
 * violation throws `CorruptDataError`.
 */
import type { Random } from '../../runtime/random.js';
import { assert } from '../../util/assert.js';
import { CorruptDataError } from '../../util/bytes.js';

export const MIN_TOKEN = -(2n ** 63n) + 1n;
export const MAX_TOKEN = 2n ** 63n - 1n;
/** Cassandra's own upper bound on `num_tokens` (also the config's). */
export const MAX_TOKENS_PER_NODE = 1536;
/** Canonical signed decimal: no leading zeros, no "-0", at most 19 digits. */
const TOKEN_PATTERN = /^(0|-?[1-9][0-9]{0,18})$/;

/**
 * `numTokens` distinct random tokens in ascending order, none of them in `taken` (tokens other
 * nodes already own, when known). A 64-bit collision is so unlikely that redrawing is cheap.
 */
export function chooseRandomTokens(numTokens: number, random: Random, taken: ReadonlySet<bigint> = new Set()): bigint[] {
  assert(Number.isInteger(numTokens) && numTokens >= 1 && numTokens <= MAX_TOKENS_PER_NODE, `num_tokens out of range: ${numTokens}`);
  const chosen = new Set<bigint>();
  // Bounded: each draw collides with probability < (taken + chosen) / 2^64.
  for (let attempts = 0; chosen.size < numTokens; attempts++) {
    assert(attempts < numTokens * 100, 'could not draw distinct tokens');
    const token = random.nextBytes(8).readBigInt64LE(0);
    if (token < MIN_TOKEN || chosen.has(token) || taken.has(token)) continue;
    chosen.add(token);
  }
  return [...chosen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function encodeTokens(tokens: readonly bigint[]): string {
  assert(tokens.length >= 1 && tokens.length <= MAX_TOKENS_PER_NODE, `token count out of range: ${tokens.length}`);
  const sorted = [...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  sorted.forEach((t, i) => {
    assert(t >= MIN_TOKEN && t <= MAX_TOKEN, `token out of range: ${t}`);
    assert(i === 0 || t !== sorted[i - 1], `duplicate token: ${t}`);
  });
  return sorted.join(',');
}

export function decodeTokens(value: string): bigint[] {
  // 20 characters per token plus a comma: reject before splitting anything huge.
  if (value.length > MAX_TOKENS_PER_NODE * 21) throw new CorruptDataError(`TOKENS value too long (${value.length} characters)`);
  const parts = value.split(',');
  if (parts.length > MAX_TOKENS_PER_NODE) throw new CorruptDataError(`too many tokens (${parts.length})`);
  const tokens: bigint[] = [];
  for (const part of parts) {
    if (!TOKEN_PATTERN.test(part)) throw new CorruptDataError(`not a token: ${JSON.stringify(part.slice(0, 40))}`);
    const token = BigInt(part);
    if (token < MIN_TOKEN || token > MAX_TOKEN) throw new CorruptDataError(`token out of range: ${part}`);
    const previous = tokens[tokens.length - 1];
    if (previous !== undefined && token <= previous) throw new CorruptDataError('tokens are not strictly ascending');
    tokens.push(token);
  }
  return tokens;
}
