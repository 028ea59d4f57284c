/**
 * Shared pieces of the benchmarks: timing (warm-up, then the median of ≥ 5 runs), machine
 * facts, memory sampling, and markdown tables. Nothing here asserts a time: benchmarks
 * report, tests assert.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** BENCH_QUICK=1: fewer sizes and runs, for a ~1 minute run. */
export const QUICK = process.env.BENCH_QUICK === '1';

export interface Timing {
  /** median wall time of one run, ms */
  medianMs: number;
  /** every timed run, ms, in order */
  samplesMs: number[];
}

export interface TimeOptions {
  /** untimed runs first (JIT tiering, caches, lazily built kernels)… */
  warmup: number;
  /** …and at least this long in total (a JIT needs many calls of a short kernel to tier up) */
  warmupMs: number;
  /** timed runs; the median is reported (at least 5)… */
  runs: number;
  /** …more while the timed runs total less than this (stabler medians for short kernels), at most maxRuns */
  minTimeMs: number;
  maxRuns: number;
}

/**
 * The full run warms up for ≥ 1 s and times ≥ 1.5 s per workload and peer (≥ 9 runs): a
 * training step of ~0.1 s then has ~10 warm-up steps (JIT tiering, buffer pools, helper
 * threads) and ~15 timed ones, so that one slow step on a shared machine does not move the median.
 */
export const DEFAULT_TIMING: TimeOptions = QUICK
  ? { warmup: 1, warmupMs: 150, runs: 5, minTimeMs: 150, maxRuns: 50 }
  : { warmup: 3, warmupMs: 1000, runs: 9, minTimeMs: 1500, maxRuns: 100 };

/**
 * For slow reference kernels and peers (seconds per run: tfjs-cpu, the naive matmul): fixed,
 * small counts — 1 warm-up + 5 timed runs, BENCH_QUICK=1: 1 + 3.
 */
export const SLOW_TIMING: TimeOptions = QUICK
  ? { warmup: 1, warmupMs: 0, runs: 3, minTimeMs: 0, maxRuns: 3 }
  : { warmup: 1, warmupMs: 0, runs: 5, minTimeMs: 0, maxRuns: 5 };

/** The fewest timed runs of any policy (BENCH_QUICK=1 lets SLOW_TIMING time 3). */
const MIN_RUNS = QUICK ? 3 : 5;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times a synchronous workload. */
export function timeSync(fn: () => void, opts: TimeOptions = DEFAULT_TIMING): Timing {
  const w0 = performance.now();
  for (let i = 0; i < opts.warmup || performance.now() - w0 < opts.warmupMs; i++) fn();
  const samplesMs: number[] = [];
  let total = 0;
  while (samplesMs.length < Math.max(MIN_RUNS, opts.runs) || (total < opts.minTimeMs && samplesMs.length < opts.maxRuns)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    samplesMs.push(dt);
    total += dt;
  }
  return { medianMs: median(samplesMs), samplesMs };
}

/** Times an asynchronous workload (each run awaited before the next starts). */
export async function timeAsync(fn: () => Promise<void>, opts: TimeOptions = DEFAULT_TIMING): Promise<Timing> {
  const w0 = performance.now();
  for (let i = 0; i < opts.warmup || performance.now() - w0 < opts.warmupMs; i++) await fn();
  const samplesMs: number[] = [];
  let total = 0;
  while (samplesMs.length < Math.max(MIN_RUNS, opts.runs) || (total < opts.minTimeMs && samplesMs.length < opts.maxRuns)) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    samplesMs.push(dt);
    total += dt;
  }
  return { medianMs: median(samplesMs), samplesMs };
}

/** A one-line description of a timing policy, for the notes. */
export function describeTiming(o: TimeOptions): string {
  return `median of ≥ ${Math.max(MIN_RUNS, o.runs)} timed runs (more, up to ${o.maxRuns}, until they total ${o.minTimeMs} ms) after ≥ ${o.warmup} warm-up run(s) and ≥ ${o.warmupMs} ms of warm-up`;
}

/** The 1-minute load average (other processes competing for the cores skew every number). */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

/** Resident set size of this process, MiB (for long-run memory sections). */
export function rssMiB(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

export interface MachineInfo {
  date: string;
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  logicalCores: number;
  totalMemGiB: number;
  quick: boolean;
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    logicalCores: os.cpus().length,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    quick: QUICK,
  };
}

/** A section's result: one table plus notes, and raw data for results.json. */
export interface SectionResult {
  id: string;
  title: string;
  /** 'ok', or 'skipped' / 'pending' with the reason in notes */
  status: 'ok' | 'skipped' | 'pending';
  columns: string[];
  rows: (string | number | null)[][];
  notes: string[];
  data?: unknown;
}

/** A benchmark section: run(), then rendered into the markdown report and results.json. */
export interface Section {
  id: string;
  title: string;
  run(): Promise<SectionResult | SectionResult[]>;
}

function cell(v: string | number | null): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : String(v);
  return v;
}

export function markdownTable(columns: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const head = `| ${columns.join(' | ')} |`;
  const sep = `|${columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`;
  const body = rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

export function sectionMarkdown(r: SectionResult): string {
  const parts = [`## ${r.title}`, ''];
  if (r.rows.length > 0) parts.push(markdownTable(r.columns, r.rows), '');
  for (const n of r.notes) parts.push(`- ${n}`);
  return parts.join('\n').trimEnd() + '\n';
}

/** Runs a command and returns stdout, or null (with the reason) when it cannot run. */
export function tryExec(cmd: string, args: string[], timeoutMs: number): { out: string | null; error: string | null } {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    return { out, error: null };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const msg = (err.stderr && err.stderr.trim().split('\n').slice(-1)[0]) || err.message || String(e);
    return { out: null, error: msg };
  }
}

/** Runs `fn` with console.log/warn/info silenced (libraries that greet on first use). */
export async function quietly<T>(fn: () => Promise<T> | T): Promise<T> {
  const saved = { log: console.log, warn: console.warn, info: console.info };
  console.log = console.warn = console.info = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}
