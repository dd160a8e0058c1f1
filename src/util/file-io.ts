/**
 * Small durable-file helpers shared by the append-only logs (the commit log, the hint store):
 * full writes at a position, fdatasync through the callback API (cheaper than
 * `FileHandle.datasync`), making a new file's directory entry durable, and tolerant unlinks.
 */
import { fdatasync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';

/** Writes all of `data` at `position`, however many calls it takes. */
export async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

/** `writeFully` on the event loop: for small writes, a page-cache copy costs less than a thread-pool round trip. */
export function writeFullySync(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) {
    const bytesWritten = writeSync(fd, data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

/** fdatasync in the thread pool, through the callback API: cheaper than `FileHandle.datasync`. */
export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
}

/** Makes a new file's directory entry durable (fdatasync of the file does not). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
