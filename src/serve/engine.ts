/**
 * The main thread's handle on the model worker (src/serve/worker.ts): starts it, waits for the
 * model to load, and runs batches on it, one at a time. From the TypeScript sources (tsx,
 * vitest) the worker is started through tsx's loader; from the built package it is plain JS.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { WorkerInit } from './worker.js';
import type { WorkItem } from './work-item.js';

function startWorker(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // running from source: register tsx's ESM loader inside the worker, then import worker.ts
    const req = createRequire(self);
    const api = pathToFileURL(req.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const target = new URL('./worker.ts', self).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(new URL('./worker.js', self), { workerData: init });
}

export class WorkerEngine {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: (string | { error: unknown })[][]) => void; reject: (e: Error) => void }>();
  /** Resolves once the model is loaded in the worker. */
  readonly ready: Promise<void>;
  private exited = false;

  constructor(init: WorkerInit) {
    this.worker = startWorker(init);
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: { type: string; id?: number; results?: (string | { error: unknown })[][]; error?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'fatal') reject(new Error(`model worker: ${m.error}`));
        else if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.type === 'result') p.resolve(m.results!);
          else p.reject(new Error(m.error ?? 'model worker error'));
        }
      });
      this.worker.on('error', (e) => {
        reject(e);
        this.failAll(e);
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        const e = new Error(`model worker exited (code ${code})`);
        reject(e);
        this.failAll(e);
      });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Runs sub-batches in the worker; per item its result as JSON text, or an Error. */
  async run(groups: WorkItem[][]): Promise<(string | Error)[][]> {
    if (this.exited) throw new Error('model worker has exited');
    const id = this.nextId++;
    const results = await new Promise<(string | { error: unknown })[][]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, groups });
    });
    return results.map((g) => g.map((r) => (typeof r === 'string' ? r : new Error(String(r.error)))));
  }

  async close(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }
}
