/**
 * The versioned write (issue #5 §3): every update of a row goes through one replica of the row,
 * which gives each row its next version (row-version.ts) from what it holds, applies it and
 * replicates the versioned update to the other replicas. A coordinator that is a replica does
 * this itself; any other coordinator forwards the write to the closest live replica with the
 * VERSIONED_WRITE verb and relays that replica's outcome. Cassandra does the same for counter
 * writes (`StorageProxy.mutateCounter`: a replica "leader" reads, increments and replicates).
 *
 * Pattern: Version Vector (Joshi), on top of Majority Quorum: only the replica that holds the
 * row's newest local state creates the write's dot, so dots are never created on receipt.
 *
 * This module is the pure part: giving an update's rows their versions, and the VERSIONED_WRITE
 * message formats. StorageProxy drives it.
 *
 *   request  := version:u8(=1) consistency:string writeType:string context:string (empty: none)
 *               tableId:string update                              (update: storage codec)
 *   response := status:u8 (0 applied | 1 refused) [error:string]   (error: SPEC 3.2 JSON)
 *
 * Bounds: the message is bounded by the frame limit; the context by MAX_CONTEXT_CHARS.
 */
import { errorFromJson, type RequestError } from '../errors.js';
import { readUpdate, writeUpdate } from '../storage/data/codec.js';
import type { PartitionUpdate, Row } from '../storage/data/types.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { rowId, type CausalContext } from '../versioning/causal-context.js';
import { nextRowVersion, type ConflictResolution } from '../versioning/row-version.js';
import type { VersionVector } from '../versioning/version-vector.js';

export const VERSIONED_WRITE_VERSION = 1;

export interface VersionedUpdate {
  readonly update: PartitionUpdate;
  /** Client warnings (rows with many siblings). */
  readonly warnings: readonly string[];
}

export interface VersioningInput {
  readonly tableId: string;
  readonly mode: ConflictResolution;
  readonly update: PartitionUpdate;
  /** The client's context (siblings mode); null for a blind write. */
  readonly context: CausalContext | null;
  /** This replica's node id (its host id): the only node that creates its dots. */
  readonly nodeId: string;
  /** The version this replica holds now for the row with this clustering. */
  readonly currentVersion: (clustering: Buffer) => Buffer | undefined;
}

/** The update with each row's next version. Throws `InvalidRequest` for a row over the sibling limit. */
export function versionUpdate(input: VersioningInput): VersionedUpdate {
  const { update } = input;
  if (update.rows.length === 0) return { update, warnings: [] };
  const warnings: string[] = [];
  const rows = update.rows.map((row): Row => {
    const context: VersionVector | null = input.context?.get(rowId(input.tableId, update.key, row.clustering)) ?? null;
    const next = nextRowVersion(input.mode, input.currentVersion(row.clustering), context, input.nodeId, row);
    if (next.warn) {
      warnings.push(`A row now has ${next.siblings} concurrent versions (siblings); read it and write it back with the read's context to resolve them`);
    }
    return { ...row, version: next.version };
  });
  return { update: { ...update, rows }, warnings };
}

export interface VersionedWriteRequest {
  readonly consistency: string;
  readonly writeType: string;
  /** The client's context token as it sent it; empty for none. */
  readonly context: string;
  readonly tableId: string;
  readonly update: PartitionUpdate;
}

export function encodeVersionedWrite(request: VersionedWriteRequest): Buffer {
  const w = new ByteWriter(256);
  w.u8(VERSIONED_WRITE_VERSION).string(request.consistency).string(request.writeType).string(request.context).string(request.tableId);
  writeUpdate(w, request.update);
  return w.toBuffer();
}

export function decodeVersionedWrite(bytes: Uint8Array): VersionedWriteRequest {
  const r = new ByteReader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const version = r.u8();
  if (version !== VERSIONED_WRITE_VERSION) throw new CorruptDataError(`unknown versioned write version ${version}`);
  const consistency = r.string();
  const writeType = r.string();
  const context = r.string();
  const tableId = r.string();
  const update = readUpdate(r);
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after versioned write');
  return { consistency, writeType, context, tableId, update };
}

/** The replica's answer: applied (with warnings for the client), or refused with a client error. */
export type VersionedWriteOutcome = { readonly ok: true; readonly warnings: readonly string[] } | { readonly ok: false; readonly error: RequestError };

export function encodeVersionedWriteOutcome(outcome: VersionedWriteOutcome): Buffer {
  const w = new ByteWriter(64);
  if (outcome.ok) {
    w.u8(0).uvarint(outcome.warnings.length);
    for (const warning of outcome.warnings) w.string(warning);
  } else {
    w.u8(1).string(JSON.stringify(outcome.error.toJSON().error));
  }
  return w.toBuffer();
}

export function decodeVersionedWriteOutcome(bytes: Uint8Array): VersionedWriteOutcome {
  const r = new ByteReader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const status = r.u8();
  if (status === 0) {
    const count = r.uvarint();
    if (count > 1024) throw new CorruptDataError(`${count} warnings`);
    const warnings: string[] = [];
    for (let i = 0; i < count; i++) warnings.push(r.string());
    return { ok: true, warnings };
  }
  if (status !== 1) throw new CorruptDataError(`unknown versioned write status ${status}`);
  let json: unknown;
  try {
    json = JSON.parse(r.string());
  } catch {
    throw new CorruptDataError('versioned write error is not JSON');
  }
  return { ok: false, error: errorFromJson(json) };
}
