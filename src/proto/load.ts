/**
 * Loads the `.proto` files of internode messages at run time.
 *
 * The `.proto` files in this folder are the documented wire contract (ARCHITECTURE rule 5), so
 * they are read as they are rather than compiled into generated code: `src/proto/<file>` is
 * resolved from the package root, which works the same from `src/` (tests) and `dist/` (the
 * built CLI). Each file is parsed once per process.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../config/load-config.js';

const roots = new Map<string, protobuf.Root>();

export function loadProto(fileName: string): protobuf.Root {
  let root = roots.get(fileName);
  if (root === undefined) {
    const file = path.join(packageRoot(), 'src', 'proto', fileName);
    root = protobuf.parse(fs.readFileSync(file, 'utf8'), { keepCase: true }).root;
    root.resolveAll();
    roots.set(fileName, root);
  }
  return root;
}
