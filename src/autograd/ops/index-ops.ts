/**
 * Index ops: oneHot, scatter / scatterAdd (the adjoints of gather), sort and topk.
 *
 *   scatter:    y = x, then y[p with p[dim] := index[p]] = src[p]   (last write wins on duplicates)
 *               ∂L/∂x = g with the written positions zeroed,  ∂L/∂src = gather(g, dim, index)
 *   scatterAdd: y = x, then y[p with p[dim] := index[p]] += src[p]
 *               ∂L/∂x = g,  ∂L/∂src = gather(g, dim, index)
 *   sort/topk:  indices by a stable sort on the host (ties keep their order, NaN sorts as the
 *               largest, as torch's stable=True); values = gather(x, dim, indices), so the
 *               gradient flows through gather (each value's g goes back to where it came from).
 */
import { defineComposite, defineOp } from '../define.js';
import { isFloatingDType, promoteTypes } from '../../core/dtype.js';
import { fmtShape, normalizeDim } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { cast, contiguous, eq, gather, mul, reshape, scalarTensor, unsqueeze, zerosOn } from '../ops.js';
import { arangeOn, fromHost, fromRows, hostArray, rowsAlong } from './host.js';

function checkTensor(op: string, x: unknown, arg = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected ${arg} to be a tensor, got ${x === null ? 'null' : typeof x}`);
}
function checkIndexTensor(op: string, index: unknown, arg = 'index'): asserts index is Tensor {
  if (!(index instanceof Tensor) || index.dtype !== 'int32') {
    throw new Error(`${op}: ${arg} must be an int32 tensor, got ${index instanceof Tensor ? `dtype ${index.dtype}` : typeof index}`);
  }
}

/**
 * One-hot rows: an int32 tensor of shape [...indices.shape, numClasses] with a 1 at each index
 * (torch.nn.functional.one_hot; numClasses = −1 takes max + 1).
  * @example
  * ```ts
  * oneHot(tensor([0, 2, 1], { dtype: 'int32' }), 3).toArray(); // [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
  * ```
 */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  checkIndexTensor('oneHot', indices, 'indices');
  if (!Number.isInteger(numClasses) || numClasses < -1) throw new Error(`oneHot: numClasses must be -1 or a non-negative integer, got ${numClasses}`);
  const v = indices.toTypedArray();
  let lo = Infinity, hi = -Infinity;
  for (const e of v) { lo = Math.min(lo, e); hi = Math.max(hi, e); }
  if (lo < 0) throw new Error(`oneHot: class values must be non-negative, got ${lo}`);
  let C = numClasses;
  if (C === -1) {
    if (v.length === 0) throw new Error('oneHot: cannot infer numClasses from an empty tensor; pass numClasses');
    C = hi + 1;
  } else if (v.length > 0 && hi >= C) throw new Error(`oneHot: class values must be smaller than numClasses (${C}), got ${hi}`);
  return cast(eq(unsqueeze(indices, -1), arangeOn(C, indices.device)), 'int32');
}

/** Checks scatter's shapes (torch's rules) and every index value; returns the normalized dim. */
function checkScatter(op: string, x: Tensor, dim: number, index: Tensor, src: Tensor | null): number {
  checkTensor(op, x);
  checkIndexTensor(op, index);
  const d = normalizeDim(op, dim, x.ndim);
  const rank = Math.max(x.ndim, 1);
  if (Math.max(index.ndim, 1) !== rank || (src && Math.max(src.ndim, 1) !== rank)) {
    throw new Error(`${op}: index${src ? ', src' : ''} and input must have the same number of dimensions, got index ${fmtShape(index.shape)}${src ? `, src ${fmtShape(src.shape)}` : ''}, input ${fmtShape(x.shape)}`);
  }
  index.shape.forEach((s, i) => {
    if (i !== d && s > x.shape[i]!) throw new Error(`${op}: index ${fmtShape(index.shape)} is larger than input ${fmtShape(x.shape)} at dim ${i}`);
    if (src && s > src.shape[i]!) throw new Error(`${op}: index ${fmtShape(index.shape)} is larger than src ${fmtShape(src.shape)} at dim ${i}`);
  });
  if (src && src.device !== x.device) throw new Error(`${op}: expected src on the input's device '${x.device}', got '${src.device}'`);
  const n = x.ndim === 0 ? 1 : x.shape[d]!;
  for (const j of index.toTypedArray()) {
    if (j < 0 || j >= n) throw new Error(`${op}: index ${j} is out of bounds for dim ${d} with size ${n}`);
  }
  return d;
}

/** The window of `t` with index's shape (its leading corner), as a view. */
function windowOf(t: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(t.storage, shape, t.strides, t.offset);
}

/** ∂L/∂src: gather(g, dim, index) placed into zeros of src's shape. */
function srcGrad(g: Tensor, dim: number, index: Tensor, srcShape: readonly number[]): Tensor {
  const gi = gather(g, dim, index);
  if (gi.shape.every((s, i) => s === srcShape[i])) return gi;
  const out = zerosOn(srcShape, g.dtype, g.device);
  out.storage.backend.copy(windowOf(out, gi.shape), gi);
  return out;
}

type ScatterAttrs = { dim: number; index: Tensor; srcShape: number[] | null };

/**
 * `x` with values from `src` (a tensor, or one number) written at `index` along `dim`:
 * y[i][index[i][j]] = src[i][j] for dim = 1 (torch.scatter). On duplicate indices the last write wins.
 */
export const scatter = defineOp({
  name: 'scatter',
  method: true,
  doc: 'write src into x at index along dim',
  gradient: '∂L/∂x = g with written positions 0;  ∂L/∂src = gather(g, dim, index)',
  forward: (ctx: { attrs: ScatterAttrs }, x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor => {
    const srcT = src instanceof Tensor ? src : null;
    if (!srcT && typeof src !== 'number') throw new Error(`scatter: src must be a tensor or a number, got ${typeof src}`);
    const d = checkScatter('scatter', x, dim, index, srcT);
    const dt = srcT ? promoteTypes(x.dtype, srcT.dtype) : x.dtype;
    if (srcT && srcT.dtype !== x.dtype && !(isFloatingDType(x.dtype) && isFloatingDType(srcT.dtype))) {
      throw new Error(`scatter: expected src of the input's dtype ${x.dtype}, got ${srcT.dtype}`);
    }
    ctx.attrs = { dim: d, index, srcShape: srcT ? [...srcT.shape] : null };
    const shape = x.ndim === 0 ? [1] : [...x.shape];
    const out = contiguous(cast(x, dt), true).toTypedArray();
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, s) => p * s, 1));
    const idx = index.toTypedArray();
    const ishape = index.ndim === 0 ? [1] : [...index.shape];
    const sv = srcT ? contiguous(cast(windowOf(srcT, index.shape), dt)).toTypedArray() : null;
    const pos = new Array<number>(ishape.length).fill(0);
    for (let k = 0; k < idx.length; k++) {
      let o = 0;
      for (let i = 0; i < ishape.length; i++) o += (i === d ? idx[k]! : pos[i]!) * strides[i]!;
      out[o] = sv ? sv[k]! : (src as number);
      for (let i = ishape.length - 1; i >= 0; i--) { if (++pos[i]! < ishape[i]!) break; pos[i] = 0; }
    }
    return fromHost(out, dt, x.shape, x.device);
  },
  backward: ({ attrs: { dim, index, srcShape }, needsGrad }, g): (Tensor | null)[] => {
    const written = zerosOn(g.ndim === 0 ? [] : g.shape, g.dtype, g.device);
    const ones = zerosOn(index.shape, g.dtype, g.device);
    ones.storage.backend.copy(ones, scalarBroadcast(1, ones));
    written.storage.backend.scatterAdd(written, dim, index, ones);
    const keep = cast(eq(written, 0), g.dtype);
    // inputs: [x, index, src] (the tensor arguments in order); index gets none
    return [needsGrad[0] ? mul(g, keep) : null, null, srcShape && needsGrad[2] ? srcGrad(g, dim, index, srcShape) : null];
  },
});

function scalarBroadcast(v: number, like: Tensor): Tensor {
  const s = scalarTensor(v, like.dtype, like.device);
  return new Tensor(s.storage, like.shape, like.shape.map(() => 0), 0);
}

/**
 * `x` plus `src` added at `index` along `dim`: y[i][index[i][j]] += src[i][j] for dim = 1
 * (torch.scatter_add); duplicates accumulate.
 */
export const scatterAdd = defineOp({
  name: 'scatterAdd',
  method: true,
  doc: 'add src into x at index along dim',
  gradient: '∂L/∂x = g;  ∂L/∂src = gather(g, dim, index)',
  forward: (ctx: { attrs: ScatterAttrs }, x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => {
    checkTensor('scatterAdd', src, 'src');
    const d = checkScatter('scatterAdd', x, dim, index, src);
    if (src.dtype !== x.dtype) throw new Error(`scatterAdd: expected src of the input's dtype ${x.dtype}, got ${src.dtype}`);
    ctx.attrs = { dim: d, index, srcShape: [...src.shape] };
    const out = contiguous(x, true);
    if (index.numel() > 0) out.storage.backend.scatterAdd(out, d, index, windowOf(src, index.shape));
    return out;
  },
  backward: ({ attrs: { dim, index, srcShape }, needsGrad }, g): (Tensor | null)[] => [needsGrad[0] ? g : null, null, needsGrad[2] ? srcGrad(g, dim, index, srcShape!) : null],
});

/** Stable order of a row: ascending (NaN last) or descending (NaN first), ties by position. */
function rowOrder(row: ArrayLike<number>, descending: boolean): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  const key = (v: number) => (v !== v ? Infinity : v); // NaN ranks above +∞ via the tie-break below
  idx.sort((a, b) => {
    const va = row[a]!, vb = row[b]!;
    const na = va !== va, nb = vb !== vb;
    let c: number;
    if (na || nb) c = na && nb ? 0 : na ? 1 : -1;
    else c = key(va) < key(vb) ? -1 : key(va) > key(vb) ? 1 : 0;
    if (descending) c = -c;
    return c || a - b;
  });
  return idx;
}

/** What `sort` and `topk` return: the values and their int32 positions along the dim. */
export interface SortResult {
  /** The sorted (or top-k) values, same dtype as the input; the sorted dim has the input's length (sort) or k (topk). */
  values: Tensor;
  /** int32 positions along the sorted dim. */
  indices: Tensor;
}

function sortImpl(op: string, x: Tensor, dim: number, descending: boolean, k: number | null): SortResult {
  checkTensor(op, x);
  const d = x.ndim === 0 ? 0 : normalizeDim(op, dim, x.ndim);
  if (x.ndim === 0) {
    if (k !== null && k > 1) throw new Error(`${op}: k (${k}) is out of range for a 0-d tensor`);
    const idx = zerosOn([], 'int32', x.device);
    return { values: k === 0 ? reshape(x, [0]) : x.clone(), indices: idx };
  }
  const { data, n, rows, movedShape } = rowsAlong(x, d);
  const kk = k ?? n;
  const out = hostArray('int32', rows * kk);
  for (let r = 0; r < rows; r++) {
    const order = rowOrder(data.subarray(r * n, (r + 1) * n), descending);
    for (let i = 0; i < kk; i++) out[r * kk + i] = order[i]!;
  }
  const shape = [...movedShape.slice(0, -1), kk];
  const indices = fromRows(out, 'int32', x.device, shape, d);
  return { values: gather(x, d, indices), indices };
}

/**
 * Sorts along `dim` (default last), ascending unless `descending`; stable (equal elements keep
 * their order; NaN sorts as the largest), as torch.sort(stable=True). Returns values and int32
 * indices; the gradient flows through the values.
 */
export const sort = defineComposite({
  name: 'sort',
  method: true,
  doc: 'stable sort along dim: { values, indices }',
  forward: (x: Tensor, dim = -1, descending = false): SortResult => sortImpl('sort', x, dim, descending, null),
});

/**
 * The k largest (or smallest) elements along `dim` (default last), in sorted order, ties in index
 * order (torch.topk, ordered as a stable sort). Returns values and int32 indices.
 * @example
 * topk(tensor([1, 3, 2, 3]), 2); // values [3, 3], indices [1, 3]
 */
export const topk = defineComposite({
  name: 'topk',
  method: true,
  doc: 'k largest/smallest along dim: { values, indices }',
  forward: (x: Tensor, k: number, dim = -1, largest = true): SortResult => {
    checkTensor('topk', x);
    const n = x.ndim === 0 ? 1 : x.shape[normalizeDim('topk', dim, x.ndim)]!;
    if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`topk: k must be an integer in [0, ${n}] (the size of dim ${dim}), got ${k}`);
    return sortImpl('topk', x, dim, largest, k);
  },
});


