/**
 * Lesson 10 — LoRA: Low-Rank Adaptation (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large
 * Language Models", eq. 3).
 *
 * Fine-tuning changes a pretrained weight W₀ ∈ ℝ^{d×k} by some ΔW. LoRA's bet is that ΔW has low
 * rank, so it trains the factors of ΔW = (α/r)·B·A instead of ΔW itself:
 *
 *     h = W₀x + (α/r)·B·A·x,     B ∈ ℝ^{d×r},  A ∈ ℝ^{r×k},  r ≪ min(d, k)
 *
 * W₀ stays frozen; A starts Kaiming-uniform and B at 0, so training starts exactly at the
 * pretrained model; only r·(d + k) numbers train instead of d·k. After training the update can be
 * merged, W ← W₀ + (α/r)·B·A: the model is as fast as before and computes the same function.
 *
 * Here a "pretrained" two-layer network must learn a new task whose true weights differ from the
 * pretrained ones by a rank-1 change in each layer. LoRA with r = 2 learns it, training 11 % of the
 * parameters; then we merge and check that merged == adapted, and save the adapter in
 * HuggingFace peft's format (what Python's PeftModel.from_pretrained reads).
 *
 * Last, the same on a real BERT — the shipped pretrained checkpoint (4 layers × 128): LoRA on
 * query and value as peft does for BERT, merged == adapted again, and what LoRA measured against
 * full fine-tuning on real tasks (bench/peft-results.md, `npm run bench:peft`).
 *
 * Run: npx tsx examples/10-lora.ts
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, fromTypedArray, manualSeed, nn, noGrad, optim, peft, pretrainedPath, randn, type Tensor } from '../src/index.js';
import { loadSafetensors } from '../src/data/index.js';

const STEPS = process.env.TINY ? 150 : 400;
manualSeed(0);

// the pretrained model: W₀ of each layer
const base = new nn.Sequential(new nn.Linear(32, 64), new nn.Tanh(), new nn.Linear(64, 8));
const linears = [...base.children()].filter((m): m is nn.Linear => m instanceof nn.Linear);

// the new task: the same network with W = W₀ + u·vᵀ (a rank-1 change) in each layer
const teacher = new nn.Sequential(new nn.Linear(32, 64), new nn.Tanh(), new nn.Linear(64, 8));
noGrad(() => {
  [...teacher.children()].filter((m) => m instanceof nn.Linear).forEach((t, i) => {
    const b = linears[i]!, tl = t as nn.Linear;
    const u = randn([tl.outFeatures, 1]).mul(0.5), v = randn([1, tl.inFeatures]).mul(0.5 / Math.sqrt(tl.inFeatures));
    tl.weight.copy_(b.weight.add(u.matmul(v))); // W₀ + u·vᵀ
    tl.bias!.copy_(b.bias!);
  });
});
const x = randn([256, 32]);
const y = noGrad(() => teacher.forward(x));

// LoRA on both Linear layers ('0' and '2' are their names in the Sequential), r = 2, α = 4
const { targets } = peft.applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['0', '2'] });
console.log(`LoRA on ${targets.join(', ')}: h = W₀x + (α/r)·B·A·x with α/r = ${4 / 2}`);
peft.printTrainableParameters(base); // r·(d + k) per layer: 2·(32 + 64) + 2·(64 + 8)
const before = noGrad(() => F.mseLoss(base.forward(x), y)).item();

const opt = new optim.AdamW(peft.trainableParameters(base), { lr: 3e-3, weightDecay: 0 });
let last = before;
for (let step = 0; step < STEPS; step++) {
  const loss = F.mseLoss(base.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  last = loss.item();
}
console.log(`loss first=${before.toFixed(5)} last=${last.toFixed(5)}   (mean squared error to the new task, ${STEPS} AdamW steps)`);
console.log(`W₀ untouched: the frozen weights have no gradient (${linears[0]!.weight.grad === null ? 'null' : 'set!'})`);

// merged == adapted: W ← W₀ + (α/r)·B·A gives the same outputs, up to float32 rounding
const adapted = noGrad(() => base.forward(x));
peft.mergeLora(base);
const merged = noGrad(() => base.forward(x));
const diff = (a: Tensor, b: Tensor) => noGrad(() => a.sub(b).abs().max().item());
console.log(`✓ merged == adapted: max |merged − adapted| = ${diff(merged, adapted).toExponential(2)} (float32 rounding)`);
peft.unmergeLora(base);

// the adapter alone, in peft's format
const dir = mkdtempSync(join(tmpdir(), 'lora-'));
const files = peft.savePeftAdapter(base, dir, { baseModelNameOrPath: 'my-base-model' });
const full = base.parameters().filter((p) => !p.requiresGrad).reduce((n, p) => n + 4 * p.numel(), 0);
console.log(`adapter saved: ${files.config} + adapter_model.safetensors, ${statSync(files.weights).size} bytes (the frozen weights: ${full} bytes)`);

// ---- the same on a real BERT: the shipped pretrained checkpoint -----------------------------------
const ckpt = pretrainedPath();
const config = nn.BertConfig.fromJSON({ ...JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')), num_labels: 2 });
const bert = new nn.BertForSequenceClassification(config);
bert.loadPretrained(loadSafetensors(join(ckpt, 'model.safetensors')), { strict: false }); // a fresh classifier head
bert.eval();
const lora = peft.applyLora(bert, { r: 8, loraAlpha: 16, modulesToSave: ['classifier'] }); // targets: query, value
console.log(`\nThe shipped BERT (${config.numHiddenLayers} layers × ${config.hiddenSize}) with LoRA r = 8 on ${lora.targets.length} modules (${lora.targets.slice(0, 2).join(', ')}, …):`);
peft.printTrainableParameters(bert);
// B starts at 0 (the adapted model is exactly the pretrained one); give it values, as training would
noGrad(() => {
  for (const m of bert.modules()) if (m instanceof peft.LoraLinear) m.lora_B.weight.copy_(randn(m.lora_B.weight.shape).mul(0.05));
});
const ids = fromTypedArray(Int32Array.from({ length: 2 * 16 }, (_, i) => 1000 + ((i * 7919) % 6000)), [2, 16], { dtype: 'int32' }); // (2, 16)
const bertAdapted = noGrad(() => bert.forward({ inputIds: ids }).logits); // (2, 2)
peft.mergeLora(bert);
const bertMerged = noGrad(() => bert.forward({ inputIds: ids }).logits);
console.log(`✓ merged == adapted on BERT: max |merged − adapted| = ${diff(bertMerged, bertAdapted).toExponential(2)}`);

// what it buys, measured (bench/peft-results.md: 3 seeds from this checkpoint, NER sample and SpamAssassin)
const measured = JSON.parse(readFileSync(new URL('../bench/peft-results.json', import.meta.url), 'utf8')) as {
  results: { task: string; strategy: string; f1: number; percent: number }[];
};
const meanF1 = (task: string, strategy: string) => {
  const rs = measured.results.filter((r) => r.task === task && r.strategy.startsWith(strategy));
  return { f1: rs.reduce((a, r) => a + r.f1, 0) / rs.length, percent: rs[0]?.percent ?? NaN };
};
for (const task of ['ner', 'spam']) {
  const full = meanF1(task, 'full'), l8 = meanF1(task, 'LoRA r=8');
  console.log(`${task}: full fine-tuning F1 ${full.f1.toFixed(3)} (100 % trained) vs LoRA r = 8 F1 ${l8.f1.toFixed(3)} (${l8.percent.toFixed(2)} % trained)`);
}
