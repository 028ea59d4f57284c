/**
 * Stochastic gradient descent with (optionally Nesterov) momentum, as torch.optim.SGD
 * (PyTorch 1.13, single-tensor path).
 *
 * References:
 * - Robbins & Monro (1951), "A Stochastic Approximation Method" (SGD).
 * - Polyak (1964), "Some methods of speeding up the convergence of iteration methods" (momentum).
 * - Sutskever, Martens, Dahl & Hinton (2013), "On the importance of initialization and momentum
 *   in deep learning", ICML (Nesterov momentum, Eq. (3)–(4)).
 *
 * The algorithm (as in torch/optim/sgd.py):
 *
 * ```text
 * input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
 *        μ (momentum), τ (dampening), nesterov, maximize
 * for t = 1, 2, …                                  (t counts the steps where θ had a gradient)
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if maximize:  g_t ← −g_t
 *   if λ ≠ 0:     g_t ← g_t + λ·θ_{t−1}            (L2 penalty added to the gradient)
 *   if μ ≠ 0:
 *     if t > 1:   b_t ← μ·b_{t−1} + (1 − τ)·g_t
 *     else:       b_t ← g_t                        (no dampening on the first step)
 *     if nesterov: g_t ← g_t + μ·b_t
 *     else:        g_t ← b_t
 *   θ_t ← θ_{t−1} − γ·g_t
 * ```
 *
 * Departures from the papers (all PyTorch's):
 * - Sutskever et al. keep the learning rate inside the velocity, v ← μv − γ∇f(θ + μv),
 *   θ ← θ + v. PyTorch (and this file) keeps an lr-free buffer b and steps θ ← θ − γb. The two
 *   agree for a constant lr; when a scheduler changes γ, here the new γ scales the whole buffer.
 * - Nesterov momentum is the look-ahead reformulation g + μ·b evaluated at the current θ
 *   (Bengio, Boulanger-Lewandowski & Pascanu 2013), not a gradient taken at θ + μv.
 * - The buffer starts as b₁ = g₁ (not (1 − τ)·g₁) and dampening τ is PyTorch's addition.
 * - Weight decay is coupled (an L2 term in the gradient); see AdamW for decoupled decay.
 */
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsArg, type StateEntrySpec } from './optimizer.js';
import { checkBoolean, checkNumber, checkOptionsObject, fail } from './validate.js';

/** SGD's hyperparameters per parameter group (torch's names): lr, momentum, dampening, weightDecay, nesterov, maximize. */
export interface SGDHyperparameters {
  /** Learning rate γ ≥ 0. */
  lr: number;
  /** Momentum factor μ ≥ 0 (0 = plain SGD). */
  momentum: number;
  /** Dampening τ for momentum: the gradient enters the buffer scaled by 1 − τ. */
  dampening: number;
  /** L2 penalty λ ≥ 0, added to the gradient as λ·θ. */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** Constructor options: `lr` is required, the rest default to plain SGD. */
export type SGDOptions = Pick<SGDHyperparameters, 'lr'> & Partial<SGDHyperparameters>;

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'] as const;

function sgdDefaults(options: SGDOptions): SGDHyperparameters {
  const o = checkOptionsObject('SGD', 'options', options, SGD_KEYS);
  if (o.lr === undefined) fail('SGD', 'lr', 'a finite number ≥ 0 (SGD has no default learning rate)', undefined);
  return {
    lr: o.lr as number,
    momentum: (o.momentum ?? 0) as number,
    dampening: (o.dampening ?? 0) as number,
    weightDecay: (o.weightDecay ?? 0) as number,
    nesterov: (o.nesterov ?? false) as boolean,
    maximize: (o.maximize ?? false) as boolean,
  };
}

const SGD_STATE: Readonly<Record<string, StateEntrySpec>> = Object.freeze({
  momentumBuffer: { kind: 'tensor', required: false },
});

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum, dampening and L2
 * weight decay, exactly as `torch.optim.SGD`.
 *
 * State per parameter: `momentumBuffer` (only when momentum ≠ 0).
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const w = tensor([1, -2], { requiresGrad: true });
 * const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9, nesterov: true });
 * for (let i = 0; i < 100; i++) {
 *   opt.zeroGrad();
 *   w.mul(w).sum().backward(); // minimise ‖w‖²
 *   opt.step();
 * }
 * // w is now close to [0, 0]
 */
export class SGD extends Optimizer<SGDHyperparameters> {
  constructor(params: ParamsArg<SGDHyperparameters>, options: SGDOptions) {
    super(params, sgdDefaults(options));
  }

  protected override checkHyperparameters(h: SGDHyperparameters, where: string): void {
    const owner = 'SGD';
    checkNumber(owner, `${where}lr`, h.lr, { min: 0 });
    checkNumber(owner, `${where}momentum`, h.momentum, { min: 0 });
    checkNumber(owner, `${where}dampening`, h.dampening);
    checkNumber(owner, `${where}weightDecay`, h.weightDecay, { min: 0 });
    checkBoolean(owner, `${where}nesterov`, h.nesterov);
    checkBoolean(owner, `${where}maximize`, h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new Error(
        `SGD: invalid ${where}nesterov: Nesterov momentum requires a momentum > 0 and zero dampening, ` +
          `got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
    }
  }

  protected override stateSpec(): Readonly<Record<string, StateEntrySpec>> {
    return SGD_STATE;
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<SGDHyperparameters>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let d = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) d = d.add(param, weightDecay); // g ← g + λθ
    if (momentum !== 0) {
      let buf = state.momentumBuffer as Tensor | undefined;
      if (buf === undefined) {
        buf = keep(d.clone()); // b₁ = g₁
        state.momentumBuffer = buf;
      } else {
        buf.mul_(momentum).add_(d, 1 - dampening); // b ← μb + (1 − τ)g
      }
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    param.add_(d, -lr); // θ ← θ − γg
  }
}
