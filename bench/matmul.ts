/**
 * Section "matmul": float32 n×n · n×n in GFLOP/s (2n³ flops per product) for
 *
 *   tensorgrad        the public API: randn([n, n]).matmul(b) on the CPU backend
 *   tfjs-cpu          @tensorflow/tfjs's plain-JS CPU backend (tf.matMul + dataSync)
 *   tfjs-wasm         @tensorflow/tfjs-backend-wasm (XNNPACK; SIMD and threads as available)
 *   torch             PyTorch via bench/torch_bench.py, torch.set_num_threads(2)
 *
 * plus, for context, tensorgrad's own naive and plain-JS kernels (the 'before' and the
 * no-SIMD fallback) and its transposed/batched layouts at one size.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { gemm, getGemmThreads, setGemmThreads, wasmGemmAvailable, type GemmPath } from '../src/backends/cpu/matmul.js';
import { manualSeed, randn } from '../src/index.js';
import {
  DEFAULT_TIMING, describeTiming, QUICK, quietly, SLOW_TIMING, timeAsync, timeSync, tryExec,
  type Section, type SectionResult, type Timing,
} from './harness.js';

const SIZES = QUICK ? [128, 256, 512] : [128, 256, 512, 1024];
/** The naive and plain-JS kernels are slow: only time them up to this size. */
const SLOW_KERNEL_MAX_N = 512;
/** tfjs-cpu needs ~4 s per 1024 product; skip it above this size in quick mode. */
const TFJS_CPU_MAX_N = QUICK ? 512 : 1024;

const gflops = (n: number, t: Timing): number => (2 * n ** 3) / (t.medianMs * 1e6);

interface PeerResult {
  name: string;
  /** GFLOP/s by n (null: not run) */
  gflops: Map<number, number | null>;
  timings: Map<number, Timing>;
  note?: string;
}

function emptyPeer(name: string, note?: string): PeerResult {
  return { name, gflops: new Map(SIZES.map((n) => [n, null])), timings: new Map(), ...(note ? { note } : {}) };
}

// ---- tensorgrad ----------------------------------------------------------------------------------

/** tensorgrad through the public API, with `threads` gemm threads. */
function benchTensorgrad(threads: number, label: string): PeerResult {
  const peer = emptyPeer(label);
  const saved = getGemmThreads();
  setGemmThreads(threads);
  try {
    manualSeed(0);
    for (const n of SIZES) {
      const a = randn([n, n]), b = randn([n, n]);
      const t = timeSync(() => { a.matmul(b); });
      peer.gflops.set(n, gflops(n, t));
      peer.timings.set(n, t);
    }
  } finally {
    setGemmThreads(saved);
  }
  return peer;
}

/** tensorgrad's gemm forced onto one path (raw Float32Arrays, no Tensor overhead). */
function benchKernel(path: GemmPath, label: string): PeerResult {
  const peer = emptyPeer(label);
  for (const n of SIZES) {
    if (n > SLOW_KERNEL_MAX_N) continue;
    const A = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const B = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const C = new Float32Array(n * n);
    const t = timeSync(() => gemm(n, n, n, A, 0, n, 1, B, 0, n, 1, C, 0, path), n >= 256 ? SLOW_TIMING : DEFAULT_TIMING);
    peer.gflops.set(n, gflops(n, t));
    peer.timings.set(n, t);
  }
  return peer;
}

// ---- tfjs ------------------------------------------------------------------------------------------

type Tf = typeof import('@tensorflow/tfjs');

async function loadTf(): Promise<{ tf: Tf; wasm: typeof import('@tensorflow/tfjs-backend-wasm') } | string> {
  try {
    return await quietly(async () => {
      const tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      return { tf, wasm };
    });
  } catch (e) {
    return `tfjs not installed (${(e as Error).message.split('\n')[0]}); npm install -D @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0`;
  }
}

async function benchTfjs(tf: Tf, backend: 'cpu' | 'wasm', label: string, maxN: number): Promise<PeerResult> {
  const peer = emptyPeer(label);
  const ok = await quietly(async () => (await tf.setBackend(backend)) && (await tf.ready(), true));
  if (!ok || tf.getBackend() !== backend) return emptyPeer(label, `${label}: backend '${backend}' failed to initialise`);
  for (const n of SIZES) {
    if (n > maxN) continue;
    const [a, b] = await quietly(() => [tf.randomNormal([n, n], 0, 1, 'float32'), tf.randomNormal([n, n], 0, 1, 'float32')]);
    const t = await quietly(() => timeAsync(async () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    }));
    a.dispose();
    b.dispose();
    peer.gflops.set(n, gflops(n, t));
    peer.timings.set(n, t);
  }
  return peer;
}

// ---- torch -------------------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';

function benchTorch(): PeerResult {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_bench.py');
  const args = [script, '--sizes', SIZES.join(','), '--warmup', String(DEFAULT_TIMING.warmup), '--warmup-ms', String(DEFAULT_TIMING.warmupMs),
    '--runs', String(DEFAULT_TIMING.runs), '--min-time-ms', String(DEFAULT_TIMING.minTimeMs), '--max-runs', String(DEFAULT_TIMING.maxRuns), '--threads', '2'];
  const { out, error } = tryExec(PYTHON, args, 300_000);
  if (out === null) return emptyPeer('torch', `torch skipped: ${PYTHON} could not run torch (${error})`);
  const res = JSON.parse(out) as { torch: string; threads: number; matmul: { n: number; median_ms: number; samples_ms: number[] }[] };
  const peer = emptyPeer('torch', `torch ${res.torch}, ${res.threads} threads (torch.set_num_threads(2)).`);
  for (const r of res.matmul) {
    const t = { medianMs: r.median_ms, samplesMs: r.samples_ms };
    peer.gflops.set(r.n, gflops(r.n, t));
    peer.timings.set(r.n, t);
  }
  return peer;
}

// ---- layouts ------------------------------------------------------------------------------------------

/** tensorgrad at one size in the layouts autograd produces (transposes are never materialised). */
function benchLayouts(): SectionResult {
  const n = 512;
  manualSeed(1);
  const a = randn([n, n]), b = randn([n, n]);
  const q = randn([16, 128, 64]), k = randn([16, 128, 64]); // (B·nh, T, hs): attention scores
  const cases: [string, number, () => void][] = [
    ['A·B', 2 * n ** 3, () => { a.matmul(b); }],
    ['Aᵀ·B (weight gradient)', 2 * n ** 3, () => { a.transpose(0, 1).matmul(b); }],
    ['A·Bᵀ (input gradient, Linear)', 2 * n ** 3, () => { a.matmul(b.transpose(0, 1)); }],
    ['Aᵀ·Bᵀ', 2 * n ** 3, () => { a.transpose(0, 1).matmul(b.transpose(0, 1)); }],
    ['batched Q·Kᵀ 16×(128×64·64×128)', 16 * 2 * 128 * 128 * 64, () => { q.matmul(k.transpose(-1, -2)); }],
  ];
  const rows = cases.map(([name, flops, fn]) => {
    const t = timeSync(fn);
    return [name, t.medianMs, flops / (t.medianMs * 1e6)] as (string | number)[];
  });
  return {
    id: 'matmul-layouts',
    title: 'tensorgrad matmul layouts (float32, n = 512)',
    status: 'ok',
    columns: ['layout', 'median ms', 'GFLOP/s'],
    rows,
    notes: ['Transposed operands are read through swapped strides while packing; no transpose is copied.'],
  };
}

// ---- the section -----------------------------------------------------------------------------------

export const matmulSection: Section = {
  id: 'matmul',
  title: 'matmul (float32, n×n · n×n)',
  async run(): Promise<SectionResult[]> {
    const notes: string[] = [];
    // a first, untimed pass over every size: the first row timed in a fresh process otherwise
    // pays for JIT tier-up and heap growth that its own warm-up does not fully absorb
    const w0 = performance.now();
    for (const n of SIZES) {
      const a = randn([n, n]), b = randn([n, n]);
      while (performance.now() - w0 < (QUICK ? 300 : 1000) * (SIZES.indexOf(n) + 1) / SIZES.length) a.matmul(b);
    }
    const threads = getGemmThreads();
    const tg = benchTensorgrad(threads, `tensorgrad (${threads} thread${threads > 1 ? 's' : ''})`);
    tg.note = `tensorgrad: CPU backend, ${wasmGemmAvailable() ? 'wasm SIMD (f32x4) kernel generated at run time' : 'plain-JS kernel (no wasm SIMD here)'}, ` +
      `${threads} thread(s) (TENSORGRAD_NUM_THREADS; default min(2, cores)).`;
    const tg1 = threads > 1 ? [benchTensorgrad(1, 'tensorgrad (1 thread)')] : [];
    const naive = benchKernel('naive', 'tensorgrad naive (before)');
    const js = benchKernel('js', 'tensorgrad plain-JS kernel');

    const peers: PeerResult[] = [];
    const tfLoaded = await loadTf();
    if (typeof tfLoaded === 'string') {
      peers.push(emptyPeer('tfjs-cpu', tfLoaded), emptyPeer('tfjs-wasm', tfLoaded));
    } else {
      const { tf, wasm } = tfLoaded;
      peers.push(await benchTfjs(tf, 'cpu', 'tfjs-cpu', TFJS_CPU_MAX_N));
      // Ask for 2 threads; the threaded wasm build needs SharedArrayBuffer + Web Workers, so in
      // Node tfjs falls back to its single-threaded SIMD build. Report what it actually used.
      wasm.setThreadsCount(2);
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      const p = await benchTfjs(tf, 'wasm', 'tfjs-wasm', Infinity);
      p.note ??= `tfjs-wasm ${tf.version.tfjs}: SIMD ${simd ? 'on' : 'off'}, multithread support ${mt ? 'yes' : 'no'}, ${wasm.getThreadsCount()} thread(s) used.`;
      peers.push(p);
      peers[0]!.note ??= `tfjs-cpu ${tf.version.tfjs}: plain-JS kernels, 1 thread.`;
      if (TFJS_CPU_MAX_N < SIZES[SIZES.length - 1]!) notes.push(`tfjs-cpu is only run up to n = ${TFJS_CPU_MAX_N} in quick mode.`);
    }
    peers.push(benchTorch());

    const all = [tg, ...tg1, naive, js, ...peers];
    for (const p of all) if (p.note) notes.push(p.note);
    notes.push(`Each number: ${describeTiming(DEFAULT_TIMING)} (the naive and plain-JS kernel rows from n = 256: ${SLOW_TIMING.runs} runs after ${SLOW_TIMING.warmup}). Ratio = tensorgrad GFLOP/s ÷ peer GFLOP/s (> 1: tensorgrad faster).`);
    notes.push(`The naive and plain-JS kernel rows are only timed up to n = ${SLOW_KERNEL_MAX_N}.`);

    const columns = ['n', ...all.map((p) => `${p.name} GFLOP/s`), ...peers.map((p) => `tensorgrad ÷ ${p.name}`)];
    const rows = SIZES.map((n) => {
      const mine = tg.gflops.get(n) ?? null;
      return [
        n,
        ...all.map((p) => p.gflops.get(n) ?? null),
        ...peers.map((p) => {
          const theirs = p.gflops.get(n) ?? null;
          return mine !== null && theirs !== null ? `${(mine / theirs).toFixed(2)}×` : null;
        }),
      ];
    });
    const data = all.map((p) => ({
      name: p.name,
      note: p.note ?? null,
      results: SIZES.map((n) => ({ n, gflops: p.gflops.get(n) ?? null, medianMs: p.timings.get(n)?.medianMs ?? null, samplesMs: p.timings.get(n)?.samplesMs ?? null })),
    }));
    const main: SectionResult = { id: 'matmul', title: this.title, status: 'ok', columns, rows, notes, data };
    return [main, benchLayouts()];
  },
};
