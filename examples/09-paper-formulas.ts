/**
 * Lesson 09 — how to reproduce a formula from a paper.
 *
 * The recipe: write the formula with tensor ops exactly as printed, keep a shape comment on every
 * line, then check it twice —
 *   1. against a value worked out by hand on a tiny input (does it compute the formula?), and
 *   2. with gradcheck, which compares autograd's gradient with central finite differences in
 *      float64 (is it differentiable the way the maths says?).
 * Four formulas from recent papers:
 *
 *   RMSNorm (Zhang & Sennrich 2019, Eq. 4)     ȳ = x / RMS(x) ⊙ g,   RMS(x) = √(1/n Σᵢ xᵢ² + ε)
 *   SwiGLU (Shazeer 2020, Eq. 6)              FFN(x) = (SiLU(xW) ⊙ xV) W₂,   SiLU(a) = a·σ(a)
 *   RoPE (Su et al. 2021, Eq. 34)             (x₂ᵢ, x₂ᵢ₊₁) at position m rotated by the angle m·θᵢ,
 *                                             θᵢ = 10000^(−2i/d)
 *   Focal loss (Lin et al. 2017, Eq. 5)       FL(pₜ) = −αₜ (1 − pₜ)^γ log pₜ
 *
 * Run: npx tsx examples/09-paper-formulas.ts
 */
import {
  cos, einsum, gradcheck, logSoftmax, manualSeed, norm, oneHot, randn, silu, sin, stack, tensor, type Tensor,
} from '../src/index.js';

manualSeed(9);
const f64 = { dtype: 'float64' as const };
let failures = 0;
function check(what: string, actual: number, expected: number, tol = 1e-9): void {
  const ok = Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
  if (!ok) failures++;
  console.log(`${ok ? '✓' : '✗'} ${what}: ${actual.toPrecision(8)} (by hand ${expected.toPrecision(8)})`);
}
function checkGrad(what: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  gradcheck(fn, inputs); // throws, naming the element, if autograd disagrees with finite differences
  console.log(`✓ ${what}: gradcheck passed`);
}

// ---- RMSNorm ---------------------------------------------------------------------------------
/** x (…, n), gain g (n) → x / √(mean(x²) + ε) ⊙ g. */
function rmsNorm(x: Tensor, g: Tensor, eps = 1e-6): Tensor {
  const n = x.shape[x.ndim - 1]!;
  const rms = norm(x, 2, -1, true).div(Math.sqrt(n)).pow(2).add(eps).sqrt(); // (…, 1): ‖x‖/√n = √(mean x²)
  return x.div(rms).mul(g); // (…, n)
}
{
  // by hand, x = [3, 4], g = [1, 2], ε = 0: RMS = √((9 + 16)/2) = √12.5, ȳ = [3/√12.5, 8/√12.5]
  const y = rmsNorm(tensor([3, 4], f64), tensor([1, 2], f64), 0);
  check('RMSNorm ȳ₁ for x = [3, 4], g = [1, 2]', (y.toArray() as number[])[1]!, 8 / Math.sqrt(12.5));
  // by hand, ∂(Σ ȳ)/∂x₀ = g₀/r − x₀·(Σⱼ gⱼxⱼ)/(n·r³) with r = RMS(x)
  const x = tensor([3, 4], { ...f64, requiresGrad: true });
  rmsNorm(x, tensor([1, 2], f64), 0).sum().backward();
  const r = Math.sqrt(12.5);
  check('RMSNorm ∂(Σȳ)/∂x₀', (x.grad!.toArray() as number[])[0]!, 1 / r - (3 * (3 + 8)) / (2 * r ** 3));
  checkGrad('RMSNorm', (a, b) => rmsNorm(a, b!), [randn([2, 5], { ...f64, requiresGrad: true }), randn([5], { ...f64, requiresGrad: true })]);
}

// ---- SwiGLU ----------------------------------------------------------------------------------
/** x (…, d), W, V (d, h), W₂ (h, d) → (SiLU(xW) ⊙ xV) W₂ (…, d). */
function swiGLU(x: Tensor, W: Tensor, V: Tensor, W2: Tensor): Tensor {
  return silu(x.matmul(W)).mul(x.matmul(V)).matmul(W2); // (…, h) ⊙ (…, h) → (…, d)
}
{
  // by hand, d = h = 1, x = 1, W = 1, V = 2, W₂ = 1: SiLU(1)·2 = 2σ(1) = 2/(1 + e⁻¹)
  const one = tensor([[1]], f64);
  const y = swiGLU(one, one, tensor([[2]], f64), one);
  check('SwiGLU for x = W = W₂ = 1, V = 2', y.item(), 2 / (1 + Math.exp(-1)));
  // ∂/∂W at W = 1: V·SiLU'(1) = 2·σ(1)(1 + 1·(1 − σ(1)))
  const W = tensor([[1]], { ...f64, requiresGrad: true });
  swiGLU(one, W, tensor([[2]], f64), one).sum().backward();
  const s = 1 / (1 + Math.exp(-1));
  check('SwiGLU ∂y/∂W', W.grad!.item(), 2 * s * (1 + (1 - s)));
  const p = (shape: number[]) => randn(shape, { ...f64, requiresGrad: true });
  checkGrad('SwiGLU', swiGLU, [p([3, 4]), p([4, 6]), p([4, 6]), p([6, 4])]);
}

// ---- rotary position embeddings ---------------------------------------------------------------
/** x (T, d) with d even, positions 0…T−1 (+ offset) → each pair (x₂ᵢ, x₂ᵢ₊₁) rotated by m·θᵢ. */
function rope(x: Tensor, offset = 0): Tensor {
  const [T, d] = x.shape as [number, number];
  const theta = Array.from({ length: d / 2 }, (_, i) => 10000 ** (-2 * i / d)); // θᵢ
  const angles = tensor(Array.from({ length: T }, (_, m) => theta.map((t) => (m + offset) * t)), { dtype: x.dtype }); // (T, d/2): m·θᵢ
  const c = cos(angles), s = sin(angles); // (T, d/2)
  const pairs = x.reshape([T, d / 2, 2]); // (T, d/2, 2): (x₂ᵢ, x₂ᵢ₊₁)
  const x1 = pairs.select(-1, 0), x2 = pairs.select(-1, 1); // (T, d/2) each
  // the 2-D rotation [cos −sin; sin cos] applied to every pair
  return stack([x1.mul(c).sub(x2.mul(s)), x1.mul(s).add(x2.mul(c))], -1).reshape([T, d]); // (T, d/2, 2) → (T, d)
}
{
  // by hand, d = 2 (θ₀ = 1), x = [1, 0] at position 1: [cos 1, sin 1]
  const y = rope(tensor([[0, 0], [1, 0]], f64));
  check('RoPE of [1, 0] at position 1, first component', (y.toArray() as number[][])[1]![0]!, Math.cos(1));
  // the point of RoPE: ⟨R_m q, R_n k⟩ depends only on m − n — shifting every position by 3 keeps all scores
  const q = randn([4, 8], f64), k = randn([4, 8], f64);
  const scores = einsum('td,sd->ts', rope(q), rope(k)); // (T, T)
  const shifted = einsum('td,sd->ts', rope(q, 3), rope(k, 3)); // (T, T)
  check('RoPE scores: max |score(m, n) − score(m+3, n+3)|', scores.sub(shifted).abs().max().item(), 0, 1e-12);
  check('RoPE keeps norms: ‖R x‖ − ‖x‖', norm(rope(q)).item() - norm(q).item(), 0, 1e-12);
  checkGrad('RoPE', (t) => rope(t, 2), [randn([3, 4], { ...f64, requiresGrad: true })]);
}

// ---- focal loss ---------------------------------------------------------------------------------
/** logits (N, C), int32 targets (N), class weights α (C) → mean over N of −αₜ(1 − pₜ)^γ log pₜ. */
function focalLoss(logits: Tensor, target: Tensor, gamma: number, alpha: Tensor): Tensor {
  const C = logits.shape[1]!;
  const onehot = oneHot(target, C).to(logits.dtype); // (N, C)
  const logPt = logSoftmax(logits, -1).mul(onehot).sum(-1); // (N): log pₜ
  const pt = logPt.exp(); // (N)
  const alphaT = onehot.matmul(alpha); // (N): αₜ
  return alphaT.mul(pt.neg().add(1).pow(gamma)).mul(logPt).neg().mean(); // scalar
}
{
  // by hand, two classes with logits [ln 9, 0]: pₜ = 9/10 for target 0; γ = 2, α = 1:
  // FL = −(1 − 0.9)²·ln 0.9 — an easy example is down-weighted 100× relative to cross-entropy
  const logits = tensor([[Math.log(9), 0]], f64);
  const target = tensor([0], { dtype: 'int32' });
  const ones = tensor([1, 1], f64);
  check('focal loss, pₜ = 0.9, γ = 2', focalLoss(logits, target, 2, ones).item(), -(0.1 ** 2) * Math.log(0.9));
  check('focal loss with γ = 0 is cross-entropy −ln pₜ', focalLoss(logits, target, 0, ones).item(), -Math.log(0.9));
  const t = tensor([0, 2, 1, 2], { dtype: 'int32' });
  checkGrad('focal loss', (x) => focalLoss(x, t, 2, tensor([0.25, 0.5, 0.25], f64)), [randn([4, 3], { ...f64, requiresGrad: true })]);
}

if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all formulas reproduced');
