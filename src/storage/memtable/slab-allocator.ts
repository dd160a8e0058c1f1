/**
 * Copies the bytes a memtable keeps (keys, clustering, values) into large slabs it owns, as
 * Cassandra's memtable allocators do.
 *
 * Why: a write's buffers are usually views into something larger (a request body, a commit-log
 * replay window, or Node's shared 8 KiB pool for small buffers). Keeping such a view pins the
 * whole parent allocation for as long as the memtable lives: measured at 4× the memtable's own
 * size. Copying into slabs costs one memcpy per value and frees everything with the memtable.
 *
 * Bounds: slabs of `SLAB_BYTES`; values over `LARGE_VALUE_BYTES` get their own allocation.
 */
const SLAB_BYTES = 1 << 20;
const LARGE_VALUE_BYTES = 64 * 1024;

export class SlabAllocator {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private used = 0;
  /** Bytes of slabs and large values allocated so far. */
  allocatedBytes = 0;
  /** Bytes copied in so far, including copies later superseded (overwritten values stay). */
  usedBytes = 0;

  /** A copy of `source` in memory this allocator owns. */
  copy(source: Buffer): Buffer {
    if (source.length === 0) return source;
    const { slab, start, end } = this.place(source);
    return slab.subarray(start, end);
  }

  /** Copies `source` into a slab and says where (no view object is made). */
  place(source: Buffer): { slab: Buffer; start: number; end: number } {
    const n = source.length;
    this.usedBytes += n;
    if (n > LARGE_VALUE_BYTES) {
      this.allocatedBytes += n;
      const own = Buffer.allocUnsafeSlow(n);
      own.set(source);
      return { slab: own, start: 0, end: n };
    }
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
      this.allocatedBytes += SLAB_BYTES;
    }
    // TypedArray#set is a plain memcpy; Buffer#copy adds argument checks that cost more than the copy.
    this.slab.set(source, this.used);
    const start = this.used;
    this.used += n;
    return { slab: this.slab, start, end: this.used };
  }
}
