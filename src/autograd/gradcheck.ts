/**
 * Gradient checking by float64 central finite differences (as torch.autograd.gradcheck):
 *
 *   ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε
 *
 * For a non-scalar output the check uses L = Σ y ⊙ w with a fixed random weight w, which
 * tests the vector–Jacobian product that backward computes. Every input element is perturbed
 * in turn, so keep inputs small.
 */
import { noGrad } from './engine.js';
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { fromTypedArray } from '../tensor/creation.js';

/** Options of {@link gradcheck}: the finite-difference step `eps` (default 1e-6) and the tolerances `atol`, `rtol` of |analytic − numeric| ≤ atol + rtol·|numeric|. */
export interface GradcheckOptions {
  /** Step h of the central difference (f(x + h) − f(x − h))/2h. Default 1e-6. */
  eps?: number;
  /** Absolute tolerance. Default 1e-5. */
  atol?: number;
  /** Relative tolerance (times |numeric|). Default 1e-3. */
  rtol?: number;
  /** Throw on failure (default) or return false. */
  raiseException?: boolean;
}

/** Thrown by {@link gradcheck} when an analytic gradient differs from the central differences, naming the input and element. */
export class GradcheckError extends Error {}

/**
 * Compares analytic gradients of `fn` with finite differences, for every float64 input that
 * requires grad.
 * @example
 * const x = randn([3], { dtype: 'float64', requiresGrad: true });
 * gradcheck((x) => x.tanh().sum(), [x]); // true, or throws naming the element
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): boolean {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const raise = opts.raiseException ?? true;
  inputs.forEach((x, i) => {
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new GradcheckError(`gradcheck: input ${i} requires grad but has dtype ${x.dtype}; gradcheck needs float64 inputs (x.double())`);
    }
  });
  const y0 = fn(...inputs);
  const gen = new Generator(1234);
  const w = fromTypedArray(Float64Array.from({ length: y0.numel() }, () => gen.normal()), y0.shape, { device: y0.device });
  const lossOf = (y: Tensor): number => {
    const a = y.toTypedArray(), b = w.toTypedArray();
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  // analytic
  for (const x of inputs) x.grad = null;
  const loss = y0.mul(w.to(y0.dtype)).sum();
  if (loss.requiresGrad) loss.backward();
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    if (!x.requiresGrad) continue;
    const analytic = x.grad ? x.grad.toTypedArray() : new Float64Array(x.numel());
    // numeric: perturb each element of a private copy
    const base = x.detach().contiguous().toTypedArray() as Float64Array;
    for (let j = 0; j < base.length; j++) {
      const at = (delta: number): number => {
        const v = Float64Array.from(base);
        v[j]! += delta;
        const xi = fromTypedArray(v, x.shape, { device: x.device });
        const args = inputs.map((t, k) => (k === i ? xi : t.detach()));
        return noGrad(() => lossOf(fn(...args)));
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[j]!;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        const msg = `gradcheck: Jacobian mismatch for input ${i} (shape [${x.shape.join(',')}]) at element ${j}: analytic ${a}, numeric ${numeric}, difference ${Math.abs(a - numeric)} > atol ${atol} + rtol ${rtol}·|numeric|`;
        if (raise) throw new GradcheckError(msg);
        return false;
      }
    }
  }
  return true;
}
