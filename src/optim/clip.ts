/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (PyTorch 1.13).
 *
 * Reference: Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural
 * networks", ICML, Algorithm 1 (rescale the gradient when its norm exceeds a threshold).
 *
 * ```text
 * total ← ‖(‖g₁‖_p, …, ‖g_n‖_p)‖_p          (= ‖concat(g₁, …, g_n)‖_p;  max_i max|g_i| for p = ∞)
 * coef  ← maxNorm / (total + 1e-6)
 * if coef < 1: g_i ← coef·g_i  for every i   (PyTorch: g_i ← min(coef, 1)·g_i)
 * ```
 *
 * Departures from Pascanu et al. (all PyTorch's): the norm is over all gradients together,
 * the 1e-6 in the denominator, and any p-norm. As in PyTorch, a NaN total norm makes every
 * gradient NaN (the factor min(NaN, 1) is NaN) and an infinite one scales by 0, unless
 * `errorIfNonfinite` asks for an error instead.
 */
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNumber, checkOptionsObject, fail } from './validate.js';

/** Added to the total norm before dividing (torch.nn.utils.clip_grad_norm_'s 1e-6). */
export const CLIP_NORM_EPS = 1e-6;

function gradsOf(owner: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const isIterable = params !== null && typeof params === 'object' && typeof (params as Iterable<Tensor>)[Symbol.iterator] === 'function';
  if (!(params instanceof Tensor) && !isIterable) fail(owner, 'params', 'a Tensor or an iterable of Tensors', params);
  const list = params instanceof Tensor ? [params] : [...params];
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) fail(owner, `params[${i}]`, 'a Tensor', p);
    if (p.grad !== null) grads.push(p.grad);
  });
  return grads;
}

/** Options of {@link clipGradNorm} (torch's): the norm type p (default 2, Infinity allowed) and whether a non-finite total norm throws. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or ±Infinity instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

/**
 * Rescales the gradients of `params` in place so that their joint `normType`-norm is at most
 * `maxNorm`, and returns the joint norm they had before. Parameters without a gradient are
 * ignored; with none at all the result is 0.
 *
 * @param params    parameters (their `.grad` is clipped), or a single tensor
 * @param maxNorm   the largest norm allowed (≥ 0)
 * @param normType  p > 0 of the p-norm, or `Infinity` for the max-norm (default 2)
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const w = tensor([3, 4], { requiresGrad: true });
 * w.mul(w).sum().div(2).backward();        // grad = w = [3, 4], norm 5
 * const total = optim.clipGradNorm([w], 1); // 5; w.grad ≈ [0.6, 0.8]
 */
export function clipGradNorm(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  options: ClipGradNormOptions = {},
): number {
  const owner = 'clipGradNorm';
  checkNumber(owner, 'maxNorm', maxNorm, { min: 0, allowInfinity: true });
  checkNumber(owner, 'normType', normType, { min: 0, minExclusive: true, allowInfinity: true });
  const opts = checkOptionsObject(owner, 'options', options, ['errorIfNonfinite']);
  const errorIfNonfinite = opts.errorIfNonfinite === undefined ? false : checkBoolean(owner, 'options.errorIfNonfinite', opts.errorIfNonfinite);
  const grads = gradsOf(owner, params);
  if (grads.length === 0) return 0;

  // Per-gradient norms, each computed in its gradient's dtype and on its device (as torch.norm).
  const norms = noGrad(() =>
    grads.map((g) => {
      if (normType === Infinity) return g.abs().max().item();
      if (normType === 2) return g.mul(g).sum().sqrt().item();
      if (normType === 1) return g.abs().sum().item();
      return g.abs().pow(normType).sum().pow(1 / normType).item();
    }),
  );
  let total: number;
  if (normType === Infinity) total = Math.max(...norms);
  else if (normType === 2) total = Math.sqrt(norms.reduce((s, n) => s + n * n, 0));
  else if (normType === 1) total = norms.reduce((s, n) => s + n, 0);
  else total = norms.reduce((s, n) => s + n ** normType, 0) ** (1 / normType);

  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `clipGradNorm: the total norm of order ${normType} for gradients from ${grads.length} parameters is ${total}, ` +
        'so the gradients cannot be clipped. To scale them by the non-finite norm anyway (as PyTorch does by default), ' +
        'leave errorIfNonfinite false.',
    );
  }
  const coef = maxNorm / (total + CLIP_NORM_EPS);
  // PyTorch multiplies by min(coef, 1); a factor of 1 changes nothing, so skip it. NaN scales.
  if (!(coef >= 1)) noGrad(() => grads.forEach((g) => g.mul_(coef)));
  return total;
}

/**
 * Clamps every gradient element of `params` into [−clipValue, clipValue], in place.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const w = tensor([3, -4], { requiresGrad: true });
 * w.mul(w).sum().backward();      // grad = [6, −8]
 * optim.clipGradValue([w], 1);    // w.grad = [1, −1]
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const owner = 'clipGradValue';
  checkNumber(owner, 'clipValue', clipValue, { min: 0, allowInfinity: true });
  const grads = gradsOf(owner, params);
  noGrad(() => grads.forEach((g) => g.clamp_(-clipValue, clipValue)));
}
