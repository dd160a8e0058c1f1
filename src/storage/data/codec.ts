/**
 * Binary encodings of rows, partition headers and partition updates (format version 1).
 * The same row bytes are the SSTable `v` column, the flush stream to the worker and part of
 * each commit-log record, so a row is encoded once on its way to disk.
 *
 * row      := flags:u8 [liveness] [deletion] [complex] [version] cellCount:uvarint cell*
 *   flags: 0x01 liveness, 0x02 deletion, 0x04 complex deletions, 0x08 version
 *   liveness := ts:f64 ttl:uvarint expiresAt:uvarint
 *   deletion := ts:f64 ldt:uvarint
 *   complex  := count:uvarint (column:string deletion)*
 *   version  := len:uvarint bytes
 * cell     := cflags:u8 column:string [path:lbytes] ts:f64 [ttl:uvarint] [ldt:uvarint] [value:lbytes]
 *   cflags: 0x01 tombstone, 0x02 has path, 0x04 expiring (ttl and ldt present)
 *   a tombstone stores ldt and no value; a live cell stores its value
 * header   := flags:u8 [deletion] rtCount:uvarint rt*
 *   flags: 0x01 partition deletion
 *   rt := bound(start) bound(end) deletion;  bound := kind:u8 (0 open, 1 inclusive, 2 exclusive) [prefix:lbytes]
 * update   := version:u8(=1) token:i64be key:lbytes header rowCount:uvarint (clustering:lbytes rowLength:u32 row)*
 *
 * string := uvarint byte length + UTF-8. Decoders check every length against the buffer.
 */
import { ByteReader, ByteWriter, CorruptDataError } from '../../util/bytes.js';
import type {
  Cell,
  ClusteringBound,
  ComplexDeletion,
  DeletionTime,
  PartitionHeader,
  PartitionUpdate,
  RangeTombstone,
  Row,
} from './types.js';

export const UPDATE_FORMAT_VERSION = 1;

function writeDeletion(w: ByteWriter, d: DeletionTime): void {
  w.f64(d.ts).uvarint(d.ldt);
}

function readDeletion(r: ByteReader): DeletionTime {
  return { ts: r.f64(), ldt: r.uvarint() };
}

export function writeRow(w: ByteWriter, row: Row): void {
  const flags =
    (row.liveness ? 0x01 : 0) |
    (row.deletion ? 0x02 : 0) |
    (row.complexDeletions && row.complexDeletions.length > 0 ? 0x04 : 0) |
    (row.version ? 0x08 : 0);
  w.u8(flags);
  if (row.liveness) w.f64(row.liveness.ts).uvarint(row.liveness.ttl).uvarint(row.liveness.expiresAt);
  if (row.deletion) writeDeletion(w, row.deletion);
  if (flags & 0x04) {
    w.uvarint(row.complexDeletions!.length);
    for (const c of row.complexDeletions!) {
      w.string(c.column);
      writeDeletion(w, c.deletion);
    }
  }
  if (row.version) w.lbytes(row.version);
  w.uvarint(row.cells.length);
  for (const cell of row.cells) {
    const tomb = cell.value === null;
    const expiring = !tomb && cell.ttl !== 0;
    w.u8((tomb ? 0x01 : 0) | (cell.path ? 0x02 : 0) | (expiring ? 0x04 : 0));
    w.string(cell.column);
    if (cell.path) w.lbytes(cell.path);
    w.f64(cell.ts);
    if (expiring) w.uvarint(cell.ttl).uvarint(cell.ldt);
    if (tomb) w.uvarint(cell.ldt);
    else w.lbytes(cell.value!);
  }
}

export function encodeRow(row: Row): Buffer {
  const w = new ByteWriter(64);
  writeRow(w, row);
  return w.toBuffer();
}

/** Decodes a row; values and paths are views into `bytes` (copy `bytes` if it is reused). */
export function readRow(r: ByteReader, clustering: Buffer): Row {
  const flags = r.u8();
  if (flags & ~0x0f) throw new CorruptDataError(`bad row flags ${flags}`);
  const liveness = flags & 0x01 ? { ts: r.f64(), ttl: r.uvarint(), expiresAt: r.uvarint() } : undefined;
  const deletion = flags & 0x02 ? readDeletion(r) : undefined;
  let complexDeletions: ComplexDeletion[] | undefined;
  if (flags & 0x04) {
    const n = r.uvarint();
    if (n > r.remaining) throw new CorruptDataError('bad complex deletion count');
    complexDeletions = [];
    for (let i = 0; i < n; i++) complexDeletions.push({ column: r.string(), deletion: readDeletion(r) });
  }
  const version = flags & 0x08 ? r.lbytes() : undefined;
  const count = r.uvarint();
  if (count > r.remaining) throw new CorruptDataError('bad cell count');
  const cells: Cell[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const cflags = r.u8();
    if (cflags & ~0x07) throw new CorruptDataError(`bad cell flags ${cflags}`);
    const column = r.string();
    const path = cflags & 0x02 ? r.lbytes() : undefined;
    const ts = r.f64();
    let ttl = 0;
    let ldt = 0;
    if (cflags & 0x04) {
      ttl = r.uvarint();
      ldt = r.uvarint();
    }
    let value: Buffer | null = null;
    if (cflags & 0x01) ldt = r.uvarint();
    else value = r.lbytes();
    cells[i] = { column, path, value, ts, ttl, ldt };
  }
  return { clustering, liveness, deletion, complexDeletions, cells, version };
}

/**
 * Only the version blob of an encoded row (a view into the reader's buffer), without decoding
 * its cells: the write path reads a row's version before every versioned write.
 */
export function readRowVersionOnly(r: ByteReader): Buffer | undefined {
  const flags = r.u8();
  if (flags & ~0x0f) throw new CorruptDataError(`bad row flags ${flags}`);
  if ((flags & 0x08) === 0) return undefined;
  if (flags & 0x01) {
    r.f64();
    r.uvarint();
    r.uvarint();
  }
  if (flags & 0x02) readDeletion(r);
  if (flags & 0x04) {
    const n = r.uvarint();
    if (n > r.remaining) throw new CorruptDataError('bad complex deletion count');
    for (let i = 0; i < n; i++) {
      r.string();
      readDeletion(r);
    }
  }
  return r.lbytes();
}

export function decodeRow(bytes: Buffer, clustering: Buffer): Row {
  const r = new ByteReader(bytes);
  const row = readRow(r, clustering);
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after row');
  return row;
}

function writeBound(w: ByteWriter, b: ClusteringBound | null): void {
  if (b === null) w.u8(0);
  else w.u8(b.inclusive ? 1 : 2).lbytes(b.prefix);
}

function readBound(r: ByteReader): ClusteringBound | null {
  const kind = r.u8();
  if (kind === 0) return null;
  if (kind !== 1 && kind !== 2) throw new CorruptDataError(`bad bound kind ${kind}`);
  return { inclusive: kind === 1, prefix: r.lbytes() };
}

export function writeHeader(w: ByteWriter, h: PartitionHeader): void {
  w.u8(h.deletion ? 0x01 : 0);
  if (h.deletion) writeDeletion(w, h.deletion);
  w.uvarint(h.rangeTombstones.length);
  for (const rt of h.rangeTombstones) {
    writeBound(w, rt.start);
    writeBound(w, rt.end);
    writeDeletion(w, rt.deletion);
  }
}

export function encodeHeader(h: PartitionHeader): Buffer {
  const w = new ByteWriter(32);
  writeHeader(w, h);
  return w.toBuffer();
}

export function readHeader(r: ByteReader): PartitionHeader {
  const flags = r.u8();
  if (flags & ~0x01) throw new CorruptDataError(`bad header flags ${flags}`);
  const deletion = flags & 0x01 ? readDeletion(r) : undefined;
  const n = r.uvarint();
  if (n > r.remaining) throw new CorruptDataError('bad range tombstone count');
  const rangeTombstones: RangeTombstone[] = [];
  for (let i = 0; i < n; i++) {
    const start = readBound(r);
    const end = readBound(r);
    rangeTombstones.push({ start, end, deletion: readDeletion(r) });
  }
  return { deletion, rangeTombstones };
}

export function decodeHeader(bytes: Buffer): PartitionHeader {
  const r = new ByteReader(bytes);
  const h = readHeader(r);
  if (r.remaining !== 0) throw new CorruptDataError('trailing bytes after header');
  return h;
}

export function writeUpdate(w: ByteWriter, u: PartitionUpdate): void {
  w.u8(UPDATE_FORMAT_VERSION);
  const tokenAt = w.length;
  w.f64(0); // placeholder, overwritten below with the raw 8 bytes of the token
  w.view().writeBigInt64BE(u.token, tokenAt);
  w.lbytes(u.key);
  writeHeader(w, u);
  w.uvarint(u.rows.length);
  for (const row of u.rows) {
    w.lbytes(row.clustering);
    const lengthAt = w.length;
    w.u32(0);
    writeRow(w, row);
    w.patchU32(lengthAt, w.length - lengthAt - 4);
  }
}

export function readUpdate(r: ByteReader): PartitionUpdate {
  const version = r.u8();
  if (version !== UPDATE_FORMAT_VERSION) throw new CorruptDataError(`unknown update format ${version}`);
  const token = r.bytes(8).readBigInt64BE(0);
  const key = r.lbytes();
  const header = readHeader(r);
  const count = r.uvarint();
  if (count > r.remaining) throw new CorruptDataError('bad row count');
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const clustering = r.lbytes();
    const len = r.u32();
    const end = r.pos + len;
    if (len > r.remaining) throw new CorruptDataError('bad row length');
    const row = readRow(r, clustering);
    if (r.pos !== end) throw new CorruptDataError('row length mismatch');
    rows.push(row);
  }
  return { token, key, deletion: header.deletion, rangeTombstones: header.rangeTombstones, rows };
}
