/**
 * `LOADTEST_ONLY=llm npm run loadtest` — the LLM engine's papers at small scale (issue #18 item 7),
 * in process on a random-weight GPT (4 layers, width 128, context 256; the engine's arithmetic does
 * not depend on the weights), bounded to about a minute:
 *
 *   rates   open-loop Poisson arrivals at 4, 16 and 48 requests/s for 3 s (prompts 8–32 tokens,
 *           outputs 16–64): one at a time (maxNumSeqs 1) vs static batching (batches of up to 8,
 *           the next batch starts when the whole batch is done) vs continuous batching (Orca:
 *           join/leave every step, maxNumSeqs 32). Throughput, p50/p99 time per output token, p99
 *           end-to-end latency (unfinished after a 6 s drain are counted as unfinished).
 *   memory  KV slots per running sequence, sampled every step of the continuous run at 16 req/s:
 *           tokens stored vs paged allocation (blocks · 16) vs contiguous pre-allocation to the
 *           maximum length (prompt + max_tokens of the request, and the model's context 256).
 *   jct     FastServe's claim: 48 requests arriving 1 per step, output lengths heavy-tailed
 *           (Pareto α = 1.1, 4–200 tokens), maxNumSeqs 4: mean and p95 job completion time in
 *           engine steps (machine-independent) and seconds, FCFS vs skip-join MLFQ.
 *
 * Writes loadtest/llm-results.json, loadtest/llm-results.md, loadtest/llm-throughput.svg.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/random.js';
import { GPT, GPTConfig } from '../src/nn/gpt.js';
import { LLMEngine, type EngineOptions } from '../src/serve/llm/engine.js';
import { lineChartSvg } from '../src/utils/svg.js';
import { ROOT, percentile } from './lib.js';

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Spec { prompt: number[]; maxTokens: number; at: number }
interface RateResult { mode: string; rate: number; requests: number; finished: number; tokens: number; seconds: number; throughput: number; tpotP50: number; tpotP99: number; e2eP99: number }

const V = 64;
manualSeed(0);
const gpt = new GPT(new GPTConfig({ vocabSize: V, blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 })).eval();

function workload(rate: number, seconds: number, seed: number): Spec[] {
  const rnd = lcg(seed);
  const out: Spec[] = [];
  for (let t = -Math.log(1 - rnd()) / rate; t < seconds; t += -Math.log(1 - rnd()) / rate) {
    const pl = 8 + Math.floor(rnd() * 25);
    out.push({ prompt: Array.from({ length: pl }, () => Math.floor(rnd() * V)), maxTokens: 16 + Math.floor(rnd() * 49), at: t * 1000 });
  }
  return out;
}

/** Runs one open-loop cell; `staticBatch` admits a new batch only when the engine is empty. */
function runRate(mode: string, specs: Spec[], opts: EngineOptions, staticBatch: number | null, onStep?: (e: LLMEngine) => void): Omit<RateResult, 'mode' | 'rate'> {
  const engine = new LLMEngine(gpt, opts);
  const t0 = performance.now();
  const arrived: number[] = [];
  const first = new Map<number, number>(), last = new Map<number, number>(), count = new Map<number, number>(), arrival = new Map<number, number>();
  const done = new Set<number>();
  let next = 0;
  const queue: Spec[] = [];
  const drainEnd = 3000 + 6000;
  let tokens = 0;
  while (true) {
    const now = performance.now() - t0;
    while (next < specs.length && specs[next]!.at <= now) queue.push(specs[next++]!);
    const admit = (s: Spec) => {
      const id = engine.addRequest(s.prompt, { maxTokens: s.maxTokens, temperature: 1, seed: arrived.length });
      arrived.push(id);
      arrival.set(id, s.at);
    };
    if (staticBatch === null) while (queue.length) admit(queue.shift()!);
    else if (!engine.hasUnfinished()) for (let k = 0; k < staticBatch && queue.length; k++) admit(queue.shift()!);
    if (!engine.hasUnfinished()) {
      if (next >= specs.length && queue.length === 0) break;
      const wait = specs[next]!.at - (performance.now() - t0);
      if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
      continue;
    }
    if (now > drainEnd) break;
    const evs = engine.step();
    onStep?.(engine);
    const t = performance.now() - t0;
    for (const e of evs) {
      if (e.token === null) continue;
      tokens++;
      if (!first.has(e.requestId)) first.set(e.requestId, t);
      last.set(e.requestId, t);
      count.set(e.requestId, (count.get(e.requestId) ?? 0) + 1);
      if (e.finishReason !== null) done.add(e.requestId);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const tpot = [...done].filter((id) => count.get(id)! > 1).map((id) => (last.get(id)! - first.get(id)!) / (count.get(id)! - 1)).sort((a, b) => a - b);
  const e2e = [...done].map((id) => last.get(id)! - arrival.get(id)!).sort((a, b) => a - b);
  return { requests: specs.length, finished: done.size, tokens, seconds, throughput: tokens / seconds, tpotP50: percentile(tpot, 50), tpotP99: percentile(tpot, 99), e2eP99: percentile(e2e, 99) };
}

function pareto(rnd: () => number, alpha: number, min: number, max: number): number {
  return Math.min(max, Math.floor(min / Math.pow(1 - rnd(), 1 / alpha)));
}

function runJct(scheduler: 'fcfs' | 'mlfq'): { meanSteps: number; p95Steps: number; meanSeconds: number; p95Seconds: number } {
  const rnd = lcg(99);
  const specs = Array.from({ length: 48 }, () => ({ prompt: Array.from({ length: 8 }, () => Math.floor(rnd() * V)), maxTokens: pareto(rnd, 1.1, 4, 200) }));
  const engine = new LLMEngine(gpt, { numBlocks: 256, maxNumSeqs: 4, scheduler });
  const arrivedStep = new Map<number, number>(), arrivedMs = new Map<number, number>();
  const jSteps: number[] = [], jMs: number[] = [];
  const t0 = performance.now();
  let step = 0, next = 0;
  while (next < specs.length || engine.hasUnfinished()) {
    if (next < specs.length) {
      const s = specs[next++]!;
      const id = engine.addRequest(s.prompt, { maxTokens: s.maxTokens, temperature: 0 });
      arrivedStep.set(id, step);
      arrivedMs.set(id, performance.now() - t0);
    }
    const evs = engine.step();
    step++;
    for (const e of evs) if (e.finishReason !== null) {
      jSteps.push(step - arrivedStep.get(e.requestId)!);
      jMs.push(performance.now() - t0 - arrivedMs.get(e.requestId)!);
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  jSteps.sort((a, b) => a - b);
  jMs.sort((a, b) => a - b);
  return { meanSteps: mean(jSteps), p95Steps: percentile(jSteps, 95), meanSeconds: mean(jMs) / 1000, p95Seconds: percentile(jMs, 95) / 1000 };
}

export async function runLLMLoadtest(): Promise<void> {
  const t0 = performance.now();
  const RATES = [4, 16, 48];
  const MODES: [string, EngineOptions, number | null][] = [
    ['one at a time', { numBlocks: 1024, maxNumSeqs: 1 }, null],
    ['static batching (8)', { numBlocks: 1024, maxNumSeqs: 8 }, 8],
    ['continuous batching', { numBlocks: 1024, maxNumSeqs: 32 }, null],
  ];
  const rates: RateResult[] = [];
  const mem = { tokens: 0, paged: 0, contiguousRequest: 0, contiguousContext: 0, samples: 0 };
  for (const rate of RATES) {
    const specs = workload(rate, 3, rate);
    for (const [mode, opts, sb] of MODES) {
      const probe = mode === 'continuous batching' && rate === 16 ? (e: LLMEngine) => {
        const s = e.stats();
        if (s.running === 0) return;
        mem.tokens += s.kvSlotsUsed / s.running;
        mem.paged += (s.blocksUsed * 16) / s.running;
        mem.contiguousContext += 256;
        mem.samples++;
      } : undefined;
      const r = { mode, rate, ...runRate(mode, specs, opts, sb, probe) };
      rates.push(r);
      console.log(`${mode.padEnd(20)} ${rate} req/s: ${fmt(r.throughput)} tok/s, TPOT p50 ${fmt(r.tpotP50)} ms p99 ${fmt(r.tpotP99)} ms, e2e p99 ${fmt(r.e2eP99)} ms, finished ${r.finished}/${r.requests}`);
    }
  }
  const meanReqMax = workload(16, 3, 16).reduce((a, s) => a + s.prompt.length + s.maxTokens - 1, 0) / workload(16, 3, 16).length;
  const memory = {
    tokensPerSeq: mem.tokens / mem.samples, pagedSlotsPerSeq: mem.paged / mem.samples, contiguousRequestMaxSlots: meanReqMax, contiguousContextSlots: 256,
  };
  console.log(`memory per running sequence: ${fmt(memory.tokensPerSeq)} tokens stored, paged ${fmt(memory.pagedSlotsPerSeq)} slots, contiguous ${fmt(meanReqMax)} (request max) / 256 (context)`);
  const jct = { fcfs: runJct('fcfs'), mlfq: runJct('mlfq') };
  console.log(`JCT fcfs mean ${fmt(jct.fcfs.meanSteps)} steps p95 ${fmt(jct.fcfs.p95Steps)}; mlfq mean ${fmt(jct.mlfq.meanSteps)} p95 ${fmt(jct.mlfq.p95Steps)}`);

  const out = { date: new Date().toISOString(), model: 'random GPT: 4 layers, 4 heads, width 128, vocab 64, context 256', rates, memory, jct };
  writeFileSync(join(ROOT, 'loadtest/llm-results.json'), JSON.stringify(out, null, 2) + '\n');
  const md = ['# LLM engine — load test (issue #18)', '', `${out.date} · ${out.model} · in-process engine (no HTTP), 2-core machine shared with other jobs`, '',
    '| mode | rate req/s | finished | tokens/s | TPOT p50 ms | TPOT p99 ms | end-to-end p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rates) md.push(`| ${r.mode} | ${r.rate} | ${r.finished}/${r.requests} | ${fmt(r.throughput)} | ${fmt(r.tpotP50)} | ${fmt(r.tpotP99)} | ${fmt(r.e2eP99)} |`);
  const top = RATES.at(-1)!;
  const one = rates.find((r) => r.mode === 'one at a time' && r.rate === top)!, cont = rates.find((r) => r.mode === 'continuous batching' && r.rate === top)!;
  const one4 = rates.find((r) => r.mode === 'one at a time' && r.rate === 4)!, cont4 = rates.find((r) => r.mode === 'continuous batching' && r.rate === 4)!;
  md.push('', `Tokens/s is generated tokens over the cell's wall time (arrivals for 3 s, then a drain of at most 6 s). At ${top} req/s continuous batching sustains ${fmt(cont.throughput / one.throughput, 2)}× the tokens/s of one at a time (target ≥ 3×: ${cont.throughput >= 3 * one.throughput ? 'met' : 'not met'}); ` +
    `at 4 req/s its p99 end-to-end latency is ${fmt(cont4.e2eP99)} ms vs ${fmt(one4.e2eP99)} ms (target no worse: ${cont4.e2eP99 <= one4.e2eP99 ? 'met' : 'not met'}).`);
  md.push('', `KV memory per running sequence (continuous, 16 req/s, mean over steps): ${fmt(memory.tokensPerSeq)} tokens stored; paged allocation ${fmt(memory.pagedSlotsPerSeq)} slots ` +
    `(${fmt(100 * (1 - memory.tokensPerSeq / memory.pagedSlotsPerSeq))} % unused); contiguous pre-allocation to the request's maximum ${fmt(memory.contiguousRequestMaxSlots)} slots, to the context 256 slots ` +
    `(${fmt(100 * (1 - memory.tokensPerSeq / 256))} % unused).`);
  md.push('', '| scheduler | mean JCT (steps) | p95 JCT (steps) | mean JCT s | p95 JCT s |', '| --- | ---: | ---: | ---: | ---: |');
  for (const [k, v] of Object.entries(jct)) md.push(`| ${k} | ${fmt(v.meanSteps)} | ${fmt(v.p95Steps)} | ${fmt(v.meanSeconds, 2)} | ${fmt(v.p95Seconds, 2)} |`);
  md.push('', `Heavy-tailed mix (48 requests, Pareto α 1.1 output lengths 4–200, 4 sequences per step): MLFQ mean JCT ${fmt(jct.mlfq.meanSteps)} vs FCFS ${fmt(jct.fcfs.meanSteps)} steps (target lower: ${jct.mlfq.meanSteps < jct.fcfs.meanSteps ? 'met' : 'not met'}).`);
  writeFileSync(join(ROOT, 'loadtest/llm-results.md'), md.join('\n') + '\n');
  writeFileSync(join(ROOT, 'loadtest/llm-throughput.svg'), lineChartSvg({
    title: 'LLM engine: tokens/s and p99 TPOT vs request rate', xLabel: 'request rate (req/s)', leftLabel: 'tokens / s', rightLabel: 'p99 TPOT, ms', xTicks: RATES.map(String),
    series: MODES.flatMap(([mode], i) => [
      { name: `tok/s, ${mode}`, values: rates.filter((r) => r.mode === mode).map((r) => r.throughput), color: ['#ff7f0e', '#9467bd', '#1f77b4'][i]!, axis: 'left' as const },
      { name: `p99 TPOT, ${mode}`, values: rates.filter((r) => r.mode === mode).map((r) => r.tpotP99), color: ['#d62728', '#8c564b', '#2ca02c'][i]!, axis: 'right' as const },
    ]),
  }));
  console.log(`llm loadtest done in ${fmt((performance.now() - t0) / 1000)} s`);
}
