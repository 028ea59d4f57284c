/**
 * The compression table of issue #16, on NER and on spam, from the shipped pretrained checkpoint:
 * the fine-tuned teacher (float32) vs int8 (dynamic quantization, Jacob et al. 2018) vs a distilled
 * 2-layer student (Hinton et al. 2015, DistilBERT initialisation) vs the same student trained from
 * scratch vs magnitude pruning to 50 % / 80 % with gradual pruning while fine-tuning (Han et al.
 * 2015; Zhu & Gupta 2017) vs the distilled student in int8 — weights file MB (and gzip'd), test F1,
 * forward ms at batch 1 × 64, 32 × 64 and 8 × 128 tokens, peak memory.
 *
 *   npx tsx bench/compress-table.ts                         the shipped checkpoint, both tasks
 *   npx tsx bench/compress-table.ts --base DIR --tasks ner --jobs 2 --seed 42
 *
 * Everything is made with the CLI, as a user would (each a child process):
 *   teacher   tensorgrad train-ner | train-classifier --init BASE            (each command's defaults)
 *   student   tensorgrad distill --teacher T --layers L/2 --scratch           (T = 2, α = 0.5, 6 epochs)
 *   pruned    tensorgrad prune --model T --sparsity 0.5 | 0.8 --epochs 4     (cubic schedule, 10 events)
 *   int8      tensorgrad quantize --model T | S                              (every nn.Linear)
 * With --jobs 2 the trainings run two at a time (one thread each; runs are deterministic whatever the
 * thread count). Then each row is measured alone, in its own process (bench/compress-row.ts), with one
 * thread: the int8 kernel is single-threaded, so one thread compares the arithmetic, not the thread
 * count. Writes bench/compress-table.md and .json and prints the table. Not part of npm test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './harness.js';
import { compress } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1]! : d;
};
const base = resolve(arg('base', join(ROOT, 'assets', 'tensorgrad-bert-L4-H128-uncased')));
if (!existsSync(join(base, 'model.safetensors'))) throw new Error(`--base: ${base} has no model.safetensors (expected a pretrained BERT folder)`);
const tasks = arg('tasks', 'ner,spam').split(',');
for (const t of tasks) if (t !== 'ner' && t !== 'spam') throw new Error(`--tasks: expected ner and/or spam, got ${t}`);
const jobs = Number(arg('jobs', '2'));
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: expected an integer ≥ 1, got ${arg('jobs', '2')}`);
const seed = arg('seed', '42');
const work = resolve(arg('work', join(ROOT, 'out', 'compress-table')));
mkdirSync(work, { recursive: true });
const baseLayers = (JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { num_hidden_layers: number }).num_hidden_layers;
const studentLayers = Math.max(1, Math.floor(baseLayers / 2));

/** Runs `tensorgrad …args` (src/cli/main.ts) in a child process; resolves with its stdout, rejects with its stderr's tail. */
function cli(args: string[], threads: number | null): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...(threads ? { TENSORGRAD_NUM_THREADS: String(threads) } : {}) },
  });
  let out = '', err = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (err = (err + d.toString()).slice(-4000)));
  const t0 = performance.now();
  return new Promise((res, rej) => child.on('close', (code) => {
    process.stderr.write(`  tensorgrad ${args.slice(0, 3).join(' ')} … (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    if (code === 0) res(out);
    else rej(new Error(`tensorgrad ${args.join(' ')} exited with ${code}:\n${err}`));
  }));
}

/** Runs the thunks `jobs` at a time, in order of submission. */
async function pool(thunks: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, thunks.length) }, async () => {
    while (next < thunks.length) await thunks[next++]!();
  }));
}

const threads = jobs > 1 ? 1 : null;
const dirs = (task: string) => ({
  teacher: join(work, `${task}-teacher`), student: join(work, `${task}-student`),
  pruned50: join(work, `${task}-pruned-50`), pruned80: join(work, `${task}-pruned-80`),
  teacherInt8: join(work, `${task}-teacher-int8`), studentInt8: join(work, `${task}-student-int8`),
});
const dataArgs = (task: string) => (task === 'spam' ? ['--data', 'spam'] : []);
/** A folder that already holds its weights is reused (delete out/compress-table to start over). */
const done = (dir: string) => existsSync(join(dir, 'model.safetensors')) || existsSync(join(dir, 'model-int8.safetensors'));

// 1. the teachers (one per task, side by side)
await pool(tasks.map((task) => async () => {
  const d = dirs(task);
  if (done(d.teacher)) return;
  await cli(task === 'ner' ? ['train-ner', '--init', base, '--seed', seed, '--out', d.teacher] : ['train-classifier', '--init', base, '--data', 'spam', '--seed', seed, '--out', d.teacher], threads);
}));
// 2. student and pruned models of each teacher, then the int8 folders
await pool(tasks.flatMap((task) => {
  const d = dirs(task);
  return [
    async () => done(d.student) || cli(['distill', '--teacher', d.teacher, ...dataArgs(task), '--layers', String(studentLayers), '--scratch', '--seed', seed, '--out', d.student], threads),
    async () => done(d.pruned50) || cli(['prune', '--model', d.teacher, ...dataArgs(task), '--sparsity', '0.5', '--epochs', '4', '--seed', seed, '--output', d.pruned50], threads),
    async () => done(d.pruned80) || cli(['prune', '--model', d.teacher, ...dataArgs(task), '--sparsity', '0.8', '--epochs', '4', '--seed', seed, '--output', d.pruned80], threads),
  ];
}));
for (const task of tasks) {
  const d = dirs(task);
  if (!done(d.teacherInt8)) await cli(['quantize', '--model', d.teacher, '--output', d.teacherInt8], null);
  if (!done(d.studentInt8)) await cli(['quantize', '--model', d.student, '--output', d.studentInt8], null);
}

// 3. each row measured alone, one thread
interface Row { task: string; model: string; f1: number; bytes: number; gzipBytes: number; ms1x64: number; ms32x64: number; ms8x128: number; maxRssMiB: number }
async function measure(task: string, model: string, dir: string): Promise<Row> {
  const report = join(work, `report-${task}-${model.replace(/\W+/g, '-')}.json`);
  await new Promise<void>((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'compress-row.ts'), report, task, dir], { cwd: ROOT, env: { ...process.env, TENSORGRAD_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? res() : rej(new Error(`bench/compress-row.ts ${task} ${dir} exited with ${code}`))));
  });
  const r = JSON.parse(readFileSync(report, 'utf8')) as Omit<Row, 'model'>;
  process.stderr.write(`  ${task} ${model}: F1 ${r.f1.toFixed(4)}, ${(r.bytes / 1e6).toFixed(2)} MB, ${r.ms1x64.toFixed(1)} / ${r.ms32x64.toFixed(0)} / ${r.ms8x128.toFixed(0)} ms, ${r.maxRssMiB.toFixed(0)} MiB\n`);
  return { ...r, task, model };
}
const rows: Row[] = [];
const scratch: Record<string, number> = {};
for (const task of tasks) {
  const d = dirs(task);
  rows.push(await measure(task, 'teacher (float32)', d.teacher));
  rows.push(await measure(task, 'teacher int8', d.teacherInt8));
  rows.push(await measure(task, `distilled student (${studentLayers} layers)`, d.student));
  rows.push(await measure(task, `distilled student (${studentLayers} layers) int8`, d.studentInt8));
  rows.push(await measure(task, 'pruned 50 % + fine-tune', d.pruned50));
  rows.push(await measure(task, 'pruned 80 % + fine-tune', d.pruned80));
  scratch[task] = (JSON.parse(readFileSync(join(d.student, 'metrics.json'), 'utf8')) as { scores: { scratch: { f1: number } } }).scores.scratch.f1;
}

// 4. the report
const machine = machineInfo();
const md: string[] = [
  '# Compression: the table (bench/compress-table.ts)',
  '',
  `${machine.date} · Node ${machine.node} · ${machine.cpu} · ${machine.logicalCores} logical cores · int8 kernel: ${compress.int8LinearPath()}`,
  '',
  `- base: ${base.replace(ROOT, '')}; teachers fine-tuned from it with each command's defaults (seed ${seed}); students ${studentLayers} layers, distilled with T = 2, α = 0.5 from every other teacher layer; pruning: global magnitude masks raised along the cubic schedule while fine-tuning 4 epochs, masks fixed after`,
  '- F1: NER entity micro F1 on the shipped sample\'s test split; spam macro F1 on the 20 % test split of 1000 SpamAssassin examples (seed 42)',
  '- MB: the weights file (model.safetensors, or model-int8.safetensors: I8 weights + F32 scales); gzip: the same file gzip\'d (what unstructured zeros buy)',
  '- forward: best of 20 (1 × 64) or 7 (32 × 64, 8 × 128) passes without autograd, one thread, each model in its own process; peak RSS: that process\'s max RSS (load, test-set scoring, timing)',
  '',
];
for (const task of tasks) {
  const rs = rows.filter((r) => r.task === task);
  const teacher = rs[0]!;
  md.push(`## ${task === 'ner' ? 'NER (entity F1)' : 'spam (macro F1)'}`, '',
    '| model | MB | gzip MB | test F1 | ΔF1 vs teacher | ms 1 × 64 | ms 32 × 64 | ms 8 × 128 | speed-up 8 × 128 | peak RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rs) {
    md.push(`| ${r.model} | ${(r.bytes / 1e6).toFixed(2)} | ${(r.gzipBytes / 1e6).toFixed(2)} | ${r.f1.toFixed(3)} | ${r === teacher ? '' : ((r.f1 - teacher.f1) * 100).toFixed(1)} | ${r.ms1x64.toFixed(1)} | ${r.ms32x64.toFixed(0)} | ${r.ms8x128.toFixed(0)} | ${(teacher.ms8x128 / r.ms8x128).toFixed(2)}× | ${r.maxRssMiB.toFixed(0)} |`);
  }
  const student = rs[2]!;
  md.push('', `The same ${studentLayers}-layer student trained from scratch on the labels alone (distill --scratch: same data and steps): F1 ${scratch[task]!.toFixed(3)}; distilled: ${student.f1.toFixed(3)} = ${(100 * student.f1 / teacher.f1).toFixed(1)} % of the teacher's.`, '');
}
const text = md.join('\n');
writeFileSync(join(ROOT, 'bench', 'compress-table.md'), text + '\n');
writeFileSync(join(ROOT, 'bench', 'compress-table.json'), JSON.stringify({ machine, base: base.replace(ROOT, ''), seed, studentLayers, rows, scratch }, null, 2) + '\n');
console.log(text);
