/**
 * `npm run loadtest` — `tensorgrad serve` under load on 127.0.0.1, bounded in requests and time
 * (each section about a minute or two). Sections (LOADTEST_ONLY=sweep,soak,llm,llm-jct,llm-soak to
 * choose; comma-separated):
 *
 *   sweep   throughput and p50/p99 latency vs concurrency 1, 8, 32, 128 (closed loop, keep-alive),
 *           one at a time (--max-batch 1) vs dynamic batching (--max-batch 32 --max-wait-ms 0),
 *           on the demo's NER model with CoNLL sample sentences of 10–40 words; /health latency
 *           measured alongside. Target: batching ≥ 3× the throughput at concurrency 32, p99 no worse.
 *   soak    thousands of mixed good and bad requests (loadtest/lib.ts `soak`): every good one must
 *           get the exact one-at-a-time answer, nothing lost, server RSS after warm-up ≤ +10 %.
 *
 * The model: LOADTEST_MODEL, else out/ner (`npm run demo`); trained quickly (2 epochs) into
 * out/ner-loadtest when neither exists. Writes loadtest/results.json, loadtest/results.md and
 * loadtest/throughput.svg. LOADTEST_SECONDS (default 6) sets each sweep cell's measured time
 * (in 3 rounds alternating with the other mode).
 *
 *   llm, llm-jct, llm-soak   the generation engine's (issue #18) over /v1/completions: loadtest/llm.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readConllSplits } from '../src/data/conll.js';
import { pipeline } from '../src/pipelines/index.js';
import { lineChartSvg } from '../src/utils/svg.js';
import { ROOT, poolRounds, runLoad, serverRss, soak, startServeProcess, workerCounters, type LoadResult, type SoakResult } from './lib.js';
import { runLLMLoadtest } from './llm.js';

const only = process.env.LOADTEST_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const want = (id: string) => !only || only.includes(id);
const CELL_MS = Number(process.env.LOADTEST_SECONDS ?? 6) * 1000;
/** Alternating rounds per cell. */
const ROUNDS = 3;
const CONCURRENCY = [1, 8, 32, 128];
const MODES: { id: string; label: string; args: string[] }[] = [
  { id: 'one-at-a-time', label: 'one at a time (--max-batch 1)', args: ['--max-batch', '1', '--max-wait-ms', '0', '--max-queue', '1024'] },
  { id: 'dynamic', label: 'dynamic batching (--max-batch 32 --max-wait-ms 0)', args: ['--max-batch', '32', '--max-wait-ms', '0', '--max-queue', '1024'] },
];

function modelDir(): string {
  if (process.env.LOADTEST_MODEL) return process.env.LOADTEST_MODEL;
  if (existsSync(join(ROOT, 'out/ner/model.safetensors'))) return join(ROOT, 'out/ner');
  const quick = join(ROOT, 'out/ner-loadtest');
  if (!existsSync(join(quick, 'model.safetensors'))) {
    console.log('no out/ner (npm run demo): training a quick one (2 epochs) into out/ner-loadtest');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'train-ner', '--epochs', '2', '--out', quick], { stdio: 'inherit', cwd: ROOT });
  }
  return quick;
}

/** CoNLL sample sentences of 10–40 words, as text. */
function sentences(): string[] {
  const s = readConllSplits(join(ROOT, 'data/ner'));
  return [...s.train, ...s.dev, ...s.test]
    .map((x) => x.tokens)
    .filter((w) => w.length >= 10 && w.length <= 40)
    .map((w) => w.join(' ').replace(/ ([.,;:!?')])/g, '$1').replace(/([(]) /g, '$1'));
}

interface Results {
  date: string;
  machine: string;
  model: string;
  sentences: number;
  cellSeconds: number;
  sweep?: Record<string, LoadResult[]>;
  soak?: SoakResult & { rssWarmMiB: number; rssEndMiB: number; growth: number };
}

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');

async function main(): Promise<void> {
  const t0 = performance.now();
  // issue #18: loadtest/llm.ts (over HTTP), its own results files
  if (want('llm') || want('llm-jct') || want('llm-soak')) await runLLMLoadtest({ rates: want('llm'), jct: want('llm-jct'), soak: want('llm-soak') });
  if (only && only.every((s) => s.startsWith('llm'))) return;
  const dir = modelDir();
  const texts = sentences();
  console.log(`model ${dir}; ${texts.length} sentences of 10–40 words (CoNLL tokens)`);
  const bodies = texts.map((t) => JSON.stringify({ inputs: t, parameters: { truncation: true } }));
  // a run of some sections keeps the others' last results
  const prevPath = join(ROOT, 'loadtest/results.json');
  const prev = (existsSync(prevPath) ? JSON.parse(readFileSync(prevPath, 'utf8')) : {}) as Partial<Results>;
  const out: Results = {
    ...(prev.model === dir ? { sweep: prev.sweep, soak: prev.soak } : {}),
    date: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} logical cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`,
    model: dir, sentences: texts.length, cellSeconds: CELL_MS / 1000,
  };

  if (want('sweep')) {
    // Both servers run side by side (an idle one costs nothing) and the modes alternate in
    // short rounds for each concurrency, so that the machine's changing load (it is shared)
    // falls on both alike; each cell pools its rounds.
    const servers = await Promise.all(MODES.map((m) => startServeProcess(dir, m.args)));
    out.sweep = Object.fromEntries(MODES.map((m) => [m.id, [] as LoadResult[]]));
    for (const c of CONCURRENCY) {
      const rounds: LoadResult[][] = MODES.map(() => []);
      const work = MODES.map(() => ({ texts: 0, batches: 0, seconds: 0 }));
      for (let k = 0; k < ROUNDS; k++) {
        for (let mi = 0; mi < MODES.length; mi++) {
          const w0 = await workerCounters(servers[mi]!.url);
          rounds[mi]!.push(await runLoad(servers[mi]!.url, '/v1/ner', bodies, { concurrency: c, durationMs: CELL_MS / ROUNDS, warmupMs: 500 }));
          const w1 = await workerCounters(servers[mi]!.url);
          work[mi]!.texts += w1.texts - w0.texts;
          work[mi]!.batches += w1.batches - w0.batches;
          work[mi]!.seconds += w1.seconds - w0.seconds;
        }
      }
      MODES.forEach((mode, mi) => {
        const r = poolRounds(rounds[mi]!);
        r.workerMsPerText = (1000 * work[mi]!.seconds) / Math.max(1, work[mi]!.texts);
        r.meanBatch = work[mi]!.texts / Math.max(1, work[mi]!.batches);
        out.sweep![mode.id]!.push(r);
        console.log(`${mode.id.padEnd(14)} c=${String(c).padStart(3)}: ${fmt(r.throughput)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ` +
          `worker ${fmt(r.workerMsPerText, 2)} ms/text, mean batch ${fmt(r.meanBatch)}, statuses ${JSON.stringify(r.statuses)}, /health p99 ${fmt(r.health.p99)} ms`);
      });
    }
    await Promise.all(servers.map((s) => s.stop()));
  }

  if (want('soak')) {
    const srv = await startServeProcess(dir, ['--max-body-bytes', '65536', '--max-queue', '1024']);
    const ner = pipeline('token-classification', dir, { aggregationStrategy: 'first' });
    const probe = ner.pipeline;
    const fits = texts.filter((t) => probe.preprocess(t, { truncation: true }).truncated === false);
    const good = fits.slice(0, 200).map((text) => ({ text, expected: JSON.stringify(ner(text)) }));
    const longText = texts.slice(0, 8).join(' ');
    const long = { text: longText, truncated: JSON.stringify(ner(longText, { truncation: true })) };
    let warm = NaN;
    const r = await soak(srv.url, '/v1/ner', {
      good, long, maxBodyBytes: 65536, requests: 6000, concurrency: 16, maxMs: 60_000,
      onProgress: async (n) => {
        if (n === 1500) warm = await serverRss(srv.url);
      },
    });
    const end = await serverRss(srv.url);
    const code = await srv.stop();
    out.soak = { ...r, rssWarmMiB: warm / 2 ** 20, rssEndMiB: end / 2 ** 20, growth: end / warm - 1 };
    console.log(`soak: ${r.sent} requests in ${fmt(r.seconds)} s, wrong ${r.wrong}, aborted ${r.aborted}, RSS ${fmt(warm / 2 ** 20)} → ${fmt(end / 2 ** 20)} MiB ` +
      `(${fmt(100 * (end / warm - 1))} %), drain exit code ${code}`);
    if (r.wrongExamples.length) console.log(r.wrongExamples.join('\n'));
  }

  writeResults(out);
  console.log(`done in ${fmt((performance.now() - t0) / 1000)} s`);
}

function writeResults(out: Results): void {
  const dirOut = join(ROOT, 'loadtest');
  writeFileSync(join(dirOut, 'results.json'), JSON.stringify(out, (k, v) => (k === 'latencies' || k === 'healthLatencies' ? undefined : v), 2) + '\n');
  const md: string[] = ['# tensorgrad serve — load test', '', `${out.date} · ${out.machine}`, '',
    `Model: the demo's NER BERT (\`${out.model.replace(ROOT + '/', '')}\`), ${out.sentences} CoNLL sample sentences of 10–40 words, POST /v1/ner, keep-alive, closed loop; per cell ${out.cellSeconds} s measured in ${ROUNDS} rounds that alternate with the other mode (0.5 s warm-up each), so that the shared machine's changing load falls on both modes alike.`, ''];
  if (out.sweep) {
    md.push('| mode | concurrency | req/s | p50 ms | p99 ms | worker ms / text | texts / batch | statuses | /health p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    for (const m of MODES) for (const r of out.sweep[m.id] ?? []) {
      md.push(`| ${m.label} | ${r.concurrency} | ${fmt(r.throughput)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.workerMsPerText ?? NaN, 2)} | ${fmt(r.meanBatch ?? NaN)} | ${Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} | ${fmt(r.health.p99)} |`);
    }
    const a = out.sweep['one-at-a-time']?.find((r) => r.concurrency === 32);
    const b = out.sweep.dynamic?.find((r) => r.concurrency === 32);
    if (a && b) {
      const x = b.throughput / a.throughput;
      md.push('', `At concurrency 32: dynamic batching ${fmt(x, 2)}× the throughput of one at a time (target ≥ 3×: ${x >= 3 ? 'met' : 'not met'}), ` +
        `p99 ${fmt(b.p99)} ms vs ${fmt(a.p99)} ms (target no worse: ${b.p99 <= a.p99 ? 'met' : 'not met'}).`);
    }
    writeFileSync(join(dirOut, 'throughput.svg'), lineChartSvg({
      title: 'tensorgrad serve: NER on loopback', xLabel: 'concurrent clients', leftLabel: 'requests / s', rightLabel: 'p99 latency, ms',
      xTicks: CONCURRENCY.map(String),
      series: [
        { name: 'req/s, dynamic batching', values: (out.sweep.dynamic ?? []).map((r: LoadResult) => r.throughput), color: '#1f77b4', axis: 'left' },
        { name: 'req/s, one at a time', values: (out.sweep["one-at-a-time"] ?? []).map((r: LoadResult) => r.throughput), color: '#ff7f0e', axis: 'left' },
        { name: 'p99 ms, dynamic batching', values: (out.sweep.dynamic ?? []).map((r: LoadResult) => r.p99), color: '#2ca02c', axis: 'right' },
        { name: 'p99 ms, one at a time', values: (out.sweep["one-at-a-time"] ?? []).map((r: LoadResult) => r.p99), color: '#d62728', axis: 'right' },
      ],
    }));
  }
  if (out.soak) {
    const s = out.soak;
    md.push('', `Soak: ${s.sent} mixed requests (${Object.entries(s.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}) from 16 clients in ${fmt(s.seconds)} s: ` +
      `${s.wrong} wrong or unanswered, ${s.aborted} aborted by their client; server RSS ${fmt(s.rssWarmMiB)} MiB after warm-up → ${fmt(s.rssEndMiB)} MiB at the end (${fmt(100 * s.growth)} %, target ≤ 10 %).`);
  }
  writeFileSync(join(dirOut, 'results.md'), md.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
