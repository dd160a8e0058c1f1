/**
 * What a node must remember about itself across restarts (Cassandra's `system.local`): its host
 * id and its tokens, chosen once at first start. The gossip generation has its own file
 * (`gossip/generation-store.ts`).
 *
 * Format 1: `DATA_DIR/system/local.json` = `{"format": 1, "host_id": UUID, "tokens": [decimal…],
 * "bootstrapped"?: bool, "decommissioned"?: bool}` (both absent in files written before
 * membership changes: such a node is bootstrapped and in the ring),
 * written to a temp file, fsynced, renamed and the directory fsynced, so a crash leaves the old
 * or the new file. A node whose stored state does not parse refuses to start: guessing a new
 * identity would make the cluster see two nodes with one address.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Random } from '../runtime/random.js';
import { makeRandomUuid } from '../schema/timeuuid.js';
import { CorruptDataError } from '../util/bytes.js';
import { writeFileDurablySync } from '../util/durable-file.js';
import { chooseRandomTokens, MAX_TOKENS_PER_NODE } from './gossip/tokens.js';

const FORMAT = 1;

export interface LocalState {
  readonly hostId: string;
  readonly tokens: readonly bigint[];
  /** False until a bootstrapping node has streamed its ranges (it bootstraps again after a restart). */
  readonly bootstrapped: boolean;
  /** True once the node left the ring (decommission): it refuses to start again on this data. */
  readonly decommissioned: boolean;
}

export function localStateFile(dataDir: string): string {
  return path.join(dataDir, 'system', 'local.json');
}

export function readLocalState(dataDir: string): LocalState | null {
  const file = localStateFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const j = JSON.parse(text) as { format: number; host_id: string; tokens: string[]; bootstrapped?: unknown; decommissioned?: unknown };
    if (j.format !== FORMAT || typeof j.host_id !== 'string' || !Array.isArray(j.tokens) || j.tokens.length > MAX_TOKENS_PER_NODE) throw new Error('bad shape');
    return { hostId: j.host_id, tokens: j.tokens.map((t) => BigInt(t)), bootstrapped: j.bootstrapped !== false, decommissioned: j.decommissioned === true };
  } catch (e) {
    throw new CorruptDataError(`${file} does not hold a node's local state: ${(e as Error).message}`);
  }
}

export function writeLocalState(dataDir: string, state: LocalState): void {
  const body = { format: FORMAT, host_id: state.hostId, tokens: state.tokens.map(String), bootstrapped: state.bootstrapped, decommissioned: state.decommissioned };
  writeFileDurablySync(localStateFile(dataDir), `${JSON.stringify(body)}\n`);
}

/**
 * The stored state, or a new identity (random host id, `numTokens` random tokens) persisted
 * first; a new identity is `bootstrapped` unless the node is going to bootstrap.
 */
export function loadOrCreateLocalState(dataDir: string, numTokens: number, random: Random, options: { willBootstrap?: boolean } = {}): LocalState {
  const existing = readLocalState(dataDir);
  if (existing !== null) return existing;
  const state = { hostId: makeRandomUuid(random.nextBytes(16)), tokens: chooseRandomTokens(numTokens, random), bootstrapped: options.willBootstrap !== true, decommissioned: false };
  writeLocalState(dataDir, state);
  return state;
}
