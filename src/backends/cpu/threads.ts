/**
 * Worker threads for the wasm GEMM macro-kernel, behind a synchronous call.
 *
 * The kernel's memory is a *shared* WebAssembly.Memory; each helper thread instantiates the
 * same compiled module on it, so packed Ã/B̃ and C are visible to all threads without copies.
 * A macro-kernel call C[:, 0:nc] += Ã·B̃ is cut into column chunks (whole NR panels) that the
 * calling thread and the helpers take from a shared counter (Atomics.add) until none are left.
 * Every C element is computed by exactly one thread with the same instructions as the
 * single-threaded kernel, so results are bitwise identical for any thread count.
 *
 * An idle helper polls for a quarter of a millisecond before it sleeps on Atomics.wait, as
 * the calls of one product follow each other closely. The caller blocks on Atomics.wait,
 * which Node allows on its main thread. A helper that has
 * not woken up by the time the caller has taken every chunk is shut out of that call (the
 * caller "closes" it with a compare-and-swap), so a descheduled helper on a busy machine never
 * makes the caller wait.
 *
 * Node: helpers are started through `process.getBuiltinModule('node:worker_threads')`
 * (Node ≥ 20.16 / 22.3), so that this module needs no static Node import. Browser: inside a Web
 * Worker of a cross-origin-isolated page, helpers are Web Workers made from a Blob URL (issue #20).
 * Elsewhere, or when anything here fails, no pool is made and the kernel runs on one thread.
 * Helpers are `unref`'d: they never keep the process alive.
 */

import type { MacroFn, PackFn } from './wasm-gemm.js';

/** Slots of the control block (an Int32Array over a SharedArrayBuffer). */
const SEQ = 0; // job number, bumped by the caller to wake helpers
const CMD = 1; // 1: run, −1: quit
const ARGS = 2; // 2…9: mc, nc, kc, ap, bp, c, ldc, accum (as for `macro`)
const CHUNK = 10; // columns per chunk (a multiple of NR)
const NEXT = 11; // next chunk index (Atomics.add)
const STATE = 12; // helpers that joined the current job; | CLOSED once the caller stops admitting
const DONE = 13; // helpers that finished the current job
const READY = 14; // helpers that have instantiated the module
const ES = 15; // element size in bytes
const HELPED = 16; // chunks done by helpers, ever (for tests and diagnostics)
const FAILED = 17; // set by a helper whose kernel threw (then the pool is not used again)
const KIND = 18; // 0: column chunks of one macro call; 1: a batch of whole macro calls; 2: an elementwise kernel; 3: a row kernel; 4: row chunks of Ã packed then multiplied
const STEPS = 19; // 19…21: byte steps of ap, bp, c between batch items (KIND 1)
const ARGF = 22; // 22…49: up to 14 float64 arguments of a row kernel (KIND 3); for KIND 4, int32 slots 22…26: rows M, A's byte address, its byte strides (rows, cols), MR
const MAX_ROW_ARGS = 14;
const SLOTS = ARGF + 2 * MAX_ROW_ARGS;
/** Row kernels by number (KIND 3): called as fn(...args, r0, r1, chunk). */
const ROW_FNS = ['layerNormForward', 'layerNormBackward', 'softmaxForward', 'softmaxBackward'] as const;
const CLOSED = 1 << 30;
/** How long an idle helper polls for the next job before it sleeps, ms. */
const SPIN_MS = 0.25;

/**
 * The helper's program, a function of `{ module, memory, control }` that never returns: Node runs
 * it as CommonJS with `new Worker(src, { eval: true, workerData })` (NODE_HELPER), a browser as a
 * classic Web Worker from a Blob URL that receives the same object as its first message
 * (BROWSER_HELPER; a WebAssembly.Module and a shared Memory can be posted to a worker).
 */
const HELPER_MAIN = `
function helperMain(workerData) {
const { module, memory, control } = workerData;
const c = new Int32Array(control);
const cd = new Float64Array(control, ${ARGF * 4}, ${MAX_ROW_ARGS});
const ex = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
const rowFns = ${JSON.stringify(ROW_FNS)}.map((n) => ex[n]);
const macro = ex.macro;
// elementwise kernels by number (cpu/elementwise.ts): 0 gelu (unary), the rest binary
const ew = [ex.gelu, ex.geluBackward, ex.add, ex.sub, ex.mul, ex.div];
Atomics.add(c, ${READY}, 1);
let seen = Atomics.load(c, ${SEQ});
for (;;) {
  // spin briefly first: the macro-kernel calls of one product come back to back, and a
  // futex wake-up costs more than a small call
  const t0 = performance.now();
  while (Atomics.load(c, ${SEQ}) === seen && performance.now() - t0 < ${SPIN_MS}) {}
  Atomics.wait(c, ${SEQ}, seen);
  const s = Atomics.load(c, ${SEQ});
  if (s === seen) continue;
  seen = s;
  if (Atomics.load(c, ${CMD}) === -1) break;
  // join the job unless the caller has already closed it
  let st = Atomics.load(c, ${STATE});
  let joined = false;
  while ((st & ${CLOSED}) === 0) {
    const prev = Atomics.compareExchange(c, ${STATE}, st, st + 1);
    if (prev === st) { joined = true; break; }
    st = prev;
  }
  if (!joined) continue;
  const mc = c[${ARGS}], nc = c[${ARGS + 1}], kc = c[${ARGS + 2}], ap = c[${ARGS + 3}], bp = c[${ARGS + 4}], cc = c[${ARGS + 5}], ldc = c[${ARGS + 6}], accum = c[${ARGS + 7}];
  const chunk = c[${CHUNK}], es = c[${ES}];
  try {
    if (c[${KIND}] === 3) {
      // a row kernel: chunks of rows, fn(...args, r0, r1, chunk index)
      const fn = rowFns[c[${ARGS}]], nargs = c[${ARGS + 1}], rows = c[${ARGS + 2}];
      const args = Array.from(cd.subarray(0, nargs));
      for (;;) {
        const ch = Atomics.add(c, ${NEXT}, 1), r0 = ch * chunk;
        if (r0 >= rows) break;
        fn(...args, r0, Math.min(rows, r0 + chunk), ch);
        Atomics.add(c, ${HELPED}, 1);
      }
    } else if (c[${KIND}] === 2) {
      // an elementwise kernel over n float32 elements in chunks: fn(p0 + 4·i0, [p1 + 4·i0,] p2 + 4·i0, len)
      const fn = c[${ARGS}], p0 = c[${ARGS + 1}], p1 = c[${ARGS + 2}], p2 = c[${ARGS + 3}], n = c[${ARGS + 4}];
      for (;;) {
        const i0 = Atomics.add(c, ${NEXT}, 1) * chunk;
        if (i0 >= n) break;
        const len = Math.min(chunk, n - i0);
        if (fn === 0) ex.gelu(p0 + 4 * i0, p2 + 4 * i0, len);
        else ew[fn](p0 + 4 * i0, p1 + 4 * i0, p2 + 4 * i0, len);
        Atomics.add(c, ${HELPED}, 1);
      }
    } else if (c[${KIND}] === 4) {
      // row chunks of A: item i packs rows [i·rc, min(M, i·rc + rc)) into Ã at ap + i·sa, then
      // multiplies them (as KIND 1's item i); mc = rc, chunk = item count
      const sa = c[${STEPS}], sc = c[${STEPS + 2}];
      const M = c[${ARGF}], src = c[${ARGF + 1}], rs = c[${ARGF + 2}], cs = c[${ARGF + 3}], mr = c[${ARGF + 4}];
      for (;;) {
        const i = Atomics.add(c, ${NEXT}, 1);
        if (i >= chunk) break;
        const rows = Math.min(mc, M - i * mc);
        ex.pack(ap + i * sa, src + i * mc * rs, rs, cs, rows, kc, mr);
        macro(Math.ceil(rows / mr) * mr, nc, kc, ap + i * sa, bp, cc + i * sc, ldc, accum);
        Atomics.add(c, ${HELPED}, 1);
      }
    } else if (c[${KIND}] === 1) {
      // a batch: item i is a whole macro call at ap + i·sa, bp + i·sb, c + i·sc; chunk = item count
      const sa = c[${STEPS}], sb = c[${STEPS + 1}], sc = c[${STEPS + 2}];
      for (;;) {
        const i = Atomics.add(c, ${NEXT}, 1);
        if (i >= chunk) break;
        macro(mc, nc, kc, ap + i * sa, bp + i * sb, cc + i * sc, ldc, accum);
        Atomics.add(c, ${HELPED}, 1);
      }
    } else {
      for (;;) {
        const j0 = Atomics.add(c, ${NEXT}, 1) * chunk;
        if (j0 >= nc) break;
        macro(mc, Math.min(chunk, nc - j0), kc, ap, bp + j0 * kc * es, cc + j0 * es, ldc, accum);
        Atomics.add(c, ${HELPED}, 1);
      }
    }
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
  }
  // always report, so that the caller never waits for a helper that failed
  Atomics.add(c, ${DONE}, 1);
  Atomics.notify(c, ${DONE});
}
}
`;
const NODE_HELPER = `'use strict';\n${HELPER_MAIN}\nhelperMain(require('node:worker_threads').workerData);\n`;
const BROWSER_HELPER = `'use strict';\n${HELPER_MAIN}\nself.onmessage = (e) => { self.onmessage = null; helperMain(e.data); };\n`;


interface WorkerLike {
  unref(): void;
  on(event: 'error' | 'exit', cb: (x: unknown) => void): void;
  terminate(): Promise<number>;
}
interface WorkerThreadsModule {
  Worker: new (src: string, opts: { eval: true; workerData: unknown }) => WorkerLike;
}

/** The calling thread plus helpers sharing one kernel's memory. */
export class MacroPool {
  private readonly control: Int32Array;
  private readonly workers: WorkerLike[] = [];
  private broken = false;

  constructor(
    private readonly macro: MacroFn,
    readonly nr: number,
    readonly elementSize: number,
    module: object,
    memory: object,
    helpers: number,
    threads: WorkerThreadsModule,
    /** The module's `pack`, for `runPackBatch` (optional: pools that only multiply need not have it). */
    private readonly pack: PackFn | null = null,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    this.control[ES] = elementSize;
    for (let i = 0; i < helpers; i++) {
      const w = new threads.Worker(NODE_HELPER, { eval: true, workerData: { module, memory, control: this.control.buffer } });
      w.unref();
      // a helper that dies is simply never ready (or never joins again): the caller does the work
      w.on('error', () => { this.broken = true; });
      this.workers.push(w);
    }
  }

  /** Helpers that have started (the rest are still booting; they join later calls). */
  get readyHelpers(): number {
    return this.broken ? 0 : Atomics.load(this.control, READY);
  }

  /** Whether `runPackBatch` is available (the pool was given the module's pack function). */
  get canPack(): boolean {
    return this.pack !== null;
  }

  /** Column chunks computed by helper threads since the pool started. */
  get chunksByHelpers(): number {
    return Atomics.load(this.control, HELPED);
  }

  /** C[:, 0:nc] += Ã·B̃ split over the threads; same arguments as the kernel's `macro`. */
  run(mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accum: number): void {
    const ctl = this.control;
    const helpers = this.readyHelpers;
    const panels = nc / this.nr;
    if (helpers === 0 || panels < 2) {
      this.macro(mc, nc, kc, ap, bp, c, ldc, accum);
      return;
    }
    // ~4 chunks per thread: enough to balance a helper that starts late, few enough to be cheap
    const chunk = Math.max(1, Math.ceil(panels / (4 * (helpers + 1)))) * this.nr;
    ctl[ARGS] = mc; ctl[ARGS + 1] = nc; ctl[ARGS + 2] = kc; ctl[ARGS + 3] = ap;
    ctl[ARGS + 4] = bp; ctl[ARGS + 5] = c; ctl[ARGS + 6] = ldc; ctl[ARGS + 7] = accum; ctl[CHUNK] = chunk;
    ctl[KIND] = 0;
    this.open();
    const es = this.elementSize;
    for (;;) {
      const j0 = Atomics.add(ctl, NEXT, 1) * chunk;
      if (j0 >= nc) break;
      this.macro(mc, Math.min(chunk, nc - j0), kc, ap, bp + j0 * kc * es, c + j0 * es, ldc, accum);
    }
    this.finish();
  }

  /**
   * `count` independent macro calls, item i at ap + i·sa, bp + i·sb, c + i·sc (bytes), the
   * items shared out over the threads (batched small products such as attention's Q·Kᵀ).
   */
  runBatch(count: number, mc: number, nc: number, kc: number, ap: number, sa: number, bp: number, sb: number, c: number, sc: number, ldc: number, accum: number): void {
    const ctl = this.control;
    if (this.readyHelpers === 0 || count < 2) {
      for (let i = 0; i < count; i++) this.macro(mc, nc, kc, ap + i * sa, bp + i * sb, c + i * sc, ldc, accum);
      return;
    }
    ctl[ARGS] = mc; ctl[ARGS + 1] = nc; ctl[ARGS + 2] = kc; ctl[ARGS + 3] = ap;
    ctl[ARGS + 4] = bp; ctl[ARGS + 5] = c; ctl[ARGS + 6] = ldc; ctl[ARGS + 7] = accum; ctl[CHUNK] = count;
    ctl[KIND] = 1; ctl[STEPS] = sa; ctl[STEPS + 1] = sb; ctl[STEPS + 2] = sc;
    this.open();
    for (;;) {
      const i = Atomics.add(ctl, NEXT, 1);
      if (i >= count) break;
      this.macro(mc, nc, kc, ap + i * sa, bp + i * sb, c + i * sc, ldc, accum);
    }
    this.finish();
  }

  /**
   * Ã·B̃ for all M rows of A, packed and multiplied in row chunks of `rc` (a multiple of MR)
   * shared out over the threads: item i packs rows [i·rc, min(M, i·rc + rc)) of A (byte address
   * `src`, byte strides `rs`, `cs`; kc columns) into Ã at ap + i·rc·kc·es — where packing all of
   * Ã at once would put them — and runs the macro-kernel on them into C at c + i·sc. The packing,
   * a serial step before the shared-out products otherwise, is shared out too. Each item is
   * computed by the same instructions on whichever thread, so C is bitwise the same.
   */
  runPackBatch(M: number, rc: number, mr: number, src: number, rs: number, cs: number, nc: number, kc: number, ap: number, bp: number, c: number, sc: number, ldc: number, accum: number): void {
    const pack = this.pack;
    if (pack === null) throw new Error('MacroPool.runPackBatch: this pool was made without the pack function');
    const count = Math.ceil(M / rc), sa = rc * kc * this.elementSize;
    const item = (i: number): void => {
      const rows = Math.min(rc, M - i * rc);
      pack(ap + i * sa, src + i * rc * rs, rs, cs, rows, kc, mr);
      this.macro(Math.ceil(rows / mr) * mr, nc, kc, ap + i * sa, bp, c + i * sc, ldc, accum);
    };
    const ctl = this.control;
    if (this.readyHelpers === 0 || count < 2) {
      for (let i = 0; i < count; i++) item(i);
      return;
    }
    ctl[ARGS] = rc; ctl[ARGS + 1] = nc; ctl[ARGS + 2] = kc; ctl[ARGS + 3] = ap;
    ctl[ARGS + 4] = bp; ctl[ARGS + 5] = c; ctl[ARGS + 6] = ldc; ctl[ARGS + 7] = accum; ctl[CHUNK] = count;
    ctl[KIND] = 4; ctl[STEPS] = sa; ctl[STEPS + 2] = sc;
    ctl[ARGF] = M; ctl[ARGF + 1] = src; ctl[ARGF + 2] = rs; ctl[ARGF + 3] = cs; ctl[ARGF + 4] = mr;
    this.open();
    for (;;) {
      const i = Atomics.add(ctl, NEXT, 1);
      if (i >= count) break;
      item(i);
    }
    this.finish();
  }

  /**
   * An elementwise kernel of the module (fn 0: gelu(p0 → p2); 1 geluBackward, 2 add, 3 sub,
   * 4 mul, 5 div: (p0, p1 → p2))
   * over n float32 elements at byte addresses p0, p1, p2, in chunks of `chunk` (even) elements
   * shared out over the threads. Every element is computed by the same instructions whichever
   * thread runs it.
   */
  runElementwise(fn: number, p0: number, p1: number, p2: number, n: number, chunk: number, call: (i0: number, len: number) => void): void {
    const ctl = this.control;
    if (this.readyHelpers === 0 || n <= chunk) {
      call(0, n);
      return;
    }
    ctl[ARGS] = fn; ctl[ARGS + 1] = p0; ctl[ARGS + 2] = p1; ctl[ARGS + 3] = p2; ctl[ARGS + 4] = n; ctl[CHUNK] = chunk;
    ctl[KIND] = 2;
    this.open();
    for (;;) {
      const i0 = Atomics.add(ctl, NEXT, 1) * chunk;
      if (i0 >= n) break;
      call(i0, Math.min(chunk, n - i0));
    }
    this.finish();
  }

  /**
   * A row kernel of the module (ROW_FNS[fn]) over `rows` rows in chunks of `chunk` rows:
   * fn(...args, r0, r1, chunkIndex) for each chunk, chunks shared out over the threads;
   * `call` runs a chunk on the calling thread.
   */
  runRows(fn: number, args: readonly number[], rows: number, chunk: number, call: (r0: number, r1: number, ch: number) => void): void {
    const ctl = this.control;
    if (this.readyHelpers === 0 || rows <= chunk) {
      for (let ch = 0; ch * chunk < rows; ch++) call(ch * chunk, Math.min(rows, (ch + 1) * chunk), ch);
      return;
    }
    if (args.length > MAX_ROW_ARGS) throw new Error(`runRows: at most ${MAX_ROW_ARGS} arguments`);
    new Float64Array(ctl.buffer, ARGF * 4, MAX_ROW_ARGS).set(args);
    ctl[ARGS] = fn; ctl[ARGS + 1] = args.length; ctl[ARGS + 2] = rows; ctl[CHUNK] = chunk;
    ctl[KIND] = 3;
    this.open();
    for (;;) {
      const ch = Atomics.add(ctl, NEXT, 1), r0 = ch * chunk;
      if (r0 >= rows) break;
      call(r0, Math.min(rows, r0 + chunk), ch);
    }
    this.finish();
  }

  /** Publishes the job whose arguments are in the control block and wakes the helpers. */
  private open(): void {
    const ctl = this.control;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, CMD, 1);
    // opening the job comes last: STATE has been CLOSED since the previous job, so a helper
    // that woke late for that one cannot join (and count itself done) before all is reset
    Atomics.store(ctl, STATE, 0);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
  }

  /** Ends the current job once the caller has run out of work. */
  private finish(): void {
    const ctl = this.control;
    // close the job: helpers not in by now stay out; wait for those that joined
    let st = Atomics.load(ctl, STATE);
    for (;;) {
      const prev = Atomics.compareExchange(ctl, STATE, st, st | CLOSED);
      if (prev === st) break;
      st = prev;
    }
    const joined = st & ~CLOSED;
    for (let d = Atomics.load(ctl, DONE); d < joined; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d);
    if (Atomics.load(ctl, FAILED) !== 0) {
      this.broken = true;
      throw new Error('gemm: a helper thread failed inside the wasm kernel; threads are now off for this kernel');
    }
  }

  /** Stops the helpers (tests; the process never waits for them anyway). */
  async close(): Promise<void> {
    Atomics.store(this.control, CMD, -1);
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The browser globals used to start Web Worker helpers (the project's `lib` has no DOM typings). */
interface BrowserWorker {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(type: 'error', cb: (e: unknown) => void): void;
}
interface BrowserGlobals {
  Worker?: new (url: string, opts?: { name?: string }) => BrowserWorker;
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL?: { createObjectURL?(blob: unknown): string };
  crossOriginIsolated?: boolean;
  WorkerGlobalScope?: unknown;
  navigator?: { hardwareConcurrency?: number };
}

/**
 * Helpers as Web Workers, behind the same small interface as node:worker_threads. Only inside a
 * worker of a cross-origin-isolated page: SharedArrayBuffer and a shared WebAssembly.Memory need
 * `crossOriginIsolated`, and the caller blocks on Atomics.wait, which a page's main thread may not.
 * A nested worker starts when its parent next yields to the event loop; until then `readyHelpers`
 * is 0 and calls run on the calling thread (as in Node while helpers boot).
 */
function browserWorkers(): WorkerThreadsModule | null {
  const g = globalThis as BrowserGlobals;
  const BrowserWorkerCtor = g.Worker;
  const BlobCtor = g.Blob;
  if (typeof BrowserWorkerCtor !== 'function' || typeof BlobCtor !== 'function' || typeof g.URL?.createObjectURL !== 'function') return null;
  if (g.crossOriginIsolated !== true || g.WorkerGlobalScope === undefined) return null;
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
  let url: string | undefined;
  class WebWorkerHelper implements WorkerLike {
    private readonly w: BrowserWorker;
    constructor(_src: string, opts: { eval: true; workerData: unknown }) {
      url ??= g.URL!.createObjectURL!(new BlobCtor!([BROWSER_HELPER], { type: 'text/javascript' }));
      this.w = new BrowserWorkerCtor!(url, { name: 'tensorgrad-gemm-helper' });
      this.w.postMessage(opts.workerData);
    }
    unref(): void {
      // a page does not wait for its workers
    }
    on(event: 'error' | 'exit', cb: (x: unknown) => void): void {
      if (event === 'error') this.w.addEventListener('error', cb);
    }
    terminate(): Promise<number> {
      this.w.terminate();
      return Promise.resolve(0);
    }
  }
  return { Worker: WebWorkerHelper };
}

/**
 * How helpers are started here, else null (one thread): node:worker_threads in Node (through
 * `process.getBuiltinModule`), Web Workers inside a worker of a cross-origin-isolated page.
 */
export function workerThreads(): WorkerThreadsModule | null {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
    if (typeof proc?.getBuiltinModule === 'function') {
      const wt = proc.getBuiltinModule('node:worker_threads') as WorkerThreadsModule | undefined;
      return wt && typeof wt.Worker === 'function' ? wt : null;
    }
    return browserWorkers();
  } catch {
    return null;
  }
}

/** Logical CPUs available to this process (`navigator.hardwareConcurrency` in a browser; 1 where unknown). */
export function availableCores(): number {
  try {
    const g = globalThis as BrowserGlobals & { process?: { getBuiltinModule?: (id: string) => unknown } };
    const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number; cpus?: () => unknown[] } | undefined;
    return Math.max(1, os?.availableParallelism?.() ?? os?.cpus?.().length ?? g.navigator?.hardwareConcurrency ?? 1);
  } catch {
    return 1;
  }
}
