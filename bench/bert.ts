/**
 * BERT-tiny sections of the benchmark (the workloads of the project's performance issue):
 *
 *   bert-train     one training step (forward + cross-entropy + backward + AdamW update) on
 *                  16 × 64 = 1024 tokens: median ms/step and tokens/s
 *   bert-forward   the forward pass only (noGrad / tf.tidy inference), logits read back
 *   rss-long-run   tensorgrad CPU training for 1000 steps (QUICK: 100) in a fresh node process
 *                  (--expose-gc), RSS and heap sampled every 25 steps: growth after warm-up
 *                  (target < 5 %)
 *
 * The model, the same in every framework: vocab 1000, hidden 128, 2 layers, 2 heads, FFN 512,
 * GELU (exact erf form), LayerNorm ε 1e-12, post-LN blocks, learned position and token-type
 * embeddings, a Linear token-classification head with 9 labels, init N(0, 0.02), dropout 0.1 in
 * training (embeddings, attention probabilities, both residual branches, before the head), no
 * attention mask, token types 0, ids drawn from 1..999 (no padding id), mean cross-entropy over
 * all 1024 tokens, AdamW (lr 1e-3, β (0.9, 0.999), ε 1e-8, weight decay 0.01 on every parameter).
 *
 * Peers: tensorgrad's `nn.BertForTokenClassification` on 'cpu' (and on 'gpu' when
 * `backendInfo('gpu').available`), the tfjs model of bench/bert_tfjs.ts on tfjs's 'cpu' and
 * 'wasm' backends, and PyTorch via bench/torch_bert.py (torch.nn, torch.set_num_threads(2)).
 * Speed-up = peer ms ÷ tensorgrad ms (> 1: tensorgrad faster).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { getGemmThreads, wasmGemmAvailable } from '../src/backends/cpu/matmul.js';
import { backendInfo, manualSeed, nn, noGrad, optim, preloadGpuJs, randint, tidy, type Tensor } from '../src/index.js';
import { TfBertTiny, type BertTinyConfig, type Tf } from './bert_tfjs.js';
import {
  DEFAULT_TIMING, describeTiming, QUICK, quietly, rssMiB, SLOW_TIMING, timeSync, tryExec,
  type Section, type SectionResult, type TimeOptions, type Timing,
} from './harness.js';

// ---- the workload --------------------------------------------------------------------------------

export const BERT_TINY: BertTinyConfig = {
  vocab: 1000, hidden: 128, layers: 2, heads: 2, ffn: 512, labels: 9,
  maxPositions: 512, typeVocab: 2, eps: 1e-12, initStd: 0.02, dropout: 0.1,
};
export const BATCH = 16;
export const SEQ = 64;
const TOKENS = BATCH * SEQ;
const LR = 1e-3;
const WEIGHT_DECAY = 0.01;

/** Project targets for the training step (tensorgrad CPU speed-up over the peer). */
const TRAIN_TARGETS: Record<string, { min: number; text: string }> = {
  'tfjs-wasm': { min: 3, text: '≥ 3×' },
  'tfjs-cpu': { min: 50, text: '≥ 50×' },
  torch: { min: 0.5, text: 'within 2× (≥ 0.5×), direction' },
};

/** Slow peers (seconds per step): 1 warm-up + 5 timed runs, the harness's fixed policy. */
const FEW_RUNS: TimeOptions = SLOW_TIMING;

const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---- tensorgrad ----------------------------------------------------------------------------------

function tensorgradConfig(): nn.BertConfig {
  const c = BERT_TINY;
  return new nn.BertConfig({
    vocabSize: c.vocab, hiddenSize: c.hidden, numHiddenLayers: c.layers, numAttentionHeads: c.heads,
    intermediateSize: c.ffn, hiddenAct: 'gelu', layerNormEps: c.eps, maxPositionEmbeddings: c.maxPositions,
    typeVocabSize: c.typeVocab, initializerRange: c.initStd, numLabels: c.labels,
    hiddenDropoutProb: c.dropout, attentionProbsDropoutProb: c.dropout,
  });
}

interface TgSetup {
  model: nn.BertForTokenClassification;
  opt: optim.AdamW;
  ids: Tensor;
  labels: Tensor;
  device: string;
}

function tensorgradSetup(device: 'cpu' | 'gpu'): TgSetup {
  manualSeed(0);
  let model = new nn.BertForTokenClassification(tensorgradConfig());
  if (device !== 'cpu') model = model.to(device); // before the optimizer: `to` replaces the parameters
  const opt = new optim.AdamW(model.parameters(), { lr: LR, betas: [0.9, 0.999], eps: 1e-8, weightDecay: WEIGHT_DECAY });
  const ids = randint(1, BERT_TINY.vocab, [BATCH, SEQ]).to(device); // (B, T) int32, no padding id
  const labels = randint(0, BERT_TINY.labels, [BATCH, SEQ]).to(device); // (B, T) int32
  return { model, opt, ids, labels, device };
}

/**
 * One training step; returns the loss (read back, which also waits for the device).
 * `useTidy` false: as a user's loop without tidy() (the garbage collector frees the tensors).
 */
function tensorgradStep(s: TgSetup, useTidy = true): number {
  const step = (): number => {
    const { loss } = s.model.forward({ inputIds: s.ids, labels: s.labels });
    s.opt.zeroGrad();
    loss!.backward();
    s.opt.step();
    return loss!.item();
  };
  // Each step runs in tidy(), as the tfjs step runs in tf.tidy and as tensorgrad's own training
  // loops (src/tasks) run: its activations and temporaries are freed at once (GPU textures
  // released, CPU buffers back to the pool); optimizer state is kept by the optimizer.
  return useTidy || s.device !== 'cpu' ? tidy(step) : step();
}

function tensorgradForward(s: TgSetup): void {
  const run = () => noGrad(() => { s.model.forward({ inputIds: s.ids }).logits.toTypedArray(); });
  tidy(run); // frees the activations at once (CPU buffers back to the pool, GPU textures released)
}

// ---- result rows -----------------------------------------------------------------------------------

interface PeerRow {
  name: string;
  /** what it ran on, in words */
  on: string;
  timing: Timing | null;
  policy: TimeOptions | null;
  /** loss of the first and the last training step (warm-up included), and the number of steps */
  loss?: [number, number, number];
  note?: string;
}

const runsText = (r: PeerRow): string | null => (r.timing ? `${r.timing.samplesMs.length} (after ≥ ${r.policy?.warmup ?? '?'} warm-up)` : null);
const fmtX = (x: number): string => `${x.toFixed(x >= 10 ? 1 : 2)}×`;

async function gpuStatus(): Promise<{ available: boolean; text: string; kernelClass: string }> {
  // gpu.js greets and the backend warns once on the console when it falls back: keep the report clean
  const i = await quietly(async () => {
    try {
      await preloadGpuJs();
    } catch {
      /* reported by backendInfo */
    }
    return backendInfo('gpu');
  });
  return { available: i.available, text: i.description, kernelClass: i.kernelClass ?? 'none' };
}

/** Linux without a GPU device node: headless-gl renders WebGL in software (worth saying next to its numbers). */
function softwareGlHint(): string {
  if (process.platform !== 'linux' || existsSync('/dev/dri') || existsSync('/dev/nvidia0')) return '';
  return ' (no GPU device node /dev/dri or /dev/nvidia0 here: WebGL is rendered in software)';
}

function cpuDescription(): string {
  const threads = getGemmThreads();
  return `CPU backend, ${wasmGemmAvailable() ? 'wasm SIMD gemm' : 'plain-JS gemm'}, ${threads} gemm thread(s)`;
}

// ---- tfjs --------------------------------------------------------------------------------------------

type TfWasm = typeof import('@tensorflow/tfjs-backend-wasm');

async function loadTf(): Promise<{ tf: Tf; wasm: TfWasm } | string> {
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

/** Switches tfjs to `backend`; for wasm asks for 2 threads and reports what it got. */
async function useTfBackend(tf: Tf, wasm: TfWasm, backend: 'cpu' | 'wasm'): Promise<string | null> {
  if (backend === 'wasm') wasm.setThreadsCount(2); // only effective before the wasm backend first initialises
  const ok = await quietly(async () => (await tf.setBackend(backend)) && (await tf.ready(), true));
  if (!ok || tf.getBackend() !== backend) return null;
  if (backend === 'cpu') return `tfjs ${tf.version.tfjs} 'cpu' (plain-JS kernels, 1 thread)`;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `tfjs ${tf.version.tfjs} 'wasm' (XNNPACK, SIMD ${simd ? 'on' : 'off'}, multithread support ${mt ? 'yes' : 'no'}, ${wasm.getThreadsCount()} thread(s) used)`;
}

interface TfSetup { model: TfBertTiny; ids: import('@tensorflow/tfjs').Tensor2D; labels: import('@tensorflow/tfjs').Tensor1D }

function tfSetup(tf: Tf): TfSetup {
  const model = new TfBertTiny(tf, BERT_TINY, LR, WEIGHT_DECAY);
  const ids = tf.randomUniform([BATCH, SEQ], 1, BERT_TINY.vocab, 'int32', 7) as import('@tensorflow/tfjs').Tensor2D;
  const labels = tf.randomUniform([TOKENS], 0, BERT_TINY.labels, 'int32', 8) as import('@tensorflow/tfjs').Tensor1D;
  return { model, ids, labels };
}

function tfDispose(s: TfSetup): void {
  s.model.dispose();
  s.ids.dispose();
  s.labels.dispose();
}

async function benchTfjs(which: 'train' | 'forward', backend: 'cpu' | 'wasm', policy: TimeOptions): Promise<PeerRow> {
  const name = `tfjs-${backend}`;
  const loaded = await loadTf();
  if (typeof loaded === 'string') return { name, on: '—', timing: null, policy: null, note: `${name} skipped: ${loaded}` };
  const { tf, wasm } = loaded;
  const on = await useTfBackend(tf, wasm, backend);
  if (on === null) return { name, on: '—', timing: null, policy: null, note: `${name} skipped: backend '${backend}' failed to initialise` };
  const s = tfSetup(tf);
  try {
    const losses: number[] = [];
    const alive: number[] = []; // tfjs tensors alive after each run: constant once Adam's state exists
    const timing = await quietly(() => timeSync(() => {
      if (which === 'train') losses.push(s.model.trainStep(s.ids, s.labels));
      else s.model.infer(s.ids);
      alive.push(tf.memory().numTensors);
    }, policy));
    const leak = alive[alive.length - 1]! - alive[0]!;
    return {
      name, on, timing, policy,
      ...(losses.length ? { loss: [losses[0]!, losses[losses.length - 1]!, losses.length] as [number, number, number] } : {}),
      ...(leak !== 0 ? { note: `${name}: ${leak} more tfjs tensor(s) alive after the last run than after the first (a leak in the bench model?)` } : {}),
    };
  } finally {
    tfDispose(s);
  }
}

// ---- torch -------------------------------------------------------------------------------------------

interface TorchOut {
  torch: string;
  threads: number;
  params: number;
  train?: { median_ms: number; samples_ms: number[] };
  forward?: { median_ms: number; samples_ms: number[] };
  loss_first?: number;
  loss_last?: number;
  steps?: number;
}

function benchTorch(which: 'train' | 'forward'): PeerRow {
  const script = path.join(HERE, 'torch_bert.py');
  const t = DEFAULT_TIMING;
  const args = [script, '--what', which, '--warmup', String(t.warmup), '--warmup-ms', String(t.warmupMs), '--runs', String(t.runs),
    '--min-time-ms', String(t.minTimeMs), '--max-runs', String(t.maxRuns), '--threads', '2', '--dropout', String(BERT_TINY.dropout)];
  const { out, error } = tryExec(PYTHON, args, 300_000);
  if (out === null) return { name: 'torch', on: '—', timing: null, policy: null, note: `torch skipped: ${PYTHON} could not run torch (${error})` };
  const res = JSON.parse(out) as TorchOut;
  const r = which === 'train' ? res.train! : res.forward!;
  return {
    name: 'torch', on: `PyTorch ${res.torch}, ${res.threads} threads`, timing: { medianMs: r.median_ms, samplesMs: r.samples_ms }, policy: t,
    ...(res.loss_first !== undefined && which === 'train' ? { loss: [res.loss_first, res.loss_last!, res.steps!] as [number, number, number] } : {}),
  };
}

// ---- the two timing sections -----------------------------------------------------------------------

async function runTimingSection(which: 'train' | 'forward'): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: PeerRow[] = [];

  // tensorgrad, CPU
  const cpu = tensorgradSetup('cpu');
  const cpuLosses: number[] = [];
  const cpuTiming = which === 'train'
    ? timeSync(() => { cpuLosses.push(tensorgradStep(cpu)); })
    : (cpu.model.eval(), timeSync(() => tensorgradForward(cpu)));
  const mine: PeerRow = {
    name: 'tensorgrad cpu', on: cpuDescription(), timing: cpuTiming, policy: DEFAULT_TIMING,
    ...(cpuLosses.length ? { loss: [cpuLosses[0]!, cpuLosses[cpuLosses.length - 1]!, cpuLosses.length] as [number, number, number] } : {}),
  };
  rows.push(mine);

  // tensorgrad, GPU
  const gpu = await gpuStatus();
  if (gpu.available) {
    const g = tensorgradSetup('gpu');
    const losses: number[] = [];
    const warnings = new Set<string>(); // e.g. kernels that fell back to the CPU: worth reporting
    const saved = console.warn;
    console.warn = (...a: unknown[]) => { warnings.add(a.map(String).join(' ')); };
    let timing: Timing;
    try {
      timing = which === 'train'
        ? timeSync(() => { losses.push(tensorgradStep(g)); }, FEW_RUNS)
        : (g.model.eval(), timeSync(() => tensorgradForward(g), FEW_RUNS));
    } finally {
      console.warn = saved;
    }
    for (const w of warnings) notes.push(`tensorgrad gpu warned: ${w}`);
    rows.push({
      name: 'tensorgrad gpu', on: `gpu.js ${gpu.kernelClass}`, timing, policy: FEW_RUNS,
      ...(losses.length ? { loss: [losses[0]!, losses[losses.length - 1]!, losses.length] as [number, number, number] } : {}),
      note: `tensorgrad gpu: ${gpu.text}; kernelClass ${gpu.kernelClass}${softwareGlHint()}. Timed with ${FEW_RUNS.warmup} warm-up + ${FEW_RUNS.runs} runs; each step's temporaries are freed with tidy().`,
    });
  } else {
    rows.push({ name: 'tensorgrad gpu', on: `not available (${gpu.kernelClass})`, timing: null, policy: null, note: `tensorgrad gpu not run: ${gpu.text} (kernelClass ${gpu.kernelClass}).` });
  }

  // peers
  // tfjs-cpu takes seconds per run (~5.5 s a training step): BENCH_QUICK=1 leaves it out
  rows.push(QUICK
    ? { name: 'tfjs-cpu', on: 'not run (BENCH_QUICK=1)', timing: null, policy: null, note: 'tfjs-cpu not run: BENCH_QUICK=1 leaves out its seconds-long runs (the full run times it).' }
    : await benchTfjs(which, 'cpu', FEW_RUNS));
  rows.push(await benchTfjs(which, 'wasm', DEFAULT_TIMING));
  rows.push(benchTorch(which));

  const myMs = mine.timing!.medianMs;
  const peerNames = new Set(['tfjs-cpu', 'tfjs-wasm', 'torch']);
  const columns = ['peer', 'runs on', which === 'train' ? 'median ms / step' : 'median ms / forward', 'fastest ms', 'tokens / s (median)', 'timed runs',
    ...(which === 'train' ? ['loss: step 1 → last (steps)'] : []), 'tensorgrad cpu speed-up', ...(which === 'train' ? ['target'] : [])];
  const table = rows.map((r) => {
    const ms = r.timing?.medianMs ?? null;
    const speedup = peerNames.has(r.name) && ms !== null ? ms / myMs : null;
    const target = TRAIN_TARGETS[r.name];
    const targetCell = target ? (speedup === null ? target.text : `${target.text}: ${speedup >= target.min ? 'met' : 'not met'}`) : '';
    return [
      r.name, r.on, ms, r.timing ? Math.min(...r.timing.samplesMs) : null, ms !== null ? TOKENS / (ms / 1000) : null, runsText(r),
      ...(which === 'train' ? [r.loss ? `${r.loss[0].toFixed(3)} → ${r.loss[1].toFixed(3)} (${r.loss[2]})` : null] : []),
      speedup !== null ? fmtX(speedup) : r.name === 'tensorgrad cpu' ? '1 (baseline)' : null,
      ...(which === 'train' ? [targetCell || null] : []),
    ];
  });

  for (const r of rows) if (r.note) notes.push(r.note);
  const tfOn = rows.filter((r) => r.name.startsWith('tfjs') && r.timing).map((r) => `${r.name}: ${r.on}`);
  if (tfOn.length) notes.push(`${tfOn.join('; ')}. tfjs-backend-wasm 4.22 reports no multithread support under Node (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false when IS_NODE, tfjs issue #3830), so setThreadsCount(2) has no effect and its single-threaded SIMD build runs.`);
  notes.push(`Workload: BERT-tiny (vocab ${BERT_TINY.vocab}, hidden ${BERT_TINY.hidden}, ${BERT_TINY.layers} layers, ${BERT_TINY.heads} heads, FFN ${BERT_TINY.ffn}, ` +
    `exact-erf GELU, LayerNorm ε 1e-12, post-LN, ${BERT_TINY.labels} labels, 591,753 parameters), batch ${BATCH} × seq ${SEQ} = ${TOKENS} tokens, no attention mask.`);
  if (which === 'train') {
    notes.push(`One step = forward + mean cross-entropy over all ${TOKENS} tokens + backward + AdamW (lr ${LR}, weight decay ${WEIGHT_DECAY} on every parameter), ` +
      `dropout ${BERT_TINY.dropout} (embeddings, attention probabilities, residual branches, before the head) in every framework; the loss is read back each step.`);
    notes.push('tfjs has no AdamW: tf.train.adam plus the decoupled decay by hand, θ ← θ(1 − ηλ) before Adam\'s update (as torch.optim.AdamW). Its embedding gradients use tf.scatterND ' +
      '(a custom gradient): tfjs-wasm lacks UnsortedSegmentSum, which tf.gather\'s own gradient needs. Each step runs in tf.tidy; the tfjs tensor count is checked to stay constant. Each tensorgrad step runs in tidy() likewise (as its own training loops do).');
    notes.push(`The loss column is a sanity check that every implementation trains the same model: each starts near ln ${BERT_TINY.labels} ≈ ${Math.log(BERT_TINY.labels).toFixed(3)} and falls on its fixed random batch; ` +
      'the peers run different numbers of steps (warm-up included), so the last values are not comparable.');
    notes.push('Profiled (tf.profile): ~85 % of a tfjs-wasm step is BatchMatMul in the backward pass, whose transposed operands (dX = dY·Wᵀ, dW = Xᵀ·dY) take ~10× longer than the forward products.');
    notes.push('Project targets (training step, tensorgrad cpu): ≥ 3× faster than tfjs-wasm, ≥ 50× faster than tfjs-cpu; within 2× of PyTorch is the direction.');
  } else {
    notes.push('Forward = inference: tensorgrad model.eval() under noGrad, tfjs forward inside tf.tidy, torch model.eval() under torch.no_grad(); no dropout; the (1024, 9) logits are read back each run. ' +
      'The project states its targets for the training step; here the ratios are for information.');
  }
  notes.push(`Timing: tensorgrad cpu, tfjs-wasm and torch: ${describeTiming(DEFAULT_TIMING)}; tensorgrad gpu and tfjs-cpu (seconds per run): ${FEW_RUNS.warmup} warm-up + ${FEW_RUNS.runs} timed runs. ` +
    'Speed-up = peer median ÷ tensorgrad cpu median (> 1: tensorgrad faster). tensorgrad and tfjs run in this Node process one after the other; torch in its own python process.');

  const data = rows.map((r) => ({ name: r.name, on: r.on, medianMs: r.timing?.medianMs ?? null, samplesMs: r.timing?.samplesMs ?? null, loss: r.loss ?? null, note: r.note ?? null }));
  return {
    id: which === 'train' ? 'bert-train' : 'bert-forward',
    title: which === 'train' ? `BERT-tiny training step (${TOKENS} tokens)` : `BERT-tiny forward pass (${TOKENS} tokens)`,
    status: 'ok', columns, rows: table, notes, data,
  };
}

export const bertTrainSection: Section = {
  id: 'bert-train',
  title: `BERT-tiny training step (${TOKENS} tokens)`,
  run: () => runTimingSection('train'),
};

export const bertForwardSection: Section = {
  id: 'bert-forward',
  title: `BERT-tiny forward pass (${TOKENS} tokens)`,
  run: () => runTimingSection('forward'),
};

// ---- RSS over a long run -----------------------------------------------------------------------------

const MiB = 1024 * 1024;

interface MemSample { step: number; rssMiB: number; heapUsedMiB: number; arrayBuffersMiB: number }

interface RssRun { steps: number; every: number; gcExposed: boolean; samples: MemSample[]; losses: number[]; seconds: number; cpu: string }

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Memory after the garbage has gone: global.gc() (when exposed), then a pause so that V8's
 * background sweeper frees the ArrayBuffer backing stores (measured here: without the pause a
 * sample may still count 20–40 MiB of dead tensor data, with it the count is stable), twice.
 */
async function sampleMemory(step: number): Promise<MemSample> {
  const gc = (globalThis as { gc?: () => void }).gc; // only with node --expose-gc
  for (let i = 0; i < 2; i++) {
    gc?.();
    await pause(50);
  }
  const m = process.memoryUsage();
  return { step, rssMiB: rssMiB(), heapUsedMiB: m.heapUsed / MiB, arrayBuffersMiB: m.arrayBuffers / MiB };
}

/** The long run itself: `steps` training steps, memory sampled before the first and every `every` steps. */
async function rssLoop(steps: number, every: number): Promise<RssRun> {
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const s = tensorgradSetup('cpu');
  const samples: MemSample[] = [await sampleMemory(0)];
  const losses: number[] = [];
  let sampling = 0; // ms spent sampling, left out of the time per step
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    losses.push(tensorgradStep(s, false)); // as a user's loop: no tidy(), the garbage collector frees the tensors
    if (step % every === 0) {
      const t = performance.now();
      samples.push(await sampleMemory(step));
      sampling += performance.now() - t;
    }
  }
  return { steps, every, gcExposed, samples, losses, seconds: (performance.now() - t0 - sampling) / 1000, cpu: cpuDescription() };
}

const RSS_CHILD_FLAG = '--bert-rss-child';
const RSS_MARKER = 'BERT_RSS_JSON ';

/**
 * Runs rssLoop in a fresh node process (with --expose-gc and tsx), so that its RSS is not that of
 * the sections before it (tfjs, GPU textures, the other models); null and the reason when it cannot.
 */
function rssInChild(steps: number, every: number): { run: RssRun | null; error: string | null } {
  let tsxLoader: string;
  try {
    tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch (e) {
    return { run: null, error: `tsx not found (${(e as Error).message.split('\n')[0]})` };
  }
  const self = fileURLToPath(import.meta.url);
  const { out, error } = tryExec(process.execPath, ['--expose-gc', '--import', tsxLoader, self, RSS_CHILD_FLAG, String(steps), String(every)], 1_800_000);
  const line = out?.split('\n').find((l) => l.startsWith(RSS_MARKER));
  if (!line) return { run: null, error: error ?? 'the child printed no result' };
  return { run: JSON.parse(line.slice(RSS_MARKER.length)) as RssRun, error: null };
}

if (process.argv[2] === RSS_CHILD_FLAG) {
  const r = await rssLoop(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(`\n${RSS_MARKER}${JSON.stringify(r)}\n`);
  process.exit(0);
}

export const rssLongRunSection: Section = {
  id: 'rss-long-run',
  title: 'RSS over a long run (tensorgrad cpu, BERT-tiny training)',
  async run(): Promise<SectionResult> {
    const steps = QUICK ? 100 : 1000;
    const every = 25;
    const warmupEnd = QUICK ? 25 : 50;
    const child = rssInChild(steps, every);
    const r = child.run ?? (await rssLoop(steps, every));
    const { samples, losses, seconds, gcExposed } = r;
    const w = samples.find((x) => x.step === warmupEnd)!;
    const after = samples.filter((x) => x.step >= warmupEnd);
    const peak = after.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
    const end = samples[samples.length - 1]!;
    const pct = (a: number, b: number) => ((b - a) / a) * 100;
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
    const growth = pct(w.rssMiB, end.rssMiB);
    const peakGrowth = pct(w.rssMiB, peak.rssMiB);
    const row = (label: string, x: MemSample) => [label, String(x.step), x.rssMiB, x.heapUsedMiB, x.arrayBuffersMiB];
    const rows = [
      row('start (model built, before step 1)', samples[0]!),
      row(`warm-up end (after step ${warmupEnd})`, w),
      row(`peak RSS after warm-up (step ${peak.step})`, peak),
      row(`end (after step ${steps})`, end),
      ['growth after warm-up: end vs warm-up end', null, signed(growth), signed(pct(w.heapUsedMiB, end.heapUsedMiB)), null],
      ['growth after warm-up: peak vs warm-up end', null, signed(peakGrowth), null, null],
    ];
    // least-squares slope of RSS over the samples after warm-up: a leak shows as a steady climb
    const mx = after.reduce((a, x) => a + x.step, 0) / after.length, my = after.reduce((a, x) => a + x.rssMiB, 0) / after.length;
    const sxx = after.reduce((a, x) => a + (x.step - mx) ** 2, 0);
    const slope = sxx > 0 ? after.reduce((a, x) => a + (x.step - mx) * (x.rssMiB - my), 0) / sxx : 0; // MiB per step
    const late = samples.find((x) => x.step >= Math.max(warmupEnd, Math.round(steps / 5 / every) * every))!;
    const series = samples.filter((x) => x.step % (QUICK ? 25 : 100) === 0).map((x) => `${x.step}: ${x.rssMiB.toFixed(0)}`).join(', ');
    return {
      id: 'rss-long-run',
      title: this.title,
      status: 'ok',
      columns: ['point', 'step', 'RSS MiB', 'heap used MiB', 'array buffers MiB'],
      rows,
      notes: [
        `Project target: RSS growth after warm-up < 5 % — ${growth < 5 ? 'met' : 'not met'} (end ${signed(growth)}, peak ${signed(peakGrowth)}).`,
        child.run
          ? 'Run in a fresh node process (node --expose-gc --import tsx), so that the RSS is this workload\'s alone.'
          : `Run in this process (the child process failed: ${child.error}): the RSS includes what the sections before it left behind.`,
        `${steps} training steps (${QUICK ? 'BENCH_QUICK=1; the full run has 1000' : 'BENCH_QUICK=1: 100'}) of the bert-train workload on tensorgrad cpu (${r.cpu}), as a user's loop: no tidy(), the garbage collector frees the tensors; ` +
          `memory sampled every ${every} steps, ${gcExposed ? 'after global.gc() and a 50 ms pause, twice (--expose-gc)' : 'after a pause, without forcing a collection (run node with --expose-gc for steadier samples)'}. ` +
          '"array buffers" are typed-array backing stores outside the JS heap (tensor data and the gemm\'s wasm memory), part of RSS.',
        `RSS by step (MiB): ${series}. Least-squares trend after warm-up: ${slope * 1000 >= 0 ? '+' : ''}${(slope * 1000).toFixed(1)} MiB per 1000 steps` +
          (late.step > warmupEnd ? `; growth from step ${late.step} (a later baseline) to the end: ${signed(pct(late.rssMiB, end.rssMiB))}.` : '.'),
        `${seconds.toFixed(1)} s in all, ${((seconds * 1000) / steps).toFixed(0)} ms/step on average; loss ${losses[0]!.toFixed(3)} → ${losses[losses.length - 1]!.toFixed(3)} (the model memorises the fixed batch).`,
      ],
      data: { steps, every, warmupEnd, gcExposed, inChildProcess: child.run !== null, samples, growthPct: growth, peakGrowthPct: peakGrowth, lateBaselineStep: late.step, lateGrowthPct: pct(late.rssMiB, end.rssMiB), slopeMiBPer1000Steps: slope * 1000, seconds },
    };
  },
};

/** The BERT sections, in the order the report shows them. */
export const bertSections: Section[] = [bertTrainSection, bertForwardSection, rssLongRunSection];
