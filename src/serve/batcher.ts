/**
 * Dynamic batching for encoder models (the scheme of TorchServe's and Triton's dynamic
 * batchers): requests that arrive within `maxWaitMs` of the oldest waiting one are run as one
 * packed forward pass of up to `maxBatch` texts. One batch runs at a time (the model's worker
 * is single-threaded), and while it runs the next batch fills up, so under load batches grow
 * on their own and the wait is only paid when the server is idle — by default there is none
 * (maxWaitMs 0, Triton's default: a lone request is dispatched at once).
 *
 * A dispatched batch is sorted by length and cut into the sub-batches that minimise the work.
 * Each sub-batch is one *packed* forward pass (BertInputs.cuSeqlens): its Linear layers, GELU and
 * LayerNorm compute the real tokens only, and only its attention runs padded to the longest text.
 * In tokens' worth of work (a token's Linear layers: 12·H² multiply-adds per layer; a padded
 * attention slot: 2·T_max·H), with lengths sorted ascending, a sub-batch g costs
 *
 *   c + Σ_{i∈g} T_i + |g|·max(g)² / (6H)
 *
 * (c: the fixed cost of a pass, in tokens), and a dynamic programme over the cut points finds
 * the cheapest split (O(n²), n ≤ maxBatch). With BERT-sized texts this is one pass nearly always;
 * a few very long texts among short ones get their own. (Measured on the demo's NER BERT, the
 * attention's kernels run about 3× less efficiently per multiply-add than the large GEMMs, which
 * would suggest 2H for 6H above; but splitting dispatches of 16 texts of 10–40 words into 2.3
 * length groups that way was no faster than one pass, so the formula keeps the plain count.)
 *
 * The queue is bounded (`maxQueue` texts): `submit` throws a QueueFullError beyond it, which
 * the server answers with 429 and Retry-After. A job can be cancelled (its client went away, its
 * deadline passed) while it waits: it is dropped at dispatch. A job already in a running batch
 * finishes, and its result is discarded.
 */

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/** One text waiting for the model. */
export interface Job<I, R> {
  /** What the worker needs. */
  item: I;
  /** Its length in tokens (sorting and padding cost). */
  length: number;
  /** When the job was queued, in `performance.now()` milliseconds (for the queue-wait measurement and maxWaitMs). */
  enqueuedAt: number;
  /** Set by `cancel` (its client went away, its deadline passed): the job is skipped, never run, and its promise rejected. */
  cancelled: boolean;
  /** Settles the caller's promise with the job's result. */
  resolve(r: R): void;
  /** Settles the caller's promise with an error (the run failed for this item, or the job was cancelled). */
  reject(e: Error): void;
}

/** Options of {@link DynamicBatcher}: the batch function (`run`), the largest batch, how long to wait to fill one, the queue bound, a per-call cost and a batch callback. */
export interface BatcherOptions<I, R> {
  /** Most texts in one dispatch (default 32). 1 = one at a time. */
  maxBatch?: number;
  /**
   * How long the oldest waiting text may wait for others when the model is idle (default 0:
   * dispatch at once, and batch what queues while a pass runs — Triton's dynamic batcher's
   * default, `max_queue_delay_microseconds: 0`; a wait costs a lone request its whole length).
   */
  maxWaitMs?: number;
  /** Most texts waiting (default 1024). */
  maxQueue?: number;
  /**
   * Fixed cost of a forward pass in tokens, for the sub-batch split (default 16: measured on the
   * demo's NER BERT (H = 128) on one thread, a pass of one text costs about 0.7 ms + 0.05 ms per token).
   */
  callCostTokens?: number;
  /** The model's hidden size H, for the attention's share of the split's cost model (default 768). */
  hiddenSize?: number;
  /** Runs the sub-batches of one dispatch in order; resolves with one result (or Error) per item. */
  run: (groups: I[][]) => Promise<(R | Error)[][]>;
  /** Called after each dispatch with its size and sub-batch sizes. */
  onBatch?: (info: { size: number; groups: number[]; ms: number; queueWaitMs: number[] }) => void;
}

/**
 * Cuts lengths sorted ascending into contiguous groups minimising the packed passes' work,
 * Σ_g (c + Σ_{i∈g} T_i + |g|·max(g)²/(6H)) (see the file header). Returns the group sizes.
  * @example
  * ```ts
  * serve.splitByLength([5, 6, 7, 120], 16, 128); // [3, 1]: the long text's attention would pad the others to 120
  * serve.splitByLength([5, 6, 7, 8], 16, 128);   // [4]: one pass is cheapest
  * ```
 */
export function splitByLength(sorted: number[], c: number, hiddenSize: number): number[] {
  if (!(hiddenSize > 0)) throw new Error(`splitByLength: hiddenSize must be > 0, got ${hiddenSize}`);
  const n = sorted.length;
  const prefix = new Float64Array(n + 1); // prefix[j] = T_0 + … + T_{j−1}
  for (let j = 0; j < n; j++) prefix[j + 1] = prefix[j]! + sorted[j]!;
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const max = sorted[j - 1]!; // the group sorted[i..j-1]'s longest is its last
    for (let i = 0; i < j; i++) {
      const cost = best[i]! + c + (prefix[j]! - prefix[i]!) + ((j - i) * max * max) / (6 * hiddenSize);
      if (cost < best[j]!) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const sizes: number[] = [];
  for (let j = n; j > 0; j = cut[j]!) sizes.unshift(j - cut[j]!);
  return sizes;
}

/**
 * Groups concurrent requests into batches (up to `maxBatch`, waiting at most `maxWaitMs`) and runs them one at a time through a batch function, with a bounded queue.
 * @example
 * ```ts
 * const batcher = new serve.DynamicBatcher<string, number>({
 *   maxBatch: 16, maxWaitMs: 5,
 *   run: async (groups) => groups.map((g) => g.map((text) => text.length)), // one forward pass per group
 * });
 * const { results } = batcher.submit([{ item: 'hello', length: 1 }, { item: 'world!', length: 1 }]);
 * await Promise.all(results);             // [5, 6]
 * ```
 */
export class DynamicBatcher<I, R> {
  /** Most jobs in one dispatch (default 32; 1 = one at a time). */
  readonly maxBatch: number;
  /** How long, in milliseconds, the oldest waiting job may wait for others before its batch is dispatched (default 0). */
  readonly maxWaitMs: number;
  /** Most jobs waiting; a `submit` that does not fit throws QueueFullError (default 1024). */
  readonly maxQueue: number;
  private readonly c: number;
  private readonly hiddenSize: number;
  private queue: Job<I, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private flushing = false;

  constructor(private readonly opts: BatcherOptions<I, R>) {
    const int = (name: string, v: number | undefined, d: number, min: number) => {
      const x = v ?? d;
      if (!Number.isInteger(x) || x < min) throw new Error(`DynamicBatcher: ${name} must be an integer ≥ ${min}, got ${v}`);
      return x;
    };
    this.maxBatch = int('maxBatch', opts.maxBatch, 32, 1);
    this.maxQueue = int('maxQueue', opts.maxQueue, 1024, 1);
    this.c = int('callCostTokens', opts.callCostTokens, 16, 0);
    this.hiddenSize = int('hiddenSize', opts.hiddenSize, 768, 1);
    this.maxWaitMs = opts.maxWaitMs ?? 0;
    if (!(this.maxWaitMs >= 0) || !Number.isFinite(this.maxWaitMs)) throw new Error(`DynamicBatcher: maxWaitMs must be a finite number ≥ 0, got ${opts.maxWaitMs}`);
  }

  /** Texts waiting (cancelled ones excluded). */
  get depth(): number {
    return this.queue.reduce((n, j) => n + (j.cancelled ? 0 : 1), 0);
  }

  /** True while a batch is running. */
  get busy(): boolean {
    return this.running;
  }

  /** Room left in the queue. */
  get free(): number {
    return this.maxQueue - this.depth;
  }

  /**
   * Queues the items of one request (all or none); each promise settles with its result. Throws a
   * QueueFullError when they do not fit.
   */
  submit(items: { item: I; length: number }[]): { jobs: Job<I, R>[]; results: Promise<R>[] } {
    if (items.length > this.free) {
      this.compact();
      if (items.length > this.free) throw new QueueFullError(`the queue is full (${this.depth} of ${this.maxQueue} texts waiting)`);
    }
    const now = performance.now();
    const jobs: Job<I, R>[] = [];
    const results = items.map(({ item, length }) => new Promise<R>((resolve, reject) => {
      jobs.push({ item, length, enqueuedAt: now, cancelled: false, resolve, reject });
    }));
    this.queue.push(...jobs);
    this.schedule();
    return { jobs, results };
  }

  /** Drops jobs that have not run yet (their promises reject with `reason`). */
  cancel(jobs: Job<I, R>[], reason: Error): void {
    for (const j of jobs) {
      if (j.cancelled) continue;
      j.cancelled = true;
      j.reject(reason);
    }
  }

  /** From now on dispatch without waiting for more texts (used when draining). */
  flush(): void {
    this.flushing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
  }

  /** Resolves when the queue is empty and no batch runs. */
  idle(): Promise<void> {
    if (!this.running && this.depth === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private compact(): void {
    this.queue = this.queue.filter((j) => !j.cancelled);
  }

  private schedule(): void {
    if (this.running) return;
    this.compact();
    if (this.queue.length === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
      return;
    }
    const waited = performance.now() - this.queue[0]!.enqueuedAt;
    if (this.queue.length >= this.maxBatch || waited >= this.maxWaitMs || this.flushing) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.maxWaitMs - waited);
    }
  }

  private async dispatch(): Promise<void> {
    this.running = true;
    const t0 = performance.now();
    const batch = this.queue.splice(0, this.maxBatch); // FIFO: the oldest first
    batch.sort((a, b) => a.length - b.length);
    const sizes = splitByLength(batch.map((j) => j.length), this.c, this.hiddenSize);
    const groups: Job<I, R>[][] = [];
    let at = 0;
    for (const s of sizes) {
      groups.push(batch.slice(at, at + s));
      at += s;
    }
    try {
      const results = await this.opts.run(groups.map((g) => g.map((j) => j.item)));
      groups.forEach((g, gi) => g.forEach((j, k) => {
        if (j.cancelled) return;
        const r = results[gi]?.[k];
        if (r instanceof Error) j.reject(r);
        else if (r === undefined) j.reject(new Error('the worker returned no result for this text'));
        else j.resolve(r);
      }));
    } catch (e) {
      for (const j of batch) if (!j.cancelled) j.reject(e as Error);
    } finally {
      this.opts.onBatch?.({ size: batch.length, groups: sizes, ms: performance.now() - t0, queueWaitMs: batch.map((j) => t0 - j.enqueuedAt) });
      this.running = false;
      this.schedule();
    }
  }
}
