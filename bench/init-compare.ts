/**
 * Pretrained vs random initialisation, measured (issue #14 item 3): on the same split and seed,
 * fine-tuning from a checkpoint against two from-scratch baselines — the same architecture (and,
 * for NER, the same vocabulary) from random weights, and the command's default from-scratch model
 * (`--init random` alone) — for NER (the CoNLL-format sample in data/ner, test entity F1,
 * `train-ner`) and spam classification (SpamAssassin, test macro F1, `train-classifier`). Mean and per seed; each run is its own process.
 *
 *   npx tsx bench/init-compare.ts                          the shipped checkpoint, seeds 42, 1, 2
 *   npx tsx bench/init-compare.ts --base out/mlm --seeds 42,1 --tasks ner
 *
 * Results: out/init-compare/results.{json,md} (bench/init-compare-results.* with --save). Not part of npm test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const outDir = argv.includes('--save') ? join(ROOT, 'bench') : join(ROOT, 'out', 'init-compare');
const tmp = mkdtempSync(join(tmpdir(), 'tg-init-compare-'));
const cfg = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; max_position_embeddings: number };

function cli(args: string[]): string {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`tensorgrad ${args.join(' ')} exited with ${r.status}:\n${r.stderr.slice(-2000)}`);
  process.stderr.write(`  tensorgrad ${args.slice(0, 2).join(' ')} … ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  return r.stdout;
}
const num = (out: string, re: RegExp, what: string) => {
  const m = re.exec(out);
  if (!m) throw new Error(`could not find ${what} in the output:\n${out.slice(-1500)}`);
  return Number(m[1]);
};

/** One task and seed: the checkpoint's F1 and two from-scratch baselines (the same architecture, and the command's default from-scratch model). */
interface Row { task: string; metric: string; seed: number; pretrained: number; randomSameArch: number; randomDefault: number }
const rows: Row[] = [];
const arch = ['--hidden', String(cfg.hidden_size), '--layers', String(cfg.num_hidden_layers), '--heads', String(cfg.num_attention_heads)];
for (const seed of seeds) {
  const s = ['--seed', String(seed)];
  if (tasks.includes('ner')) {
    process.stderr.write(`NER, seed ${seed}\n`);
    const f1 = (out: string) => num(out, /entity F1 \(micro\) = ([0-9.]+)/, 'the entity F1');
    rows.push({
      task: 'NER (data/ner)', metric: 'test entity F1', seed,
      pretrained: f1(cli(['train-ner', '--init', base, ...s, '--out', join(tmp, `ner-p-${seed}`)])),
      randomSameArch: f1(cli(['train-ner', '--init', 'random', '--vocab', join(base, 'vocab.txt'), ...arch, ...s, '--out', join(tmp, `ner-r-${seed}`)])),
      randomDefault: f1(cli(['train-ner', '--init', 'random', ...s, '--out', join(tmp, `ner-d-${seed}`)])),
    });
  }
  if (tasks.includes('spam')) {
    process.stderr.write(`spam, seed ${seed}\n`);
    const f1 = (out: string) => num(out, /macro F1 = ([0-9.]+)/, 'the macro F1');
    const common = [...s, '--max-examples', spamExamples];
    rows.push({
      task: 'spam (SpamAssassin)', metric: 'test macro F1', seed,
      pretrained: f1(cli(['train-classifier', '--init', base, ...common, '--out', join(tmp, `spam-p-${seed}`)])),
      randomSameArch: f1(cli(['train-classifier', '--init', 'random', ...arch, ...common, '--out', join(tmp, `spam-r-${seed}`)])),
      randomDefault: f1(cli(['train-classifier', '--init', 'random', ...common, '--out', join(tmp, `spam-d-${seed}`)])),
    });
  }
}

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
