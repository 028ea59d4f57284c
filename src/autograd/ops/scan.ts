/**
 * Running sums and products along a dim (torch.cumsum, torch.cumprod) and the product reduction.
 *
 *   cumsum:  yᵢ = Σ_{j≤i} xⱼ          ∂L/∂xᵢ = Σ_{j≥i} gⱼ   (a reversed cumsum of g)
 *   cumprod: yᵢ = Π_{j≤i} xⱼ          ∂L/∂xᵢ = Σ_{j≥i} gⱼ·Π_{k≤j, k≠i} xₖ
 *            computed without dividing by xᵢ (exact when some x are 0): with the prefix
 *            product Pᵢ = Π_{k<i} xₖ and Sᵢ = gᵢ + xᵢ₊₁·Sᵢ₊₁ (S after the end = 0),
 *            ∂L/∂xᵢ = Pᵢ·Sᵢ — one backward sweep.
 *   prod:    the last element of cumprod (so zeros get their exact gradient too).
 */
import { defineComposite, defineOp } from '../define.js';
import type { DType } from '../../core/dtype.js';
import { normalizeDim, normalizeDims } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add, cast, reshape, select, unsqueeze, zerosOn } from '../ops.js';
import { flip } from './shape-ops.js';
import { fromRows, hostArray, rowsAlong } from './host.js';

/** The dtype of a running sum/product: integers and bools accumulate in int32 (torch: int64). */
const scanDtype = (dt: DType): DType => (dt === 'bool' ? 'int32' : dt);

function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (x === null || typeof x !== 'object' || !('storage' in (x as object))) throw new Error(`${op}: expected a tensor as input, got ${typeof x}`);
}

/** Running sum along `dim` (torch.cumsum); ints and bools give int32. */
export const cumsum = defineOp({
  name: 'cumsum',
  method: true,
  doc: 'running sum along dim',
  gradient: 'yᵢ = Σ_{j≤i} xⱼ;  ∂L/∂xᵢ = Σ_{j≥i} gⱼ = flip(cumsum(flip(g)))',
  forward: (ctx: { attrs: { dim: number } }, x: Tensor, dim: number): Tensor => {
    checkTensor('cumsum', x);
    const d = normalizeDim('cumsum', dim, x.ndim);
    ctx.attrs = { dim: d };
    const { data, n, rows, movedShape } = rowsAlong(x, d);
    const dt = scanDtype(x.dtype);
    const out = hostArray(dt, data.length);
    for (let r = 0; r < rows; r++) {
      let s = 0; // float64 accumulator (torch's CPU acc_type), rounded on store
      for (let i = r * n; i < (r + 1) * n; i++) out[i] = s += data[i]!;
    }
    return fromRows(out, dt, x.device, movedShape, d);
  },
  backward: ({ attrs: { dim } }, g): Tensor[] => [g.ndim === 0 ? g : flip(cumsum(flip(g, [dim]), dim), [dim])],
});

/** Running product along `dim` (torch.cumprod); ints and bools give int32. */
export const cumprod = defineOp({
  name: 'cumprod',
  method: true,
  doc: 'running product along dim',
  gradient: 'yᵢ = Π_{j≤i} xⱼ;  ∂L/∂xᵢ = Σ_{j≥i} gⱼ·Π_{k≤j,k≠i} xₖ = Pᵢ·Sᵢ, Sᵢ = gᵢ + xᵢ₊₁·Sᵢ₊₁',
  forward: (ctx: { attrs: { dim: number } }, x: Tensor, dim: number): Tensor => {
    checkTensor('cumprod', x);
    const d = normalizeDim('cumprod', dim, x.ndim);
    ctx.attrs = { dim: d };
    const { data, n, rows, movedShape } = rowsAlong(x, d);
    const dt = scanDtype(x.dtype);
    const out = hostArray(dt, data.length);
    for (let r = 0; r < rows; r++) {
      let p = 1;
      for (let i = r * n; i < (r + 1) * n; i++) {
        p = dt === 'int32' ? Math.imul(p, data[i]!) : p * data[i]!; // int32 wraps like int32 arithmetic
        out[i] = p;
      }
    }
    return fromRows(out, dt, x.device, movedShape, d);
  },
  backward: ({ inputs: [x], attrs: { dim } }, g): (Tensor | null)[] => {
    const xr = rowsAlong(x!, dim), gr = rowsAlong(g, dim);
    const { n, rows, movedShape } = xr;
    const out = hostArray(g.dtype, xr.data.length);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let S = 0;
      const s = new Float64Array(n);
      for (let i = n - 1; i >= 0; i--) {
        S = gr.data[o + i]! + (i + 1 < n ? xr.data[o + i + 1]! * S : 0);
        s[i] = S;
      }
      let P = 1;
      for (let i = 0; i < n; i++) {
        out[o + i] = P * s[i]!;
        P *= xr.data[o + i]!;
      }
    }
    return [fromRows(out, g.dtype, g.device, movedShape, dim)];
  },
});

/**
 * The product of the elements over `dim` (all of them when omitted), torch.prod; ints and bools
 * give int32. The product of nothing is 1.
 */
export const prod = defineComposite({
  name: 'prod',
  method: true,
  doc: 'product over dim (all elements when omitted)',
  gradient: '∂L/∂xᵢ = g·Π_{k≠i} xₖ (through cumprod: exact at zeros)',
  forward: (x: Tensor, dim?: number | null, keepdim = false): Tensor => {
    checkTensor('prod', x);
    const src = x.dtype === 'bool' ? cast(x, 'int32') : x;
    if (dim === undefined || dim === null) {
      const flat = reshape(src, [x.numel()]);
      const r = x.numel() === 0 ? add(zerosOn([], src.dtype, x.device), 1) : select(cumprod(flat, 0), 0, -1);
      return keepdim ? reshape(r, x.shape.map(() => 1)) : r;
    }
    if (typeof dim !== 'number') throw new Error(`prod: dim must be a single integer (or omitted), got ${JSON.stringify(dim)}`);
    const d = normalizeDims('prod', dim, x.ndim)[0]!;
    const n = x.ndim === 0 ? 1 : x.shape[d]!;
    let r: Tensor;
    if (x.ndim === 0) r = src;
    else if (n === 0) {
      const shape = x.shape.map((s, i) => (i === d ? 1 : s));
      r = add(zerosOn(shape, src.dtype, x.device), 1);
    } else r = unsqueeze(select(cumprod(src, d), d, -1), d);
    if (x.ndim === 0) return r;
    return keepdim ? r : reshape(r, x.shape.filter((_, i) => i !== d));
  },
});

