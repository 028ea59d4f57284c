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
 * Run: npx tsx examples/10-lora.ts
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, manualSeed, nn, noGrad, optim, peft, randn, type Tensor } from '../src/index.js';

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
