/**
 * `ringtail sstable dump FILE`: prints an SSTable's metadata and contents as JSON lines, like
 * Cassandra's sstabledump. Keys and values are shown in hex, timestamps in µs.
 */
import { decodeHeader, decodeRow } from '../storage/data/codec.js';
import { clusteringOfCk, decodeToken, isHeaderCk } from '../storage/data/keys.js';
import type { Cell, PartitionHeader, Row } from '../storage/data/types.js';
import { SstableReader } from '../storage/sstable/sstable-reader.js';

const hex = (b: Buffer | undefined | null): string | null => (b == null ? null : `0x${b.toString('hex')}`);

function cellJson(c: Cell): object {
  return { column: c.column, path: hex(c.path), value: hex(c.value), ts: c.ts, ...(c.ttl ? { ttl: c.ttl } : {}), ...(c.ldt ? { ldt: c.ldt } : {}) };
}

function rowJson(r: Row): object {
  return {
    clustering: hex(r.clustering),
    ...(r.liveness ? { liveness: r.liveness } : {}),
    ...(r.deletion ? { deletion: r.deletion } : {}),
    ...(r.complexDeletions ? { complexDeletions: r.complexDeletions } : {}),
    ...(r.version ? { version: hex(r.version) } : {}),
    cells: r.cells.map(cellJson),
  };
}

function headerJson(h: PartitionHeader): object {
  return {
    deletion: h.deletion ?? null,
    rangeTombstones: h.rangeTombstones.map((rt) => ({
      start: rt.start ? { prefix: hex(rt.start.prefix), inclusive: rt.start.inclusive } : null,
      end: rt.end ? { prefix: hex(rt.end.prefix), inclusive: rt.end.inclusive } : null,
      deletion: rt.deletion,
    })),
  };
}

export function dumpSstable(file: string, write: (line: string) => void, limit = Number.POSITIVE_INFINITY): void {
  const reader = new SstableReader(file);
  try {
    const { minPkey, maxPkey, ...meta } = reader.meta;
    write(JSON.stringify({ file, sizeBytes: reader.sizeBytes, ...meta, minPkey: hex(minPkey), maxPkey: hex(maxPkey) }));
    const it = reader.iterateAll();
    let n = 0;
    try {
      for (const [pkey, ck, v] of it) {
        if (n++ >= limit) break;
        const where = { token: decodeToken(pkey).toString(), key: hex(pkey.subarray(8)) };
        if (isHeaderCk(ck)) write(JSON.stringify({ ...where, header: headerJson(decodeHeader(v)) }));
        else write(JSON.stringify({ ...where, row: rowJson(decodeRow(v, clusteringOfCk(ck))) }));
      }
    } finally {
      it.return?.();
    }
  } finally {
    reader.close();
  }
}
