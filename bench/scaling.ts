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
 *
 * Rounds are interleaved — every workload runs on tensorgrad, then on each PyTorch peer, then
 * the next round — and each figure is the median of the per-round medians, so that noise from
 * other processes hits every peer alike. PyTorch runs in long-lived worker processes
 * (bench/torch_scaling.py): Debian's /usr/bin/python3 (torch 1.13), and a PyTorch 2.x CPU wheel
 * as a second column when `TORCH2_PYTHON` names a python that has one (e.g. a venv made with
 * `python3 -m venv out/torch2 && out/torch2/bin/pip install torch`), skipped otherwise.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { getGemmThreads, setGemmThreads } from '../src/backends/cpu/matmul.js';
import { fmaEnabled } from '../src/backends/cpu/wasm-gemm.js';
import { manualSeed, nn, noGrad, optim, randint, randn, tidy } from '../src/index.js';
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
  const bert = (id: string, label: string, s: BertSpec, threads = 2, runs = 3) =>
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
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: ((line: string | null) => void) | null = null;
  private exited = false;
  version = '?';
  constructor(readonly python: string) {
    this.proc = spawn(python, [path.join(HERE, 'torch_scaling.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
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

// ---- the section ---------------------------------------------------------------------------------

const fmt = (ms: number | null): string | null => (ms === null ? null : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

export const scalingSection: Section = {
  id: 'scaling',
  title: 'Scaling: BERT-tiny by sequence length, BERT-base, GPT decode, threads, GFLOP/s — tensorgrad vs PyTorch, interleaved rounds',
  async run(): Promise<SectionResult> {
    const rounds = 3;
    const ws = workloads();
    const peers: { name: string; worker: TorchWorker }[] = [];
    if (existsSync('/usr/bin/python3')) peers.push({ name: 'torch (Debian)', worker: new TorchWorker('/usr/bin/python3') });
    const t2 = process.env.TORCH2_PYTHON;
    if (t2 && existsSync(t2)) peers.push({ name: 'torch 2.x', worker: new TorchWorker(t2) });
    const perRound = new Map<string, number[][]>(); // `${workload}|${peer}` → per-round samples
    const push = (k: string, s: number[] | null) => { if (s) { const a = perRound.get(k) ?? []; a.push(s); perRound.set(k, a); } };
    try {
      for (let r = 0; r < rounds; r++) {
        for (const w of ws) {
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
      `Peers: ${peers.length ? peers.map((p) => `${p.name} = PyTorch ${p.worker.version} (${p.worker.python})`).join('; ') : 'none (no /usr/bin/python3)'}, torch.set_num_threads as the workload's thread count` +
        (t2 ? '.' : '; a PyTorch 2.x column appears when TORCH2_PYTHON names a python with torch 2.x.'),
      `tensorgrad: CPU backend, wasm SIMD gemm with ${fmaEnabled() ? 'FMA (f32x4.relaxed_madd)' : 'mul + add (no relaxed SIMD, or TENSORGRAD_FMA=0)'}, the workload's gemm threads; BERT in training mode with dropout 0.1 (every framework), forward under noGrad/no_grad in eval mode.`,
      'GFLOP/s: analytic FLOPs (multiply-add = 2) ÷ tensorgrad time; BERT forward = Linear products + QKᵀ and P·V, a training step = 3 × forward; peak = the fastest matmul measured here (any framework).',
      'GPT decode: GPT-2-style (pre-LN, tanh GELU, tied head), 4 layers × 256, 4 heads, vocab 1000; a 16-token prompt (prefill) then 32 greedy tokens one at a time with the key/value cache (tensorgrad: GPT.generate with temperature 0); tokens/s counts the 32 new tokens of every sequence.',
    ];
    return { id: 'scaling', title: this.title, status: 'ok', columns, rows, notes, data: { peakGflops: peak, workloads: data } };
  },
};
