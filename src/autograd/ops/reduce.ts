/**
 * Norms and logical reductions.
 *
 *   norm(x, p)  ‖x‖_p = (Σ|xᵢ|ᵖ)^(1/p) over dims (all when omitted); p = 'fro' is p = 2 (the
 *               Frobenius norm of a matrix is the 2-norm of its elements), ∞ = max|xᵢ|,
 *               −∞ = min|xᵢ|, 0 = the count of non-zeros (torch.norm / linalg.vector_norm).
 *     ∂L/∂x = g·sign(x)                               p = 1
 *             g·x/‖x‖ (0 where ‖x‖ = 0)               p = 2, 'fro'
 *             g·sign(x)·[|x| = ‖x‖]/#ties             p = ±∞ (ties share, as torch)
 *             g·sign(x)·|x|^(p−1)/‖x‖^(p−1) (0 at x = 0)  other p
 *             0                                       p = 0
 *   any / all   bool reductions: any = Σ[x ≠ 0] > 0, all = Σ[x = 0] = 0 (NaN counts as true)
 */
import { defineOp } from '../define.js';

import { fmtShape, normalizeDims } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import {
  abs, cast, checkFloat, div, eq, gt, logicalOr, max, min, mul, ne, pow, reshape, sign, sqrt, sum, where, zerosOn,
} from '../ops.js';

type NormP = number | 'fro';
type NormAttrs = { p: number; dims: number[] };

function keepShape(shape: readonly number[], dims: number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/**
 * The p-norm of x over `dim` (all dims when omitted): p = 2 / 'fro' (default), 1, ∞, −∞, 0 or
 * any other real; torch.norm / torch.linalg.vector_norm semantics, float inputs.
 * @example
 * norm(tensor([3, -4]));            // 5
 * norm(tensor([3, -4]), 1);         // 7
 * norm(tensor([3, -4]), Infinity);  // 4
 */
export const norm = defineOp({
  name: 'norm',
  method: true,
  doc: 'p-norm over dims (p = 2/fro, 1, ±∞, 0, any real)',
  gradient: 'p=1: g·sign(x);  p=2: g·x/‖x‖ (0 at ‖x‖=0);  p=∞: g·sign(x)·[|x|=‖x‖]/#ties;  else g·sign(x)|x|^(p−1)/‖x‖^(p−1)',
  forward: (ctx: { attrs: NormAttrs }, x: Tensor, p: NormP = 'fro', dim?: number | readonly number[] | null, keepdim = false): Tensor => {
    if (!(x instanceof Tensor)) throw new Error(`norm: expected a tensor as input, got ${typeof x}`);
    checkFloat('norm', x);
    if (p !== 'fro' && (typeof p !== 'number' || Number.isNaN(p))) {
      throw new Error(`norm: p must be a number (1, 2, Infinity, -Infinity, 0, …) or 'fro', got ${JSON.stringify(p)}${(p as unknown) === 'nuc' ? " (the nuclear norm is not supported)" : ''}`);
    }
    const pp = p === 'fro' ? 2 : p;
    const dims = normalizeDims('norm', dim, x.ndim);
    ctx.attrs = { p: pp, dims };
    const a = abs(x);
    let y: Tensor;
    if (pp === Infinity || pp === -Infinity) {
      for (const d of dims) if (x.shape[d] === 0) throw new Error(`norm: cannot take the ${pp > 0 ? '' : '-'}inf norm over dim ${d} of size 0 (shape ${fmtShape(x.shape)})`);
      y = pp > 0 ? max(a, dims, true) : min(a, dims, true);
    } else if (pp === 0) y = sum(cast(ne(x, 0), x.dtype), dims, true);
    else if (pp === 1) y = sum(a, dims, true);
    else if (pp === 2) y = sqrt(sum(mul(x, x), dims, true));
    else y = pow(sum(pow(a, pp), dims, true), 1 / pp);
    return keepdim ? y : reshape(y, x.shape.filter((_, i) => !dims.includes(i)));
  },
  backward: ({ inputs: [x], output, attrs: { p, dims } }, g): (Tensor | null)[] => {
    const shape = keepShape(x!.shape, dims);
    const y = reshape(output, shape), gk = reshape(g, shape);
    const zero = zerosOn([], g.dtype, g.device);
    if (p === 0) return [mul(x!, 0)];
    if (p === 1) return [mul(gk, sign(x!))];
    if (p === 2) return [where(eq(y, 0), zero, mul(x!, div(gk, y)))];
    if (p === Infinity || p === -Infinity) {
      const hit = cast(eq(abs(x!), y), g.dtype);
      return [mul(mul(sign(x!), hit), div(gk, sum(hit, dims, true)))];
    }
    // g·sign(x)·|x|^(p−1)/‖x‖^(p−1), 0 where ‖x‖ = 0
    const r = pow(div(abs(x!), y), p - 1);
    return [where(logicalOr(eq(y, 0), eq(x!, 0)), zero, mul(mul(sign(x!), r), gk))];
  },
});

function logical(op: 'any' | 'all', x: Tensor, dim: number | readonly number[] | null | undefined, keepdim: boolean): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a tensor as input, got ${typeof x}`);
  const dims = normalizeDims(op, dim, x.ndim);
  const hits = sum(cast(op === 'any' ? ne(x, 0) : eq(x, 0), 'int32'), dims, keepdim);
  return op === 'any' ? gt(hits, 0) : eq(hits, 0);
}

/**
 * Whether any element over `dim` (all when omitted) is non-zero (true / NaN count); bool result.
 * @example
 * ```ts
 * const x = tensor([[0, 1], [0, 0]]);
 * any(x).item();                          // 1 (true; toArray() gives booleans)
 * any(x, 1).toArray();                    // [true, false]
 * ```
 */
export function any(x: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor {
  return logical('any', x, dim, keepdim);
}
/**
 * Whether every element over `dim` (all when omitted) is non-zero; bool result (true when empty).
 * @example
 * ```ts
 * const x = tensor([[1, 1], [0, 1]]);
 * all(x).item();                          // 0 (false)
 * all(x, 1).toArray();                    // [true, false]
 * ```
 */
export function all(x: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor {
  return logical('all', x, dim, keepdim);
}


