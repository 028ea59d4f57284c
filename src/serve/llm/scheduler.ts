/**
 * Request schedulers of the serving engine, behind one interface. Each engine step asks the
 * scheduler for a priority order of the unfinished requests; the engine fills the batch in that
 * order (iteration-level scheduling, Orca: Yu et al. 2022, OSDI — requests join and leave at
 * every step) and preempts from the far end of the order when the KV pool runs out.
 *
 * - `FCFSScheduler`: arrival order (vLLM's default policy).
 * - `MLFQScheduler`: FastServe's skip-join multi-level feedback queue (Wu et al. 2023, "Fast
 *   Distributed Inference Serving for Large Language Models", §4.1). Queues Q0 … Q(K−1) with
 *   quanta q_k = baseQuantum·2^k (in cost units: one decode iteration = 1, a prefill of `t`
 *   tokens = ⌈t / prefillTokensPerUnit⌉). A new job SKIPS the queues whose quantum is below its
 *   first-iteration (prefill) cost and JOINS the highest queue whose quantum covers it; a job that
 *   uses up its queue's quantum is demoted one level; a job not scheduled for `starvationSteps`
 *   steps is promoted back to Q0 (starvation prevention). Within a queue: arrival order.
 */

/** What a scheduler sees of a request. */
export interface SchedRequest {
  /** Arrival number, strictly increasing (FCFS order and the tie-break within a queue). */
  readonly arrival: number;
  /** Prompt length in tokens (its first-iteration cost). */
  readonly promptLen: number;
}

/** A scheduling policy for `LLMEngine`. */
export interface Scheduler {
  /** Short name of the policy, e.g. 'fcfs' or 'mlfq' (reported in logs and metrics). */
  readonly name: string;
  /** A new request arrived. */
  add(req: SchedRequest): void;
  /** The requests in priority order, highest first (a new array). */
  order(reqs: readonly SchedRequest[]): SchedRequest[];
  /** After a step: `ran` maps each scheduled request to the tokens it computed (prefill chunk or 1 per decoding sample); `waited` were not scheduled. */
  onStep(ran: ReadonlyMap<SchedRequest, number>, waited: readonly SchedRequest[]): void;
  /** The request finished or was aborted. */
  remove(req: SchedRequest): void;
}

/**
 * First come, first served: arrival order.
 * @example
 * const engine = new LLMEngine(gpt, { numBlocks: 64, scheduler: new FCFSScheduler() });
 */
export class FCFSScheduler implements Scheduler {
  /** Always 'fcfs'. */
  readonly name = 'fcfs';
  add(): void {}
  order(reqs: readonly SchedRequest[]): SchedRequest[] {
    return [...reqs].sort((a, b) => a.arrival - b.arrival);
  }
  onStep(): void {}
  remove(): void {}
}

/** Options of {@link MLFQScheduler}: the number of priority queues, the base quantum, how prefill tokens count against it, and the anti-starvation limit. */
export interface MLFQOptions {
  /** Number of queues K (default 4). */
  numQueues?: number;
  /** Quantum of Q0 in cost units (default 4); Q_k's is baseQuantum·2^k. */
  baseQuantum?: number;
  /** Prefill tokens that cost as much as one decode iteration (default 16). */
  prefillTokensPerUnit?: number;
  /** A request not scheduled for this many consecutive steps is promoted to Q0 (default 64). */
  starvationSteps?: number;
}

interface MLFQState {
  level: number;
  /** Cost units used in the current queue. */
  attained: number;
  /** Consecutive steps not scheduled. */
  waited: number;
}

/**
 * FastServe's skip-join MLFQ (see the file header).
 * @example
 * const engine = new LLMEngine(gpt, { numBlocks: 64, scheduler: new MLFQScheduler({ numQueues: 4, baseQuantum: 2 }) });
 */
export class MLFQScheduler implements Scheduler {
  /** Always 'mlfq'. */
  readonly name = 'mlfq';
  /** Number of priority queues K (default 4). */
  readonly numQueues: number;
  /** Quantum of Q0 in cost units (default 4); Q_k's is baseQuantum·2^k. */
  readonly baseQuantum: number;
  /** Prefill tokens that cost as much as one decode iteration (default 16). */
  readonly prefillTokensPerUnit: number;
  /** A request not scheduled for this many consecutive steps is promoted to Q0 (default 64). */
  readonly starvationSteps: number;
  private readonly state = new Map<SchedRequest, MLFQState>();

  constructor(opts: MLFQOptions = {}) {
    const { numQueues = 4, baseQuantum = 4, prefillTokensPerUnit = 16, starvationSteps = 64 } = opts;
    for (const [k, v] of [['numQueues', numQueues], ['baseQuantum', baseQuantum], ['prefillTokensPerUnit', prefillTokensPerUnit], ['starvationSteps', starvationSteps]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`MLFQScheduler: ${k} must be a positive integer, got ${v}`);
    }
    this.numQueues = numQueues;
    this.baseQuantum = baseQuantum;
    this.prefillTokensPerUnit = prefillTokensPerUnit;
    this.starvationSteps = starvationSteps;
  }

  /** Quantum of queue k: baseQuantum·2^k cost units. */
  quantum(k: number): number {
    return this.baseQuantum * 2 ** k;
  }

  /** Cost units of computing `tokens` tokens of one request in one step (a decode token = 1). */
  cost(tokens: number): number {
    return Math.max(1, Math.ceil(tokens / this.prefillTokensPerUnit));
  }

  /** The queue a request is in (for tests and metrics); −1 when unknown. */
  levelOf(req: SchedRequest): number {
    return this.state.get(req)?.level ?? -1;
  }

  add(req: SchedRequest): void {
    // skip-join: the highest-priority queue whose quantum covers the first iteration (prefill)
    const first = this.cost(req.promptLen);
    let level = 0;
    while (level < this.numQueues - 1 && this.quantum(level) < first) level++;
    this.state.set(req, { level, attained: 0, waited: 0 });
  }

  order(reqs: readonly SchedRequest[]): SchedRequest[] {
    const lv = (r: SchedRequest) => this.state.get(r)?.level ?? this.numQueues;
    return [...reqs].sort((a, b) => lv(a) - lv(b) || a.arrival - b.arrival);
  }

  onStep(ran: ReadonlyMap<SchedRequest, number>, waited: readonly SchedRequest[]): void {
    for (const [r, tokens] of ran) {
      const s = this.state.get(r);
      if (!s) continue;
      s.waited = 0;
      s.attained += this.cost(tokens);
      if (s.attained >= this.quantum(s.level)) {
        // used up its quantum: demoted one level (the last queue keeps it)
        if (s.level < this.numQueues - 1) s.level++;
        s.attained = 0;
      }
    }
    for (const r of waited) {
      const s = this.state.get(r);
      if (!s) continue;
      if (++s.waited >= this.starvationSteps) {
        // starvation prevention: back to the top queue
        s.level = 0;
        s.attained = 0;
        s.waited = 0;
      }
    }
  }

  remove(req: SchedRequest): void {
    this.state.delete(req);
  }
}
