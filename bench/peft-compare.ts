/**
 * The fine-tuning strategies of issue #15, compared on the same base checkpoint, data and seeds:
 * full fine-tuning, top layers only, BitFit, LoRA (r = 4, 8, 16) and bottleneck adapters, on NER
 * (the CoNLL-format sample, entity F1) and on spam (SpamAssassin, macro F1).
 *
 *   npm run bench:peft -- --base out/mlm            the pretrained base folder (config.json,
 *                                                   model.safetensors, vocab.txt; e.g. the shipped
 *                                                   checkpoint of issue #14, or pretrain-mlm's)
 *   npm run bench:peft -- --seeds 3 --epochs 8      the issue's configuration (3 seeds)
 *   npm run bench:peft -- --quick                   1 seed, few epochs, a base made on the spot
 *   options: --tasks ner,spam  --only full,lora8  --lr 0.01  --spam-examples 300  --base-note TEXT
 *
 * Without --base the script first makes a small base with `pretrain-mlm` (labelled as such in the
 * results). Each run is a separate process (`tensorgrad train-ner|train-classifier --init BASE
 * --peft …`, bench/peft-child.ts), so that its peak memory (max RSS) is its own. Reported per
 * strategy, mean over the seeds: trainable parameters (count and %), test F1, time per optimiser
 * step (median of the intervals between steps), peak memory (max RSS), and the size of what the
 * run saves (the adapter files, or model.safetensors for the full-model strategies). Section
 * "backward" adds the graph nodes and backward time of one step (bench/peft-backward.ts).
 *
 * Results: bench/peft-results.md and bench/peft-results.json. Not part of npm test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backwardMarkdown, measureBackward, type BackwardConfig } from './peft-backward.js';
import { machineInfo } from './harness.js';
import { loadSafetensors } from '../src/data/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(`--${k}`);
const arg = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};
const quick = flag('quick');
const seeds = Number(arg('seeds', quick ? '1' : '3'));
const epochs = Number(arg('epochs', quick ? '3' : '8'));
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

// ---- the base ---------------------------------------------------------------------------------
let base = arg('base');
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
  baseNote = `base checkpoint: NOT the shipped pretrained model of issue #14 (not available yet) — a small BERT (2 layers × 64) made on the spot by \`pretrain-mlm --chapters ${chapters} --max-steps ${steps}\``;
}
const baseConfig = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { num_hidden_layers: number; hidden_size: number };
const L = baseConfig.num_hidden_layers;

// ---- the strategies -----------------------------------------------------------------------------
const topOnly = ['bert.embeddings.*', ...(L > 1 ? [`bert.encoder.layer.{0..${L - 2}}.*`] : [])].join(',');
const STRATEGIES: { id: string; name: string; args: string[] }[] = [
  { id: 'full', name: 'full fine-tuning', args: [] },
  { id: 'top', name: `top layer only (layer ${L - 1} + head)`, args: ['--freeze', topOnly] },
  { id: 'bitfit', name: 'BitFit (biases + head)', args: ['--peft', 'bitfit'] },
  { id: 'lora4', name: 'LoRA r=4 (query, value)', args: ['--peft', 'lora', '--lora-r', '4'] },
  { id: 'lora8', name: 'LoRA r=8 (query, value)', args: ['--peft', 'lora', '--lora-r', '8'] },
  { id: 'lora16', name: 'LoRA r=16 (query, value)', args: ['--peft', 'lora', '--lora-r', '16'] },
  { id: 'adapter', name: 'adapters (size 16)', args: ['--peft', 'adapter', '--adapter-size', '16'] },
].filter((s) => !only || only.includes(s.id));

interface RunResult { task: string; strategy: string; seed: number; trainable: number; total: number; percent: number; f1: number; stepMs: number | null; maxRssMiB: number; savedBytes: number; seconds: number }

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
for (const task of tasks) {
  for (const s of STRATEGIES) {
    for (let seed = 1; seed <= seeds; seed++) {
      const out = join(tmp, `${task}-${s.id}-${seed}`);
      const common = ['--init', base, '--epochs', String(epochs), '--seed', String(seed), '--out', out, ...(lr ? ['--lr', lr] : []), ...s.args];
      const args = task === 'ner' ? ['train-ner', '--patience', String(epochs), ...common] : ['train-classifier', '--data', 'spam', '--max-examples', String(maxExamples), ...common];
      const r = runCli(args);
      if (r.status !== 0) {
        console.error(`${task} ${s.id} seed ${seed} failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
        process.exitCode = 1;
        continue;
      }
      const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      const f1 = task === 'ner' ? Number(metrics.test?.entity?.micro?.f1) : Number(metrics.test?.macroF1);
      const counts = parseTrainable(r.stdout + r.stderr);
      if (s.id === 'full') {
        // full fine-tuning prints no peft line: every parameter trains; count them in the saved model
        const sd = loadSafetensors(join(out, 'model.safetensors'));
        const total = Object.values(sd).reduce((n, t) => n + t.numel(), 0);
        Object.assign(counts, { trainable: total, total, percent: 100 });
      }
      const row: RunResult = { task, strategy: s.name, seed, ...counts, f1, stepMs: r.stepMs, maxRssMiB: r.maxRssMiB, savedBytes: savedBytes(out), seconds: r.seconds };
      results.push(row);
      console.error(`${task} ${s.id} seed ${seed}: F1 ${f1.toFixed(4)}, ${counts.trainable} trainable (${counts.percent}%), ${r.stepMs?.toFixed(1)} ms/step, ${r.maxRssMiB.toFixed(0)} MiB, saved ${row.savedBytes} B`);
      rmSync(out, { recursive: true, force: true });
    }
  }
}

// ---- the backward section -------------------------------------------------------------------------
const bc: BackwardConfig = { hidden: baseConfig.hidden_size, layers: L, heads: 2, vocab: 1000, batch: 16, seq: 64, runs: quick ? 3 : 5 };
const backward = flag('no-backward') ? [] : measureBackward(bc);

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
  `- ${seeds} seed(s) (mean${seeds > 1 ? ' ± sd' : ''}), ${epochs} epochs${lr ? `, lr ${lr}` : ' (each command\'s default lr)'}; NER: the shipped CoNLL-format sample (data/ner), entity F1 (micro) on its test split; spam: SpamAssassin, ${maxExamples} examples, macro F1 on a 20 % test split`,
  `- time per step: median interval between optimiser steps; peak memory: the run's max RSS (whole process); saved: what the run writes as its model (adapter_model.safetensors + adapter_config.json, or model.safetensors + config.json)`,
  quick ? '- **SMALL configuration (--quick)**: a sanity run, not the issue\'s 3-seed measurement from the shipped checkpoint' : '',
  '',
];
for (const task of tasks) {
  const rows = results.filter((r) => r.task === task);
  if (!rows.length) continue;
  md.push(`## ${task === 'ner' ? 'NER (entity F1)' : 'spam (macro F1)'}`, '', '| strategy | trainable params | trainable % | test F1 | ms / step | peak RSS MiB | saved |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of STRATEGIES) {
    const rs = rows.filter((r) => r.strategy === s.name);
    if (!rs.length) continue;
    const f1s = rs.map((r) => r.f1);
    md.push(`| ${s.name} | ${rs[0]!.trainable.toLocaleString('en-US')} | ${rs[0]!.percent.toFixed(2)} | ${mean(f1s).toFixed(3)}${seeds > 1 ? ` ± ${sd(f1s).toFixed(3)}` : ''} | ${mean(rs.map((r) => r.stepMs ?? NaN)).toFixed(1)} | ${mean(rs.map((r) => r.maxRssMiB)).toFixed(0)} | ${kib(mean(rs.map((r) => r.savedBytes)))} |`);
  }
  md.push('');
}
if (backward.length) md.push('## One training step: graph nodes and backward time', '', backwardMarkdown(bc, backward), '');
const text = md.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
console.log(text);
writeFileSync(join(ROOT, 'bench', 'peft-results.md'), text + '\n');
writeFileSync(join(ROOT, 'bench', 'peft-results.json'), JSON.stringify({ machine, base: baseNote, seeds, epochs, quick, results, backward: { config: bc, rows: backward } }, null, 2) + '\n');
rmSync(tmp, { recursive: true, force: true });
