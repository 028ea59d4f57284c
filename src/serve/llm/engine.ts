/**
 * The LLM generation engine (issue #18), usable without HTTP: a request queue, a scheduler
 * (scheduler.ts: FCFS or FastServe's skip-join MLFQ), a paged KV cache (kv-cache.ts:
 * PagedAttention, Kwon et al. 2023) and a model runner (runner.ts). Each `step()` is one
 * iteration in the sense of Orca (Yu et al. 2022): requests join and leave at every step; the
 * step runs ONE batched forward over every scheduled sequence — a single decode token for the
 * running ones, a prefill chunk (at most `maxBatchTokens` tokens in all) for the newly admitted.
 *
 * Preemption by recomputation (vLLM §4.5): when the pool cannot give a scheduled sequence its
 * next block, the lowest-priority request holding blocks (the far end of the scheduler's order)
 * loses all of them and later recomputes its prompt and generated tokens in a prefill. Since every
 * token's logits are independent of batch, chunking and prefill-vs-decode (runner.ts), and each
 * sample draws from its own generator (sampling.ts), preemption, batching and the scheduler
 * never change what a request generates: with the same seed it is what it generates alone, and
 * what `GPT.generate` generates.
 *
 * Parallel sampling (n > 1, vLLM §4.4): the prompt is prefilled once; at its last position the
 * table is forked n − 1 times (shared blocks, copy-on-write on the first divergent write).
 */
import type { GPT } from '../../nn/gpt.js';
import { BlockTable, PagedKVCache } from './kv-cache.js';
import { GPTRunner, type RunChunk } from './runner.js';
import { sampleGenerator, sampleToken } from './sampling.js';
import { FCFSScheduler, MLFQScheduler, type Scheduler, type SchedRequest } from './scheduler.js';
import type { Generator } from '../../tensor/random.js';

/** Per-request decoding parameters of the LLM engine: max tokens, temperature, top-k, top-p, the number of samples n, seed and stop token ids. */
export interface GenerationParams {
  /** Tokens to generate per sample (≥ 1). */
  maxTokens: number;
  /** 0 = greedy; default 1. */
  temperature?: number;
  /** Keep the k most likely tokens; default null (all). */
  topK?: number | null;
  /** Nucleus sampling; default 1 (all). */
  topP?: number;
  /** Samples per prompt; default 1. */
  n?: number;
  /** Seed of the request's sample streams; sample i draws from sampleGenerator(seed, i). Default: the engine's seed and the request number. */
  seed?: number | string;
  /** A sample ends after emitting one of these ids (the id is part of its output). */
  stopTokenIds?: readonly number[];
}

/** Why a sequence finished: its length limit, a stop string, or an abort. */
export type FinishReason = 'length' | 'stop' | 'abort';

/** One event of `step()`: a sample emitted a token (and maybe finished), or was aborted. */
export interface TokenEvent {
  /** The id `addRequest` returned for the request. */
  requestId: number;
  /** Sample index in [0, n). */
  index: number;
  /** The token emitted, or null for an abort. */
  token: number | null;
  /** Why the sample finished with this event ('length', 'stop' or 'abort'), or null while it goes on. */
  finishReason: FinishReason | null;
}

/** Options of {@link LLMEngine}: the KV-cache pool (blocks, block size), the batch limits (sequences, tokens), the scheduler and the seed. */
export interface EngineOptions {
  /** KV blocks in the pool. */
  numBlocks: number;
  /** Tokens per block (default 16). */
  blockSize?: number;
  /** Most sequences in one step (default 32). */
  maxNumSeqs?: number;
  /** Most tokens (decode + prefill chunks) in one step (default 256); longer prompts are prefilled in chunks. */
  maxBatchTokens?: number;
  /** 'fcfs' (default), 'mlfq' or a Scheduler. */
  scheduler?: 'fcfs' | 'mlfq' | Scheduler;
  /** Seed for requests without one (default 0). */
  seed?: number;
  /**
   * 'continuous' (default): requests join and leave the batch at every step (Orca).
   * 'static': the baseline continuous batching is measured against — a batch of up to
   * `maxNumSeqs` sequences is admitted only when the previous batch has wholly finished, and no
   * request joins it meanwhile (what a server that batches whole generate() calls does).
   */
  batching?: 'continuous' | 'static';
}

class Sequence {
  /** Prompt + generated tokens; the last one's logits are not yet computed. */
  tokens: number[];
  readonly output: number[] = [];
  table = new BlockTable();
  /** Positions whose K/V are in the cache. */
  computed = 0;
  finishReason: FinishReason | null = null;
  constructor(readonly index: number, prompt: readonly number[], readonly gen: Generator) {
    this.tokens = [...prompt];
  }
}

class RequestState implements SchedRequest {
  readonly seqs: Sequence[];
  /** True once the prompt's last logits were sampled and the n samples exist. */
  forked = false;
  finished = false;
  constructor(
    readonly id: number, readonly arrival: number, readonly prompt: readonly number[],
    readonly params: Required<Omit<GenerationParams, 'seed' | 'stopTokenIds'>> & { seed: number | string; stopTokenIds: readonly number[] },
  ) {
    this.seqs = [new Sequence(0, prompt, sampleGenerator(params.seed, 0))];
  }
  get promptLen(): number {
    return this.prompt.length;
  }
  holdsBlocks(): boolean {
    return this.seqs.some((s) => s.table.blocks.length > 0);
  }
  live(): Sequence[] {
    return this.seqs.filter((s) => s.finishReason === null);
  }
}

/** Engine counters and gauges (what /metrics exports). */
export interface EngineStats {
  /** KV blocks currently allocated to sequences. */
  blocksUsed: number;
  /** KV blocks in the free pool. */
  blocksFree: number;
  /** Token positions stored in the cache, summed over sequences (a shared prefix counts once per sample). */
  kvSlotsUsed: number;
  /** Requests holding KV blocks. */
  running: number;
  /** Unfinished requests holding none. */
  waiting: number;
  /** Times a request's blocks were freed to make room (it is recomputed when rescheduled), since construction. */
  preemptions: number;
  /** Tokens sampled over all requests since construction. */
  generatedTokens: number;
  /** Forward passes (`step()` calls that ran the model) since construction. */
  steps: number;
}

/**
 * Continuous-batching generation over a paged KV cache (see the file header).
 * @example
 * const engine = new LLMEngine(gpt.eval(), { numBlocks: 64, scheduler: 'mlfq' });
 * const id = engine.addRequest([1, 2, 3], { maxTokens: 8, temperature: 0.8, seed: 1, n: 2 });
 * const out = engine.runToCompletion(); // out.get(id) = [[…8 ids], […8 ids]]
 */
export class LLMEngine {
  /** The paged K/V pool shared by all sequences (numBlocks × blockSize token slots per layer). */
  readonly cache: PagedKVCache;
  /** Runs the GPT over the scheduled chunks of all sequences in one batched forward, reading and writing the paged cache. */
  readonly runner: GPTRunner;
  /** The policy ordering the requests at every step (FCFS, MLFQ or the one given). */
  readonly scheduler: Scheduler;
  /** Most sequences in one step (default 32). */
  readonly maxNumSeqs: number;
  /** Most tokens (decode tokens + prefill chunks) in one step (default 256). */
  readonly maxBatchTokens: number;
  private readonly seed: number;
  private readonly requests = new Map<number, RequestState>();
  private nextId = 0;
  private preemptions = 0;
  private generatedTokens = 0;
  private steps = 0;
  /** The batching policy (`EngineOptions.batching`): 'continuous' (default) or 'static'. */
  readonly batching: 'continuous' | 'static';
  /** Static batching: the requests of the batch being run (empty: admit the next one). */
  private staticBatch = new Set<RequestState>();

  constructor(readonly model: GPT, opts: EngineOptions) {
    if (!opts || typeof opts !== 'object') throw new Error(`LLMEngine: options { numBlocks, … } are required, got ${String(opts)}`);
    const { numBlocks, blockSize = 16, maxNumSeqs = 32, maxBatchTokens = 256, scheduler = 'fcfs', seed = 0, batching = 'continuous' } = opts;
    if (batching !== 'continuous' && batching !== 'static') throw new Error(`LLMEngine: batching must be 'continuous' or 'static', got ${String(batching)}`);
    this.batching = batching;
    for (const [k, v] of [['maxNumSeqs', maxNumSeqs], ['maxBatchTokens', maxBatchTokens]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`LLMEngine: ${k} must be a positive integer, got ${v}`);
    }
    if (model.transformer.wte.weight.dtype !== 'float32') throw new Error(`LLMEngine: the model must be float32, got ${model.transformer.wte.weight.dtype}`);
    const c = model.config;
    this.cache = new PagedKVCache({ numBlocks, blockSize, nLayer: c.nLayer, nHead: c.nHead, headDim: c.headDim });
    this.runner = new GPTRunner(model, this.cache);
    if (scheduler === 'fcfs') this.scheduler = new FCFSScheduler();
    else if (scheduler === 'mlfq') this.scheduler = new MLFQScheduler();
    else if (scheduler && typeof scheduler === 'object' && typeof scheduler.order === 'function') this.scheduler = scheduler;
    else throw new Error(`LLMEngine: scheduler must be 'fcfs', 'mlfq' or a Scheduler, got ${String(scheduler)}`);
    this.maxNumSeqs = maxNumSeqs;
    this.maxBatchTokens = maxBatchTokens;
    this.seed = seed;
  }

  /**
   * Queues a request; returns its id. Throws (naming the parameter) for an invalid prompt or
   * parameters, and when prompt + maxTokens exceeds the model's block size or the request could
   * never fit the pool on its own (n · ⌈(prompt + maxTokens)/blockSize⌉ blocks).
   */
  addRequest(prompt: readonly number[], params: GenerationParams): number {
    const V = this.model.config.vocabSize;
    if (!Array.isArray(prompt) || prompt.length === 0) throw new Error(`LLMEngine.addRequest: prompt must be a non-empty array of token ids, got ${Array.isArray(prompt) ? 'an empty array' : typeof prompt}`);
    for (const t of prompt) if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`LLMEngine.addRequest: prompt token ids must be integers in [0, ${V}), got ${t}`);
    if (!params || typeof params !== 'object') throw new Error(`LLMEngine.addRequest: params { maxTokens, … } are required, got ${String(params)}`);
    const { maxTokens, temperature = 1, topK = null, topP = 1, n = 1, stopTokenIds = [] } = params;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`LLMEngine.addRequest: maxTokens must be a positive integer, got ${maxTokens}`);
    if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`LLMEngine.addRequest: temperature must be a finite number ≥ 0, got ${temperature}`);
    if (topK !== null && (!Number.isInteger(topK) || topK <= 0)) throw new Error(`LLMEngine.addRequest: topK must be a positive integer or null, got ${topK}`);
    if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new Error(`LLMEngine.addRequest: topP must be a number in (0, 1], got ${topP}`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LLMEngine.addRequest: n must be a positive integer, got ${n}`);
    if (!Array.isArray(stopTokenIds) || stopTokenIds.some((t) => !Number.isInteger(t))) throw new Error(`LLMEngine.addRequest: stopTokenIds must be an array of integers, got ${JSON.stringify(stopTokenIds)}`);
    if (n > this.maxNumSeqs) throw new Error(`LLMEngine.addRequest: n (${n}) exceeds maxNumSeqs (${this.maxNumSeqs}); its samples could never run together`);
    const total = prompt.length + maxTokens;
    // the last generated token is never fed back, so positions 0 … total − 2 are cached
    if (total - 1 > this.model.config.blockSize) {
      throw new Error(`LLMEngine.addRequest: prompt (${prompt.length}) + maxTokens (${maxTokens}) − 1 = ${total - 1} exceeds the model's block size ${this.model.config.blockSize}`);
    }
    const worst = n * Math.ceil((total - 1) / this.cache.blockSize);
    if (worst > this.cache.numBlocks) {
      throw new Error(`LLMEngine.addRequest: n (${n}) × ${Math.ceil((total - 1) / this.cache.blockSize)} blocks = ${worst} exceeds the pool's ${this.cache.numBlocks} blocks; lower n or maxTokens`);
    }
    const id = this.nextId++;
    const seed = params.seed ?? `${this.seed}:${id}`;
    const req = new RequestState(id, id, prompt, { maxTokens, temperature, topK, topP, n, seed, stopTokenIds });
    this.requests.set(id, req);
    this.scheduler.add(req);
    return id;
  }

  /** True while some request is unfinished. */
  hasUnfinished(): boolean {
    return this.requests.size > 0;
  }

  /** Ends a request now: its blocks go back to the pool (a disconnected client). False when unknown or finished. */
  abort(id: number): boolean {
    const req = this.requests.get(id);
    if (!req) return false;
    for (const s of req.seqs) {
      this.cache.free(s.table);
      if (s.finishReason === null) s.finishReason = 'abort';
    }
    this.finish(req);
    return true;
  }

  /**
   * Ends one sample of a request now (a stop string matched on the decoded text): its blocks
   * go back to the pool; the request finishes when its last sample does. False when unknown.
   */
  finishSample(id: number, index: number, reason: FinishReason = 'stop'): boolean {
    const req = this.requests.get(id);
    if (!req) return false;
    if (!req.forked) {
      if (index !== 0 || req.params.n !== 1) return false; // the samples do not exist yet
    }
    const seq = req.seqs[index];
    if (!seq || seq.finishReason !== null) return false;
    seq.finishReason = reason;
    this.cache.free(seq.table);
    if (req.live().length === 0) this.finish(req);
    return true;
  }

  /** A snapshot of the engine's counters and gauges (what /metrics exports). */
  stats(): EngineStats {
    let running = 0;
    let kvSlotsUsed = 0;
    for (const r of this.requests.values()) {
      if (r.holdsBlocks()) running++;
      for (const s of r.seqs) kvSlotsUsed += s.table.length;
    }
    return {
      blocksUsed: this.cache.numUsed, blocksFree: this.cache.numFree, kvSlotsUsed, running, waiting: this.requests.size - running,
      preemptions: this.preemptions, generatedTokens: this.generatedTokens, steps: this.steps,
    };
  }

  /**
   * One iteration: schedule, run one batched forward, sample. Returns the tokens emitted.
   */
  step(): TokenEvent[] {
    const active = [...this.requests.values()];
    if (active.length === 0) return [];
    let order = this.scheduler.order(active) as RequestState[];
    if (this.batching === 'static') {
      for (const r of this.staticBatch) if (r.finished) this.staticBatch.delete(r);
      if (this.staticBatch.size === 0) {
        // admit the next batch: requests in priority order while their samples fit
        let seqs = 0;
        for (const r of order) {
          if (seqs + r.params.n > this.maxNumSeqs) break;
          this.staticBatch.add(r);
          seqs += r.params.n;
        }
      }
      order = order.filter((r) => this.staticBatch.has(r));
    }
    const scheduled = new Set<RequestState>();
    const ranTokens = new Map<SchedRequest, number>();
    const chunks: RunChunk[] = [];
    const chunkSeq: [RequestState, Sequence][] = [];
    let tokensLeft = this.maxBatchTokens;
    let seqsLeft = this.maxNumSeqs;
    for (const req of order) {
      if (tokensLeft === 0 || seqsLeft === 0) break;
      const live = req.live();
      if (live.length > seqsLeft) continue;
      for (const seq of live) {
        if (tokensLeft === 0) break;
        const remaining = seq.tokens.length - seq.computed;
        const count = Math.min(remaining, tokensLeft);
        const newLen = seq.computed + count;
        // pool exhausted: preempt the lowest-priority requests holding blocks (recompute later)
        while (this.cache.blocksNeeded(seq.table, newLen) > this.cache.numFree) {
          const victim = this.lowestHolder(order, req, scheduled);
          if (!victim) break;
          this.preempt(victim);
        }
        if (this.cache.blocksNeeded(seq.table, newLen) > this.cache.numFree) break;
        this.cache.reserve(seq.table, newLen);
        chunks.push({ table: seq.table, tokens: seq.tokens.slice(seq.computed, newLen), start: seq.computed, wantLogits: newLen === seq.tokens.length });
        chunkSeq.push([req, seq]);
        seq.computed = newLen;
        tokensLeft -= count;
        seqsLeft--;
        scheduled.add(req);
        ranTokens.set(req, (ranTokens.get(req) ?? 0) + count);
      }
    }
    if (chunks.length === 0) {
      throw new Error(`LLMEngine.step: no sequence could be scheduled (${active.length} unfinished requests, ${this.cache.numFree} free blocks)`);
    }
    const logits = this.runner.forward(chunks);
    this.steps++;
    const events: TokenEvent[] = [];
    let li = 0;
    chunks.forEach((ch, ci) => {
      if (!ch.wantLogits) return;
      const [req, seq] = chunkSeq[ci]!;
      const row = logits[li++]!;
      if (!req.forked) {
        // the prompt's last position: the n samples fork off here, sharing the prompt's blocks
        req.forked = true;
        for (let i = 1; i < req.params.n; i++) {
          const s = new Sequence(i, req.prompt, sampleGenerator(req.params.seed, i));
          s.table = this.cache.fork(seq.table);
          s.computed = seq.computed;
          req.seqs.push(s);
        }
        for (const s of req.seqs) events.push(this.emit(req, s, row));
      } else {
        events.push(this.emit(req, seq, row));
      }
    });
    const waited = active.filter((r) => !scheduled.has(r) && !r.finished);
    this.scheduler.onStep(ranTokens, waited);
    for (const req of scheduled) if (req.live().length === 0) this.finish(req);
    return events;
  }

  /**
   * Steps until every request is finished; returns each request's samples (token ids, prompt excluded).
   */
  runToCompletion(onEvent?: (e: TokenEvent) => void): Map<number, number[][]> {
    const all = new Map<number, RequestState>(this.requests);
    while (this.hasUnfinished()) for (const e of this.step()) onEvent?.(e);
    const out = new Map<number, number[][]>();
    for (const [id, r] of all) out.set(id, r.seqs.map((s) => [...s.output]));
    return out;
  }

  /** The samples generated so far by a request still known to the engine (unfinished), or null. */
  outputs(id: number): number[][] | null {
    const r = this.requests.get(id);
    return r ? r.seqs.map((s) => [...s.output]) : null;
  }

  private emit(req: RequestState, seq: Sequence, row: Float32Array): TokenEvent {
    const p = req.params;
    const token = sampleToken(row, { temperature: p.temperature, topK: p.topK, topP: p.topP }, seq.gen);
    seq.output.push(token);
    seq.tokens.push(token);
    this.generatedTokens++;
    if (p.stopTokenIds.includes(token)) seq.finishReason = 'stop';
    else if (seq.output.length >= p.maxTokens) seq.finishReason = 'length';
    if (seq.finishReason !== null) this.cache.free(seq.table);
    return { requestId: req.id, index: seq.index, token, finishReason: seq.finishReason };
  }

  /** The lowest-priority request (far end of `order`) other than `than` and the already scheduled ones that holds blocks. */
  private lowestHolder(order: readonly RequestState[], than: RequestState, scheduled: ReadonlySet<RequestState>): RequestState | null {
    for (let i = order.length - 1; i >= 0; i--) {
      const r = order[i]!;
      if (r === than) return null; // never preempt a higher-priority request
      if (!scheduled.has(r) && r.holdsBlocks()) return r;
    }
    return null;
  }

  /** Frees every block of a request; its sequences recompute their tokens from position 0 later. */
  private preempt(req: RequestState): void {
    for (const s of req.seqs) {
      this.cache.free(s.table);
      s.computed = 0;
    }
    this.preemptions++;
  }

  private finish(req: RequestState): void {
    req.finished = true;
    this.requests.delete(req.id);
    this.scheduler.remove(req);
  }
}
