/// <reference lib="webworker" />
/**
 * The playground's model worker: every tensor lives here (issue #20 item 1: browsers forbid
 * Atomics.wait on a page's main thread, and the CPU backend's threaded kernels block on it).
 *
 * - cpu: typed arrays + the wasm SIMD kernels; with `crossOriginIsolated` the GEMM/elementwise
 *   kernels share work with helper Web Workers (src/backends/cpu/threads.ts), else one thread.
 * - gpu: gpu.js's browser build, WebGL2 on an OffscreenCanvas inside this worker (no DOM needed;
 *   the page stays responsive while kernels run). `backendInfo('gpu')` reports the kernel class
 *   found by the backend's known-answer self-test, so a gpu.js fallback to CPU is shown, not hidden.
 *
 * Two tasks: a character-level GPT on Moby-Dick chapters 1–3, and a small BERT spam classifier
 * (BertForSequenceClassification) on SpamAssassin messages — from the shipped pretrained
 * checkpoint when assets/ holds one (see vite.config.ts), else from random initialisation with
 * the bert-base-uncased vocabulary.
 */
import * as gpujs from 'gpu.js';
import {
  backendInfo, fromTypedArray, getDefaultDevice, getGemmThreads, manualSeed, nn, noGrad, optim, registerGpuBackend,
  setDefaultDevice, tidy, data as tgdata, type Tensor,
} from '../src/browser.js';
// GRAPH-VIEW: graph()/traceBackward() come from issue #20 item 3 (engineer `graph`); imported here once on main.
import * as tgAll from '../src/browser.js';
import { baseVocabUrl, mobyDick, pretrained, spam } from 'virtual:playground-data';
import { runGoldenCase } from './golden-ops.js';
import type { AttentionMaps, BackendName, FromWorker, GraphStep, TaskName, ToWorker } from './protocol.js';
import { mulberry32 as rng } from '../src/core/random-bits.js'; // batch positions / soak sequences from a seed: reproducible runs

declare const self: DedicatedWorkerGlobalScope;

const post = (m: FromWorker, transfer: Transferable[] = []) => self.postMessage(m, transfer);

// ---- data ------------------------------------------------------------------------------------------

interface Task {
  name: TaskName;
  model: nn.Module;
  parameters: nn.Parameter[];
  optimizer: { zeroGrad(): void; step(): void };
  description: string;
  /** One batch's loss (inside tidy, recording on) and its token count. */
  loss(): { loss: Tensor; tokens: number };
  predict(text: string): { text: string; html: string };
  attention(text: string): AttentionMaps;
  /** A small batch for the graph view (a whole training step, shrunk). */
  graphLoss(): Tensor;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function attentionMaps(attentions: Tensor[], tokens: string[]): AttentionMaps {
  const maps = attentions.map((a) => {
    // a: (1, H, T, Tk) → one T×Tk map per head
    const [, H, T, Tk] = a.shape as [number, number, number, number];
    const all = Float32Array.from(a.toTypedArray() as ArrayLike<number>);
    return Array.from({ length: H }, (_, h) => all.slice(h * T * Tk, (h + 1) * T * Tk));
  });
  return { tokens, maps };
}

function gptTask(device: string, seed: number): Task {
  const chars = [...new Set(mobyDick)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(mobyDick, (c) => stoi.get(c)!);
  const encode = (s: string) => Array.from(s, (c) => stoi.get(c) ?? stoi.get(' ')!);
  const config = new nn.GPTConfig({ vocabSize: chars.length, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0 });
  const model = new nn.GPT(config, { device });
  const B = 8, T = 64;
  const next = rng(seed);
  const optimizer = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
  const batch = (b: number, t: number) => {
    const x = new Int32Array(b * t), y = new Int32Array(b * t);
    for (let i = 0; i < b; i++) {
      const s = Math.floor(next() * (ids.length - t - 1));
      x.set(ids.subarray(s, s + t), i * t);
      y.set(ids.subarray(s + 1, s + t + 1), i * t);
    }
    return { x: fromTypedArray(x, [b, t], { dtype: 'int32', device }), y: fromTypedArray(y, [b, t], { dtype: 'int32', device }) };
  };
  return {
    name: 'gpt', model, optimizer, parameters: model.parameters(),
    description: `char-GPT: ${config.nLayer} layers × ${config.nEmbd}, ${config.nHead} heads, context ${config.blockSize}, ${chars.length} characters; Moby-Dick ch. 1–3 (${ids.length.toLocaleString('en')} chars); batch ${B}×${T}, AdamW 3e-3`,
    loss() {
      const { x, y } = batch(B, T);
      return { loss: (model as nn.GPT).forward(x, y).loss!, tokens: B * T };
    },
    predict(text) {
      const prompt = encode(text.slice(-config.blockSize)).slice(-config.blockSize);
      const start = prompt.length > 0 ? prompt : encode(' ');
      const out = noGrad(() => {
        model.eval();
        try {
          const idx = fromTypedArray(Int32Array.from(start), [1, start.length], { dtype: 'int32', device });
          return (model as nn.GPT).generate(idx, { maxNewTokens: 120, temperature: 0.8, topK: 10, seed: 1 });
        } finally {
          model.train();
        }
      });
      const all = Array.from(out.toTypedArray() as ArrayLike<number>);
      const cont = all.slice(start.length).map((i) => chars[i]).join('');
      return { text: cont, html: `<b>${escapeHtml(text)}</b>${escapeHtml(cont)}` };
    },
    attention(text) {
      const toks = encode(text.slice(-24));
      const use = toks.length > 0 ? toks : encode('the whale');
      const maps = noGrad(() => {
        model.eval();
        try {
          const idx = fromTypedArray(Int32Array.from(use), [1, use.length], { dtype: 'int32', device });
          return attentionMaps((model as nn.GPT).forward(idx, null, { outputAttentions: true }).attentions!, use.map((i) => chars[i]!));
        } finally {
          model.train();
        }
      });
      return maps;
    },
    graphLoss() {
      const { x, y } = batch(1, 8);
      return (model as nn.GPT).forward(x, y).loss!;
    },
  };
}

async function bertTask(device: string, seed: number): Promise<Task> {
  let tokenizer: tgdata.BertTokenizer;
  let config: nn.BertConfig;
  let source: string;
  let state: Record<string, Tensor> | null = null;
  if (pretrained) {
    const [cfg, vocab, weights] = await Promise.all([
      fetch(pretrained.configUrl).then((r) => r.json()),
      fetch(pretrained.vocabUrl).then((r) => r.text()),
      fetch(pretrained.weightsUrl).then((r) => r.arrayBuffer()),
    ]);
    config = nn.BertConfig.fromJSON({ ...cfg, num_labels: 2, id2label: { 0: 'ham', 1: 'spam' }, label2id: { ham: 0, spam: 1 } });
    tokenizer = tgdata.BertTokenizer.fromVocabText(vocab, { doLowerCase: true });
    state = tgdata.loadSafetensors(new Uint8Array(weights), { device });
    source = `fine-tuned from the shipped checkpoint ${pretrained.name}`;
  } else {
    const vocab = await fetch(baseVocabUrl).then((r) => r.text());
    tokenizer = tgdata.BertTokenizer.fromVocabText(vocab, { doLowerCase: true });
    config = new nn.BertConfig({
      vocabSize: tokenizer.vocabSize, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 128,
      maxPositionEmbeddings: 128, numLabels: 2, id2label: { 0: 'ham', 1: 'spam' },
    });
    source = 'random initialisation (no pretrained checkpoint under assets/ in this build)';
  }
  const model = new nn.BertForSequenceClassification(config, { device });
  if (state) model.loadPretrained(state, { strict: false });
  const L = 64, B = 16;
  const split = Math.floor(spam.length * 0.8);
  const enc = spam.map((e) => ({ ...tokenizer.encode(e.text, { maxLength: L, truncation: true, padding: 'max_length' }), label: e.label }));
  const next = rng(seed);
  const optimizer = new optim.AdamW(model.parameters(), { lr: pretrained ? 5e-5 : 1e-3, weightDecay: 0.01 });
  const inputs = (rows: typeof enc) => ({
    inputIds: fromTypedArray(Int32Array.from(rows.flatMap((r) => r.inputIds)), [rows.length, L], { dtype: 'int32', device }),
    attentionMask: fromTypedArray(Int32Array.from(rows.flatMap((r) => r.attentionMask)), [rows.length, L], { dtype: 'int32', device }),
    labels: fromTypedArray(Int32Array.from(rows.map((r) => r.label)), [rows.length], { dtype: 'int32', device }),
  });
  const sample = (n: number) => Array.from({ length: n }, () => enc[Math.floor(next() * split)]!);
  const shortEnc = (text: string) => {
    const e = tokenizer.encode(text || 'win a free prize now', { maxLength: 24, truncation: true });
    return { e, tokens: tokenizer.convertIdsToTokens(e.inputIds) };
  };
  const run = (text: string, outputAttentions: boolean) => {
    const { e, tokens } = shortEnc(text);
    return noGrad(() => {
      model.eval();
      try {
        const T = e.inputIds.length;
        const out = model.forward({
          inputIds: fromTypedArray(Int32Array.from(e.inputIds), [1, T], { dtype: 'int32', device }),
          attentionMask: fromTypedArray(Int32Array.from(e.attentionMask), [1, T], { dtype: 'int32', device }),
          outputAttentions,
        });
        const p = Array.from(out.logits.softmax(-1).toTypedArray() as ArrayLike<number>);
        return { p, tokens, attentions: out.attentions };
      } finally {
        model.train();
      }
    });
  };
  return {
    name: 'bert', model, optimizer, parameters: model.parameters(),
    description: `spam BERT: ${config.numHiddenLayers} layers × ${config.hiddenSize}, ${config.numAttentionHeads} heads, vocab ${config.vocabSize}, ${source}; ${split} SpamAssassin messages for training, ${spam.length - split} held out; batch ${B}×${L}`,
    loss() {
      return { loss: model.forward(inputs(sample(B))).loss!, tokens: B * L };
    },
    predict(text) {
      const { p } = run(text, false);
      // held-out accuracy, so the page shows whether the classifier generalises
      let correct = 0;
      const held = enc.slice(split);
      noGrad(() => {
        model.eval();
        try {
          for (let i = 0; i < held.length; i += 20) {
            const rows = held.slice(i, i + 20);
            const pred = model.forward(inputs(rows)).logits.argmax(-1).toTypedArray() as ArrayLike<number>;
            rows.forEach((r, j) => { if (pred[j] === r.label) correct++; });
          }
        } finally {
          model.train();
        }
      });
      const pSpam = p[1]!;
      const verdict = pSpam >= 0.5 ? 'spam' : 'ham';
      return {
        text: `${verdict} (p(spam) = ${pSpam.toFixed(3)})`,
        html: `<b>${verdict}</b>: p(spam) = ${pSpam.toFixed(3)} · held-out accuracy ${correct}/${held.length}`,
      };
    },
    attention(text) {
      const { tokens, attentions } = run(text, true);
      return attentionMaps(attentions!, tokens);
    },
    graphLoss() {
      const rows = sample(1).map((r) => ({ ...r, inputIds: r.inputIds.slice(0, 8), attentionMask: r.attentionMask.slice(0, 8) }));
      const x = {
        inputIds: fromTypedArray(Int32Array.from(rows[0]!.inputIds), [1, 8], { dtype: 'int32', device }),
        attentionMask: fromTypedArray(Int32Array.from(rows[0]!.attentionMask), [1, 8], { dtype: 'int32', device }),
        labels: fromTypedArray(Int32Array.from([rows[0]!.label]), [1], { dtype: 'int32', device }),
      };
      return model.forward(x).loss!;
    },
  };
}

// ---- training ----------------------------------------------------------------------------------------

let task: Task | null = null;
let running = false;
let step = 0;
let lastText = '';

/** Lets queued messages (pause, predict) in between steps. */
const yieldNow = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function train(steps: number): Promise<void> {
  if (!task) throw new Error('train: no model yet (send setup first)');
  if (running) return;
  running = true;
  const t = task;
  const end = step + steps;
  try {
    while (running && step < end && task === t) {
      const t0 = performance.now();
      t.optimizer.zeroGrad();
      let tokens = 0;
      const loss = tidy(() => {
        const r = t.loss();
        tokens = r.tokens;
        r.loss.backward();
        return r.loss.item();
      });
      tidy(() => { optim.clipGradNorm(t.parameters, 1.0); });
      tidy(() => { t.optimizer.step(); });
      step++;
      const ms = performance.now() - t0;
      post({ type: 'step', step, loss, tokensPerSecond: tokens / (ms / 1000), ms });
      if (step % 20 === 0) post({ type: 'attention', attention: t.attention(lastText) });
      await yieldNow();
    }
  } finally {
    running = false;
    post({ type: 'paused', step });
  }
}

// ---- graph view ----------------------------------------------------------------------------------------

interface GraphApi {
  graph(root: Tensor, opts?: object): { toSvg(opts?: { idPrefix?: string }): string; ops: readonly unknown[]; tensors: readonly unknown[] };
  traceBackward(root: Tensor, opts?: object): {
    steps: readonly {
      op: string; opId: number; formula: string | null;
      output: { tensorId: number | null; shape: readonly number[] };
      gradOutput: { shape: readonly number[]; norm: number };
      inputs: readonly { tensorId: number; name: string | null; grad: { shape: readonly number[]; norm: number } | null }[];
    }[];
  };
}

/**
 * GRAPH-VIEW: the autograd graph of one training step (the model's loss on a shrunk batch),
 * drawn by the library's graph() with gradient norms from traceBackward(), and the backward
 * steps in execution order for the page's stepper (issue #20 item 3). The step's gradients are
 * cleared afterwards, so drawing never changes training.
 */
function graphView(): FromWorker {
  if (!task) throw new Error('graph: no model yet');
  const lib = tgAll as unknown as Partial<GraphApi>;
  if (typeof lib.graph !== 'function' || typeof lib.traceBackward !== 'function') {
    return { type: 'graph', svg: null, steps: [] as GraphStep[], note: 'graph view: the library graph() is not in this build yet' };
  }
  const names = new Map(task.model.namedParameters());
  const t = task;
  try {
    return tidy(() => {
      const loss = t.graphLoss();
      const trace = lib.traceBackward!(loss, { names });
      const g = lib.graph!(loss, { names, trace });
      const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
      const steps: GraphStep[] = trace.steps.map((s) => ({
        op: s.op,
        formula: s.formula ?? '(no formula in the op table)',
        ids: [`pg-op${s.opId}`, ...(s.output.tensorId !== null ? [`pg-t${s.output.tensorId}`] : []), ...s.inputs.map((i) => `pg-t${i.tensorId}`)],
        detail: `g ${fmt(s.gradOutput.shape)} ‖g‖ ${s.gradOutput.norm.toPrecision(3)} → ` +
          s.inputs.map((i) => (i.grad ? `${i.name ?? 'x'} ${fmt(i.grad.shape)} ‖·‖ ${i.grad.norm.toPrecision(3)}` : `${i.name ?? 'x'} (no grad)`)).join(', '),
      }));
      return { type: 'graph' as const, svg: g.toSvg({ idPrefix: 'pg-' }), steps, note: `loss on one shrunk batch: ${g.ops.length} ops, ${g.tensors.length} tensors, ${steps.length} backward steps — click a step to highlight it` };
    });
  } finally {
    t.optimizer.zeroGrad();
  }
}

// ---- messages ----------------------------------------------------------------------------------------

async function setup(name: TaskName, backend: BackendName, seed: number): Promise<void> {
  running = false;
  task = null;
  step = 0;
  let device = 'cpu';
  if (backend === 'gpu') {
    const mod = gpujs as unknown as { GPU?: unknown; default?: { GPU?: unknown } | unknown };
    const ctor = mod.GPU ?? (mod.default as { GPU?: unknown } | undefined)?.GPU ?? mod.default;
    registerGpuBackend({ gpujs: ctor as never, mode: 'webgl2' });
    device = 'gpu';
  }
  setDefaultDevice(device);
  manualSeed(seed);
  task = name === 'gpt' ? gptTask(device, seed) : await bertTask(device, seed);
  const info = backendInfo(device);
  const parameters = task.parameters.reduce((n, p) => n + p.numel(), 0);
  post({
    type: 'ready', task: name, backend, backendDescription: info.description, available: info.available, kernelClass: info.kernelClass ?? null,
    threads: device === 'cpu' ? getGemmThreads() : 1, crossOriginIsolated: self.crossOriginIsolated === true, parameters,
    description: task.description,
  });
  post({ type: 'attention', attention: task.attention(lastText) });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'setup': return setup(m.task, m.backend, m.seed);
    case 'train': return train(m.steps);
    case 'pause': running = false; return;
    case 'predict': {
      if (!task) throw new Error('predict: no model yet');
      lastText = m.text;
      const p = task.predict(m.text);
      post({ type: 'prediction', ...p });
      post({ type: 'attention', attention: task.attention(m.text) });
      return;
    }
    case 'graph': post(graphView()); return;
    case 'golden': {
      // float64 references: always on the CPU backend, whichever device the model uses
      const before = getDefaultDevice();
      setDefaultDevice('cpu');
      try {
        post({ type: 'golden', results: m.cases.map(runGoldenCase) });
      } finally {
        setDefaultDevice(before);
      }
      return;
    }
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).catch((err: unknown) => {
    post({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  });
};
