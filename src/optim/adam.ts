/**
 * Adam, as torch.optim.Adam (PyTorch 1.13, single-tensor path `_single_tensor_adam`).
 *
 * Reference: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR,
 * Algorithm 1. AMSGrad: Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond", ICLR.
 *
 * The algorithm (as in torch/optim/adam.py, written the way the code computes it):
 *
 * ```text
 * input: γ (lr), β₁, β₂ (betas), θ₀ (params), f(θ) (objective), λ (weight decay),
 *        ε (eps), amsgrad, maximize
 * initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
 * for t = 1, 2, …                                   (t counts the steps where θ had a gradient)
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if maximize: g_t ← −g_t
 *   if λ ≠ 0:    g_t ← g_t + λ·θ_{t−1}              (L2 penalty, coupled with the moments)
 *   m_t ← β₁·m_{t−1} + (1 − β₁)·g_t                 (Alg. 1: biased first moment)
 *   v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²                (Alg. 1: biased second raw moment)
 *   if amsgrad: v_t^max ← max(v_{t−1}^max, v_t);  u ← v_t^max
 *   else:       u ← v_t
 *   denom ← √u / √(1 − β₂ᵗ) + ε                     (= √v̂_t + ε)
 *   θ_t ← θ_{t−1} − (γ / (1 − β₁ᵗ)) · m_t / denom   (= θ − γ·m̂_t/(√v̂_t + ε))
 * ```
 *
 * Departures from Kingma & Ba (all PyTorch's):
 * - ε is added to √v_t/√(1−β₂ᵗ) = √v̂_t, as in Algorithm 1, but the bias corrections are applied
 *   as above (not by forming m̂ and v̂, and not as the paper's "more efficient" Sec. 2 variant
 *   α_t = α·√(1−β₂ᵗ)/(1−β₁ᵗ) with ε added to √v_t, which scales ε differently).
 * - Weight decay, absent from the paper, is an L2 term added to the gradient (so it passes
 *   through the adaptive denominator). For decoupled decay use AdamW.
 * - AMSGrad keeps the maximum of the *raw* v_t and bias-corrects it with the current step's
 *   correction (PyTorch's implementation; Reddi et al. use no bias correction at all).
 * - `maximize` negates the gradient.
 */
import { fusedAdamStep } from './fused.js';
import { zerosLike } from '../tensor/creation.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsArg, type StateEntrySpec } from './optimizer.js';
import { checkBoolean, checkNumber, checkOptionsObject, fail } from './validate.js';

/** Adam's hyperparameters per parameter group (torch's names): lr, betas (β₁, β₂), eps, weightDecay, amsgrad, maximize. */
export interface AdamHyperparameters {
  /** Learning rate γ ≥ 0. */
  lr: number;
  /** Coefficients (β₁, β₂), each in [0, 1), of the running averages of g and g². */
  betas: [number, number];
  /** ε ≥ 0, added to the denominator for numerical stability. */
  eps: number;
  /** Weight decay λ ≥ 0: for Adam an L2 term added to the gradient; for AdamW decoupled. */
  weightDecay: number;
  /** Use the AMSGrad variant (maximum of past second moments). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** Adam's constructor options: any subset of {@link AdamHyperparameters} (PyTorch's defaults for the rest). */
export type AdamOptions = Partial<AdamHyperparameters>;

export const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;

/** Fills in the defaults shared by Adam and AdamW (they differ only in `weightDecay`). */
export function adamDefaults(owner: string, options: AdamOptions, weightDecay: number): AdamHyperparameters {
  const o = checkOptionsObject(owner, 'options', options ?? {}, ADAM_KEYS);
  const betas = o.betas ?? [0.9, 0.999];
  return {
    lr: (o.lr ?? 1e-3) as number,
    betas: (Array.isArray(betas) ? [...betas] : betas) as [number, number],
    eps: (o.eps ?? 1e-8) as number,
    weightDecay: (o.weightDecay ?? weightDecay) as number,
    amsgrad: (o.amsgrad ?? false) as boolean,
    maximize: (o.maximize ?? false) as boolean,
  };
}

/** Checks Adam's / AdamW's hyperparameters. */
export function checkAdamHyperparameters(owner: string, h: AdamHyperparameters, where: string): void {
  checkNumber(owner, `${where}lr`, h.lr, { min: 0 });
  if (!Array.isArray(h.betas) || h.betas.length !== 2) fail(owner, `${where}betas`, 'a pair [beta1, beta2]', h.betas);
  checkNumber(owner, `${where}betas[0]`, h.betas[0], { min: 0, max: 1 });
  checkNumber(owner, `${where}betas[1]`, h.betas[1], { min: 0, max: 1 });
  checkNumber(owner, `${where}eps`, h.eps, { min: 0 });
  checkNumber(owner, `${where}weightDecay`, h.weightDecay, { min: 0 });
  checkBoolean(owner, `${where}amsgrad`, h.amsgrad);
  checkBoolean(owner, `${where}maximize`, h.maximize);
}

export const ADAM_STATE: Readonly<Record<string, StateEntrySpec>> = Object.freeze({
  step: { kind: 'count', required: true },
  expAvg: { kind: 'tensor', required: true },
  expAvgSq: { kind: 'tensor', required: true },
  maxExpAvgSq: { kind: 'tensor', required: false },
});

/**
 * The part of the update Adam and AdamW share: the moment updates and the bias-corrected step
 * θ ← θ − (γ/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε), with the same operation order as PyTorch.
 * `g` is the (possibly negated, possibly L2-decayed) gradient; `decay` is AdamW's factor 1 − γλ
 * applied to θ first. A backend with the fused kernel (the CPU's) takes it, see fused.ts.
 */
export function adamMomentStep(param: Tensor, g: Tensor, state: ParamState, group: AdamHyperparameters, decay = 1): void {
  const { lr, eps, amsgrad } = group;
  const [beta1, beta2] = group.betas;
  if (state.step === undefined) {
    state.step = 0;
    state.expAvg = keep(zerosLike(param));
    state.expAvgSq = keep(zerosLike(param));
  }
  if (amsgrad && state.maxExpAvgSq === undefined) state.maxExpAvgSq = keep(zerosLike(param));
  const step = (state.step as number) + 1;
  state.step = step;
  const expAvg = state.expAvg as Tensor;
  const expAvgSq = state.expAvgSq as Tensor;
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  const stepSize = lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
  if (!amsgrad && fusedAdamStep(param, g, expAvg, expAvgSq, { decay, beta1, beta2, stepSize, bc2Sqrt: biasCorrection2Sqrt, eps })) return;
  if (decay !== 1) param.mul_(decay); // AdamW: θ ← θ(1 − γλ)

  expAvg.mul_(beta1).add_(g, 1 - beta1); // m ← β₁m + (1 − β₁)g
  expAvgSq.mul_(beta2).add_(g.mul(1 - beta2).mul(g)); // v ← β₂v + (1 − β₂)g²  (addcmul order: (value·g)·g)

  let u = expAvgSq;
  if (amsgrad) {
    const vMax = state.maxExpAvgSq as Tensor;
    vMax.copy_(vMax.maximum(expAvgSq)); // v^max ← max(v^max, v)
    u = vMax;
  }
  const denom = u.sqrt().div(biasCorrection2Sqrt).add(eps); // √v / √(1 − β₂ᵗ) + ε
  param.add_(expAvg.mul(-stepSize).div(denom)); // addcdiv order: θ + ((−stepSize·m)/denom)
}

/**
 * Adam with bias correction, optional L2 weight decay and AMSGrad, exactly as `torch.optim.Adam`.
 *
 * State per parameter: `step` (a number), `expAvg` (m), `expAvgSq` (v) and, with amsgrad,
 * `maxExpAvgSq`.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const w = tensor([3, -1], { requiresGrad: true });
 * const opt = new optim.Adam([w], { lr: 0.1 });
 * for (let i = 0; i < 200; i++) {
 *   opt.zeroGrad();
 *   w.sub(1).pow(2).sum().backward(); // minimise ‖w − 1‖²
 *   opt.step();
 * }
 * // w is now close to [1, 1]
 */
export class Adam extends Optimizer<AdamHyperparameters> {
  constructor(params: ParamsArg<AdamHyperparameters>, options: AdamOptions = {}) {
    super(params, adamDefaults('Adam', options, 0));
  }

  protected override checkHyperparameters(h: AdamHyperparameters, where: string): void {
    checkAdamHyperparameters('Adam', h, where);
  }

  protected override stateSpec(): Readonly<Record<string, StateEntrySpec>> {
    return ADAM_STATE;
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamHyperparameters>): void {
    let g = group.maximize ? grad.neg() : grad;
    if (group.weightDecay !== 0) g = g.add(param, group.weightDecay); // L2: g ← g + λθ
    adamMomentStep(param, g, state, group);
  }
}
