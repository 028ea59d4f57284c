/**
 * Node's `fs`, found at run time: the browser-safe core (tokenizer, safetensors) has a few
 * functions that read or write files by path, and those modules must import nothing from Node
 * so that a browser bundle of the core needs no shims (issue #20 item 1, `npm run lint:deps`
 * rule `browser-core-imports-no-node`).
 *
 * Where the module comes from, in order:
 *   1. the one the Node entry (src/node-platform.ts, imported by src/index.ts) registered with
 *      `registerNodeFs` — a static import there, so this works on every supported Node;
 *   2. `process.getBuiltinModule('node:fs')` (Node ≥ 20.16), for deep imports that skip the entry;
 *   3. otherwise (a browser, a worker without Node) the caller gets an error naming itself and
 *      the way to do the same from bytes or text.
 */

/** The part of `node:fs` the core uses (a structural type, so no `node:` import is needed). */
export interface NodeFsLike {
  readFileSync(path: string | URL, encoding: 'utf8'): string;
  readFileSync(path: string | URL): Uint8Array;
  writeFileSync(path: string, data: Uint8Array | string): void;
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fstatSync(fd: number): { size: number };
  closeSync(fd: number): void;
}

let registered: NodeFsLike | null = null;

/** Called once by the Node entry with `node:fs`. */
export function registerNodeFs(fs: NodeFsLike): void {
  registered = fs;
}

/**
 * Node's fs, or a clear error: `who` is the public function that needs files and `instead`
 * says what to call where there is no file system (e.g. "pass the file's bytes").
 */
export function nodeFs(who: string, instead: string): NodeFsLike {
  if (registered !== null) return registered;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = proc?.getBuiltinModule?.('node:fs') as NodeFsLike | undefined;
    if (fs && typeof fs.readFileSync === 'function') {
      registered = fs;
      return fs;
    }
  } catch {
    // fall through to the error
  }
  throw new Error(`${who}: reading or writing files by path needs Node.js (node:fs), which this runtime does not have; ${instead}`);
}
