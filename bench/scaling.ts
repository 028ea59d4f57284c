/**
 * Scaling benchmarks, side by side with PyTorch in the same run (issue #19 item 4):
 *
 *   BERT-tiny training step and forward at seq 64 (batch 16), 256 (batch 4) and 512 (batch 2):
 *     1024 tokens each, so the growth with sequence length is attention's O(T²) share
 *   BERT-base (12 × 768, 12 heads, FFN 3072, seq 128, batch 8) forward and training step
 *     (skipped by BENCH_QUICK=1)
 *   GPT decode with a key/value cache (GPT-2-style, 4 layers × 256, 4 heads, vocab 1000; a
 *     16-token prompt, then 32 greedy tokens) at batch 1 and 16: tokens/s
 *   BERT-tiny training step and a 512³ matmul at 1 and 2 threads
 *   GFLOP/s achieved (analytic FLOP counts) vs the machine's measured matmul peak
 *   attention memory (a second table): peak RSS of one BERT-tiny forward + backward at batch 8 ×
 *     seq 64/256/512 (BENCH_QUICK=1: seq 512 only) with the fused attention kernel
 *     (TENSORGRAD_FUSED_ATTENTION=1, O(S) per query row) vs the composite (=0, which materialises
 *     (B, heads, S, S) scores and probabilities), each in a fresh node process so that
 *     process.resourceUsage().maxRSS is that run's alone
 *
 * Rounds are interleaved — every workload runs on tensorgrad, then on each PyTorch peer, then
 * the next round — and each figure is the median of the per-round medians, so that noise from
 * other processes hits every peer alike. PyTorch runs in long-lived worker processes
 * (bench/torch_scaling.py): Debian's /usr/bin/python3 (torch 1.13), and a PyTorch 2.x CPU wheel
 * as a second column when `TORCH2_PYTHON` names a python that has one, or when the git-ignored
 * venv out/torch2 exists (`python3 -m venv out/torch2 && out/torch2/bin/pip install torch`, with
 * the machine's pip mirror); skipped otherwise.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { getGemmThreads, setGemmThreads } from '../src/backends/cpu/matmul.js';
import { fmaEnabled } from '../src/backends/cpu/wasm-gemm.js';
import { manualSeed, nn, noGrad, optim, randint, randn, tidy, zeros } from '../src/index.js';
import { useFusedAttention } from '../src/nn/functional.js';
import { median, QUICK, type Section, type SectionResult } from './harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---- workloads -----------------------------------------------------------------------------------

interface BertSpec { kind: 'bert'; vocab: number; hidden: number; layers: number; heads: number; ffn: number; labels: number; batch: number; seq: number; what: 'train' | 'forward' }
interface GptSpec { kind: 'gpt'; vocab: number; layers: number; heads: number; embd: number; block: number; batch: number; prompt: number; new: number }
interface MmSpec { kind: 'mm'; n: number }
type Spec = BertSpec | GptSpec | MmSpec;

interface Workload {
  id: string;
  label: string;
  spec: Spec;
  threads: number;
  /** timed runs per round (after one warm-up run) */
  runs: number;
  /** floating-point operations of one run (analytic; multiply-add = 2) */
  flops: number;
  /** what one run produces, for a rate column: tokens */
  tokens: number;
}

const tiny = (seq: number, batch: number, what: 'train' | 'forward'): BertSpec =>
  ({ kind: 'bert', vocab: 1000, hidden: 128, layers: 2, heads: 2, ffn: 512, labels: 9, batch, seq, what });
const base = (what: 'train' | 'forward'): BertSpec =>
  ({ kind: 'bert', vocab: 30522, hidden: 768, layers: 12, heads: 12, ffn: 3072, labels: 9, batch: 8, seq: 128, what });
const gpt = (batch: number): GptSpec => ({ kind: 'gpt', vocab: 1000, layers: 4, heads: 4, embd: 256, block: 64, batch, prompt: 16, new: 32 });

/** Forward FLOPs of BERT: the Linear layers (Q, K, V, O, FFN in/out, head) and the two attention products. */
function bertForwardFlops(s: BertSpec): number {
  const tok = s.batch * s.seq, H = s.hidden;
  const linear = 2 * tok * (s.layers * (4 * H * H + 2 * H * s.ffn) + H * s.labels);
  const attn = s.layers * 2 * 2 * s.batch * s.seq * s.seq * H; // QKᵀ and P·V over all heads
  return linear + attn;
}
/** A training step ≈ 3 × the forward (the backward computes two products per forward product). */
const bertFlops = (s: BertSpec): number => (s.what === 'train' ? 3 : 1) * bertForwardFlops(s);
/** GPT decode: per new token per sequence 2·(12·C²·layers + C·vocab) plus attention over the cache. */
function gptFlops(s: GptSpec): number {
  const C = s.embd;
  const perTok = 2 * (12 * C * C * s.layers + C * s.vocab);
  let attn = 0;
  for (let i = 0; i <= s.new; i++) attn += 2 * 2 * s.layers * C * (s.prompt + i);
  return s.batch * ((s.prompt + s.new) * perTok + attn);
}

function workloads(): Workload[] {
  const w: Workload[] = [];
  const bert = (id: string, label: string, s: BertSpec, threads = 2, runs = QUICK ? 2 : 3) =>
    w.push({ id, label, spec: s, threads, runs, flops: bertFlops(s), tokens: s.batch * s.seq });
  for (const [seq, batch] of [[64, 16], [256, 4], [512, 2]] as const) {
    bert(`tiny-train-${seq}`, `BERT-tiny train step, ${batch} × ${seq}`, tiny(seq, batch, 'train'));
    bert(`tiny-fwd-${seq}`, `BERT-tiny forward, ${batch} × ${seq}`, tiny(seq, batch, 'forward'));
  }
  bert('tiny-train-64-1t', 'BERT-tiny train step, 16 × 64, 1 thread', tiny(64, 16, 'train'), 1);
  for (const b of [1, 16]) {
    const s = gpt(b);
    w.push({ id: `gpt-decode-${b}`, label: `GPT decode, batch ${b} (16-token prompt + 32 tokens, KV cache)`, spec: s, threads: 2, runs: 2, flops: gptFlops(s), tokens: b * s.new });
  }
  for (const threads of [1, 2]) w.push({ id: `mm-512-${threads}t`, label: `matmul 512³, ${threads} thread${threads > 1 ? 's' : ''}`, spec: { kind: 'mm', n: 512 }, threads, runs: 5, flops: 2 * 512 ** 3, tokens: 0 });
  if (!QUICK) {
    w.push({ id: 'base-fwd', label: 'BERT-base forward, 8 × 128', spec: base('forward'), threads: 2, runs: 1, flops: bertFlops(base('forward')), tokens: 1024 });
    w.push({ id: 'base-train', label: 'BERT-base train step, 8 × 128', spec: base('train'), threads: 2, runs: 1, flops: bertFlops(base('train')), tokens: 1024 });
    w.push({ id: 'mm-1024-2t', label: 'matmul 1024³, 2 threads', spec: { kind: 'mm', n: 1024 }, threads: 2, runs: 3, flops: 2 * 1024 ** 3, tokens: 0 });
  }
  return w;
}

// ---- tensorgrad ----------------------------------------------------------------------------------

const tgCache = new Map<string, () => void>();

function tensorgradRunner(s: Spec): () => void {
  const key = JSON.stringify(s);
  const have = tgCache.get(key);
  if (have) return have;
  let fn: () => void;
  if (s.kind === 'bert') {
    manualSeed(0);
    const model = new nn.BertForTokenClassification(new nn.BertConfig({
      vocabSize: s.vocab, hiddenSize: s.hidden, numHiddenLayers: s.layers, numAttentionHeads: s.heads, intermediateSize: s.ffn,
      hiddenAct: 'gelu', layerNormEps: 1e-12, maxPositionEmbeddings: Math.max(512, s.seq), typeVocabSize: 2, initializerRange: 0.02,
      numLabels: s.labels, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1,
    }));
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    const ids = randint(1, s.vocab, [s.batch, s.seq]), labels = randint(0, s.labels, [s.batch, s.seq]);
    fn = s.what === 'train'
      ? () => tidy(() => {
        model.train();
        const { loss } = model.forward({ inputIds: ids, labels });
        opt.zeroGrad();
        loss!.backward();
        opt.step();
        loss!.item();
      })
      : () => tidy(() => noGrad(() => { model.eval(); model.forward({ inputIds: ids }).logits.toTypedArray(); }));
  } else if (s.kind === 'gpt') {
    manualSeed(0);
    const model = new nn.GPT(new nn.GPTConfig({ vocabSize: s.vocab, blockSize: s.block, nLayer: s.layers, nHead: s.heads, nEmbd: s.embd })).eval();
    const prompt = randint(0, s.vocab, [s.batch, s.prompt]);
    fn = () => tidy(() => { model.generate(prompt, { maxNewTokens: s.new, temperature: 0 }).toTypedArray(); });
  } else {
    const a = randn([s.n, s.n]), b = randn([s.n, s.n]);
    fn = () => tidy(() => { a.matmul(b).toTypedArray(); });
  }
  tgCache.set(key, fn);
  return fn;
}

function timeTensorgrad(w: Workload): number[] {
  const saved = getGemmThreads();
  setGemmThreads(w.threads);
  try {
    const fn = tensorgradRunner(w.spec);
    fn(); // warm-up
    const out: number[] = [];
    for (let i = 0; i < w.runs; i++) {
      const t0 = performance.now();
      fn();
      out.push(performance.now() - t0);
    }
    return out;
  } finally {
    setGemmThreads(saved);
  }
}

// ---- torch workers -------------------------------------------------------------------------------

class TorchWorker {
  private readonly proc: ChildProcessByStdio<Writable, Readable, null>;
  private buf = '';
  private waiting: ((line: string | null) => void) | null = null;
  private exited = false;
  version = '?';
  constructor(readonly python: string) {
    this.proc = spawn(python, [path.join(HERE, 'torch_scaling.py')], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } }); // stderr passed through: never a full pipe
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buf += d;
      const nl = this.buf.indexOf('\n');
      if (nl >= 0 && this.waiting) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting;
        this.waiting = null;
        w(line);
      }
    });
    this.proc.on('exit', () => {
      this.exited = true;
      this.waiting?.(null);
    });
    this.proc.on('error', () => {
      this.exited = true;
      this.waiting?.(null);
    });
  }
  /** The samples of one request, or null when the worker is gone. */
  async time(w: Workload): Promise<number[] | null> {
    if (this.exited) return null;
    const line = await new Promise<string | null>((resolve) => {
      this.waiting = resolve;
      this.proc.stdin.write(JSON.stringify({ spec: w.spec, threads: w.threads, warmup: 1, runs: w.runs }) + '\n');
    });
    if (line === null) return null;
    const r = JSON.parse(line) as { samples_ms: number[]; torch: string };
    this.version = r.torch;
    return r.samples_ms;
  }
  close(): void {
    if (!this.exited) this.proc.stdin.end(JSON.stringify({ quit: true }) + '\n');
  }
}

// ---- attention memory (fused vs composite), one child process per run ---------------------------

/** BERT-tiny as above, attention dropout 0 (the fused kernel has no dropout), fixed batch. */
const MEM_BATCH = 8;
const MEM_SEQS = QUICK ? [512] : [64, 256, 512];
const MEM_CHILD_FLAG = '--attention-memory-child';
const MEM_MARKER = 'ATTENTION_MEMORY_JSON ';

interface MemRun { seq: number; batch: number; fused: boolean; rssBeforeMiB: number; maxRssMiB: number; loss: number; seconds: number }

/**
 * This process's peak resident memory in MiB: VmHWM of /proc/self/status where there is one. Not
 * `process.resourceUsage().maxRSS`: on Linux a child's maxRSS starts from its parent's high-water
 * mark (fork copies the address space's counters and exec folds them in), so children of a bench
 * that has already run BERT-base all reported the parent's 3.4 GiB.
 */
function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // no /proc: fall back below
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** In the child: build the model, run `steps` forward + backward passes, report RSS before and the peak. */
function attentionMemoryChild(seq: number, steps: number): MemRun {
  const s = tiny(seq, MEM_BATCH, 'train');
  manualSeed(0);
  const model = new nn.BertForTokenClassification(new nn.BertConfig({
    vocabSize: s.vocab, hiddenSize: s.hidden, numHiddenLayers: s.layers, numAttentionHeads: s.heads, intermediateSize: s.ffn,
    hiddenAct: 'gelu', layerNormEps: 1e-12, maxPositionEmbeddings: Math.max(512, s.seq), typeVocabSize: 2, initializerRange: 0.02,
    numLabels: s.labels, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0,
  }));
  model.train();
  const ids = randint(1, s.vocab, [s.batch, s.seq]), labels = randint(0, s.labels, [s.batch, s.seq]);
  // the path BERT's self-attention takes for these q, k, v shapes (B, heads, S, head size), no mask
  const fused = tidy(() => { const q = zeros([s.batch, s.heads, s.seq, s.hidden / s.heads]); return useFusedAttention(q, q, q, null); });
  const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let loss = NaN;
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      const out = model.forward({ inputIds: ids, labels });
      out.loss!.backward();
      loss = out.loss!.item();
      model.zeroGrad();
    });
  }
  return { seq, batch: s.batch, fused, rssBeforeMiB, maxRssMiB: peakRssMiB(), loss, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[2] === MEM_CHILD_FLAG) {
  const r = attentionMemoryChild(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(`\n${MEM_MARKER}${JSON.stringify(r)}\n`);
  process.exit(0);
}

/** Runs attentionMemoryChild in a fresh node process with TENSORGRAD_FUSED_ATTENTION=1 or 0. */
function attentionMemoryRun(seq: number, fused: boolean, steps: number): MemRun | string {
  try {
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const out = execFileSync(process.execPath, ['--import', tsxLoader, fileURLToPath(import.meta.url), MEM_CHILD_FLAG, String(seq), String(steps)], {
      encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TENSORGRAD_FUSED_ATTENTION: fused ? '1' : '0' },
    });
    const line = out.split('\n').find((l) => l.startsWith(MEM_MARKER));
    return line ? (JSON.parse(line.slice(MEM_MARKER.length)) as MemRun) : 'the child printed no result';
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    return (err.stderr && err.stderr.trim().split('\n').slice(-1)[0]) || err.message || String(e);
  }
}

function attentionMemoryTable(): SectionResult {
  const s0 = tiny(512, MEM_BATCH, 'train');
  const steps = QUICK ? 1 : 2; // the peak is reached in the first pass; the pool reuses its blocks after
  const mib = (x: number) => x / 2 ** 20;
  const rows: (string | number | null)[][] = [];
  const data: Record<string, unknown>[] = [];
  const failures: string[] = [];
  for (const seq of MEM_SEQS) {
    console.error(`[bench] scaling: attention memory, seq ${seq}`);
    const fusedRun = attentionMemoryRun(seq, true, steps);
    const compRun = attentionMemoryRun(seq, false, steps);
    for (const [name, r] of [['fused', fusedRun], ['composite', compRun]] as const) if (typeof r === 'string') failures.push(`seq ${seq}, ${name}: ${r}`);
    const f = typeof fusedRun === 'string' ? null : fusedRun, c = typeof compRun === 'string' ? null : compRun;
    for (const [name, r, want] of [['fused', f, true], ['composite', c, false]] as const) if (r && r.fused !== want) failures.push(`seq ${seq}, ${name}: the child took the ${r.fused ? 'fused' : 'composite'} path`);
    const scoreMiB = mib(MEM_BATCH * s0.heads * seq * seq * 4); // one (B, heads, S, S) float32 tensor
    const growth = (r: MemRun | null) => (r ? r.maxRssMiB - r.rssBeforeMiB : null);
    const gf = growth(f), gc = growth(c);
    rows.push([
      `BERT-tiny fwd + bwd, ${MEM_BATCH} × ${seq}`, scoreMiB, mib(s0.layers * 4 * MEM_BATCH * s0.heads * seq * seq * 4),
      f ? f.maxRssMiB : null, c ? c.maxRssMiB : null, gf, gc, gf !== null && gc !== null ? gc - gf : null,
    ]);
    data.push({ seq, batch: MEM_BATCH, scoreTensorMiB: scoreMiB, fused: f, composite: c });
  }
  return {
    id: 'scaling-memory',
    title: 'Scaling: attention memory by sequence length — peak RSS, fused (O(S)) vs composite (O(S²)) attention',
    status: rows.length > 0 ? 'ok' : 'skipped',
    columns: ['workload', 'one score tensor MiB', 'composite score tensors MiB (layers × 4)', 'fused peak RSS MiB', 'composite peak RSS MiB',
      'fused step growth MiB', 'composite step growth MiB', 'composite − fused MiB'],
    rows,
    notes: [
      `Each cell is its own fresh node process (node --import tsx) with TENSORGRAD_FUSED_ATTENTION=1 (fused kernel: online softmax, O(S) per query row, the backward recomputes) or 0 (composite: QKᵀ, softmax, P·V); peak RSS = the process's VmHWM at the end (/proc/self/status; resourceUsage().maxRSS would start from the bench's own high-water mark); step growth = peak RSS − RSS after the model and batch were built (node, tsx and the model alone are the rest).`,
      `Workload: the BERT-tiny above (2 layers, 2 heads, hidden 128) in training mode with attention dropout 0 (the fused kernel has none; hidden dropout 0.1), batch ${MEM_BATCH}, no mask; ${steps} forward + backward pass${steps > 1 ? 'es' : ''} (cross-entropy loss, no optimizer step), each in tidy().${QUICK ? ' BENCH_QUICK=1: seq 512 only (the full run: 64, 256, 512).' : ''}`,
      `Score tensor = (B, heads, S, S) float32 = ${MEM_BATCH}·${s0.heads}·S²·4 bytes: the composite allocates per layer the scores and the probabilities kept for the backward, and in the backward their two gradients (the "layers × 4" column; not all are alive at once); the fused path allocates none — its extra memory is the (B, heads, S) row statistics.`,
      `By default (no TENSORGRAD_FUSED_ATTENTION) BERT takes the fused kernel when the scores have ≥ 2^22 elements and attention dropout is off: here at seq 512 (8·2·512² = 2^22) and not below.`,
      ...failures.map((x) => `Failed: ${x}`),
    ],
    data: { batch: MEM_BATCH, steps, runs: data },
  };
}

// ---- the section ---------------------------------------------------------------------------------

const fmt = (ms: number | null): string | null => (ms === null ? null : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

export const scalingSection: Section = {
  id: 'scaling',
  title: 'Scaling: BERT-tiny by sequence length, BERT-base, GPT decode, threads, GFLOP/s — tensorgrad vs PyTorch, interleaved rounds',
  async run(): Promise<SectionResult[]> {
    const rounds = QUICK ? 2 : 3;
    const ws = workloads();
    const peers: { name: string; worker: TorchWorker }[] = [];
    if (existsSync('/usr/bin/python3')) peers.push({ name: 'torch (Debian)', worker: new TorchWorker('/usr/bin/python3') });
    const localVenv = path.join(HERE, '..', 'out', 'torch2', 'bin', 'python');
    const t2 = process.env.TORCH2_PYTHON ?? (existsSync(localVenv) ? localVenv : undefined);
    if (t2 && existsSync(t2)) peers.push({ name: 'torch 2.x', worker: new TorchWorker(t2) });
    const perRound = new Map<string, number[][]>(); // `${workload}|${peer}` → per-round samples
    const push = (k: string, s: number[] | null) => { if (s) { const a = perRound.get(k) ?? []; a.push(s); perRound.set(k, a); } };
    try {
      for (let r = 0; r < rounds; r++) {
        for (const w of ws) {
          console.error(`[bench] scaling: round ${r + 1}/${rounds}, ${w.id}`);
          push(`${w.id}|tensorgrad`, timeTensorgrad(w));
          for (const p of peers) push(`${w.id}|${p.name}`, await p.worker.time(w));
        }
      }
    } finally {
      for (const p of peers) p.worker.close();
    }
    const figure = (w: Workload, peer: string): number | null => {
      const rs = perRound.get(`${w.id}|${peer}`);
      return rs && rs.length > 0 ? median(rs.map(median)) : null;
    };
    const peak = Math.max(...ws.filter((w) => w.spec.kind === 'mm').flatMap((w) => ['tensorgrad', ...peers.map((p) => p.name)].map((p) => figure(w, p)).filter((x): x is number => x !== null).map((ms) => w.flops / ms / 1e6)));
    const columns = ['workload', 'tensorgrad ms', ...peers.map((p) => `${p.name} ms`), ...peers.map((p) => `tensorgrad ÷ ${p.name}`), 'tensorgrad GFLOP/s', '% of peak', 'tensorgrad tokens/s'];
    const data: Record<string, unknown>[] = [];
    const rows = ws.map((w) => {
      const mine = figure(w, 'tensorgrad');
      const theirs = peers.map((p) => figure(w, p.name));
      const gflops = mine !== null ? w.flops / mine / 1e6 : null;
      data.push({ id: w.id, label: w.label, threads: w.threads, flops: w.flops, tensorgradMs: mine, peers: Object.fromEntries(peers.map((p, i) => [p.name, theirs[i]])), rounds: Object.fromEntries([...perRound].filter(([k]) => k.startsWith(`${w.id}|`)).map(([k, v]) => [k.split('|')[1], v])) });
      return [
        w.label, fmt(mine), ...theirs.map(fmt), ...theirs.map((t) => (t !== null && mine !== null ? `${(mine / t).toFixed(2)}×` : null)),
        gflops !== null ? gflops.toFixed(1) : null, gflops !== null && peak > 0 ? `${((100 * gflops) / peak).toFixed(0)} %` : null,
        w.tokens > 0 && mine !== null ? Math.round(w.tokens / (mine / 1000)) : null,
      ];
    });
    const ratio = (id: string): string => {
      const w = ws.find((x) => x.id === id)!, m = figure(w, 'tensorgrad'), t = peers[0] ? figure(w, peers[0].name) : null;
      return m !== null && t !== null ? `${(m / t).toFixed(2)}×` : 'n/a';
    };
    const notes = [
      `Targets (tensorgrad time ÷ ${peers[0]?.name ?? 'torch'} time, lower is better): BERT-tiny training step ≤ 1.25× — measured ${ratio('tiny-train-64')}; forward ≤ 1.5× — measured ${ratio('tiny-fwd-64')}` +
        (QUICK ? '; BERT-base step ≤ 1.5× — not run (BENCH_QUICK=1).' : `; BERT-base training step ≤ 1.5× — measured ${ratio('base-train')}.`),
      `${rounds} interleaved rounds (each workload on tensorgrad, then on each PyTorch worker, then the next workload); one warm-up run per round, then the timed runs; each figure is the median of the per-round medians.`,
      `Peers: ${peers.length ? peers.map((p) => `${p.name} = PyTorch ${p.worker.version} (${p.worker.python})`).join('; ') : 'none (no /usr/bin/python3)'}, torch.set_num_threads as the workload's thread count, OPENBLAS_NUM_THREADS=1 (Debian's torch calls OpenBLAS, whose own threads would otherwise oversubscribe the 2 cores beside torch's OpenMP threads)` +
        (t2 ? '.' : '; a PyTorch 2.x column appears when TORCH2_PYTHON names a python with torch 2.x, or out/torch2 is a venv with it.'),
      `tensorgrad: CPU backend, wasm SIMD gemm with ${fmaEnabled() ? 'FMA (f32x4.relaxed_madd)' : 'mul + add (no relaxed SIMD, or TENSORGRAD_FMA=0)'}, the workload's gemm threads; BERT in training mode with dropout 0.1 (every framework), forward under noGrad/no_grad in eval mode.`,
      'GFLOP/s: analytic FLOPs (multiply-add = 2) ÷ tensorgrad time; BERT forward = Linear products + QKᵀ and P·V, a training step = 3 × forward; peak = the fastest matmul measured here (any framework).',
      'GPT decode: GPT-2-style (pre-LN, tanh GELU, tied head), 4 layers × 256, 4 heads, vocab 1000; a 16-token prompt (prefill) then 32 greedy tokens one at a time with the key/value cache (tensorgrad: GPT.generate with temperature 0); tokens/s counts the 32 new tokens of every sequence.',
    ];
    return [{ id: 'scaling', title: this.title, status: 'ok', columns, rows, notes, data: { peakGflops: peak, workloads: data } }, attentionMemoryTable()];
  },
};
