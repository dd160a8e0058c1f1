/**
 * Growable byte writer and bounds-checked reader for the on-disk and internal binary formats.
 *
 * Integers: `uvarint` is LEB128 (7 bits per byte, up to 2^53 − 1); timestamps are float64 LE,
 * exact for every safe integer (µs since the epoch fit until the year 2255).
 * Every read is bounds-checked: a truncated or corrupt buffer throws `CorruptDataError`, never
 * reads past the end or allocates from an untrusted length.
 */
export class CorruptDataError extends Error {
  override readonly name = 'CorruptDataError';
}

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uvarint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** `src[start, end)`, copied without making a view of it. */
  bytesOf(src: Buffer, start: number, end: number): this {
    this.ensure(end - start);
    src.copy(this.buf, this.pos, start, end);
    this.pos += end - start;
    return this;
  }

  /** Length-prefixed bytes. */
  lbytes(b: Uint8Array): this {
    return this.uvarint(b.length).bytes(b);
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): this {
    const len = Buffer.byteLength(s);
    this.uvarint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }

  /** Overwrites 4 bytes at `offset` (for length fields written after their content). */
  patchU32(offset: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, offset);
  }

  /** A view of the written bytes (shares memory with the writer until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the written bytes, safe to keep. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }
}

export class ByteReader {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) {
      throw new CorruptDataError(`truncated data: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) break;
        return result;
      }
      scale *= 0x80;
    }
    throw new CorruptDataError(`bad varint at ${this.pos}`);
  }

  /** `n` bytes as a view into the underlying buffer (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lbytes(): Buffer {
    return this.bytes(this.uvarint());
  }

  string(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
