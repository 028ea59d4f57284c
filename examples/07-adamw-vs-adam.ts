/**
 * Lesson 07 — AdamW vs Adam: decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled
 * Weight Decay Regularization", Algorithm 2).
 *
 * Adam with L2 regularisation adds λθ to the gradient, so the decay goes through the adaptive
 * denominator √v̂ like everything else:
 *
 *     g = ∇L(θ) + λθ,   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   θ ← θ − η·m̂/(√v̂ + ε)
 *
 * AdamW decays the weights directly, outside the adaptive step (PyTorch scales λ by η):
 *
 *     θ ← θ − ηλθ,   g = ∇L(θ),   m, v as above,   θ ← θ − η·m̂/(√v̂ + ε)
 *
 * where m̂ = m/(1−β₁ᵗ) and v̂ = v/(1−β₂ᵗ). With L2, a weight with large gradients (large √v̂)
 * is barely decayed and one with tiny gradients is decayed hard; AdamW decays every weight by
 * the same factor (1 − ηλ) per step. We run both optimizers on the same problem, rewrite both
 * updates by hand in plain float64 arithmetic, and compare.
 *
 * Run: npx tsx examples/07-adamw-vs-adam.ts
 */
import { manualSeed, optim, randn, tensor, type Tensor } from '../src/index.js';

const STEPS = process.env.TINY ? 5 : 50;
const lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, lambda = 0.5;

// L(θ) = ½·Σ cᵢ·(θᵢ − 1)²: coordinate 0 has steep gradients (c = 100), coordinate 1 flat ones (c = 0.01)
const c = [100, 0.01];
const lossOf = (theta: Tensor) => theta.sub(1).pow(2).mul(tensor(c, { dtype: 'float64' })).sum().mul(0.5);
const gradOf = (theta: number[]) => theta.map((t, i) => c[i]! * (t - 1)); // ∇L = c·(θ − 1)

manualSeed(0);
const start = randn([2], { dtype: 'float64' }).toArray() as number[];

/** Runs a tensorgrad optimizer from `start` and returns θ and the loss after each step. */
function run(make: (p: Tensor) => optim.Optimizer): { theta: number[]; losses: number[] } {
  const theta = tensor(start, { dtype: 'float64', requiresGrad: true });
  const opt = make(theta);
  const losses: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const loss = lossOf(theta);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return { theta: theta.toArray() as number[], losses };
}

/** The same updates by hand: `decoupled` picks AdamW's θ ← θ − ηλθ instead of g ← g + λθ. */
function byHand(decoupled: boolean): number[] {
  const theta = [...start];
  const m = [0, 0], v = [0, 0];
  for (let t = 1; t <= STEPS; t++) {
    const g = gradOf(theta);
    for (let i = 0; i < 2; i++) {
      let gi = g[i]!;
      if (decoupled) theta[i]! -= lr * lambda * theta[i]!; // θ ← θ − ηλθ
      else gi += lambda * theta[i]!; // g ← ∇L + λθ
      m[i] = beta1 * m[i]! + (1 - beta1) * gi;
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      const mHat = m[i]! / (1 - beta1 ** t);
      const vHat = v[i]! / (1 - beta2 ** t);
      theta[i]! -= (lr * mHat) / (Math.sqrt(vHat) + eps); // θ ← θ − η·m̂/(√v̂ + ε)
    }
  }
  return theta;
}

const opts = { lr, betas: [beta1, beta2] as [number, number], eps, weightDecay: lambda };
const adamW = run((p) => new optim.AdamW([p], opts));
const adamL2 = run((p) => new optim.Adam([p], opts));
const handW = byHand(true);
const handL2 = byHand(false);

const fmt = (xs: number[]) => `[${xs.map((x) => x.toFixed(6)).join(', ')}]`;
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
console.log(`start θ = ${fmt(start)}, minimum of L at θ = [1, 1], λ = ${lambda}, η = ${lr}, ${STEPS} steps\n`);
console.log(`AdamW            θ = ${fmt(adamW.theta)}   by hand ${fmt(handW)}   |Δ| = ${maxDiff(adamW.theta, handW).toExponential(1)}`);
console.log(`Adam + L2        θ = ${fmt(adamL2.theta)}   by hand ${fmt(handL2)}   |Δ| = ${maxDiff(adamL2.theta, handL2).toExponential(1)}`);
console.log(`AdamW − Adam+L2  Δθ = ${fmt(adamW.theta.map((x, i) => x - adamL2.theta[i]!))}\n`);

// Adam + L2 minimises L + ½λ‖θ‖², whose optimum is θᵢ = cᵢ/(cᵢ + λ): the flat coordinate (c = 0.01) is pulled
// almost to 0. AdamW shrinks both coordinates by the same factor (1 − ηλ) per step while the normalised Adam step
// pulls both back towards 1 with similar force, so the flat coordinate is not singled out.
console.log(`L2's regularised optimum cᵢ/(cᵢ + λ) = ${fmt(c.map((ci) => ci / (ci + lambda)))}`);
console.log(`loss first=${adamW.losses[0]!.toFixed(4)} last=${adamW.losses[STEPS - 1]!.toFixed(4)} (AdamW)`);
console.log(`loss first=${adamL2.losses[0]!.toFixed(4)} last=${adamL2.losses[STEPS - 1]!.toFixed(4)} (Adam + L2)`);

const okW = maxDiff(adamW.theta, handW) < 1e-12;
const okL2 = maxDiff(adamL2.theta, handL2) < 1e-12;
const differ = maxDiff(adamW.theta, adamL2.theta) > 1e-3;
console.log(okW ? '✓ AdamW equals the hand formula θ ← θ − ηλθ − η·m̂/(√v̂ + ε)' : '✗ AdamW differs from the hand formula');
console.log(okL2 ? '✓ Adam(weightDecay) equals the hand formula with g ← ∇L + λθ' : '✗ Adam differs from the hand formula');
console.log(differ ? '✓ decoupled decay and L2 give different parameters' : '✗ AdamW and Adam + L2 agree (they should not)');
if (!(okW && okL2 && differ)) process.exitCode = 1;
