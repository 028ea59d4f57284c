/**
 * `LOADTEST_ONLY=llm npm run loadtest` — the LLM engine's papers at small scale (issue #18 item 7),
 * over HTTP: `tensorgrad serve` on a GPT folder runs as a child process on 127.0.0.1 and this
 * process is the client (POST /v1/completions with `stream: true`, one SSE chunk per token, so
 * that every token's arrival is timed). The model is a random-weight character GPT (4 layers,
 * width 128, 64 characters, context 256; the engine's arithmetic does not depend on the weights),
 * written to out/llm-loadtest. Bounded to about two minutes:
 *
 *   rates   open-loop Poisson arrivals at 4, 16 and 48 requests/s for 3 s (prompts 8–32
 *           characters, outputs 16–64 tokens): one at a time (--max-batch 1) vs static batching
 *           (--max-batch 8 --batching static: the next batch starts when the whole batch is done)
 *           vs continuous batching (Orca: join/leave every step, --max-batch 32). Tokens/s,
 *           p50/p99 time per output token, p99 end-to-end latency; requests unfinished after a
 *           6 s drain are aborted by the client and counted as unfinished.
 *   memory  KV slots per running sequence from the server's /metrics, polled every 50 ms during
 *           the continuous run at 16 req/s: tokens stored vs paged allocation (blocks · 16) vs
 *           contiguous pre-allocation to the request's maximum length and to the context.
 *   jct     (LOADTEST_ONLY=llm-jct) FastServe's claim, in the engine without HTTP (job completion time counted in engine
 *           steps, which no machine load can disturb): 8 seeds × 48 requests arriving one per
 *           step, output lengths heavy-tailed (Pareto α = 1.1, 4–200 tokens), 4 sequences per
 *           step; mean, p50, p95 and p99 over the 384 jobs, FCFS vs skip-join MLFQ.
 *   soak    (LOADTEST_ONLY=llm-soak) thousands of mixed streaming / non-streaming requests with
 *           random client disconnects against a tiny GPT server: nothing lost, every KV block
 *           back in the pool at the end, server RSS after warm-up ≤ +10 %.
 *
 * LOADTEST_ONLY=llm runs rates and memory; each section keeps the others' last results in
 * loadtest/llm-results.json. Writes loadtest/llm-results.json, loadtest/llm-results.md,
 * loadtest/llm-throughput.svg.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/random.js';
import { GPT, GPTConfig } from '../src/nn/gpt.js';
import { CharGPT, CharVocab } from '../src/tasks/gpt-char.js';
import { LLMEngine } from '../src/serve/llm/engine.js';
import { FCFSScheduler, MLFQScheduler, type Scheduler } from '../src/serve/llm/scheduler.js';
import { lineChartSvg } from '../src/utils/svg.js';
import { ROOT, percentile, request, startServeProcess, type ServeProcess } from './lib.js';

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);

const CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n'];
const CONTEXT = 256;
const MODEL = `random character GPT: 4 layers, 4 heads, width 128, ${CHARS.length} characters, context ${CONTEXT}`;

/** The load test's GPT folder (written once, seeded). */
function modelFolder(): string {
  const dir = join(ROOT, 'out/llm-loadtest');
  const cfg = join(dir, 'config.json');
  if (!existsSync(cfg) || (JSON.parse(readFileSync(cfg, 'utf8')) as { n_embd?: number }).n_embd !== 128) {
    mkdirSync(dir, { recursive: true });
    manualSeed(0);
    const vocab = new CharVocab(CHARS);
    new CharGPT(new GPT(new GPTConfig({ vocabSize: vocab.size, blockSize: CONTEXT, nLayer: 4, nHead: 4, nEmbd: 128 })), vocab).save(dir);
  }
  return dir;
}

interface Spec { prompt: string; maxTokens: number; at: number }
interface RateResult {
  mode: string; rate: number; requests: number; finished: number; tokens: number; seconds: number; throughput: number;
  tpotP50: number; tpotP99: number; e2eP50: number; e2eP99: number; statuses: Record<string, number>;
}

function workload(rate: number, seconds: number, seed: number): Spec[] {
  const rnd = lcg(seed);
  const out: Spec[] = [];
  for (let t = -Math.log(1 - rnd()) / rate; t < seconds; t += -Math.log(1 - rnd()) / rate) {
    const pl = 8 + Math.floor(rnd() * 25);
    out.push({ prompt: Array.from({ length: pl }, () => CHARS[Math.floor(rnd() * (CHARS.length - 1))]!).join(''), maxTokens: 16 + Math.floor(rnd() * 49), at: t * 1000 });
  }
  return out;
}

interface StreamTiming { status: number; tokens: number[]; done: boolean }

/**
 * One streamed completion; resolves with the arrival time (ms, performance.now) of each token
 * chunk. `signal.abort()` disconnects (the server frees the request's blocks).
 */
function streamCompletion(url: string, agent: http.Agent, body: string, signal: AbortSignal): Promise<StreamTiming> {
  return new Promise((resolve) => {
    const out: StreamTiming = { status: 0, tokens: [], done: false };
    const req = http.request(url + '/v1/completions', { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      out.status = res.statusCode ?? 0;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const now = performance.now();
        buf += c;
        let k: number;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, k);
          buf = buf.slice(k + 2);
          if (ev === 'data: [DONE]') out.done = true;
          else if (ev.startsWith('data: ')) out.tokens.push(now);
        }
      });
      res.on('end', () => resolve(out));
      res.on('error', () => resolve(out));
      res.on('close', () => resolve(out));
    });
    req.on('error', () => resolve(out));
    const abort = () => req.destroy();
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    req.end(body);
  });
}

async function metricsOf(url: string, agent: http.Agent): Promise<Record<string, number>> {
  const text = (await request(url, agent, 'GET', '/metrics')).body;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^([a-z_]+) (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** One open-loop cell: arrivals for `specs`, then a drain of at most DRAIN_MS; the rest is aborted. */
async function runRate(url: string, specs: Spec[], onTick?: () => Promise<void>): Promise<Omit<RateResult, 'mode' | 'rate'>> {
  const DRAIN_MS = 6000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const ctl = new AbortController();
  setMaxListeners(0, ctl.signal); // one listener per request of the cell
  const t0 = performance.now();
  const arrivalsEnd = Math.max(...specs.map((s) => s.at));
  const results: { at: number; t: StreamTiming }[] = [];
  const pending = specs.map(async (s, i) => {
    const wait = s.at - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = performance.now();
    const body = JSON.stringify({ prompt: s.prompt, max_tokens: s.maxTokens, temperature: 1, seed: i, stream: true });
    results.push({ at, t: await streamCompletion(url, agent, body, ctl.signal) });
  });
  let ticking = true;
  const ticker = (async () => {
    while (ticking && onTick) {
      await onTick();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const all = Promise.all(pending);
  const deadline = new Promise<void>((r) => setTimeout(r, Math.max(0, arrivalsEnd + DRAIN_MS - (performance.now() - t0))));
  await Promise.race([all, deadline]);
  const tEnd = performance.now();
  ctl.abort(); // the unfinished are disconnected: the server frees their blocks
  await all;
  ticking = false;
  await ticker;
  agent.destroy();
  const seconds = (tEnd - t0) / 1000;
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.t.status] = (statuses[r.t.status] ?? 0) + 1;
  const done = results.filter((r) => r.t.done);
  const tokens = results.reduce((n, r) => n + r.t.tokens.filter((x) => x <= tEnd).length, 0);
  const tpot = done.filter((r) => r.t.tokens.length > 1).map((r) => (r.t.tokens.at(-1)! - r.t.tokens[0]!) / (r.t.tokens.length - 1)).sort((a, b) => a - b);
  const e2e = done.map((r) => r.t.tokens.at(-1)! - r.at).sort((a, b) => a - b);
  return {
    requests: specs.length, finished: done.length, tokens, seconds, throughput: tokens / seconds,
    tpotP50: percentile(tpot, 50), tpotP99: percentile(tpot, 99), e2eP50: percentile(e2e, 50), e2eP99: percentile(e2e, 99), statuses,
  };
}

function pareto(rnd: () => number, alpha: number, min: number, max: number): number {
  return Math.min(max, Math.floor(min / Math.pow(1 - rnd(), 1 / alpha)));
}

interface JctResult { meanSteps: number; p50Steps: number; p95Steps: number; p99Steps: number; jobs: number; perSeedP95: number[] }

/** 8 seeds × 48 heavy-tailed requests, one arriving per step, 4 sequences per step; JCT in engine steps. */
function runJct(gpt: GPT, make: () => Scheduler): JctResult {
  const all: number[] = [];
  const perSeedP95: number[] = [];
  for (let k = 1; k <= 8; k++) {
    const rnd = lcg(7919 * k);
    const specs = Array.from({ length: 48 }, () => ({ prompt: Array.from({ length: 8 }, () => Math.floor(rnd() * CHARS.length)), maxTokens: pareto(rnd, 1.1, 4, 200) }));
    const engine = new LLMEngine(gpt, { numBlocks: 512, maxNumSeqs: 4, scheduler: make() });
    const arrived = new Map<number, number>();
    const jobs: number[] = [];
    let step = 0, next = 0;
    while (next < specs.length || engine.hasUnfinished()) {
      if (next < specs.length) {
        const s = specs[next++]!;
        arrived.set(engine.addRequest(s.prompt, { maxTokens: s.maxTokens, temperature: 0 }), step);
      }
      const evs = engine.step();
      step++;
      for (const e of evs) if (e.finishReason !== null) jobs.push(step - arrived.get(e.requestId)!);
    }
    jobs.sort((a, b) => a - b);
    perSeedP95.push(percentile(jobs, 95));
    all.push(...jobs);
  }
  all.sort((a, b) => a - b);
  return { meanSteps: mean(all), p50Steps: percentile(all, 50), p95Steps: percentile(all, 95), p99Steps: percentile(all, 99), jobs: all.length, perSeedP95 };
}

interface LLMSoakResult { sent: number; ok: number; disconnected: number; wrong: number; wrongExamples: string[]; seconds: number; blocksUsedEnd: number; blocksFreeEnd: number; rssWarmMiB: number; rssEndMiB: number; growth: number }

/**
 * Thousands of mixed requests (streamed or not, n = 1 or 2, random disconnects) against a tiny
 * GPT server, 32 at a time, bounded by `requests` and `maxMs`. A request that was not
 * disconnected must get 200 and exactly max_tokens tokens per sample.
 */
async function llmSoak(requests: number, maxMs: number): Promise<LLMSoakResult> {
  const dir = join(ROOT, 'out/llm-soak');
  manualSeed(21);
  const vocab = new CharVocab([...'\n .abcdefghijklmnop']);
  new CharGPT(new GPT(new GPTConfig({ vocabSize: vocab.size, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 16 })), vocab).save(dir);
  const srv = await startServeProcess(dir, ['--kv-blocks', '48', '--max-batch', '16']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const rnd = lcg(12345);
  const res: LLMSoakResult = { sent: 0, ok: 0, disconnected: 0, wrong: 0, wrongExamples: [], seconds: 0, blocksUsedEnd: NaN, blocksFreeEnd: NaN, rssWarmMiB: NaN, rssEndMiB: NaN, growth: NaN };
  const fail = (m: string) => {
    res.wrong++;
    if (res.wrongExamples.length < 5) res.wrongExamples.push(m.slice(0, 300));
  };
  const t0 = performance.now();
  let i = 0;
  const warmAt = Math.floor(requests / 4);
  let warmRss = NaN;
  const one = async (k: number) => {
    const maxTokens = 1 + Math.floor(rnd() * 20);
    const stream = rnd() < 0.5;
    const n = k % 7 === 0 ? 2 : 1;
    const disconnect = rnd() < 0.15 ? Math.floor(rnd() * 20) : -1;
    const body = JSON.stringify({ prompt: 'ab '.repeat(1 + (k % 5)), max_tokens: maxTokens, seed: k, stream, n });
    res.sent++;
    try {
      const r = await request(srv.url, agent, 'POST', '/v1/completions', body, disconnect >= 0 ? { abortAfterMs: disconnect } : {});
      if (r.status !== 200) return fail(`${r.status} ${r.body}`);
      if (stream) {
        const ev = r.body.split('\n\n').filter(Boolean);
        if (ev.at(-1) !== 'data: [DONE]' || ev.length - 1 !== maxTokens * n) return fail(`stream of ${ev.length - 1} chunks, expected ${maxTokens * n}: ${r.body.slice(-200)}`);
      } else {
        const j = JSON.parse(r.body) as { choices: { text: string }[] };
        if (j.choices.length !== n || j.choices.some((c) => c.text.length !== maxTokens)) return fail(`choices ${r.body}`);
      }
      res.ok++;
    } catch {
      if (disconnect >= 0) res.disconnected++;
      else fail('no answer');
    }
  };
  const client = async () => {
    while (i < requests && performance.now() - t0 < maxMs) {
      const k = i++;
      await one(k);
      if (k === warmAt) warmRss = (await metricsOf(srv.url, agent)).process_resident_memory_bytes!;
    }
  };
  await Promise.all(Array.from({ length: 32 }, client));
  res.seconds = (performance.now() - t0) / 1000;
  // every block back: wait (≤ 5 s) for the aborted requests' blocks to be freed
  let m = await metricsOf(srv.url, agent);
  for (let k = 0; k < 50 && (m.tensorgrad_llm_kv_blocks_used !== 0 || m.tensorgrad_llm_running_requests !== 0); k++) {
    await new Promise((r) => setTimeout(r, 100));
    m = await metricsOf(srv.url, agent);
  }
  agent.destroy();
  res.blocksUsedEnd = m.tensorgrad_llm_kv_blocks_used!;
  res.blocksFreeEnd = m.tensorgrad_llm_kv_blocks_free!;
  res.rssWarmMiB = warmRss / 2 ** 20;
  res.rssEndMiB = m.process_resident_memory_bytes! / 2 ** 20;
  res.growth = res.rssEndMiB / res.rssWarmMiB - 1;
  await srv.stop();
  return res;
}

export async function runLLMLoadtest(sections: { rates: boolean; jct: boolean; soak: boolean }): Promise<void> {
  const t0 = performance.now();
  const resultsPath = join(ROOT, 'loadtest/llm-results.json');
  // a soak-only run keeps the other sections' last results (and the other way round)
  // (results of the earlier in-process version, without `transport`, are not kept)
  let prev = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown> : {};
  if (prev.transport !== 'http') prev = {};
  const out: Record<string, unknown> = { ...prev, transport: 'http', date: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} logical cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`, model: MODEL };
  const RATES = [4, 16, 48];
  const MODES: [string, string[]][] = [
    ['one at a time', ['--max-batch', '1']],
    ['static batching (8)', ['--max-batch', '8', '--batching', 'static']],
    ['continuous batching', ['--max-batch', '32']],
  ];
  if (sections.rates) {
    const dir = modelFolder();
    const servers: ServeProcess[] = [];
    for (const [, args] of MODES) servers.push(await startServeProcess(dir, ['--kv-blocks', '1024', ...args]));
    const rates: RateResult[] = [];
    const mem = { tokens: 0, paged: 0, samples: 0 };
    const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (const rate of RATES) {
      const specs = workload(rate, 3, rate);
      for (let mi = 0; mi < MODES.length; mi++) {
        const [mode] = MODES[mi]!;
        const url = servers[mi]!.url;
        const probe = mode === 'continuous batching' && rate === 16 ? async () => {
          const m = await metricsOf(url, probeAgent);
          const running = m.tensorgrad_llm_running_requests!;
          if (!(running > 0)) return;
          mem.tokens += m.tensorgrad_llm_kv_slots_used! / running;
          mem.paged += (m.tensorgrad_llm_kv_blocks_used! * 16) / running;
          mem.samples++;
        } : undefined;
        const r: RateResult = { mode, rate, ...(await runRate(url, specs, probe)) };
        rates.push(r);
        console.log(`${mode.padEnd(20)} ${rate} req/s: ${fmt(r.throughput)} tok/s, TPOT p50 ${fmt(r.tpotP50)} ms p99 ${fmt(r.tpotP99)} ms, e2e p99 ${fmt(r.e2eP99)} ms, finished ${r.finished}/${r.requests}`);
      }
    }
    probeAgent.destroy();
    await Promise.all(servers.map((s) => s.stop()));
    const w16 = workload(16, 3, 16);
    const memory = {
      tokensPerSeq: mem.tokens / mem.samples, pagedSlotsPerSeq: mem.paged / mem.samples, samples: mem.samples,
      contiguousRequestMaxSlots: mean(w16.map((s) => s.prompt.length + s.maxTokens - 1)), contiguousContextSlots: CONTEXT,
    };
    console.log(`memory per running sequence: ${fmt(memory.tokensPerSeq)} tokens stored, paged ${fmt(memory.pagedSlotsPerSeq)} slots, contiguous ${fmt(memory.contiguousRequestMaxSlots)} (request max) / ${CONTEXT} (context)`);
    Object.assign(out, { rates, memory });
  }
  if (sections.jct) {
    // job completion time in engine steps does not depend on the model's size: a tiny one
    manualSeed(0);
    const gpt = new GPT(new GPTConfig({ vocabSize: CHARS.length, blockSize: CONTEXT, nLayer: 1, nHead: 2, nEmbd: 16 })).eval();
    const jct = { fcfs: runJct(gpt, () => new FCFSScheduler()), mlfq: runJct(gpt, () => new MLFQScheduler()) };
    console.log(`JCT (steps, 384 jobs) fcfs mean ${fmt(jct.fcfs.meanSteps)} p95 ${jct.fcfs.p95Steps}; mlfq mean ${fmt(jct.mlfq.meanSteps)} p95 ${jct.mlfq.p95Steps}`);
    out.jct = jct;
  }
  if (sections.soak) {
    const s = await llmSoak(Number(process.env.LLM_SOAK_REQUESTS ?? 3000), 60_000);
    console.log(`llm soak: ${s.sent} requests in ${fmt(s.seconds)} s, ${s.ok} answered right, ${s.disconnected} disconnected, ${s.wrong} wrong; blocks used at the end ${s.blocksUsedEnd}; RSS ${fmt(s.rssWarmMiB)} → ${fmt(s.rssEndMiB)} MiB (${fmt(100 * s.growth)} %)`);
    if (s.wrongExamples.length) console.log(s.wrongExamples.join('\n'));
    out.soak = s;
  }
  writeFileSync(resultsPath, JSON.stringify(out, null, 2) + '\n');
  writeReport(out as unknown as Report, RATES, MODES.map(([m]) => m));
  console.log(`llm loadtest done in ${fmt((performance.now() - t0) / 1000)} s`);
}

interface Report {
  date: string; machine: string; model: string; rates?: RateResult[];
  memory?: { tokensPerSeq: number; pagedSlotsPerSeq: number; contiguousRequestMaxSlots: number; contiguousContextSlots: number };
  jct?: Record<string, JctResult>; soak?: LLMSoakResult;
}

function writeReport(out: Report, RATES: number[], modes: string[]): void {
  const md = ['# LLM engine — load test (issue #18)', '', `${out.date} · ${out.machine}`, ''];
  const rates = out.rates;
  if (rates?.length) {
    md.push(`\`tensorgrad serve\` on a ${out.model}, as a child process on 127.0.0.1; the client streams every completion (\`stream: true\`, one server-sent event per token) and times each token's arrival.`, '');
    md.push('| mode | rate req/s | finished | tokens/s | TPOT p50 ms | TPOT p99 ms | end-to-end p50 ms | end-to-end p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rates) md.push(`| ${r.mode} | ${r.rate} | ${r.finished}/${r.requests} | ${fmt(r.throughput)} | ${fmt(r.tpotP50)} | ${fmt(r.tpotP99)} | ${fmt(r.e2eP50)} | ${fmt(r.e2eP99)} |`);
    const top = RATES.at(-1)!;
    const get = (mode: string, rate: number) => rates.find((r) => r.mode === mode && r.rate === rate)!;
    const one = get('one at a time', top), cont = get('continuous batching', top), stat = get('static batching (8)', top);
    const one4 = get('one at a time', 4), cont4 = get('continuous batching', 4);
    md.push('', `Tokens/s is tokens received over the cell's wall time (Poisson arrivals for 3 s, then a drain of at most 6 s). At ${top} req/s (every mode saturated) continuous batching sustains ${fmt(cont.throughput / one.throughput, 2)}× the tokens/s of one at a time (target ≥ 3×: ${cont.throughput >= 3 * one.throughput ? 'met' : 'not met'}) and ${fmt(cont.throughput / stat.throughput, 2)}× static batching; ` +
      `at 4 req/s, a rate both serve, its p99 end-to-end latency is ${fmt(cont4.e2eP99)} ms vs ${fmt(one4.e2eP99)} ms (target no worse: ${cont4.e2eP99 <= one4.e2eP99 ? 'met' : 'not met'}).`);
    writeFileSync(join(ROOT, 'loadtest/llm-throughput.svg'), lineChartSvg({
      title: 'LLM serving over HTTP: tokens/s and p99 TPOT vs request rate', xLabel: 'request rate (req/s)', leftLabel: 'tokens / s', rightLabel: 'p99 TPOT, ms', xTicks: RATES.map(String),
      series: modes.flatMap((mode, i) => [
        { name: `tok/s, ${mode}`, values: rates.filter((r) => r.mode === mode).map((r) => r.throughput), color: ['#ff7f0e', '#9467bd', '#1f77b4'][i]!, axis: 'left' as const },
        { name: `p99 TPOT, ${mode}`, values: rates.filter((r) => r.mode === mode).map((r) => r.tpotP99), color: ['#d62728', '#8c564b', '#2ca02c'][i]!, axis: 'right' as const },
      ]),
    }));
  }
  const memory = out.memory;
  if (memory) {
    md.push('', `KV memory per running sequence (continuous batching at 16 req/s, the server's /metrics polled every 50 ms): ${fmt(memory.tokensPerSeq)} tokens stored; paged allocation ${fmt(memory.pagedSlotsPerSeq)} slots ` +
      `(${fmt(100 * (1 - memory.tokensPerSeq / memory.pagedSlotsPerSeq))} % unused); contiguous pre-allocation to the request's maximum length ${fmt(memory.contiguousRequestMaxSlots)} slots ` +
      `(${fmt(100 * (1 - memory.tokensPerSeq / memory.contiguousRequestMaxSlots))} % unused), to the context ${memory.contiguousContextSlots} slots (${fmt(100 * (1 - memory.tokensPerSeq / memory.contiguousContextSlots))} % unused).`);
  }
  const jct = out.jct;
  if (jct) {
    md.push('', '| scheduler | jobs | mean JCT (steps) | p50 | p95 | p99 | p95 per seed |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const [k, v] of Object.entries(jct)) md.push(`| ${k} | ${v.jobs} | ${fmt(v.meanSteps)} | ${v.p50Steps} | ${v.p95Steps} | ${v.p99Steps} | ${(v.perSeedP95 ?? []).join(', ')} |`);
    md.push('', `Heavy-tailed mix (8 seeds × 48 requests arriving one per step, Pareto α 1.1 output lengths 4–200, 4 sequences per step; in the engine, JCT in steps): MLFQ mean JCT ${fmt(jct.mlfq!.meanSteps)} vs FCFS ${fmt(jct.fcfs!.meanSteps)} steps (target lower: ${jct.mlfq!.meanSteps < jct.fcfs!.meanSteps ? 'met' : 'not met'}); ` +
      `median ${jct.mlfq!.p50Steps} vs ${jct.fcfs!.p50Steps}; p95 ${jct.mlfq!.p95Steps} vs ${jct.fcfs!.p95Steps}, p99 ${jct.mlfq!.p99Steps} vs ${jct.fcfs!.p99Steps}. MLFQ approximates shortest-remaining-first without knowing output lengths: short jobs leave sooner, the longest ones, demoted to the low queues, later — it trades the tail for the mean (README, "MLFQ and the tail").`);
  }
  const s = out.soak;
  if (s) {
    md.push('', `Soak (tiny GPT server, 32 clients): ${s.sent} mixed streaming / non-streaming requests (n = 1 or 2) in ${fmt(s.seconds)} s, ${s.disconnected} disconnected by their client at random, ${s.ok} answered with exactly max_tokens tokens per sample, ${s.wrong} wrong or unanswered; ` +
      `KV blocks in use at the end ${s.blocksUsedEnd} (${s.blocksFreeEnd} free); server RSS ${fmt(s.rssWarmMiB)} MiB after warm-up (a quarter of the requests) → ${fmt(s.rssEndMiB)} MiB (${fmt(100 * s.growth)} %, target ≤ 10 %).`);
  }
  writeFileSync(join(ROOT, 'loadtest/llm-results.md'), md.join('\n') + '\n');
}
