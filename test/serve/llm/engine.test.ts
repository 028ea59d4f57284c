import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, tensor } from '../../../src/index.js';
import { GPT, GPTConfig } from '../../../src/nn/gpt.js';
import { LLMEngine, type GenerationParams } from '../../../src/serve/llm/engine.js';
import { MLFQScheduler } from '../../../src/serve/llm/scheduler.js';
import { sampleToken } from '../../../src/serve/llm/sampling.js';
import { Generator } from '../../../src/tensor/random.js';

const V = 29;
manualSeed(5);
const gpt = new GPT(new GPTConfig({ vocabSize: V, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 16 })).eval();

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Req { prompt: number[]; params: GenerationParams }

/** A mix of short and long prompts/outputs, greedy and sampled, topK. */
function workload(seed: number, count: number): Req[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, (_, i) => {
    const promptLen = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 30 : 6));
    const prompt = Array.from({ length: promptLen }, () => Math.floor(rnd() * V));
    const maxTokens = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 25 : 6));
    const temperature = i % 4 === 0 ? 0 : 0.5 + rnd();
    const topK = i % 3 === 0 ? 5 : null;
    return { prompt, params: { maxTokens, temperature, topK, seed: 1000 + i } };
  });
}

/** What GPT.generate produces for the request (its seed reseeds the default generator). */
function viaGenerate(r: Req): number[] {
  const out = gpt.generate(tensor([r.prompt], { dtype: 'int32' }), {
    maxNewTokens: r.params.maxTokens, temperature: r.params.temperature, topK: r.params.topK ?? null, seed: r.params.seed,
  });
  return Array.from(out.toTypedArray()).slice(r.prompt.length);
}

function viaEngine(reqs: Req[], opts: ConstructorParameters<typeof LLMEngine>[1]): { out: number[][][]; engine: LLMEngine } {
  const engine = new LLMEngine(gpt, opts);
  const ids = reqs.map((r) => engine.addRequest(r.prompt, r.params));
  const res = engine.runToCompletion();
  return { out: ids.map((id) => res.get(id)!), engine };
}

describe('LLMEngine exactness: continuous batching, schedulers and preemption change nothing', () => {
  const reqs = workload(1, 14);
  const reference = reqs.map(viaGenerate);

  it('each request run alone equals GPT.generate with the same seed', () => {
    for (let i = 0; i < reqs.length; i++) expect(viaEngine([reqs[i]!], { numBlocks: 16 }).out[0]![0]).toEqual(reference[i]);
  });

  for (const scheduler of ['fcfs', 'mlfq'] as const) {
    it(`${scheduler}: all requests at once, a large pool, equal generate`, () => {
      const { out, engine } = viaEngine(reqs, { numBlocks: 64, scheduler });
      expect(out.map((o) => o[0])).toEqual(reference);
      expect(engine.stats()).toMatchObject({ blocksUsed: 0, blocksFree: 64, running: 0, waiting: 0, preemptions: 0 });
    });

    it(`${scheduler}: a pool too small for the batch forces preemptions (recompute), small batches force chunked prefill; outputs unchanged`, () => {
      const { out, engine } = viaEngine(reqs, { numBlocks: 5, scheduler, maxBatchTokens: 7, maxNumSeqs: 4 });
      expect(out.map((o) => o[0])).toEqual(reference);
      const s = engine.stats();
      expect(s.preemptions).toBeGreaterThan(0);
      expect([s.blocksUsed, s.blocksFree]).toEqual([0, 5]);
    });
  }

  it('requests arriving while others run (interleaved addRequest and step) equal generate', () => {
    const engine = new LLMEngine(gpt, { numBlocks: 6, scheduler: new MLFQScheduler({ baseQuantum: 1, starvationSteps: 5 }), maxNumSeqs: 3, maxBatchTokens: 16 });
    const ids: number[] = [];
    const outs = new Map<number, number[]>();
    let next = 0;
    while (next < reqs.length || engine.hasUnfinished()) {
      if (next < reqs.length) ids.push(engine.addRequest(reqs[next]!.prompt, reqs[next++]!.params));
      for (const e of engine.step()) {
        if (e.index === 0 && e.token !== null) outs.set(e.requestId, [...(outs.get(e.requestId) ?? []), e.token]);
      }
    }
    expect(ids.map((id) => outs.get(id))).toEqual(reference);
    expect(engine.stats().blocksUsed).toBe(0);
  });

  it("batching: 'static' (the baseline) admits a new batch only when the last has finished; outputs unchanged", () => {
    const engine = new LLMEngine(gpt, { numBlocks: 64, maxNumSeqs: 4, batching: 'static' });
    const ids = reqs.map((r) => engine.addRequest(r.prompt, r.params));
    const outs = new Map<number, number[]>();
    let batch = new Set<number>();
    const finished = new Set<number>();
    let batches = 0;
    while (engine.hasUnfinished()) {
      const evs = engine.step();
      const fresh = [...new Set(evs.map((e) => e.requestId))].filter((id) => !batch.has(id));
      if (fresh.length) {
        // a new batch starts only once every member of the last one has finished, and nobody joins a running batch
        expect([...batch].filter((b) => !finished.has(b))).toEqual([]);
        batch = new Set(evs.map((e) => e.requestId));
        batches++;
      }
      expect(batch.size).toBeLessThanOrEqual(4);
      for (const e of evs) {
        if (e.token !== null) outs.set(e.requestId, [...(outs.get(e.requestId) ?? []), e.token]);
        if (e.finishReason !== null) finished.add(e.requestId);
      }
    }
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(reqs.length / 4));
    expect(ids.map((id) => outs.get(id))).toEqual(reference);
    expect(engine.stats()).toMatchObject({ blocksUsed: 0, running: 0, waiting: 0 });
    expect(() => new LLMEngine(gpt, { numBlocks: 4, batching: 'dynamic' as never })).toThrow(/batching must be 'continuous' or 'static', got dynamic/);
  });

  it('n > 1: sample 0 is generate, every sample equals the same request run alone, the prompt blocks are shared copy-on-write', () => {
    const r: Req = { prompt: Array.from({ length: 35 }, (_, i) => (i * 7) % V), params: { maxTokens: 12, temperature: 1.2, topP: 0.9, n: 4, seed: 'abc' } };
    const alone = viaEngine([r], { numBlocks: 32 }).out[0]!;
    expect(alone).toHaveLength(4);
    expect(new Set(alone.map((s) => s.join(','))).size).toBeGreaterThan(1); // the samples differ
    const g = { ...r, params: { ...r.params, n: 1, topP: 1 } };
    expect(viaEngine([g], { numBlocks: 32 }).out[0]![0]).toEqual(viaGenerate(g));
    // sharing: right after the prompt's step the 4 samples hold the prompt's 3 blocks once
    const engine = new LLMEngine(gpt, { numBlocks: 32 });
    engine.addRequest(r.prompt, r.params);
    engine.step();
    expect(engine.stats().blocksUsed).toBe(3);
    engine.step(); // each sample writes position 35 into the shared 3rd block: 3 copies, the last writer keeps the original
    expect(engine.stats().blocksUsed).toBe(6);
    // mixed with other requests and preempted: the same samples
    const mixed = viaEngine([...reqs.slice(0, 5), r, ...reqs.slice(5)], { numBlocks: 12, scheduler: 'mlfq', maxBatchTokens: 9, maxNumSeqs: 10 });
    expect(mixed.out[5]).toEqual(alone);
    expect(mixed.engine.stats().preemptions).toBeGreaterThan(0);
  });

  it('stop token ids end a sample; abort frees its blocks at once', () => {
    const r = reqs[3]!;
    const ref = viaGenerate({ ...r, params: { ...r.params, maxTokens: 10 } });
    const stopAt = ref[4]!;
    const out = viaEngine([{ ...r, params: { ...r.params, maxTokens: 10, stopTokenIds: [stopAt] } }], { numBlocks: 8 }).out[0]![0]!;
    expect(out).toEqual(ref.slice(0, ref.indexOf(stopAt) + 1));
    const engine = new LLMEngine(gpt, { numBlocks: 8 });
    const id = engine.addRequest(Array.from({ length: 20 }, () => 1), { maxTokens: 30 });
    engine.step();
    expect(engine.stats().blocksUsed).toBe(2);
    expect(engine.abort(id)).toBe(true);
    expect(engine.stats()).toMatchObject({ blocksUsed: 0, running: 0, waiting: 0 });
    expect(engine.hasUnfinished()).toBe(false);
    expect(engine.abort(id)).toBe(false);
  });

  it('rejects invalid requests naming the parameter', () => {
    const e = new LLMEngine(gpt, { numBlocks: 4 });
    expect(() => e.addRequest([], { maxTokens: 1 })).toThrow(/prompt must be a non-empty array/);
    expect(() => e.addRequest([V], { maxTokens: 1 })).toThrow(/integers in \[0, 29\), got 29/);
    expect(() => e.addRequest([1], { maxTokens: 0 })).toThrow(/maxTokens must be a positive integer, got 0/);
    expect(() => e.addRequest([1], { maxTokens: 2, topP: 0 })).toThrow(/topP must be a number in \(0, 1\], got 0/);
    expect(() => e.addRequest([1], { maxTokens: 2, temperature: -1 })).toThrow(/temperature must be a finite number ≥ 0, got -1/);
    expect(() => e.addRequest([1], { maxTokens: 65 })).toThrow(/exceeds the model's block size 64/);
    expect(() => e.addRequest([1], { maxTokens: 40, n: 2 })).toThrow(/exceeds the pool's 4 blocks/);
    expect(() => new LLMEngine(gpt, { numBlocks: 4, scheduler: 'lifo' as never })).toThrow(/scheduler must be 'fcfs', 'mlfq' or a Scheduler, got lifo/);
  });
});

describe('MLFQScheduler (FastServe skip-join MLFQ)', () => {
  it('skip-join by prefill cost, demotion after the quantum, promotion after starvation, order by queue then arrival', () => {
    const s = new MLFQScheduler({ numQueues: 4, baseQuantum: 2, prefillTokensPerUnit: 8, starvationSteps: 3 });
    const a = { arrival: 0, promptLen: 8 }; // cost 1 ≤ q0 = 2 → Q0
    const b = { arrival: 1, promptLen: 30 }; // cost 4: q0 = 2 < 4 ≤ q1 = 4 → Q1
    const c = { arrival: 2, promptLen: 500 }; // cost 63 > q2 = 8 → the last queue Q3
    for (const r of [c, b, a]) s.add(r);
    expect([s.levelOf(a), s.levelOf(b), s.levelOf(c)]).toEqual([0, 1, 3]);
    expect(s.order([c, b, a])).toEqual([a, b, c]);
    s.onStep(new Map([[a, 8]]), [b, c]); // a used 1 of 2
    expect(s.levelOf(a)).toBe(0);
    s.onStep(new Map([[a, 1]]), [b, c]); // a used 2 of 2: demoted
    expect(s.levelOf(a)).toBe(1);
    expect(s.order([c, b, a])).toEqual([a, b, c]); // same queue: arrival order
    s.onStep(new Map([[a, 1]]), [b, c]); // b and c waited 3 steps: promoted to Q0
    expect([s.levelOf(b), s.levelOf(c)]).toEqual([0, 0]);
    expect(s.order([a, b, c])).toEqual([b, c, a]);
    expect(() => new MLFQScheduler({ baseQuantum: 0 })).toThrow(/baseQuantum must be a positive integer, got 0/);
  });

  it('MLFQ lets a short job overtake long ones when the batch is full (lower completion step than FCFS)', () => {
    const finishStep = (scheduler: 'fcfs' | 'mlfq') => {
      const e = new LLMEngine(gpt, { numBlocks: 32, scheduler, maxNumSeqs: 2 });
      e.addRequest([1, 2], { maxTokens: 40, temperature: 0 });
      e.addRequest([3, 4], { maxTokens: 40, temperature: 0 });
      const short = e.addRequest([5], { maxTokens: 2, temperature: 0 });
      let step = 0;
      while (e.hasUnfinished()) {
        step++;
        if (e.step().some((ev) => ev.requestId === short && ev.finishReason !== null)) return step;
      }
      return Infinity;
    };
    expect(finishStep('mlfq')).toBeLessThan(finishStep('fcfs'));
  });
});

describe('sampleToken', () => {
  it('greedy is the first argmax; topP keeps the nucleus; one draw per sample', () => {
    expect(sampleToken(new Float32Array([1, 3, 3, 0]), { temperature: 0, topK: null, topP: 1 }, new Generator(0))).toBe(1);
    // probabilities ∝ e^[4, 2, 0]: topP 0.5 keeps only token 0
    for (let s = 0; s < 20; s++) expect(sampleToken(new Float32Array([4, 2, 0]), { temperature: 1, topK: null, topP: 0.5 }, new Generator(s))).toBe(0);
    const g1 = new Generator(9), g2 = new Generator(9);
    sampleToken(new Float32Array([0, 0]), { temperature: 1, topK: null, topP: 1 }, g1);
    g2.random();
    expect(g1.random()).toBe(g2.random());
    expect(() => sampleToken(new Float32Array([NaN, NaN]), { temperature: 1, topK: null, topP: 1 }, g1)).toThrow(/not finite/);
  });
});

// keep noGrad imported for readers: the engine runs under noGrad itself
void noGrad;
