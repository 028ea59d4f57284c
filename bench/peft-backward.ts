/**
 * What freezing saves in the backward pass: for one BERT training step (forward + backward on a
 * fixed batch), the number of autograd graph nodes recorded and the median backward time, for
 * full fine-tuning, a frozen encoder (head only), the top layer only, BitFit, LoRA and adapters.
 *
 * The engine records a node only when an op has an input that requires grad, so a frozen
 * embedding + encoder under a trained head records almost nothing; LoRA and adapters still
 * record the whole network above the first adapted layer (the activations need gradients to
 * reach A and B), but skip the weight gradients of every frozen matrix (needsGrad).
 *
 * Used by bench/peft-compare.ts (section "backward"); also runnable alone:
 *   npx tsx bench/peft-backward.ts [--hidden 128 --layers 2 --batch 16 --seq 64]
 */
import { F, manualSeed, nn, peft, randint, tidy } from '../src/index.js';

export interface BackwardRow {
  setup: string;
  trainable: number;
  percent: number;
  graphNodes: number;
  backwardMs: number;
  stepMs: number;
}

export interface BackwardConfig {
  hidden: number;
  layers: number;
  heads: number;
  vocab: number;
  batch: number;
  seq: number;
  runs: number;
}

const SETUPS: [string, (m: nn.BertForTokenClassification, c: BackwardConfig) => void][] = [
  ['full fine-tuning', () => {}],
  ['frozen encoder (head only)', (m) => m.bert.requiresGrad_(false)],
  ['top layer only', (m, c) => peft.freeze(m, ['bert.embeddings', ...(c.layers > 1 ? [`bert.encoder.layer.{0..${c.layers - 2}}`] : [])])],
  ['BitFit', (m) => peft.applyBitFit(m, { modulesToSave: ['classifier'] })],
  ['LoRA r=8 (query, value)', (m) => peft.applyLora(m, { r: 8, loraAlpha: 16, modulesToSave: ['classifier'] })],
  ['adapters (size 16)', (m) => peft.applyAdapters(m, { adapterSize: 16, modulesToSave: ['classifier'] })],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function measureBackward(c: BackwardConfig): BackwardRow[] {
  const rows: BackwardRow[] = [];
  for (const [setup, apply] of SETUPS) {
    manualSeed(0);
    const model = new nn.BertForTokenClassification(new nn.BertConfig({
      vocabSize: c.vocab, hiddenSize: c.hidden, numHiddenLayers: c.layers, numAttentionHeads: c.heads, intermediateSize: 4 * c.hidden,
      maxPositionEmbeddings: c.seq, numLabels: 9,
    }));
    apply(model, c);
    model.train();
    const ids = randint(0, c.vocab, [c.batch, c.seq], { dtype: 'int32' });
    const labels = randint(0, 9, [c.batch, c.seq], { dtype: 'int32' });
    const back: number[] = [], step: number[] = [];
    let nodes = 0;
    for (let i = 0; i < c.runs + 2; i++) {
      tidy(() => {
        const t0 = performance.now();
        const loss = F.crossEntropy(model.forward({ inputIds: ids }).logits.reshape([-1, 9]), labels.reshape([-1]));
        nodes = peft.countGraphNodes(loss);
        const t1 = performance.now();
        loss.backward();
        const t2 = performance.now();
        for (const p of model.parameters()) p.grad = null;
        if (i >= 2) { back.push(t2 - t1); step.push(t2 - t0); } // 2 warm-up runs
      });
    }
    const cnt = peft.countParameters(model);
    rows.push({ setup, trainable: cnt.trainable, percent: cnt.percent, graphNodes: nodes, backwardMs: median(back), stepMs: median(step) });
  }
  return rows;
}

export function backwardMarkdown(c: BackwardConfig, rows: BackwardRow[]): string {
  const full = rows[0]!;
  return [
    `BERT ${c.layers}×${c.hidden} (${c.heads} heads, vocab ${c.vocab}), token classification, batch ${c.batch} × ${c.seq} tokens; median of ${c.runs} runs after 2 warm-up runs.`,
    '',
    '| setup | trainable params | trainable % | graph nodes | backward ms | forward + backward ms | backward vs full |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.setup} | ${r.trainable.toLocaleString('en-US')} | ${r.percent.toFixed(2)} | ${r.graphNodes} | ${r.backwardMs.toFixed(1)} | ${r.stepMs.toFixed(1)} | ${(r.backwardMs / full.backwardMs).toFixed(2)}× |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (k: string, d: number) => {
    const i = process.argv.indexOf(`--${k}`);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const c: BackwardConfig = { hidden: arg('hidden', 128), layers: arg('layers', 2), heads: arg('heads', 2), vocab: arg('vocab', 1000), batch: arg('batch', 16), seq: arg('seq', 64), runs: arg('runs', 5) };
  console.log(backwardMarkdown(c, measureBackward(c)));
}
