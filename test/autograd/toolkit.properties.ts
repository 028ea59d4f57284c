/**
 * Gradient properties of the toolkit ops (src/autograd/ops/*), one row per op-table name; merged
 * into the registry of ops.property.test.ts, which fails for any declared op without a row.
 * Same harness: random shapes and dims (negative too), non-contiguous inputs in some runs,
 * float64 values kept off the kinks, gradcheck against central differences.
 */
import fc from 'fast-check';

import {
  avgPool1d, conv1d, cumprod, cumsum, einsum, expm1, flip, fromTypedArray, log1p, maxPool1d, mish, norm, pad, prod,
  repeat, roll, scatter, scatterAdd, silu, softplus, sort, tile, topk, tril, triu, type Tensor,
} from '../../src/index.js';
import { awayFrom, checkOp, dimArb, distinct, inputArb, shapeArb, type Shape } from './arbitraries.js';

const RUNS = Number(process.env.PROP_RUNS ?? 12);
function property<T>(arb: fc.Arbitrary<T>, body: (t: T) => void, numRuns = RUNS): () => void {
  return () => fc.assert(fc.property(arb, (t) => { body(t); }), { numRuns });
}
const int32 = (values: number[], shape: Shape): Tensor => fromTypedArray(Int32Array.from(values), shape);
const unary = (op: (x: Tensor) => Tensor, min = -3, max = 3, map?: (v: number[]) => number[]) =>
  property(inputArb(shapeArb(), map, min, max), (x) => checkOp([x], op));
/** A tensor of rank ≥ 1 and one of its dims (possibly negative). */
const withDim = (o: { minRank?: number; maxDim?: number; map?: (v: number[]) => number[] } = {}) =>
  shapeArb({ minRank: o.minRank ?? 1, maxDim: o.maxDim }).chain((shape) =>
    fc.record({ x: inputArb(fc.constant(shape), o.map), dim: dimArb(shape.length) }));

export const TOOLKIT_PROPERTIES: Record<string, () => void> = {
  log1p: unary(log1p, -0.8, 3),
  expm1: unary(expm1),
  softplus: property(
    fc.record({ x: inputArb(shapeArb(), undefined, -4, 4), beta: fc.constantFrom(1, 2, 0.5), threshold: fc.constantFrom(20, 1.5) }),
    ({ x, beta, threshold }) => {
      // off the threshold's kink (βx = threshold)
      const spec = { ...x, values: awayFrom(x.values, [threshold / beta], 0.05) };
      checkOp([spec], (t) => softplus(t, beta, threshold));
    },
  ),
  silu: unary(silu, -5, 5),
  mish: unary(mish, -5, 5),
  cumsum: property(withDim(), ({ x, dim }) => checkOp([x], (t) => cumsum(t, dim))),
  // zeros included on purpose: the gradient is exact there (no division by x)
  cumprod: property(withDim({ maxDim: 4, map: (v) => v.map((e, i) => (i % 5 === 3 ? 0 : e)) }), ({ x, dim }) => checkOp([x], (t) => cumprod(t, dim))),
  prod: property(
    shapeArb({ maxDim: 4 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape), (v) => v.map((e, i) => (i % 7 === 2 ? 0 : e))),
      dim: shape.length ? fc.option(dimArb(shape.length)) : fc.constant(null),
      keepdim: fc.boolean(),
    })),
    ({ x, dim, keepdim }) => checkOp([x], (t) => prod(t, dim, keepdim)),
  ),
  norm: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({
      // distinct values away from 0: |x| has a kink at 0 and ∞-norms a tie-kink
      x: inputArb(fc.constant(shape), (v) => awayFrom(distinct(v, 0.25), [0], 0.1)),
      p: fc.constantFrom<number | 'fro'>(1, 2, Infinity, -Infinity, 3, 'fro'),
      dim: fc.option(dimArb(shape.length)),
      keepdim: fc.boolean(),
    })),
    ({ x, p, dim, keepdim }) => checkOp([x], (t) => norm(t, p, dim, keepdim)),
  ),
  tril: property(
    shapeArb({ minRank: 2 }).chain((shape) => fc.record({ x: inputArb(fc.constant(shape)), k: fc.integer({ min: -3, max: 3 }) })),
    ({ x, k }) => checkOp([x], (t) => tril(t, k)),
  ),
  triu: property(
    shapeArb({ minRank: 2 }).chain((shape) => fc.record({ x: inputArb(fc.constant(shape)), k: fc.integer({ min: -3, max: 3 }) })),
    ({ x, k }) => checkOp([x], (t) => triu(t, k)),
  ),
  flip: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape)),
      dims: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: 1 }),
    })),
    ({ x, dims }) => checkOp([x], (t) => flip(t, dims)),
  ),
  roll: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape)),
      shift: fc.integer({ min: -7, max: 7 }),
      dim: fc.option(dimArb(shape.length)),
    })),
    ({ x, shift, dim }) => checkOp([x], (t) => roll(t, shift, dim)),
  ),
  repeat: property(
    shapeArb({ maxRank: 3, maxDim: 3 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape)),
      sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: shape.length, maxLength: shape.length + 1 }),
    })),
    ({ x, sizes }) => checkOp([x], (t) => repeat(t, sizes)),
  ),
  tile: property(
    shapeArb({ maxRank: 3, maxDim: 3 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape)),
      reps: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    })),
    ({ x, reps }) => checkOp([x], (t) => tile(t, reps)),
  ),
  pad: property(
    shapeArb({ minRank: 1, minDim: 2, maxDim: 4 }).chain((shape) => fc.record({
      x: inputArb(fc.constant(shape)),
      mode: fc.constantFrom<'constant' | 'reflect' | 'replicate'>('constant', 'reflect', 'replicate'),
      amounts: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2, maxLength: Math.min(4, 2 * shape.length) }).map((a) => (a.length % 2 ? a.slice(1) : a)),
      value: fc.constantFrom(0, 1.5),
    })),
    ({ x, mode, amounts, value }) => checkOp([x], (t) => pad(t, amounts, mode, mode === 'constant' ? value : 0)),
  ),
  scatter: property(
    fc.record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), seed: fc.nat() }).chain(({ rows, cols, k, seed }) => {
      // distinct indices per row (duplicates make the written value order-dependent)
      const idx = Array.from({ length: rows }, (_, r) => Array.from({ length: Math.min(k, cols) }, (_, j) => (seed + r + j) % cols)).flat();
      return fc.record({ x: inputArb([rows, cols]), src: inputArb([rows, Math.min(k, cols)]), idx: fc.constant(idx), k: fc.constant(Math.min(k, cols)) });
    }),
    ({ x, src, idx, k }) => checkOp([x, src], (a, b) => scatter(a, 1, int32(idx, [x.shape[0]!, k]), b!)),
  ),
  scatterAdd: property(
    fc.record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 5 }), seed: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }) }).chain(({ rows, cols, k, seed }) =>
      fc.record({ x: inputArb([rows, cols]), src: inputArb([k, cols]), idx: fc.constant(seed.slice(0, k * cols).map((s) => s % rows)), k: fc.constant(k) })),
    ({ x, src, idx, k }) => checkOp([x, src], (a, b) => scatterAdd(a, 0, int32(idx, [k, x.shape[1]!]), b!)),
  ),
  sort: property(
    withDim({ map: (v) => distinct(v) }).chain(({ x, dim }) => fc.record({ x: fc.constant(x), dim: fc.constant(dim), desc: fc.boolean() })),
    ({ x, dim, desc }) => checkOp([x], (t) => sort(t, dim, desc).values),
  ),
  topk: property(
    withDim({ map: (v) => distinct(v) }).chain(({ x, dim }) => fc.record({
      x: fc.constant(x), dim: fc.constant(dim), k: fc.nat(), largest: fc.boolean(),
    })),
    ({ x, dim, k, largest }) => {
      const n = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
      checkOp([x], (t) => topk(t, k % (n + 1), dim, largest).values);
    },
  ),
  einsum: property(
    fc.record({
      eq: fc.constantFrom('ij,jk->ik', 'ij,kj', 'bij,bjk->bik', 'ii->', 'ii->i', 'i,j->ij', 'ij->ji', '...ij,...jk->...ik', 'bi,ij,bj->b', 'iij->j', 'ij,ij->'),
      n: fc.integer({ min: 1, max: 3 }), m: fc.integer({ min: 1, max: 3 }), b: fc.integer({ min: 1, max: 2 }),
    }).chain(({ eq, n, m, b }) => {
      const size: Record<string, number> = { i: n, j: m, k: n + 1, b };
      const terms = eq.split('->')[0]!.split(',');
      const shapes = terms.map((t) => (t.startsWith('...') ? [b, ...t.slice(3).split('').map((l) => size[l]!)] : t.split('').map((l) => (l === 'i' && t.split('i').length > 2 ? n : size[l]!))));
      return fc.record({ eq: fc.constant(eq), xs: fc.tuple(...shapes.map((s) => inputArb(s))) });
    }),
    ({ eq, xs }) => checkOp(xs, (...ts) => einsum(eq, ...ts)),
  ),
  conv1d: property(
    fc.record({
      n: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), og: fc.integer({ min: 1, max: 2 }),
      k: fc.integer({ min: 1, max: 3 }), l: fc.integer({ min: 3, max: 6 }), stride: fc.integer({ min: 1, max: 2 }),
      padding: fc.integer({ min: 0, max: 1 }), dilation: fc.integer({ min: 1, max: 2 }), bias: fc.boolean(),
    }).filter(({ k, l, padding, dilation }) => l + 2 * padding >= dilation * (k - 1) + 1).chain((p) =>
      fc.record({ p: fc.constant(p), x: inputArb([p.n, p.cg * p.groups, p.l]), w: inputArb([p.og * p.groups, p.cg, p.k]), b: inputArb([p.og * p.groups]) })),
    ({ p, x, w, b }) => {
      const o = { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
      if (p.bias) checkOp([x, w, b], (a, c, d) => conv1d(a, c!, d!, o));
      else checkOp([x, w], (a, c) => conv1d(a, c!, null, o));
    },
    8,
  ),
  maxPool1d: property(
    fc.record({ k: fc.integer({ min: 1, max: 3 }), l: fc.integer({ min: 3, max: 7 }), stride: fc.integer({ min: 1, max: 3 }), ceilMode: fc.boolean(), dilation: fc.integer({ min: 1, max: 2 }) })
      .chain((p) => fc.record({ p: fc.constant({ ...p, padding: Math.min(1, Math.floor(p.k / 2)) }), x: inputArb([2, 2, p.l], (v) => distinct(v)) }))
      .filter(({ p }) => p.l + 2 * p.padding >= p.dilation * (p.k - 1) + 1),
    ({ p, x }) => checkOp([x], (t) => maxPool1d(t, p.k, { stride: p.stride, padding: p.padding, ceilMode: p.ceilMode, dilation: p.dilation })),
  ),
  avgPool1d: property(
    fc.record({ k: fc.integer({ min: 1, max: 3 }), l: fc.integer({ min: 3, max: 7 }), stride: fc.integer({ min: 1, max: 3 }), ceilMode: fc.boolean(), include: fc.boolean() })
      .chain((p) => fc.record({ p: fc.constant({ ...p, padding: Math.min(1, Math.floor(p.k / 2)) }), x: inputArb([1, 2, p.l]) })),
    ({ p, x }) => checkOp([x], (t) => avgPool1d(t, p.k, { stride: p.stride, padding: p.padding, ceilMode: p.ceilMode, countIncludePad: p.include })),
  ),
};


