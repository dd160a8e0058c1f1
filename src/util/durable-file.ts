/**
 * Replacing a small file so that a crash leaves either the old or the new contents, never a
 * torn mix: write a temp file beside it, fsync it, rename it over the file, fsync the directory.
 * Synchronous: for small state written once per start (node identity, gossip generation).
 */
import fs from 'node:fs';
import path from 'node:path';

export function writeFileDurablySync(file: string, contents: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
