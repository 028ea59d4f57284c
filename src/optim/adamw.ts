/**
 * AdamW: Adam with decoupled weight decay, as torch.optim.AdamW (PyTorch 1.13, single-tensor
 * path `_single_tensor_adamw`).
 *
 * References: Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization", ICLR,
 * Algorithm 2; Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR.
 *
 * The algorithm (as in torch/optim/adamw.py, written the way the code computes it):
 *
 * ```text
 * input: γ (lr), β₁, β₂ (betas), θ₀ (params), f(θ) (objective), λ (weight decay),
 *        ε (eps), amsgrad, maximize
 * initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
 * for t = 1, 2, …                                   (t counts the steps where θ had a gradient)
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if maximize: g_t ← −g_t
 *   θ_t ← θ_{t−1}·(1 − γλ)                          (decoupled decay: θ ← θ − γλθ)
 *   m_t ← β₁·m_{t−1} + (1 − β₁)·g_t
 *   v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²
 *   if amsgrad: v_t^max ← max(v_{t−1}^max, v_t);  u ← v_t^max
 *   else:       u ← v_t
 *   denom ← √u / √(1 − β₂ᵗ) + ε                     (= √v̂_t + ε)
 *   θ_t ← θ_t − (γ / (1 − β₁ᵗ)) · m_t / denom       (= θ − γ·m̂_t/(√v̂_t + ε))
 * ```
 *
 * Departures from Loshchilov & Hutter (all PyTorch's):
 * - The paper's Algorithm 2 steps θ_t ← θ_{t−1} − η_t·(α·m̂_t/(√v̂_t + ε) + λ·θ_{t−1}), where
 *   η_t is a schedule multiplier and α the Adam step size: the decay is scaled by η_t only.
 *   PyTorch scales it by the learning rate γ (γ plays both α and η_t here), θ ← θ − γλθ, so
 *   the paper's λ corresponds to γλ and the decay follows any LR schedule.
 * - The decay is applied as a separate multiplication before the Adam step. (Both use θ_{t−1}
 *   in exact arithmetic, since the Adam step does not depend on θ; this fixes the rounding.)
 * - Bias corrections and ε as in torch.optim.Adam (see adam.ts); AMSGrad keeps the maximum of
 *   the raw v_t. `maximize` negates the gradient.
 * - The default weight decay is 1e-2 (PyTorch's), not a value from the paper.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ADAM_STATE, adamDefaults, adamMomentStep, checkAdamHyperparameters, type AdamHyperparameters, type AdamOptions } from './adam.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsArg, type StateEntrySpec } from './optimizer.js';

/** AdamW's hyperparameters per group: Adam's, with weightDecay decoupled from the gradient (default 0.01). */
export type AdamWHyperparameters = AdamHyperparameters;
/** AdamW's constructor options: any subset of {@link AdamWHyperparameters}. */
export type AdamWOptions = AdamOptions;

/**
 * AdamW (decoupled weight decay), exactly as `torch.optim.AdamW`: each step multiplies the
 * parameter by 1 − lr·weightDecay, then takes the bias-corrected Adam step.
 *
 * State per parameter: `step` (a number), `expAvg` (m), `expAvgSq` (v) and, with amsgrad,
 * `maxExpAvgSq`.
 *
 * Give biases and LayerNorm weights no decay with two parameter groups (with a model, sort
 * `model.namedParameters()` by name: names ending in `bias` or containing `LayerNorm`):
 *
 * @example
 * import { randn, zeros, optim } from 'tensorgrad';
 * const weight = randn([4, 3], { requiresGrad: true });
 * const bias = zeros([4], { requiresGrad: true });
 * const opt = new optim.AdamW(
 *   [{ params: [weight] }, { params: [bias], weightDecay: 0 }],
 *   { lr: 1e-3, weightDecay: 0.01 },
 * );
 * const x = randn([8, 3]);
 * x.matmul(weight.T).add(bias).pow(2).mean().backward();
 * opt.step();      // weight: decayed, then an Adam step; bias: an Adam step only
 * opt.zeroGrad();
 */
export class AdamW extends Optimizer<AdamWHyperparameters> {
  constructor(params: ParamsArg<AdamWHyperparameters>, options: AdamWOptions = {}) {
    super(params, adamDefaults('AdamW', options, 1e-2));
  }

  protected override checkHyperparameters(h: AdamWHyperparameters, where: string): void {
    checkAdamHyperparameters('AdamW', h, where);
  }

  protected override stateSpec(): Readonly<Record<string, StateEntrySpec>> {
    return ADAM_STATE;
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamWHyperparameters>): void {
    const g = group.maximize ? grad.neg() : grad;
    adamMomentStep(param, g, state, group, 1 - group.lr * group.weightDecay); // θ ← θ(1 − γλ), then Adam
  }
}
