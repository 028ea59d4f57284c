/**
 * The output folder of a training run, written so that a reader never accepts a torn or mixed
 * folder (issue #11, items 14 and 15):
 *
 *   - **checked before training**: the folder is created if needed and must be a folder, writable
 *     (a probe file is written, synced and removed) and have room for what the run will write;
 *     otherwise an `OutputFolderError` names the folder and the reason — before the first step,
 *     not after the whole run;
 *   - **locked** while a run writes it: `.tensorgrad.lock` holds the writer's pid, host, command
 *     and start time; a second run on the same folder gets an error naming the holder; a lock whose
 *     process is gone (same host) is broken with a warning;
 *   - **written atomically, manifest last**: `commit(files, step)` writes every file to
 *     `name.partial`, fsyncs it, writes `manifest.json.partial` (each file's size and SHA-256, the
 *     step and the run id), then renames the files into place and the manifest last, and fsyncs the
 *     folder. Files the previous manifest listed and the new one does not are removed after it.
 *
 * `verifyOutputFolder(dir)` is what every reader calls (loadCheckpoint, `evaluate`, `generate`,
 * `--init`, `--resume`): with a manifest, every listed file must have its size and hash, so parts
 * of two different writes (a kill between renames, two runs on one folder) are refused; without
 * one, a folder with `*.partial` files is an interrupted first write and refused too; a folder
 * with neither (written by hand, by HF's save_pretrained or by an older version) is accepted as
 * it is. Kill-at-every-write tests: test/train/output.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statfsSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';

/** A folder that cannot be written, is locked by another run, or holds a torn write. */
export class OutputFolderError extends Error {
  override name = 'OutputFolderError';
}

export const MANIFEST = 'manifest.json';
export const LOCK = '.tensorgrad.lock';
const PARTIAL = '.partial';

export interface ManifestEntry {
  size: number;
  sha256: string;
}

/** `manifest.json`: which files belong to one write, and which write that was. */
export interface Manifest {
  /** Always 'tensorgrad-output': identifies the file. */
  format: 'tensorgrad-output';
  /** Version of the manifest layout (1). */
  version: 1;
  /** The optimiser step the files were written at. */
  step: number;
  /** A random id per training run: parts of two runs never share it. */
  runId: string;
  /** ISO time of the write. */
  written: string;
  /** Every file of the write, by name relative to the folder, with its size in bytes and SHA-256. */
  files: Record<string, ManifestEntry>;
}

/** Contents of the lock file. */
export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  started: string;
}

// ---- fault injection (tests) ---------------------------------------------------------------------

/**
 * Thrown by a fault hook to simulate the process dying at that point: the writer then leaves
 * everything as a kill would (no clean-up), so tests can check what a reader makes of it.
 */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

let faultHook: ((op: string, path: string) => void) | null = null;

/** Tests: `hook(op, path)` runs before every file-system write of a commit (and may throw). */
export function setWriteFaultHook(hook: ((op: string, path: string) => void) | null): void {
  faultHook = hook;
}

function fault(op: string, path: string): void {
  faultHook?.(op, path);
}

// ---- checks and lock ------------------------------------------------------------------------------

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EROFS': return 'the file system is read-only';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'the disk quota is exhausted';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'EEXIST': return 'it exists and is not a folder';
    default: return err.message ?? String(e);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/**
 * Fails fast, before training, when `dir` cannot take the run's output: it is a file, cannot be
 * created, is not writable, or has less than `bytesNeeded` free. Creates the folder.
  * @example
  * ```ts
  * checkOutputFolder('out/ner', { bytesNeeded: 16 * model.numParameters() }); // the absolute path; created if missing
  * checkOutputFolder('/proc/x');         // throws OutputFolderError: … cannot be created …
  * ```
 */
export function checkOutputFolder(dir: string, opts: { bytesNeeded?: number } = {}): string {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new OutputFolderError(`output folder ${abs}: it is a file, not a folder`);
  try {
    mkdirSync(abs, { recursive: true });
  } catch (e) {
    throw new OutputFolderError(`output folder ${abs}: cannot create it (${reason(e)})`);
  }
  const probe = join(abs, `.tensorgrad-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'probe');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (e) {
    try { unlinkSync(probe); } catch { /* it was never created */ }
    throw new OutputFolderError(`output folder ${abs}: cannot write to it (${reason(e)})`);
  }
  if (opts.bytesNeeded !== undefined && opts.bytesNeeded > 0) {
    let free = Infinity;
    try {
      const s = statfsSync(abs);
      free = Number(s.bavail) * Number(s.bsize);
    } catch { /* statfs unsupported: nothing to check against */ }
    if (free < opts.bytesNeeded) {
      throw new OutputFolderError(`output folder ${abs}: not enough free space (${mb(free)} free, the run writes about ${mb(opts.bytesNeeded)})`);
    }
  }
  return abs;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Reads the lock of `dir`, or null when there is none (or it is unreadable). */
export function readLock(dir: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

// ---- atomic writes --------------------------------------------------------------------------------

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function writeDurable(path: string, data: Uint8Array): void {
  fault('write', path);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, data);
    fault('fsync', path);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* some platforms cannot fsync a directory */ }
}

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Writes `files` into `dir` as one unit: every file to `name.partial` + fsync, the manifest to
 * `manifest.json.partial`, then renames the files and the manifest last; removes what the previous
 * manifest listed and this one does not. A reader sees either the previous write or this one.
 */
export function writeFilesAtomically(dir: string, files: Record<string, Uint8Array | string>, meta: { step: number; runId: string }): Manifest {
  mkdirSync(dir, { recursive: true });
  const previous = readManifestOrNull(dir);
  const entries: Record<string, ManifestEntry> = {};
  const names = Object.keys(files);
  for (const name of names) {
    if (name === MANIFEST || name.includes('/') || name.endsWith(PARTIAL)) throw new Error(`writeFilesAtomically: invalid file name '${name}'`);
  }
  try {
    for (const name of names) {
      const data = bytesOf(files[name]!);
      writeDurable(join(dir, name + PARTIAL), data);
      entries[name] = { size: data.length, sha256: sha256(data) };
    }
    const manifest: Manifest = { format: 'tensorgrad-output', version: 1, step: meta.step, runId: meta.runId, written: new Date().toISOString(), files: entries };
    writeDurable(join(dir, MANIFEST + PARTIAL), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    for (const name of names) {
      fault('rename', join(dir, name));
      renameSync(join(dir, name + PARTIAL), join(dir, name));
    }
    fault('rename', join(dir, MANIFEST));
    renameSync(join(dir, MANIFEST + PARTIAL), join(dir, MANIFEST));
    fsyncDir(dir);
    if (previous) {
      for (const old of Object.keys(previous.files)) {
        if (!(old in entries)) try { unlinkSync(join(dir, old)); } catch { /* already gone */ }
      }
    }
    return manifest;
  } catch (e) {
    if (e instanceof SimulatedCrash) throw e; // a "kill": leave everything as it is
    for (const name of [...names, MANIFEST]) try { unlinkSync(join(dir, name + PARTIAL)); } catch { /* not written */ }
    throw new OutputFolderError(`output folder ${dir}: writing ${names.join(', ')} failed (${reason(e)})`);
  }
}

function readManifestOrNull(dir: string): Manifest | null {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) return null;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
    return m && m.format === 'tensorgrad-output' && m.files && typeof m.files === 'object' ? m : null;
  } catch {
    return null;
  }
}

/**
 * Verifies that `dir` holds one complete write. Returns its manifest, or null for a folder
 * without one (written by hand, by HF, or by an older version) and without interrupted writes.
 * Throws an OutputFolderError naming the folder and the file at fault otherwise.
  * @example
  * ```ts
  * verifyOutputFolder('out/ner');        // the manifest { format, version, step, runId, written, files }, or null without one
  * // a folder torn by a killed run: throws OutputFolderError naming the file at fault
  * ```
 */
export function verifyOutputFolder(dir: string): Manifest | null {
  const abs = resolve(dir);
  const manifestPath = join(abs, MANIFEST);
  if (existsSync(manifestPath)) {
    const m = readManifestOrNull(abs);
    if (!m) throw new OutputFolderError(`${manifestPath} is not a valid tensorgrad manifest (a torn write?)`);
    for (const [name, e] of Object.entries(m.files)) {
      const p = join(abs, name);
      if (!existsSync(p)) throw new OutputFolderError(`${abs}: ${name} is listed in manifest.json (step ${m.step}) but missing: the folder was not written completely`);
      const data = readFileSync(p);
      if (data.length !== e.size || sha256(data) !== e.sha256) {
        throw new OutputFolderError(`${abs}: ${name} does not belong to the write recorded in manifest.json (step ${m.step}): ` +
          'the folder mixes two writes (a run killed while saving, or two runs on one folder); re-run or resume it');
      }
    }
    return m;
  }
  const partial = existsSync(abs) ? readdirSync(abs).filter((f) => f.endsWith(PARTIAL)) : [];
  if (partial.length) {
    throw new OutputFolderError(`${abs}: an interrupted write left ${partial.join(', ')} and no manifest.json: the folder is incomplete; re-run or resume it`);
  }
  return null;
}

// ---- the folder of one run ------------------------------------------------------------------------

export interface OpenOutputOptions {
  /** Free space the run needs (model, optimizer state, best weights, checkpoint). */
  bytesNeeded?: number;
  /** What runs, for the lock (e.g. 'tensorgrad train-ner'). */
  command?: string;
  /** Where the stale-lock warning goes (default: stderr). */
  warn?: (msg: string) => void;
}

/**
 * The output folder of one training run: checked and locked by `open`, written by `commit`,
 * unlocked by `release` (always call it, e.g. in `finally`).
 *
 * @example
 * const out = OutputFolder.open('out/ner', { command: 'tensorgrad train-ner', bytesNeeded: 4 * model.numParameters() * 4 });
 * try { out.commit({ 'config.json': json, 'model.safetensors': bytes }, step); } finally { out.release(); }
 */
export class OutputFolder {
  /** A random UUID of this run, written into every manifest it commits. */
  readonly runId: string = randomUUID();
  private released = false;

  private constructor(readonly dir: string, private readonly lockPath: string) {}

  /**
   * Checks the folder (writable, enough free space for `bytesNeeded`; created if missing) and takes its lock.
   * A stale lock of a dead process on this host is broken with a warning.
   * @throws OutputFolderError when the folder is unusable or another live run holds the lock.
   */
  static open(dir: string, opts: OpenOutputOptions = {}): OutputFolder {
    const abs = checkOutputFolder(dir, opts);
    const lockPath = join(abs, LOCK);
    const info: LockInfo = { pid: process.pid, host: os.hostname(), command: opts.command ?? process.argv.slice(1).join(' '), started: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        try {
          writeSync(fd, JSON.stringify(info) + '\n');
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        return new OutputFolder(abs, lockPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputFolderError(`output folder ${abs}: cannot create the lock ${lockPath} (${reason(e)})`);
      }
      const holder = readLock(abs);
      if (holder && (holder.host !== info.host || processAlive(holder.pid))) {
        throw new OutputFolderError(`output folder ${abs} is in use by another run: pid ${holder.pid} on ${holder.host} (${holder.command}, started ${holder.started}). ` +
          `Wait for it to finish or choose another output folder${holder.host !== info.host ? `; if that run is gone, delete ${lockPath}` : ''}`);
      }
      (opts.warn ?? ((m: string) => process.stderr.write(m + '\n')))(
        `warning: breaking the stale lock ${lockPath}` + (holder ? ` of pid ${holder.pid} (${holder.command}, started ${holder.started}), which is no longer running` : ' (unreadable)'),
      );
      try { unlinkSync(lockPath); } catch { /* another process broke it first */ }
    }
    throw new OutputFolderError(`output folder ${abs}: could not take the lock ${lockPath}`);
  }

  /** Writes `files` into the folder (or its sub-folder `sub`) as one atomic unit; see writeFilesAtomically. */
  commit(files: Record<string, Uint8Array | string>, step: number, sub?: string): Manifest {
    if (this.released) throw new OutputFolderError(`output folder ${this.dir}: written after release()`);
    return writeFilesAtomically(sub ? join(this.dir, sub) : this.dir, files, { step, runId: this.runId });
  }

  /** {@link commit}, returning the paths of the files written (for a task's `files` list). */
  commitPaths(files: Record<string, Uint8Array | string>, step: number, sub?: string): string[] {
    return Object.keys(this.commit(files, step, sub).files).map((f) => this.path(sub ? join(sub, f) : f));
  }

  /** A path inside the folder (for logs written outside commits). */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Removes the lock (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const holder = readLock(this.dir);
    if (holder && holder.pid === process.pid) try { unlinkSync(this.lockPath); } catch { /* gone */ }
  }
}
