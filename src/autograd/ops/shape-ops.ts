/**
 * Shape and layout ops built from views, indexSelect, cat and where — so each is a composite whose
 * gradient comes from those (no formula of its own), and works on every dtype and backend:
 *
 *   tril / triu   keep the lower / upper triangle of the last two dims: where(j − i ≤ k, x, 0)
 *   flip          reverse dims: indexSelect with n−1…0
 *   roll          cyclic shift: indexSelect with (i − s) mod n (torch.roll; no dims = flattened)
 *   repeat / tile torch's Tensor.repeat / torch.tile: expand an interleaved view, then reshape
 *   pad           F.pad: constant (cat with a filled block; negative = crop), reflect (mirror
 *                 without the edge), replicate (edge value) — the last dims first, in pairs
 */
import { defineComposite } from '../define.js';
import { fmtShape, normalizeDim } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { cat, expand, indexSelect, le, ge, narrow, reshape, sub, where, zerosOn } from '../ops.js';
import { arangeOn, fromHost, fullOn } from './host.js';

function checkTensor(op: string, x: unknown, arg = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected ${arg} to be a tensor, got ${x === null ? 'null' : typeof x}`);
}
function checkInt(op: string, v: unknown, arg: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${op}: ${arg} must be an integer, got ${JSON.stringify(v)}`);
}
/** A 1-D int32 index tensor on `device`. */
const intIndex = (values: number[], device: string): Tensor => fromHost(Int32Array.from(values), 'int32', [values.length], device);

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  checkTensor(op, x);
  checkInt(op, diagonal, 'diagonal');
  if (x.ndim < 2) throw new Error(`${op}: input must have at least 2 dimensions, got shape ${fmtShape(x.shape)}`);
  const [m, n] = x.shape.slice(-2) as [number, number];
  const rows = reshape(arangeOn(m, x.device), [m, 1]);
  const cols = reshape(arangeOn(n, x.device), [1, n]);
  const d = sub(cols, rows); // (m, n): j − i
  const keep = op === 'tril' ? le(d, diagonal) : ge(d, diagonal);
  return where(keep, x, zerosOn([], x.dtype, x.device));
}

/** The lower triangle of the last two dims (elements with j − i ≤ diagonal), zeros elsewhere. */
export const tril = defineComposite({
  name: 'tril',
  method: true,
  doc: 'lower triangle of the last two dims',
  forward: (x: Tensor, diagonal = 0): Tensor => triangle('tril', x, diagonal),
});
/** The upper triangle of the last two dims (elements with j − i ≥ diagonal), zeros elsewhere. */
export const triu = defineComposite({
  name: 'triu',
  method: true,
  doc: 'upper triangle of the last two dims',
  forward: (x: Tensor, diagonal = 0): Tensor => triangle('triu', x, diagonal),
});

function dimList(op: string, dims: number | readonly number[], rank: number): number[] {
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list)) throw new Error(`${op}: dims must be an integer or an array of integers, got ${JSON.stringify(dims)}`);
  const out = list.map((d) => normalizeDim(op, d, Math.max(rank, 1)));
  if (new Set(out).size !== out.length) throw new Error(`${op}: dim ${out.find((d, i) => out.indexOf(d) !== i)} appears multiple times in the list of dims`);
  return out;
}

/** Reverses the order of elements along `dims` (torch.flip; a copy, not a view). */
export const flip = defineComposite({
  name: 'flip',
  method: true,
  doc: 'reverse the order along dims',
  forward: (x: Tensor, dims: number | readonly number[]): Tensor => {
    checkTensor('flip', x);
    let y = x;
    for (const d of dimList('flip', dims, x.ndim)) {
      if (x.ndim === 0) continue;
      const n = x.shape[d]!;
      if (n <= 1) continue;
      y = indexSelect(y, d, intIndex(Array.from({ length: n }, (_, i) => n - 1 - i), x.device));
    }
    return y === x ? x.clone() : y;
  },
});

/**
 * Rolls elements along dims by `shifts` (cyclically: what leaves one end re-enters at the other),
 * torch.roll; without dims the tensor is flattened, rolled and reshaped back.
 */
export const roll = defineComposite({
  name: 'roll',
  method: true,
  doc: 'cyclic shift along dims',
  forward: (x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor => {
    checkTensor('roll', x);
    const sh = typeof shifts === 'number' ? [shifts] : shifts;
    if (!Array.isArray(sh) || sh.length === 0) throw new Error(`roll: shifts must be an integer or a non-empty array of integers, got ${JSON.stringify(shifts)}`);
    sh.forEach((s) => checkInt('roll', s, 'shifts'));
    if (dims === undefined || dims === null) {
      if (sh.length !== 1) throw new Error(`roll: without dims, shifts must be a single integer, got ${JSON.stringify(shifts)}`);
      return reshape(roll(reshape(x, [x.numel()]), sh[0]!, 0), x.shape);
    }
    const ds = dimList('roll', dims, x.ndim);
    if (ds.length !== sh.length) throw new Error(`roll: shifts and dims must have the same length, got ${sh.length} shifts and ${ds.length} dims`);
    let y = x;
    ds.forEach((d, k) => {
      const n = x.ndim === 0 ? 1 : x.shape[d]!;
      const s = ((sh[k]! % n) + n) % n || 0;
      if (n === 0 || s === 0 || x.ndim === 0) return;
      y = indexSelect(y, d, intIndex(Array.from({ length: n }, (_, i) => (i - s + n) % n), x.device));
    });
    return y === x ? x.clone() : y;
  },
});

function repeatImpl(op: string, x: Tensor, sizes: readonly number[]): Tensor {
  sizes.forEach((s) => {
    if (!Number.isInteger(s) || s < 0) throw new Error(`${op}: repeats must be non-negative integers, got ${JSON.stringify(sizes)}`);
  });
  const lead = sizes.length - x.ndim;
  const shape = [...Array(lead).fill(1), ...x.shape] as number[];
  // [d₀, d₁, …] → [1, d₀, 1, d₁, …] → expand to [r₀, d₀, r₁, d₁, …] → [r₀d₀, r₁d₁, …]
  const inter = reshape(x, shape.flatMap((d) => [1, d]));
  const big = expand(inter, shape.flatMap((d, i) => [sizes[i]!, d]));
  return reshape(big, shape.map((d, i) => d * sizes[i]!));
}

/** Tiles x: `x.repeat(2, 3)` repeats dim 0 twice and dim 1 three times (Tensor.repeat; sizes ≥ x.ndim). */
export const repeat = defineComposite({
  name: 'repeat',
  method: true,
  doc: 'repeat the tensor along each dim (Tensor.repeat)',
  forward: (x: Tensor, ...sizes: [readonly number[]] | number[]): Tensor => {
    checkTensor('repeat', x);
    const s = (sizes.length === 1 && Array.isArray(sizes[0]) ? sizes[0] : sizes) as number[];
    if (s.length < x.ndim) {
      throw new Error(`repeat: number of repeat dims (${s.length}) can not be smaller than number of dimensions of tensor (${x.ndim}, shape ${fmtShape(x.shape)})`);
    }
    return repeatImpl('repeat', x, s);
  },
});

/** torch.tile: like repeat, but fewer reps than dims are padded with leading 1s. */
export const tile = defineComposite({
  name: 'tile',
  method: true,
  doc: 'repeat with reps padded by leading 1s (torch.tile)',
  forward: (x: Tensor, reps: readonly number[]): Tensor => {
    checkTensor('tile', x);
    if (!Array.isArray(reps)) throw new Error(`tile: reps must be an array of integers, got ${JSON.stringify(reps)}`);
    const r = reps.length < x.ndim ? [...Array(x.ndim - reps.length).fill(1), ...reps] : reps;
    return repeatImpl('tile', x, r);
  },
});

/** How `pad` fills: with a constant, by reflecting the edge (excluding it), or by repeating the edge value. */
export type PadMode = 'constant' | 'reflect' | 'replicate';

/**
 * Pads x (torch.nn.functional.pad): `pad` lists (before, after) amounts for the last dim, then the
 * one before it, …; 'constant' fills with `value` (negative amounts crop), 'reflect' mirrors
 * without repeating the edge (amounts < the dim's size), 'replicate' repeats the edge value.
 * @example
 * pad(tensor([1, 2, 3]), [2, 1], 'reflect'); // [3, 2, 1, 2, 3, 2]
 */
export const pad = defineComposite({
  name: 'pad',
  doc: 'pad the last dims (constant / reflect / replicate)',
  forward: (x: Tensor, padding: readonly number[], mode: PadMode = 'constant', value = 0): Tensor => {
    checkTensor('pad', x);
    if (!Array.isArray(padding) || padding.length % 2 !== 0) throw new Error(`pad: padding must be an array of even length (before, after pairs), got ${JSON.stringify(padding)}`);
    padding.forEach((p) => checkInt('pad', p, 'padding'));
    if (padding.length / 2 > x.ndim) throw new Error(`pad: padding of length ${padding.length} pads ${padding.length / 2} dims, but the input has only ${x.ndim} (shape ${fmtShape(x.shape)})`);
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate') {
      throw new Error(`pad: mode must be 'constant', 'reflect' or 'replicate', got '${String(mode)}'`);
    }
    if (typeof value !== 'number') throw new Error(`pad: value must be a number, got ${typeof value}`);
    if (mode !== 'constant' && value !== 0) throw new Error(`pad: a fill value only applies to mode 'constant', got value ${value} with mode '${mode}'`);
    let y = x;
    for (let k = 0; k < padding.length / 2; k++) {
      const d = x.ndim - 1 - k;
      const before = padding[2 * k]!, after = padding[2 * k + 1]!;
      if (before === 0 && after === 0) continue;
      const n = y.shape[d]!;
      if (mode === 'constant') {
        // negative amounts crop
        const lo = Math.max(0, -before), hi = Math.max(0, -after);
        if (lo + hi > n) throw new Error(`pad: cropping ${lo} + ${hi} elements from dim ${d} of size ${n} leaves a negative size`);
        if (lo || hi) y = narrow(y, d, lo, n - lo - hi);
        const parts: Tensor[] = [];
        const block = (m: number) => fullOn(y.shape.map((s, i) => (i === d ? m : s)), value, y.dtype, y.device);
        if (before > 0) parts.push(block(before));
        parts.push(y);
        if (after > 0) parts.push(block(after));
        y = parts.length === 1 ? y : cat(parts, d);
        continue;
      }
      if (before < 0 || after < 0) throw new Error(`pad: negative padding is only supported in mode 'constant', got ${JSON.stringify(padding)} with mode '${mode}'`);
      if (mode === 'reflect' && (before >= n || after >= n)) {
        throw new Error(`pad: padding size should be less than the corresponding input dimension, but got padding (${before}, ${after}) at dim ${d} of input of shape ${fmtShape(y.shape)}`);
      }
      if (mode === 'replicate' && n === 0) throw new Error(`pad: cannot replicate-pad dim ${d} of size 0 (shape ${fmtShape(y.shape)})`);
      const idx: number[] = [];
      for (let i = -before; i < n + after; i++) {
        idx.push(mode === 'reflect' ? (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i) : Math.min(Math.max(i, 0), n - 1));
      }
      y = indexSelect(y, d, intIndex(idx, y.device));
    }
    return y === x ? x.clone() : y;
  },
});

