/**
 * One gradient property per differentiable op (`OPS`) and per composite (`COMPOSITES`).
 *
 * Each property draws random shapes (rank 0–4, dims 1–5 unless the op needs otherwise),
 * broadcast-compatible partners for binary ops, non-contiguous inputs (permuted or stepped
 * views, see arbitraries.ts) in some runs, and float64 values kept away from the op's kinks;
 * it then compares the analytic gradient with float64 central differences (gradcheck, ε 1e-6,
 * atol 1e-5, rtol 1e-3), or a random-direction derivative when the inputs are large.
 *
 * The last test enumerates OPS and COMPOSITES and fails for any name without a property here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  abs, add, cat, chunk, flashAttention, clamp, contiguous, cos, div, dropout, embedding, erf, exp, expand, flatten, fromTypedArray, gather,
  gelu, gradcheck, indexSelect, log, logSoftmax, logsumexp, manualSeed, maskedFill, matmul, max, maximum, mean, min,
  minimum, mul, narrow, neg, noGrad, OPS, COMPOSITES, permute, pow, registerBackend, relu, reshape, rsqrt, select, sigmoid,
  sign, sin, slice, softmax, split, sqrt, squeeze, stack, std, sub, sum, tanh, tensor, Tensor, transpose, unsqueeze,
  var as variance, view, where,
} from '../../src/index.js';
import { addmm, binaryCrossEntropyWithLogits, cast, crossEntropyFused, layerNormFused, toDevice } from '../../src/autograd/ops.js';
import { CpuBackend } from '../../src/backends/cpu/index.js';
import { expectClose } from '../helpers.js';
import { TOOLKIT_PROPERTIES } from './toolkit.properties.js';
import {
  awayFrom, broadcastPairArb, buildInput, checkGrad, checkOp, dimArb, dimsArb, distinct, inputArb, layoutArb, numelOf,
  shapeArb, valuesArb, type InputSpec, type Shape,
} from './arbitraries.js';

const NUM_RUNS = Number(process.env.PROP_RUNS ?? 20);

/** Runs a property with the suite's number of runs. */
function property<T>(arb: fc.Arbitrary<T>, body: (t: T) => void, numRuns = NUM_RUNS): () => void {
  return () => fc.assert(fc.property(arb, (t) => { body(t); }), { numRuns });
}

const int32 = (values: number[], shape: Shape): Tensor => fromTypedArray(Int32Array.from(values), shape);
const boolT = (values: boolean[], shape: Shape): Tensor => fromTypedArray(Uint8Array.from(values, Number), shape);

// ---- unary ops ------------------------------------------------------------------------------------

/** A unary property: values in [min, max], post-processed by `map` (kinks, domain). */
function unary(op: (x: Tensor) => Tensor, o: { min?: number; max?: number; map?: (v: number[]) => number[] } = {}) {
  return property(inputArb(shapeArb(), o.map, o.min ?? -2, o.max ?? 2), (x) => checkOp([x], op));
}
const positive = (v: number[]) => v.map((x) => 0.2 + Math.abs(x));
const awayFromZero = (v: number[]) => awayFrom(v, [0], 0.05);

// ---- binary ops -----------------------------------------------------------------------------------

type Operand = 'tensor' | 'scalarLeft' | 'scalarRight';

/**
 * A binary property over a broadcast pair; in some runs one operand is a JS number instead.
 * `mapA`/`mapB` keep values in the op's domain; `joint` post-processes both together (ties).
 */
function binary(
  op: (a: Tensor | number, b: Tensor | number) => Tensor,
  o: { mapA?: (v: number[]) => number[]; mapB?: (v: number[]) => number[]; joint?: (v: number[]) => number[]; scalars?: boolean } = {},
) {
  const arb = broadcastPairArb().chain(({ a, b }) =>
    fc.record({
      a: fc.record({ shape: fc.constant(a), values: valuesArb(numelOf(a)), layout: layoutArb }),
      b: fc.record({ shape: fc.constant(b), values: valuesArb(numelOf(b)), layout: layoutArb }),
      operand: o.scalars === false ? fc.constant<Operand>('tensor') : fc.constantFrom<Operand>('tensor', 'tensor', 'scalarLeft', 'scalarRight'),
    }),
  );
  return property(arb, ({ a, b, operand }) => {
    let va = a.values, vb = b.values;
    if (o.joint) {
      const both = o.joint([...va, ...vb]);
      va = both.slice(0, va.length);
      vb = both.slice(va.length);
    }
    if (o.mapA) va = o.mapA(va);
    if (o.mapB) vb = o.mapB(vb);
    const A: InputSpec = { ...a, values: va };
    const B: InputSpec = { ...b, values: vb };
    if (operand === 'scalarLeft') checkOp([B], (y) => op(va[0]!, y));
    else if (operand === 'scalarRight') checkOp([A], (x) => op(x, vb[0]!));
    else checkOp([A, B], (x, y) => op(x, y));
  });
}

// ---- reductions -----------------------------------------------------------------------------------

/** A reduction property: a shape, a dim list (or null = all dims) and keepdim. */
function reduction(op: (x: Tensor, dims: number[] | null, keepdim: boolean) => Tensor, o: { distinct?: boolean; nonNullDims?: boolean } = {}) {
  const arb = shapeArb().chain((shape) =>
    fc.record({
      x: inputArb(shape, o.distinct ? (v) => distinct(v) : undefined),
      dims: dimsArb(shape.length, { allowNull: !o.nonNullDims }),
      keepdim: fc.boolean(),
    }),
  );
  return property(arb, ({ x, dims, keepdim }) => checkOp([x], (t) => op(t, dims, keepdim)));
}

/** The number of elements reduced over by a dim list (null = all). */
function reducedCount(shape: Shape, dims: number[] | null): number {
  if (dims === null) return numelOf(shape);
  return dims.reduce((p, d) => p * shape[d < 0 ? d + shape.length : d]!, 1);
}

// ---- matmul ---------------------------------------------------------------------------------------

type MatmulKind = '1d·1d' | '1d·2d' | '2d·1d' | '2d·2d' | 'batched' | 'broadcast batch' | '1d·batched' | 'batched·1d';
const MATMUL_KINDS: MatmulKind[] = ['1d·1d', '1d·2d', '2d·1d', '2d·2d', 'batched', 'broadcast batch', '1d·batched', 'batched·1d'];

const matmulArb = fc
  .record({
    kind: fc.constantFrom(...MATMUL_KINDS),
    m: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 4 }),
    n: fc.integer({ min: 1, max: 4 }),
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    dropB: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ kind, m, k, n, batch, onesA, dropB }): [Shape, Shape] => {
    switch (kind) {
      case '1d·1d': return [[k], [k]];
      case '1d·2d': return [[k], [k, n]];
      case '2d·1d': return [[m, k], [k]];
      case '2d·2d': return [[m, k], [k, n]];
      case 'batched': return [[...batch, m, k], [...batch, k, n]];
      case 'broadcast batch': {
        // a's batch dims partly 1, b's batch dims partly dropped: [2,1,m,k] · [3,k,n] etc.
        const ba = batch.map((d, i) => (onesA[i] ? 1 : d));
        return [[...ba, m, k], [...batch.slice(Math.min(dropB, batch.length)), k, n]];
      }
      case '1d·batched': return [[k], [...batch, k, n]];
      case 'batched·1d': return [[...batch, m, k], [k]];
    }
  })
  .chain(([sa, sb]) => fc.tuple(inputArb(sa), inputArb(sb)));

// addmm: bias [n], a [m, k], b [k, n] (any layouts: the harness permutes or steps some of them)
const addmmArb = fc
  .record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }) })
  .chain(({ m, k, n }) => fc.tuple(inputArb([n]), inputArb([m, k]), inputArb([k, n])));

// ---- gather / index ops ---------------------------------------------------------------------------

const gatherArb = shapeArb({ minRank: 1, maxRank: 4, maxDim: 4 }).chain((xs) =>
  fc.record({
    x: inputArb(xs),
    dim: fc.integer({ min: 0, max: xs.length - 1 }),
    // index dims ≤ the input's, except along dim (any length: indices repeat)
    idxShape: fc.tuple(...xs.map((d) => fc.integer({ min: 1, max: d }))),
    idxLen: fc.integer({ min: 1, max: 6 }),
    seed: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
    negDim: fc.boolean(),
    transposedIndex: fc.boolean(),
  }),
);

// ---- a second CPU-like backend, so that toDevice really moves data --------------------------------

class OtherCpu extends CpuBackend {
  override readonly name = 'cpu2' as 'cpu';
}
registerBackend('cpu2', new OtherCpu());

// ---- the property table ---------------------------------------------------------------------------

const PROPERTIES: Record<string, () => void> = {
  // the toolkit ops (src/autograd/ops/*): their rows live in toolkit.properties.ts
  ...TOOLKIT_PROPERTIES,
  // dtype and device
  cast: property(
    shapeArb().chain((shape) => fc.record({ shape: fc.constant(shape), values: valuesArb(numelOf(shape), -100, 100), w: valuesArb(numelOf(shape)) })),
    ({ shape, values, w }) => {
      // gradcheck needs float64 throughout, so the cast's value and gradient paths are checked directly.
      // float32 → float64: values exact, the gradient comes back as float32(w)
      const x32 = fromTypedArray(Float32Array.from(values), shape, { requiresGrad: true });
      const y64 = cast(x32, 'float64');
      expect(y64.dtype).toBe('float64');
      expectClose(y64, Float64Array.from(Float32Array.from(values)), { rtol: 0, atol: 0, what: 'float32→float64 values' });
      y64.mul(fromTypedArray(Float64Array.from(w), shape)).sum().backward();
      expect(x32.grad!.dtype).toBe('float32');
      expectClose(x32.grad!, Float32Array.from(w), { rtol: 0, atol: 0, what: 'float32→float64 grad' });
      // float64 → float32: values rounded with fround, the gradient comes back as float64
      const x64 = fromTypedArray(Float64Array.from(values), shape, { requiresGrad: true });
      const y32 = cast(x64, 'float32');
      expect(y32.dtype).toBe('float32');
      expectClose(y32, values.map(Math.fround), { rtol: 0, atol: 0, what: 'float64→float32 values', shape });
      y32.mul(fromTypedArray(Float32Array.from(w), shape)).sum().backward();
      expect(x64.grad!.dtype).toBe('float64');
      expectClose(x64.grad!, Float32Array.from(w), { rtol: 0, atol: 0, what: 'float64→float32 grad' });
      // same dtype: the identity, no node
      expect(cast(x64, 'float64')).toBe(x64);
      // float64 → float32 → float64 round trip, gradchecked with a step that float32 can resolve
      gradcheck((t) => cast(cast(t, 'float32'), 'float64'), [fromTypedArray(Float64Array.from(values, Math.fround), shape, { requiresGrad: true })], { eps: 1e-2, atol: 1e-3, rtol: 1e-3 });
    },
  ),
  toDevice: property(inputArb(shapeArb()), (x) => {
    const b = buildInput(x);
    // cpu → cpu is the identity
    expect(toDevice(b.leaf, 'cpu')).toBe(b.leaf);
    // cpu → cpu2 → (op on cpu2) → cpu: values preserved, gradient moved back to cpu
    const f = (l: Tensor) => toDevice(toDevice(b.view(l), 'cpu2').mul(3), 'cpu');
    const y = f(b.leaf);
    expectClose(y, noGrad(() => b.view(b.leaf).mul(3)), { rtol: 0, atol: 0, what: 'round trip through cpu2' });
    expect(toDevice(b.view(b.leaf), 'cpu2').device).toBe('cpu2');
    checkGrad(f, [b.leaf]);
    expect(b.leaf.grad!.device).toBe('cpu');
  }),

  // unary elementwise
  neg: unary(neg),
  exp: unary(exp),
  log: unary(log, { map: positive }),
  sqrt: unary(sqrt, { map: positive }),
  rsqrt: unary(rsqrt, { map: positive }),
  abs: unary(abs, { map: awayFromZero }),
  sign: unary(sign, { map: awayFromZero }),
  tanh: unary(tanh, { min: -3, max: 3 }),
  sigmoid: unary(sigmoid, { min: -5, max: 5 }),
  relu: unary(relu, { map: awayFromZero }),
  sin: unary(sin, { min: -4, max: 4 }),
  cos: unary(cos, { min: -4, max: 4 }),
  erf: unary(erf, { min: -3, max: 3 }),
  gelu: unary((x) => gelu(x), { min: -5, max: 5 }),
  geluTanh: unary((x) => gelu(x, { approximate: 'tanh' }), { min: -5, max: 5 }),
  powScalar: property(
    fc.record({ x: inputArb(shapeArb()), p: fc.constantFrom(2, 3, 0.5, -1, -2.5, 1, 0, 1.7), negBase: fc.boolean() }),
    ({ x, p, negBase }) => {
      // integer exponents allow a negative base; others need x > 0
      const intP = Number.isInteger(p);
      const values = intP && negBase ? awayFrom(x.values, [0], 0.2) : positive(x.values);
      checkOp([{ ...x, values }], (t) => pow(t, p));
    },
  ),
  pow: binary((a, b) => pow(a, b), { mapA: (v) => v.map((x) => 0.3 + Math.abs(x)) }),
  clamp: property(
    fc.record({
      x: inputArb(shapeArb()),
      lo: fc.double({ min: -1.5, max: 0, noNaN: true }),
      width: fc.double({ min: 0.2, max: 2, noNaN: true }),
      mode: fc.constantFrom('both', 'min', 'max'),
    }),
    ({ x, lo, width, mode }) => {
      const hi = lo + width;
      const values = awayFrom(x.values, [lo, hi], 0.05);
      const [mn, mx] = mode === 'both' ? [lo, hi] : mode === 'min' ? [lo, null] : [null, hi];
      checkOp([{ ...x, values }], (t) => clamp(t, mn, mx));
    },
  ),

  // binary elementwise (broadcast pairs)
  add: binary((a, b) => add(a, b)),
  sub: binary((a, b) => sub(a, b)),
  mul: binary((a, b) => mul(a, b)),
  div: binary((a, b) => div(a, b), { mapB: (v) => awayFrom(v, [0], 0.5) }),
  maximum: binary((a, b) => maximum(a as Tensor, b), { joint: (v) => distinct(v), scalars: false }),
  minimum: binary((a, b) => minimum(a as Tensor, b), { joint: (v) => distinct(v), scalars: false }),
  where: property(
    broadcastPairArb().chain(({ full, a, b }) =>
      fc.record({
        a: inputArb(a),
        b: inputArb(b),
        condShape: fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }).map((ones) => full.map((d, i) => (ones[i] ? 1 : d))),
        seed: fc.array(fc.boolean(), { minLength: 625, maxLength: 625 }),
        operand: fc.constantFrom('tensors', 'tensors', 'scalarA', 'scalarB'),
      }),
    ),
    ({ a, b, condShape, seed, operand }) => {
      const cond = boolT(seed.slice(0, numelOf(condShape)), condShape);
      if (operand === 'scalarA') checkOp([b], (y) => where(cond, 1.5, y));
      else if (operand === 'scalarB') checkOp([a], (x) => where(cond, x, -0.5));
      else checkOp([a, b], (x, y) => where(cond, x, y));
    },
  ),
  maskedFill: property(
    shapeArb().chain((shape) =>
      fc.record({
        x: inputArb(shape),
        ones: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        drop: fc.integer({ min: 0, max: shape.length }),
        bits: fc.array(fc.boolean(), { minLength: 625, maxLength: 625 }),
        value: fc.double({ min: -3, max: 3, noNaN: true }),
      }),
    ),
    ({ x, ones, drop, bits, value }) => {
      const maskShape = x.shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
      const mask = boolT(bits.slice(0, numelOf(maskShape)), maskShape);
      checkOp([x], (t) => maskedFill(t, mask, value));
    },
  ),

  // reductions
  sum: reduction((x, d, k) => sum(x, d, k)),
  mean: reduction((x, d, k) => mean(x, d, k)),
  max: reduction((x, d, k) => max(x, d, k), { distinct: true }),
  min: reduction((x, d, k) => min(x, d, k), { distinct: true }),
  var: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({ x: inputArb(shape), dims: dimsArb(shape.length), keepdim: fc.boolean(), correction: fc.constantFrom(0, 1, 2) }),
    ),
    ({ x, dims, keepdim, correction }) => {
      fc.pre(reducedCount(x.shape, dims) > correction);
      checkOp([x], (t) => variance(t, dims, { correction, keepdim }));
    },
  ),
  std: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({ x: inputArb(shape, (v) => distinct(v)), dims: dimsArb(shape.length), keepdim: fc.boolean(), correction: fc.constantFrom(0, 1, 2) }),
    ),
    ({ x, dims, keepdim, correction }) => {
      // distinct values and n ≥ 2 keep the variance > 0, away from sqrt's kink at 0
      const n = reducedCount(x.shape, dims);
      fc.pre(n >= 2 && n > correction);
      checkOp([x], (t) => std(t, dims, { correction, keepdim }));
    },
  ),
  binaryCrossEntropyWithLogits: property(
    // logits, targets in [0, 1], and optional weight / posWeight broadcast over the last dim; all four differentiable
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({
      x: inputArb(shape, undefined, -4, 4), y: inputArb(shape, (v) => v.map((t) => (t + 2) / 4)),
      w: fc.option(inputArb(shape.slice(-1), (v) => v.map((t) => 0.2 + Math.abs(t)))),
      p: fc.option(inputArb(shape.slice(-1), (v) => v.map((t) => 0.2 + Math.abs(t)))),
    })),
    ({ x, y, w, p }) => {
      const specs = [x, y, ...(w ? [w] : []), ...(p ? [p] : [])];
      checkOp(specs, (tx, ty, ...rest) => binaryCrossEntropyWithLogits(tx!, ty!, w ? rest[0]! : null, p ? rest[w ? 1 : 0]! : null));
    },
  ),
  logsumexp: reduction((x, d, k) => logsumexp(x, d ?? [], k), { nonNullDims: true }),
  softmax: property(
    shapeArb().chain((shape) => fc.record({ x: inputArb(shape, undefined, -4, 4), dim: dimArb(shape.length) })),
    ({ x, dim }) => checkOp([x], (t) => softmax(t, dim)),
  ),
  logSoftmax: property(
    shapeArb().chain((shape) => fc.record({ x: inputArb(shape, undefined, -4, 4), dim: dimArb(shape.length) })),
    ({ x, dim }) => checkOp([x], (t) => logSoftmax(t, dim)),
  ),

  // linear algebra
  matmul: property(matmulArb, ([a, b]) => checkOp([a, b], (x, y) => matmul(x, y))),
  addmm: property(addmmArb, ([bias, a, b]) => checkOp([bias, a, b], (t, x, y) => addmm(t, x, y))),

  // movement
  reshape: property(
    shapeArb().chain((shape) => fc.record({ x: inputArb(shape), target: factorizationArb(numelOf(shape)), inferOne: fc.boolean() })),
    ({ x, target, inferOne }) => {
      const t = inferOne && target.length > 0 ? target.map((d, i) => (i === 0 ? -1 : d)) : target;
      checkOp([x], (v) => reshape(v, t));
    },
  ),
  view: property(
    shapeArb().chain((shape) => fc.record({ values: valuesArb(numelOf(shape)), shape: fc.constant(shape), target: factorizationArb(numelOf(shape)) })),
    ({ values, shape, target }) => {
      // view needs a compatible layout: contiguous inputs only
      checkOp([{ shape, values, layout: { kind: 'contiguous', k: 0 } }], (v) => view(v, target));
    },
  ),
  flatten: property(
    shapeArb().chain((shape) => fc.record({ x: inputArb(shape), a: dimArb(shape.length), b: dimArb(shape.length) })),
    ({ x, a, b }) => {
      const r = Math.max(x.shape.length, 1);
      const [s, e] = ((a + r) % r) <= ((b + r) % r) ? [a, b] : [b, a];
      checkOp([x], (t) => flatten(t, s, e));
    },
  ),
  squeeze: property(
    shapeArb({ maxDim: 3 }).chain((shape0) => {
      const shape = shape0.map((d, i) => (i % 2 === 0 ? 1 : d)); // some dims of size 1
      return fc.record({ x: inputArb(shape), which: fc.constantFrom('all', 'one', 'list'), dims: dimsArb(shape.length, { allowNull: false }) });
    }),
    ({ x, which, dims }) => {
      const arg = which === 'all' || x.shape.length === 0 ? undefined : which === 'one' ? dims![0]! : dims!;
      checkOp([x], (t) => squeeze(t, arg));
    },
  ),
  unsqueeze: property(
    shapeArb({ maxRank: 3 }).chain((shape) => fc.record({ x: inputArb(shape), dim: fc.integer({ min: -(shape.length + 1), max: shape.length }) })),
    ({ x, dim }) => checkOp([x], (t) => unsqueeze(t, dim)),
  ),
  permute: property(
    shapeArb().chain((shape) =>
      fc.record({ x: inputArb(shape), perm: fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }) }),
    ),
    ({ x, perm }) => checkOp([x], (t) => permute(t, perm)),
  ),
  transpose: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({ x: inputArb(shape), a: dimArb(shape.length), b: dimArb(shape.length) })),
    ({ x, a, b }) => checkOp([x], (t) => transpose(t, a, b)),
  ),
  expand: property(
    shapeArb({ maxRank: 3 }).chain((shape) =>
      fc.record({
        x: inputArb(shape.map((d, i) => (i % 2 === 1 ? 1 : d))),
        lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: shape.length, maxLength: shape.length }),
        keep: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      }),
    ),
    ({ x, lead, sizes, keep }) => {
      // size-1 dims grow to `sizes`; other dims stay (written as -1 where `keep`)
      const target = [...lead, ...x.shape.map((d, i) => (d === 1 ? sizes[i]! : keep[i] ? -1 : d))];
      checkOp([x], (t) => expand(t, target));
    },
  ),
  slice: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({
        x: inputArb(shape),
        dim: dimArb(shape.length),
        start: fc.option(fc.integer({ min: -6, max: 6 })),
        end: fc.option(fc.integer({ min: -6, max: 6 })),
        step: fc.integer({ min: 1, max: 3 }),
      }),
    ),
    ({ x, dim, start, end, step }) => checkOp([x], (t) => slice(t, dim, start, end, step)),
  ),
  narrow: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({ x: inputArb(shape), dim: dimArb(shape.length), a: fc.nat(), b: fc.nat() }),
    ),
    ({ x, dim, a, b }) => {
      const n = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
      const start = a % n;
      const length = b % (n - start + 1);
      checkOp([x], (t) => narrow(t, dim, start, length));
    },
  ),
  select: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({ x: inputArb(shape), dim: dimArb(shape.length), i: fc.nat(), negIndex: fc.boolean() })),
    ({ x, dim, i, negIndex }) => {
      const n = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
      const index = (i % n) - (negIndex ? n : 0);
      checkOp([x], (t) => select(t, dim, index));
    },
  ),
  split: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({ x: inputArb(shape), dim: dimArb(shape.length), size: fc.integer({ min: 1, max: 5 }), asList: fc.boolean(), cuts: fc.array(fc.nat(), { maxLength: 3 }) }),
    ),
    ({ x, dim, size, asList, cuts }) => {
      const n = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
      let arg: number | number[] = size;
      if (asList) {
        // sizes that sum to n (zeros allowed)
        const points = [0, ...cuts.map((c) => c % (n + 1)).sort((p, q) => p - q), n];
        arg = points.slice(1).map((p, i) => p - points[i]!);
      }
      checkOp([x], (t) => joinParts(split(t, arg, dim)));
    },
  ),
  chunk: property(
    shapeArb({ minRank: 1 }).chain((shape) => fc.record({ x: inputArb(shape), dim: dimArb(shape.length), chunks: fc.integer({ min: 1, max: 6 }) })),
    ({ x, dim, chunks }) => checkOp([x], (t) => joinParts(chunk(t, chunks, dim))),
  ),
  contiguous: property(fc.record({ x: inputArb(shapeArb()), force: fc.boolean() }), ({ x, force }) => {
    const b = buildInput(x);
    const v = b.view(b.leaf);
    const c = contiguous(v, force);
    expect(c.isContiguous()).toBe(true);
    if (!v.isContiguous() || force) expect(c.storage).not.toBe(v.storage);
    checkOp([x], (t) => contiguous(t, force));
  }),
  cat: property(
    shapeArb({ minRank: 1 }).chain((shape) =>
      fc.record({
        dim: fc.integer({ min: 0, max: shape.length - 1 }),
        sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
        shape: fc.constant(shape),
        negDim: fc.boolean(),
      }),
    ).chain(({ dim, sizes, shape, negDim }) =>
      fc.record({
        dim: fc.constant(negDim ? dim - shape.length : dim),
        xs: fc.tuple(...sizes.map((s) => inputArb(shape.map((d, i) => (i === dim ? s : d))))),
      }),
    ),
    ({ dim, xs }) => checkOp(xs, (...ts) => cat(ts, dim)),
  ),
  stack: property(
    shapeArb({ maxRank: 3 }).chain((shape) =>
      fc.record({
        dim: fc.integer({ min: -(shape.length + 1), max: shape.length }),
        xs: fc.integer({ min: 1, max: 3 }).chain((k) => fc.array(inputArb(shape), { minLength: k, maxLength: k })),
      }),
    ),
    ({ dim, xs }) => checkOp(xs, (...ts) => stack(ts, dim)),
  ),

  // indexing
  gather: property(gatherArb, ({ x, dim, idxShape, idxLen, seed, negDim, transposedIndex }) => {
    const shape = idxShape.map((d, i) => (i === dim ? idxLen : d));
    const n = x.shape[dim]!;
    const values = Array.from({ length: numelOf(shape) }, (_, i) => seed[i % seed.length]! % n);
    let index = int32(values, shape);
    if (transposedIndex && shape.length >= 2) {
      // the same index values, read through a transposed (non-contiguous) view
      const stored = index.transpose(0, -1).contiguous();
      index = stored.transpose(0, -1);
    }
    checkOp([x], (t) => gather(t, negDim ? dim - x.shape.length : dim, index));
  }),
  indexSelect: property(
    shapeArb({ minRank: 1, maxDim: 4 }).chain((shape) =>
      fc.record({
        x: inputArb(shape),
        dim: dimArb(shape.length),
        ids: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        scalarIndex: fc.boolean(),
      }),
    ),
    ({ x, dim, ids, scalarIndex }) => {
      const n = x.shape[dim < 0 ? dim + x.shape.length : dim]!;
      const index = scalarIndex ? int32([ids[0]! % n], []) : int32(ids.map((i) => i % n), [ids.length]);
      checkOp([x], (t) => indexSelect(t, dim, index));
    },
  ),
  embedding: property(
    fc.record({
      v: fc.integer({ min: 1, max: 5 }),
      h: fc.integer({ min: 1, max: 4 }),
      idsShape: shapeArb({ maxRank: 3, maxDim: 4 }),
      padding: fc.option(fc.nat()),
    }).chain(({ v, h, idsShape, padding }) =>
      fc.record({
        w: inputArb([v, h]),
        idsShape: fc.constant(idsShape),
        ids: fc.array(fc.nat(v - 1), { minLength: numelOf(idsShape), maxLength: numelOf(idsShape) }),
        padding: fc.constant(padding === null ? null : padding % v),
      }),
    ),
    ({ w, idsShape, ids, padding }) => {
      const idT = int32(ids, idsShape);
      checkOp([w], (t) => embedding(idT, t));
      if (padding !== null) {
        // paddingIdx: the forward still reads that row, but by definition (torch) it receives no
        // gradient, so it is compared with the true gradient with that row zeroed, not gradchecked.
        const gy = fromTypedArray(Float64Array.from({ length: numelOf(idsShape) * w.shape[1]! }, (_, i) => Math.cos(i)), [...idsShape, w.shape[1]!]);
        const gradOf = (pad: number | null) => {
          const leaf = fromTypedArray(Float64Array.from(w.values), w.shape, { requiresGrad: true });
          const y = embedding(idT, leaf, pad);
          expectClose(y, noGrad(() => embedding(idT, leaf)), { rtol: 0, atol: 0, what: 'forward with paddingIdx' });
          y.mul(gy).sum().backward();
          return leaf.grad!;
        };
        const expected = gradOf(null).toTypedArray() as Float64Array;
        const h = w.shape[1]!;
        expected.fill(0, padding * h, (padding + 1) * h);
        expectClose(gradOf(padding), expected, { rtol: 0, atol: 0, what: `grad with paddingIdx ${padding}` });
      }
    },
  ),
  layerNorm: property(
    // the fused kernel over the last dim(s); x, weight and bias all differentiable (with or without affine)
    fc.record({ shape: shapeArb({ minRank: 1 }), k: fc.constantFrom(1, 2), affine: fc.boolean(), eps: fc.constantFrom(1e-12, 1e-5) }).chain(({ shape, k, affine, eps }) => {
      const kk = Math.min(k, shape.length);
      const ns = shape.slice(shape.length - kk);
      return fc.record({ x: inputArb(fc.constant(shape)), w: inputArb(fc.constant(ns)), b: inputArb(fc.constant(ns)), ns: fc.constant(ns), affine: fc.constant(affine), eps: fc.constant(eps) });
    }),
    ({ x, w, b, ns, affine, eps }) => {
      const n = ns.reduce((p, d) => p * d, 1);
      fc.pre(n >= 2); // a row of one element has zero variance: y ≡ b
      // away from the kink of √: rows of (near-)constant values make 1/√(σ² + ε) explode, and
      // central differences with step 1e-6 no longer see a smooth function
      for (let r = 0; r < x.values.length; r += n) {
        const row = x.values.slice(r, r + n);
        const mu = row.reduce((a, v) => a + v, 0) / n;
        fc.pre(row.reduce((a, v) => a + (v - mu) ** 2, 0) / n > 0.05);
      }
      if (affine) checkOp([x, w, b], (t, tw, tb) => layerNormFused(t, n, tw!.reshape([n]), tb!.reshape([n]), eps)!);
      else checkOp([x], (t) => layerNormFused(t, n, null, null, eps)!);
    },
  ),
  crossEntropyFused: property(
    // logits (N, C) and class indices with some ignored rows; mean and sum reductions
    fc.record({ n: fc.integer({ min: 1, max: 5 }), c: fc.integer({ min: 1, max: 6 }), reduction: fc.constantFrom<'mean' | 'sum'>('mean', 'sum'), seed: fc.nat() }).chain(({ n, c, reduction, seed }) =>
      fc.record({ x: inputArb(fc.constant([n, c]), undefined, -3, 3), reduction: fc.constant(reduction), t: fc.constant(Array.from({ length: n }, (_, i) => ((seed >> i) & 3) === 3 ? -100 : (seed + 7 * i) % c)) })),
    ({ x, reduction, t }) => {
      fc.pre(reduction === 'sum' || t.some((v) => v !== -100)); // a mean over no rows is NaN
      checkOp([x], (a) => crossEntropyFused(a, int32(t, [t.length]), -100, reduction)!);
    },
  ),
  dropout: property(
    fc.record({ x: inputArb(shapeArb()), p: fc.constantFrom(0, 0.2, 0.5, 0.9, 1), seed: fc.nat(), training: fc.boolean() }),
    ({ x, p, seed, training }) => {
      // re-seeding inside the function keeps the mask the same on every evaluation
      checkOp([x], (t) => {
        manualSeed(seed);
        return dropout(t, p, training);
      });
    },
  ),
  flashAttention: property(
    // q (B, H, L, E), k (B, H, S, E), v (B, H, S, Ev); no mask, an additive (B, 1, 1, S) mask, a
    // random boolean keep-mask (L, S) (rows of all false: zero output, zero gradients), or causal
    // with an offset (−1 leaves query 0 with no key at all)
    fc.record({
      B: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 2 }), L: fc.integer({ min: 1, max: 4 }), S: fc.integer({ min: 1, max: 5 }),
      E: fc.integer({ min: 1, max: 4 }), Ev: fc.integer({ min: 1, max: 3 }),
      mask: fc.constantFrom('none', 'additive', 'bool', 'causal'), offset: fc.integer({ min: -1, max: 2 }), scale: fc.constantFrom(undefined, 0.7),
    }).chain((c) => fc.record({
      c: fc.constant(c),
      q: inputArb(fc.constant([c.B, c.H, c.L, c.E])), k: inputArb(fc.constant([c.B, c.H, c.S, c.E])), v: inputArb(fc.constant([c.B, c.H, c.S, c.Ev])),
      additive: valuesArb(c.B * c.S), keep: fc.array(fc.boolean(), { minLength: c.L * c.S, maxLength: c.L * c.S }),
    })),
    ({ c, q, k, v, additive, keep }) => {
      const attnMask = c.mask === 'additive' ? fromTypedArray(Float64Array.from(additive), [c.B, 1, 1, c.S]) : c.mask === 'bool' ? boolT(keep, [c.L, c.S]) : null;
      const scale = c.scale;
      checkOp([q, k, v], (a, b, d) => flashAttention(a, b, d, { attnMask, isCausal: c.mask === 'causal', causalOffset: c.offset, ...(scale !== undefined ? { scale } : {}) }));
    },
  ),
};

/** Joins split/chunk parts into one tensor (each part scaled differently, so a mix-up shows). */
function joinParts(parts: Tensor[]): Tensor {
  return cat(parts.map((p, i) => p.mul(i + 1).reshape([-1])), 0);
}

/** A random shape with the given number of elements (a random grouping of its prime factors). */
function factorizationArb(n: number): fc.Arbitrary<number[]> {
  const primes: number[] = [];
  let m = n;
  for (let p = 2; m > 1; p++) while (m % p === 0) { primes.push(p); m /= p; }
  return fc.record({
    groups: fc.array(fc.nat(3), { minLength: primes.length, maxLength: primes.length }),
    ones: fc.array(fc.nat(4), { maxLength: 2 }),
  }).map(({ groups, ones }) => {
    const dims = [1, 1, 1, 1];
    primes.forEach((p, i) => (dims[groups[i]!]! *= p));
    const out = dims.filter((d, i) => d > 1 || i === 0);
    for (const pos of ones) out.splice(pos % (out.length + 1), 0, 1);
    return n === 1 && ones.length === 0 && groups.length === 0 ? [] : out;
  });
}

// ---- the tests ------------------------------------------------------------------------------------

describe('gradient properties of every differentiable op', () => {
  for (const [name, run] of Object.entries(PROPERTIES)) {
    it(name, run);
  }
});

describe('the property table', () => {
  it('covers every op in OPS and every name in COMPOSITES', () => {
    const registered = [...OPS.keys(), ...COMPOSITES.keys()];
    const missing = registered.filter((n) => !(n in PROPERTIES));
    expect(missing, `ops without a gradient property: ${missing.join(', ')}`).toEqual([]);
  });
  it('has no stale entries (every property names a registered op or composite)', () => {
    const known = new Set<string>([...OPS.keys(), ...COMPOSITES.keys()]);
    const stale = Object.keys(PROPERTIES).filter((n) => !known.has(n));
    expect(stale, `properties for unknown ops: ${stale.join(', ')}`).toEqual([]);
  });
});

describe('the harness itself', () => {
  it('builds non-contiguous views with the intended values', () => {
    const values = Array.from({ length: 24 }, (_, i) => i / 7);
    for (const kind of ['permuted', 'stepped'] as const) {
      for (let k = 0; k < 16; k++) {
        const b = buildInput({ shape: [2, 3, 4], values, layout: { kind, k } });
        const v = b.view(b.leaf);
        expect(v.shape).toEqual([2, 3, 4]);
        expect(v.isContiguous(), `${kind} k=${k}`).toBe(false);
        expectClose(v.contiguous().toTypedArray(), values, { rtol: 0, atol: 0, what: `${kind} k=${k}` });
      }
    }
  });
  it('catches a wrong gradient', () => {
    // an op whose backward is deliberately wrong (the gradient of 2x reported for x²) must fail
    const x = tensor([0.5, -1.5, 2], { dtype: 'float64', requiresGrad: true });
    const wrong = (t: Tensor) => t.mul(2).add(noGrad(() => t.mul(t).sub(t.mul(2))));
    expect(() => checkGrad(wrong, [x])).toThrow(/mismatch/);
    const big = fromTypedArray(Float64Array.from({ length: 200 }, (_, i) => Math.sin(i)), [200], { requiresGrad: true });
    expect(() => checkGrad(wrong, [big])).toThrow(/directional derivative mismatch/);
  });
  it('generates broadcast pairs that broadcast, including both-sided ones', () => {
    let bothSided = 0;
    fc.assert(
      fc.property(broadcastPairArb(), ({ full, a, b }) => {
        const out = add(fromTypedArray(new Float64Array(numelOf(a)), a), fromTypedArray(new Float64Array(numelOf(b)), b));
        expect(out.shape).toEqual(full);
        if (numelOf(a) < numelOf(full) && numelOf(b) < numelOf(full)) bothSided++;
      }),
      { numRuns: 200 },
    );
    expect(bothSided).toBeGreaterThan(0);
  });
  it('keeps values away from kinks', () => {
    expect(awayFrom([0, 1e-300, -1e-9, 0.3], [0], 0.05)).toEqual([0.05, 0.05, -0.05, 0.3]);
    const d = distinct([1, 1, 0, 1]);
    expect(new Set(d).size).toBe(4);
    expect(d[2]).toBeLessThan(d[0]!);
  });
});
