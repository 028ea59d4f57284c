/**
 * The fine-tuning strategies of issue #15, compared on the same base checkpoint, data and seeds:
 * full fine-tuning, top layers only, BitFit, LoRA (r = 4, 8, 16) and bottleneck adapters, on NER
 * (the CoNLL-format sample, entity F1) and on spam (SpamAssassin, macro F1).
 *
 *   npm run bench:peft -- --base out/mlm            the pretrained base folder (default: the shipped
 *                                                   checkpoint assets/tensorgrad-bert-L4-H128-uncased; config.json,
 *                                                   model.safetensors, vocab.txt; e.g. the shipped
 *                                                   checkpoint of issue #14, or pretrain-mlm's)
 *   npm run bench:peft -- --seeds 3 --jobs 2        the issue's configuration (3 seeds), two runs at a time
 *   npm run bench:peft -- --quick                   1 seed, few epochs, a base made on the spot
 *   options: --tasks ner,spam  --only full,lora8  --lr 0.01  --peft-lr-scale 10  --epochs N
 *            --spam-examples 300  --base-note TEXT  --jobs N
 *            --render      re-write peft-results.md from peft-results.json (no runs)
 *
 * Learning rates: full fine-tuning and top-layers-only use each command's default from a checkpoint
 * (train-ner 5e-4, train-classifier 1e-3); the parameter-efficient methods (BitFit, LoRA, adapters)
 * use --peft-lr-scale (default 10) times that, as their papers do (BitFit: 1e-4…1e-3 against 2e-5
 * for full fine-tuning of BERT-base; LoRA on RoBERTa-base: 4e-4…5e-4 against 1e-5…3e-5; Houlsby
 * adapters: 1e-4…1e-3). --lr sets one rate for every strategy. Epochs: each command's default from
 * a checkpoint (train-ner ≤ 8 with early stopping off, train-classifier 3) unless --epochs.
 * With --jobs N > 1, N runs go side by side with one thread each (runs are deterministic whatever
 * the thread count, so the F1 do not change; the times are then per thread).
 *
 * With --quick and no --base the script first makes a small base with `pretrain-mlm` (labelled as
 * such in the results). Each run is a separate process (`tensorgrad train-ner|train-classifier --init BASE
 * --peft …`, bench/peft-child.ts), so that its peak memory (max RSS) is its own. Reported per
 * strategy, mean over the seeds: trainable parameters (count and %), test F1, time per optimiser
 * step (median of the intervals between steps), peak memory (max RSS), and the size of what the
 * run saves (the adapter files, or model.safetensors for the full-model strategies). Section
 * "backward" adds the graph nodes and backward time of one step (bench/peft-backward.ts).
 *
 * Results: bench/peft-results.md and bench/peft-results.json. Not part of npm test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backwardMarkdown, measureBackward, type BackwardConfig } from './peft-backward.js';
import { machineInfo } from './harness.js';
import { BertConfig, BertForSequenceClassification, BertForTokenClassification } from '../src/nn/bert.js';
import { applyPeft, type PeftOptions } from '../src/peft/setup.js';
import { countParameters } from '../src/peft/freeze.js';
import { PRETRAINED_NAME } from '../src/tasks/pretrained.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(`--${k}`);
const arg = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};
const quick = flag('quick');
const seeds = Number(arg('seeds', quick ? '1' : '3'));
const epochsArg = arg('epochs', quick ? '3' : undefined);
/** Epochs per task: --epochs, else the command's default from a checkpoint. */
const epochsFor = (task: string) => Number(epochsArg ?? (task === 'ner' ? 8 : 3));
const jobs = Number(arg('jobs', '1'));
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: expected an integer ≥ 1, got ${arg('jobs')}`);
const peftLrScale = Number(arg('peft-lr-scale', '10'));
if (!(peftLrScale > 0)) throw new Error(`--peft-lr-scale: expected a number > 0, got ${arg('peft-lr-scale')}`);
/** Each command's default learning rate when it starts from a checkpoint (src/cli/commands/train-*.ts). */
const DEFAULT_LR: Record<string, number> = { ner: 5e-4, spam: 1e-3 };
const tasks = (arg('tasks', 'ner,spam') ?? '').split(',');
const maxExamples = Number(arg('spam-examples', quick ? '300' : '1000'));
const only = arg('only')?.split(',');
const lr = arg('lr');
const tmp = mkdtempSync(join(tmpdir(), 'tg-peft-bench-'));

interface ChildReport { status: number | null; seconds: number; maxRssMiB: number; stepMs: number | null; steps: number; stderr: string; stdout: string }

/** Runs `tensorgrad <args>` in a child process (bench/peft-child.ts) and returns its resource report. */
function runCli(args: string[]): ChildReport {
  const reportPath = join(tmp, `report-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'peft-child.ts'), reportPath, ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 2 ** 20,
  });
  const rep = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : {};
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: rep.seconds ?? NaN, maxRssMiB: rep.maxRssMiB ?? NaN, stepMs: rep.stepMs ?? null, steps: rep.steps ?? 0 };
}

/** runCli without blocking, for the job pool: one thread per process when --jobs > 1. */
async function runCliAsync(args: string[]): Promise<ChildReport> {
  const reportPath = join(tmp, `report-${Math.random().toString(36).slice(2)}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'peft-child.ts'), reportPath, ...args], {
    cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...(jobs > 1 ? { TENSORGRAD_NUM_THREADS: '1' } : {}) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const status = await new Promise<number | null>((res) => child.on('close', res));
  const rep = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : {};
  return { status, stdout, stderr, seconds: rep.seconds ?? NaN, maxRssMiB: rep.maxRssMiB ?? NaN, stepMs: rep.stepMs ?? null, steps: rep.steps ?? 0 };
}

/** Runs the thunks `jobs` at a time, in order of submission. */
async function pool(thunks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, thunks.length) }, async () => {
    while (next < thunks.length) await thunks[next++]!();
  }));
}

// ---- the base ---------------------------------------------------------------------------------
// default: the shipped checkpoint (issue #14); --quick makes a small base on the spot instead
let base = arg('base') ?? (quick ? undefined : join(ROOT, 'assets', PRETRAINED_NAME));
let baseNote: string;
if (base) {
  base = resolve(base);
  for (const f of ['config.json', 'model.safetensors']) if (!existsSync(join(base, f))) throw new Error(`--base: ${join(base, f)} is missing (expected a pretrained BERT folder)`);
  baseNote = `base checkpoint: ${arg('base-note') ?? base}`;
} else {
  base = join(tmp, 'base');
  const steps = quick ? '150' : '600';
  const chapters = quick ? '3' : '10';
  console.error(`no --base: making a small one with pretrain-mlm (${chapters} chapters of Moby-Dick, ${steps} steps) …`);
  const r = runCli(['pretrain-mlm', '--out', base, '--chapters', chapters, '--max-steps', steps, '--hidden', '64', '--layers', '2', '--heads', '2', '--max-length', '64']);
  if (r.status !== 0) throw new Error(`pretrain-mlm failed:\n${r.stderr.slice(-3000)}`);
  baseNote = `base checkpoint: NOT the shipped pretrained model (--quick) — a small BERT (2 layers × 64) made on the spot by \`pretrain-mlm --chapters ${chapters} --max-steps ${steps}\``;
}
const baseConfig = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { num_hidden_layers: number; hidden_size: number };
const L = baseConfig.num_hidden_layers;

// ---- the strategies -----------------------------------------------------------------------------
const topOnly = ['bert.embeddings.*', ...(L > 1 ? [`bert.encoder.layer.{0..${L - 2}}.*`] : [])].join(',');
/** Each strategy as command-line options and as the PeftOptions they stand for (null: full fine-tuning). */
type Strategy = { id: string; name: string; args: string[]; peft: PeftOptions | null };
const STRATEGIES = ([
  { id: 'full', name: 'full fine-tuning', args: [], peft: null },
  { id: 'top', name: `top layer only (layer ${L - 1} + head)`, args: ['--freeze', topOnly], peft: { method: 'none', freeze: topOnly.split(',') } },
  { id: 'bitfit', name: 'BitFit (biases + head)', args: ['--peft', 'bitfit'], peft: { method: 'bitfit' } },
  { id: 'lora4', name: 'LoRA r=4 (query, value)', args: ['--peft', 'lora', '--lora-r', '4'], peft: { method: 'lora', loraR: 4 } },
  { id: 'lora8', name: 'LoRA r=8 (query, value)', args: ['--peft', 'lora', '--lora-r', '8'], peft: { method: 'lora', loraR: 8 } },
  { id: 'lora16', name: 'LoRA r=16 (query, value)', args: ['--peft', 'lora', '--lora-r', '16'], peft: { method: 'lora', loraR: 16 } },
  { id: 'adapter', name: 'adapters (size 16)', args: ['--peft', 'adapter', '--adapter-size', '16'], peft: { method: 'adapter', adapterSize: 16 } },
] satisfies Strategy[] as Strategy[]).filter((s) => !only || only.includes(s.id));

/**
 * Trainable and total parameters of a strategy on a task, counted on the task's model built
 * in-process with the same PEFT setup the command applies (NER: the sample's 9 tags; spam: 2 labels).
 */
function countFor(task: string, s: Strategy): { trainable: number; total: number; percent: number } {
  const config = BertConfig.fromJSON({ ...JSON.parse(readFileSync(join(base!, 'config.json'), 'utf8')), num_labels: task === 'ner' ? 9 : 2 });
  const model = task === 'ner' ? new BertForTokenClassification(config) : new BertForSequenceClassification(config);
  if (s.peft) applyPeft(model, s.peft, { head: ['classifier'], taskType: task === 'ner' ? 'TOKEN_CLS' : 'SEQ_CLS' });
  const c = countParameters(model);
  return { trainable: c.trainable, total: c.total, percent: 100 * c.trainable / c.total };
}

interface RunResult { task: string; strategy: string; seed: number; trainable: number; total: number; percent: number; f1: number; lr: number; epochs: number; stepMs: number | null; maxRssMiB: number; savedBytes: number; seconds: number }

function savedBytes(out: string): number {
  const files = existsSync(join(out, 'adapter_model.safetensors')) ? ['adapter_model.safetensors', 'adapter_config.json'] : ['model.safetensors', 'config.json'];
  return files.reduce((n, f) => n + (existsSync(join(out, f)) ? statSync(join(out, f)).size : 0), 0);
}

function parseTrainable(text: string): { trainable: number; total: number; percent: number } {
  const m = /trainable params: ([\d,]+) \|\| all params: ([\d,]+) \|\| trainable%: ([\d.]+)/.exec(text);
  if (!m) return { trainable: NaN, total: NaN, percent: NaN };
  const n = (s: string) => Number(s.replace(/,/g, ''));
  return { trainable: n(m[1]!), total: n(m[2]!), percent: Number(m[3]) };
}

const results: RunResult[] = [];
const lrOf = (task: string, s: { id: string }) => Number(lr ?? (['full', 'top'].includes(s.id) ? DEFAULT_LR[task]! : DEFAULT_LR[task]! * peftLrScale));
const thunks: (() => Promise<void>)[] = [];
for (const task of tasks) {
  for (const s of STRATEGIES) {
    for (let seed = 1; seed <= seeds; seed++) {
      thunks.push(async () => {
        const out = join(tmp, `${task}-${s.id}-${seed}`);
        const epochs = epochsFor(task);
        const common = ['--init', base, '--epochs', String(epochs), '--seed', String(seed), '--out', out, '--lr', String(lrOf(task, s)), ...s.args];
        const args = task === 'ner' ? ['train-ner', '--patience', String(epochs), ...common] : ['train-classifier', '--data', 'spam', '--max-examples', String(maxExamples), ...common];
        const r = await runCliAsync(args);
        if (r.status !== 0) {
          console.error(`${task} ${s.id} seed ${seed} failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
          process.exitCode = 1;
          return;
        }
        const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
        const f1 = task === 'ner' ? Number(metrics.test?.entity?.micro?.f1) : Number(metrics.test?.macroF1);
        const counts = countFor(task, s);
        const printed = parseTrainable(r.stdout + r.stderr);
        if (s.peft && printed.trainable !== counts.trainable) throw new Error(`${task} ${s.id}: the command printed ${printed.trainable} trainable parameters, the count here is ${counts.trainable}`);
        const row: RunResult = { task, strategy: s.name, seed, ...counts, f1, lr: lrOf(task, s), epochs, stepMs: r.stepMs, maxRssMiB: r.maxRssMiB, savedBytes: savedBytes(out), seconds: r.seconds };
        results.push(row);
        console.error(`${task} ${s.id} seed ${seed}: F1 ${f1.toFixed(4)}, ${counts.trainable} trainable (${counts.percent}%), ${r.stepMs?.toFixed(1)} ms/step, ${r.maxRssMiB.toFixed(0)} MiB, saved ${row.savedBytes} B, ${r.seconds.toFixed(0)} s`);
        rmSync(out, { recursive: true, force: true });
      });
    }
  }
}
if (flag('render')) {
  // re-render the committed results (e.g. after a change to the table's layout), filling the counts
  const saved = JSON.parse(readFileSync(join(ROOT, 'bench', 'peft-results.json'), 'utf8')) as { results: RunResult[] };
  for (const r of saved.results) results.push({ ...r, ...countFor(r.task, STRATEGIES.find((s) => s.name === r.strategy)!) });
} else await pool(thunks);
results.sort((a, b) => tasks.indexOf(a.task) - tasks.indexOf(b.task) || a.seed - b.seed);

// ---- the backward section -------------------------------------------------------------------------
const bc: BackwardConfig = { hidden: baseConfig.hidden_size, layers: L, heads: 2, vocab: 1000, batch: 16, seq: 64, runs: quick ? 3 : 5 };
const backward = flag('render') ? (JSON.parse(readFileSync(join(ROOT, 'bench', 'peft-results.json'), 'utf8')) as { backward: { rows: ReturnType<typeof measureBackward> } }).backward.rows
  : flag('no-backward') ? [] : measureBackward(bc);

// ---- report -------------------------------------------------------------------------------------------
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const kib = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const machine = machineInfo();
const md: string[] = [
  '# Parameter-efficient fine-tuning: the comparison (bench/peft-compare.ts)',
  '',
  `${machine.date} · Node ${machine.node} · ${machine.cpu} · ${machine.logicalCores} logical cores (shared machine: times vary ±20 %)`,
  '',
  `- ${baseNote}`,
  `- ${seeds} seed(s) (mean${seeds > 1 ? ' ± sd' : ''}); epochs: NER ${epochsFor('ner')} (early stopping off; test F1 of the best dev epoch), spam ${epochsFor('spam')}; learning rate per row (${lr ? `--lr ${lr} for all` : `full and top-layer fine-tuning at the command's default from a checkpoint, the parameter-efficient methods at ${peftLrScale}× that`}); NER: the shipped CoNLL-format sample (data/ner), entity F1 (micro) on its test split; spam: SpamAssassin, ${maxExamples} examples, macro F1 on a 20 % test split`,
  `- ${jobs > 1 ? `${jobs} runs side by side, one thread each; ` : ''}time per step: median interval between optimiser steps; peak memory: the run's max RSS (whole process); saved: what the run writes as its model (adapter_model.safetensors + adapter_config.json, or model.safetensors + config.json)`,
  quick ? '- **SMALL configuration (--quick)**: a sanity run, not the issue\'s 3-seed measurement from the shipped checkpoint' : '',
  '',
];
for (const task of tasks) {
  const rows = results.filter((r) => r.task === task);
  if (!rows.length) continue;
  md.push(`## ${task === 'ner' ? 'NER (entity F1)' : 'spam (macro F1)'}`, '', '| strategy | trainable params | trainable % | lr | test F1 | ms / step | peak RSS MiB | saved |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of STRATEGIES) {
    const rs = rows.filter((r) => r.strategy === s.name);
    if (!rs.length) continue;
    const f1s = rs.map((r) => r.f1);
    md.push(`| ${s.name} | ${rs[0]!.trainable.toLocaleString('en-US')} | ${rs[0]!.percent.toFixed(2)} | ${rs[0]!.lr.toExponential(0)} | ${mean(f1s).toFixed(3)}${seeds > 1 ? ` ± ${sd(f1s).toFixed(3)}` : ''} | ${mean(rs.map((r) => r.stepMs ?? NaN)).toFixed(1)} | ${mean(rs.map((r) => r.maxRssMiB)).toFixed(0)} | ${kib(mean(rs.map((r) => r.savedBytes)))} |`);
  }
  md.push('');
}
if (backward.length) md.push('## One training step: graph nodes and backward time', '', backwardMarkdown(bc, backward), '');
const text = md.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
console.log(text);
writeFileSync(join(ROOT, 'bench', 'peft-results.md'), text + '\n');
writeFileSync(join(ROOT, 'bench', 'peft-results.json'), JSON.stringify({ machine, base: baseNote, seeds, epochs: { ner: epochsFor('ner'), spam: epochsFor('spam') }, jobs, peftLrScale, lr: lr ?? null, quick, results, backward: { config: bc, rows: backward } }, null, 2) + '\n');
rmSync(tmp, { recursive: true, force: true });
