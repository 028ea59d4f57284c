/**
 * Pretrained vs random initialisation, measured (issue #14 item 3): on the same split and seed,
 * fine-tuning from a checkpoint against two from-scratch baselines — the same architecture (and,
 * for NER, the same vocabulary) from random weights, and the command's default from-scratch model
 * (`--init random` alone) — for NER (the CoNLL-format sample in data/ner, test entity F1,
 * `train-ner`) and spam classification (SpamAssassin, test macro F1, `train-classifier`). Mean and per seed; each run is its own process.
 *
 *   npx tsx bench/init-compare.ts                          the shipped checkpoint, seeds 42, 1, 2
 *   npx tsx bench/init-compare.ts --base out/mlm --seeds 42,1 --tasks ner
 *   npx tsx bench/init-compare.ts --jobs 2 --runs random   two processes at a time (one thread each); only the baselines
 *
 * Each run's F1 is kept in out/init-compare/runs/<key>.json (the key: task, seed, every argument, the
 * checkpoint's and vocabulary's SHA-256), so an interrupted or partial comparison (`--runs random` while
 * the checkpoint is still training) is completed by the next call without re-running what is done.
 * Runs are deterministic whatever the thread count, so `--jobs` changes the time, not the numbers.
 * The key does not see the source code: after changing the training code, delete out/init-compare/runs.
 *
 * Results: out/init-compare/results.{json,md} (bench/init-compare-results.* with --save). Not part of npm test.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './harness.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const base = resolve(arg('base', join(ROOT, 'assets', 'tensorgrad-bert-L4-H128-uncased')));
const seeds = arg('seeds', '42,1,2').split(',').map(Number);
const tasks = arg('tasks', 'ner,spam').split(',');
const spamExamples = arg('spam-examples', '1000');
const jobs = Number(arg('jobs', '1'));
const runKinds = arg('runs', 'pretrained,random').split(',');
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: expected an integer ≥ 1, got ${arg('jobs', '1')}`);
for (const k of runKinds) if (k !== 'pretrained' && k !== 'random') throw new Error(`--runs: expected pretrained and/or random, got ${k}`);
const cacheDir = join(ROOT, 'out', 'init-compare', 'runs');
mkdirSync(cacheDir, { recursive: true });
const sha = (file: string) => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : 'none');
const baseHash = `${sha(join(base, 'model.safetensors'))}-${sha(join(base, 'vocab.txt'))}`;
const outDir = argv.includes('--save') ? join(ROOT, 'bench') : join(ROOT, 'out', 'init-compare');
const tmp = mkdtempSync(join(tmpdir(), 'tg-init-compare-'));
const cfg = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; max_position_embeddings: number };

/**
 * Runs `tensorgrad …args` in its own process (one thread when --jobs > 1) and returns the F1 that `re`
 * finds in its output — from the run cache when the same run (`key`) has finished before.
 */
async function cliF1(args: string[], re: RegExp, key: string): Promise<number> {
  const file = join(cacheDir, createHash('sha256').update(key).digest('hex').slice(0, 24) + '.json');
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { f1: number }).f1;
  const t0 = performance.now();
  const env = { ...process.env, NO_COLOR: '1', ...(jobs > 1 ? { TENSORGRAD_NUM_THREADS: '1' } : {}) };
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new Error(`tensorgrad ${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`);
  const m = re.exec(stdout);
  if (!m) throw new Error(`could not find ${re} in the output of tensorgrad ${args.join(' ')}:\n${stdout.slice(-1500)}`);
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(file, JSON.stringify({ key, args, f1: Number(m[1]), seconds, at: new Date().toISOString() }) + '\n');
  process.stderr.write(`  tensorgrad ${args.slice(0, 3).join(' ')} … ${args.slice(-3, -2)} F1 ${Number(m[1]).toFixed(4)} (${seconds.toFixed(0)} s)\n`);
  return Number(m[1]);
}

/** Runs the thunks `jobs` at a time, in order of submission. */
async function pool<T>(thunks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(thunks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, thunks.length) }, async () => {
    while (next < thunks.length) {
      const i = next++;
      out[i] = await thunks[i]!();
    }
  }));
  return out;
}

const arch = ['--hidden', String(cfg.hidden_size), '--layers', String(cfg.num_hidden_layers), '--heads', String(cfg.num_attention_heads)];
const NER_F1 = /entity F1 \(micro\) = ([0-9.]+)/;
const SPAM_F1 = /macro F1 = ([0-9.]+)/;
/** Per task and seed, the three runs: [kind, arguments]; the checkpoint's weights enter the key of the pretrained run only. */
const plan: { task: string; metric: string; seed: number; re: RegExp; runs: Record<'pretrained' | 'randomSameArch' | 'randomDefault', string[]> }[] = [];
for (const seed of seeds) {
  const s = ['--seed', String(seed)];
  if (tasks.includes('ner')) {
    plan.push({
      task: 'NER (data/ner)', metric: 'test entity F1', seed, re: NER_F1, runs: {
        pretrained: ['train-ner', '--init', base, ...s, '--out', join(tmp, `ner-p-${seed}`)],
        randomSameArch: ['train-ner', '--init', 'random', '--vocab', join(base, 'vocab.txt'), ...arch, ...s, '--out', join(tmp, `ner-r-${seed}`)],
        randomDefault: ['train-ner', '--init', 'random', ...s, '--out', join(tmp, `ner-d-${seed}`)],
      },
    });
  }
  if (tasks.includes('spam')) {
    const common = [...s, '--max-examples', spamExamples];
    plan.push({
      task: 'spam (SpamAssassin)', metric: 'test macro F1', seed, re: SPAM_F1, runs: {
        pretrained: ['train-classifier', '--init', base, ...common, '--out', join(tmp, `spam-p-${seed}`)],
        randomSameArch: ['train-classifier', '--init', 'random', ...arch, ...common, '--out', join(tmp, `spam-r-${seed}`)],
        randomDefault: ['train-classifier', '--init', 'random', ...common, '--out', join(tmp, `spam-d-${seed}`)],
      },
    });
  }
}
type Kind = keyof (typeof plan)[number]['runs'];
const kinds: Kind[] = [...(runKinds.includes('pretrained') ? ['pretrained' as const] : []), ...(runKinds.includes('random') ? ['randomSameArch' as const, 'randomDefault' as const] : [])];
const results = await pool(plan.flatMap((p) => kinds.map((k) => () => {
  const args = p.runs[k];
  // the key leaves out the temporary --out folder and names the weights by content, not path
  const keyArgs = args.slice(0, -2).map((a) => (a === base ? 'BASE' : a === join(base, 'vocab.txt') ? 'BASE/vocab.txt' : a));
  const key = JSON.stringify({ args: keyArgs, base: k === 'pretrained' ? baseHash : k === 'randomSameArch' ? sha(join(base, 'vocab.txt')) + JSON.stringify(arch) : '' });
  return cliF1(args, p.re, key).then((f1) => ({ p, k, f1 }));
})));
if (kinds.length < 3) {
  console.log(`--runs ${runKinds.join(',')}: ${results.length} runs done (kept in ${cacheDir}); run again with both kinds for the table`);
  process.exit(0);
}
/** One task and seed: the checkpoint's F1 and two from-scratch baselines. */
interface Row { task: string; metric: string; seed: number; pretrained: number; randomSameArch: number; randomDefault: number }
const rows: Row[] = plan.map((p) => {
  const get = (k: Kind) => results.find((r) => r.p === p && r.k === k)!.f1;
  return { task: p.task, metric: p.metric, seed: p.seed, pretrained: get('pretrained'), randomSameArch: get('randomSameArch'), randomDefault: get('randomDefault') };
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => x.toFixed(4);
const delta = (r: Pick<Row, 'pretrained' | 'randomSameArch' | 'randomDefault'>) => (100 * (r.pretrained - Math.max(r.randomSameArch, r.randomDefault))).toFixed(1);
const lines = [
  `# Pretrained vs random initialisation (${new Date().toISOString().slice(0, 10)})`, '',
  `Base: \`${base.replace(ROOT, '')}\` (BERT ${cfg.num_hidden_layers} × ${cfg.hidden_size}). Baselines from random weights, same split and seed: the same`,
  'architecture and vocabulary (the command\'s from-scratch learning rate), and the command\'s default from-scratch model',
  '(`--init random` with nothing else). Δ is against the better of the two. Each command with its other defaults.',
  `Machine: ${(({ cpu, logicalCores, node }) => `${cpu}, ${logicalCores} cores, Node ${node}`)(machineInfo())}. Command: \`npx tsx bench/init-compare.ts ${argv.join(' ')}\`.`, '',
  '| task | metric | seed | pretrained | random, same architecture | random, default model | Δ (points) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.task} | ${r.metric} | ${r.seed} | ${f(r.pretrained)} | ${f(r.randomSameArch)} | ${f(r.randomDefault)} | ${delta(r)} |`),
];
for (const task of [...new Set(rows.map((r) => r.task))]) {
  const rs = rows.filter((r) => r.task === task);
  const m = { pretrained: mean(rs.map((x) => x.pretrained)), randomSameArch: mean(rs.map((x) => x.randomSameArch)), randomDefault: mean(rs.map((x) => x.randomDefault)) };
  lines.push(`| **${task}** | mean of ${rs.length} | | **${f(m.pretrained)}** | **${f(m.randomSameArch)}** | **${f(m.randomDefault)}** | **${delta(m)}** |`);
}
mkdirSync(outDir, { recursive: true });
const prefix = argv.includes('--save') ? 'init-compare-results' : 'results';
writeFileSync(join(outDir, `${prefix}.md`), lines.join('\n') + '\n');
writeFileSync(join(outDir, `${prefix}.json`), JSON.stringify({ base, seeds, rows, date: new Date().toISOString() }, null, 2) + '\n');
console.log(lines.join('\n'));
console.log(`\nwritten to ${join(outDir, prefix)}.{md,json}`);
