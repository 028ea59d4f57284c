/**
 * fast-check arbitraries and a gradient-check harness for the op property tests.
 *
 * An input is described by an `InputSpec` (logical shape, row-major float64 values and a
 * memory layout). `buildInput` turns it into a leaf tensor plus a `view` function that
 * presents the leaf as a tensor of the logical shape: for the non-contiguous layouts the leaf
 * is stored permuted or interleaved with filler, and `view` is a permute or a stepped slice.
 * gradcheck perturbs the (contiguous) leaf, so the op under test always sees the view.
 */
import fc from 'fast-check';

import {
  fromTypedArray, Generator, gradcheck, noGrad, Tensor, zeros,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

export type Shape = number[];

export const numelOf = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

// ---- shapes -------------------------------------------------------------------------------------

export interface ShapeOpts {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

/** A shape of rank minRank…maxRank (default 0–4) with dims minDim…maxDim (default 1–5). */
export function shapeArb(o: ShapeOpts = {}): fc.Arbitrary<Shape> {
  return fc.array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 5 }), { minLength: o.minRank ?? 0, maxLength: o.maxRank ?? 4 });
}

/**
 * A full shape and two shapes that broadcast to it: each is the full shape with some dims set
 * to 1 and (for the second) some leading dims dropped, e.g. [3,1] & [1,4], [2,3,4] & [4], [] & [2].
 * The pair is swapped at random, so either side can be the smaller one.
 */
export function broadcastPairArb(o: ShapeOpts = {}): fc.Arbitrary<{ full: Shape; a: Shape; b: Shape }> {
  return shapeArb(o).chain((full) =>
    fc.record({
      full: fc.constant(full),
      onesA: fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      onesB: fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      drop: fc.integer({ min: 0, max: full.length }),
      swap: fc.boolean(),
    }),
  ).map(({ full, onesA, onesB, drop, swap }) => {
    const a = full.map((d, i) => (onesA[i] ? 1 : d));
    const b = full.map((d, i) => (onesB[i] ? 1 : d)).slice(drop);
    // the result shape of broadcasting a and b (dims that became 1 on both sides stay 1)
    const out = a.map((d, i) => {
      const j = i - (a.length - b.length);
      return Math.max(d, j >= 0 ? b[j]! : 1);
    });
    return swap ? { full: out, a: b, b: a } : { full: out, a, b };
  });
}

/** A random subset of the dims of a rank-r tensor, in random order and sign, or null (all dims). */
export function dimsArb(rank: number, o: { allowNull?: boolean; minLength?: number } = {}): fc.Arbitrary<number[] | null> {
  const all = Array.from({ length: rank }, (_, i) => i);
  const list = fc
    .shuffledSubarray(all, { minLength: Math.min(o.minLength ?? 1, rank), maxLength: rank })
    .chain((ds) => fc.array(fc.boolean(), { minLength: ds.length, maxLength: ds.length }).map((neg) => ds.map((d, i) => (neg[i] ? d - rank : d))));
  return o.allowNull === false ? list : fc.oneof(list, fc.constant(null));
}

/** One dim of a rank-r tensor, possibly negative (torch accepts −1 and 0 for a scalar). */
export function dimArb(rank: number): fc.Arbitrary<number> {
  const r = Math.max(rank, 1);
  return fc.integer({ min: -r, max: r - 1 });
}

// ---- values -------------------------------------------------------------------------------------

/** n finite doubles in [min, max]. */
export function valuesArb(n: number, min = -2, max = 2): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
}

/** Moves every value at least `margin` away from each kink point (to the nearer side). */
export function awayFrom(values: number[], points: readonly number[], margin: number): number[] {
  return values.map((v) => {
    let x = v;
    for (const p of points) {
      if (Math.abs(x - p) < margin) x = x >= p ? p + margin : p - margin;
    }
    return x;
  });
}

/**
 * Replaces values by distinct ones with the same order, spaced `spacing` apart (ties broken by
 * position) and centred on 0: max/min/maximum/minimum then never see a tie, whatever ε is.
 */
export function distinct(values: number[], spacing = 0.1): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const out = new Array<number>(values.length);
  order.forEach(([, i], rank) => (out[i] = (rank - (values.length - 1) / 2) * spacing));
  return out;
}

// ---- layouts ------------------------------------------------------------------------------------

export type LayoutKind = 'contiguous' | 'permuted' | 'stepped';
export interface Layout {
  kind: LayoutKind;
  /** Picks the permutation / the stepped dim and offset. */
  k: number;
}

/** Contiguous half of the time; otherwise a permuted or a stepped (every other element) view. */
export const layoutArb: fc.Arbitrary<Layout> = fc.record({
  kind: fc.constantFrom<LayoutKind>('contiguous', 'contiguous', 'permuted', 'stepped'),
  k: fc.nat(1000),
});

export interface InputSpec {
  shape: Shape;
  values: number[];
  layout: Layout;
}

export interface BuiltInput {
  /** The leaf that requires grad (what gradcheck perturbs). */
  leaf: Tensor;
  /** Presents a leaf (or gradcheck's perturbed copy of it) as the logical input. */
  view: (leaf: Tensor) => Tensor;
  spec: InputSpec;
}

/** A float64 input of `shape` with values from `values` (shape chosen first). */
export function inputArb(shapeOrArb: Shape | fc.Arbitrary<Shape>, map: (v: number[]) => number[] = (v) => v, min = -2, max = 2): fc.Arbitrary<InputSpec> {
  const sa = Array.isArray(shapeOrArb) ? fc.constant(shapeOrArb) : shapeOrArb;
  return sa.chain((shape) =>
    fc.record({ shape: fc.constant(shape), values: valuesArb(numelOf(shape), min, max).map(map), layout: layoutArb }),
  );
}

function permutationFor(rank: number, k: number): number[] {
  const id = Array.from({ length: rank }, (_, i) => i);
  if (k % 2 === 0) return id.reverse();
  const r = 1 + (k >> 1) % (rank - 1); // rotate by 1…rank−1
  return id.map((_, i) => (i + r) % rank);
}

/** Filler for the unused elements of a stepped leaf: their gradient must come out exactly 0. */
const FILLER = 7.25;

export function buildInput(spec: InputSpec): BuiltInput {
  const { shape, values, layout } = spec;
  const base = fromTypedArray(Float64Array.from(values), shape);
  const rank = shape.length;
  if (layout.kind === 'permuted' && rank >= 2) {
    const perm = permutationFor(rank, layout.k);
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    const stored = base.permute(perm).contiguous();
    const leaf = fromTypedArray(stored.toTypedArray(), stored.shape, { requiresGrad: true });
    return { leaf, view: (t) => t.permute(inv), spec };
  }
  if (layout.kind === 'stepped' && rank >= 1) {
    const dim = layout.k % rank;
    const start = (layout.k >> 3) % 2;
    const bigShape = shape.map((d, i) => (i === dim ? 2 * d : d));
    const big = zeros(bigShape, { dtype: 'float64' }).fill_(FILLER);
    big.slice(dim, start, null, 2).copy_(base);
    big.requiresGrad = true;
    return { leaf: big, view: (t) => t.slice(dim, start, null, 2), spec };
  }
  const leaf = fromTypedArray(Float64Array.from(values), shape, { requiresGrad: true });
  return { leaf, view: (t) => t, spec };
}

// ---- gradient checks ------------------------------------------------------------------------------

export const GRAD_TOL = { eps: 1e-6, atol: 1e-5, rtol: 1e-3 } as const;
/** Inputs with more elements than this (all together) get a random-direction check instead. */
export const FULL_CHECK_LIMIT = 150;

/**
 * Random-direction derivative: for L(x) = Σ f(x) ⊙ w with a fixed random w and a random
 * direction v (one per input), compares ⟨∇L, v⟩ from backward with the central difference
 * (L(x + εv) − L(x − εv)) / 2ε. Two directions per call.
 */
export function directionalCheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 1234): void {
  const { eps, atol, rtol } = GRAD_TOL;
  const gen = new Generator(seed);
  const y0 = fn(...inputs);
  const w = fromTypedArray(Float64Array.from({ length: y0.numel() }, () => gen.normal()), y0.shape, { dtype: y0.dtype, device: y0.device });
  for (const x of inputs) x.grad = null;
  const loss = y0.mul(w).sum();
  if (loss.requiresGrad) loss.backward();
  const lossAt = (xs: Tensor[]): number => noGrad(() => fn(...xs).mul(w).sum().item());
  for (let rep = 0; rep < 2; rep++) {
    const dirs = inputs.map((x) => Float64Array.from({ length: x.numel() }, () => gen.normal()));
    let analytic = 0;
    inputs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const g = x.grad ? x.grad.toTypedArray() : new Float64Array(x.numel());
      for (let j = 0; j < g.length; j++) analytic += g[j]! * dirs[i]![j]!;
    });
    const shifted = (s: number) =>
      inputs.map((x, i) => {
        if (!x.requiresGrad) return x.detach();
        const v = x.detach().contiguous().toTypedArray() as Float64Array;
        return fromTypedArray(v.map((e, j) => e + s * dirs[i]![j]!), x.shape);
      });
    const numeric = (lossAt(shifted(eps)) - lossAt(shifted(-eps))) / (2 * eps);
    if (!(Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric))) {
      throw new Error(`directional derivative mismatch (direction ${rep}): analytic ${analytic}, numeric ${numeric}`);
    }
  }
}

/** gradcheck (every element) for small inputs, the directional check for larger ones. */
export function checkGrad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const total = inputs.reduce((n, x) => n + x.numel(), 0);
  if (total <= FULL_CHECK_LIMIT) gradcheck(fn, inputs, GRAD_TOL);
  else directionalCheck(fn, inputs);
}

/**
 * The standard property body: builds the inputs (possibly non-contiguous), checks that the op
 * gives the same forward values on the views as on contiguous copies, then checks the gradient.
 */
export function checkOp(specs: InputSpec[], op: (...xs: Tensor[]) => Tensor): void {
  const built = specs.map(buildInput);
  const f = (...leaves: Tensor[]) => op(...leaves.map((l, i) => built[i]!.view(l)));
  const yViews = noGrad(() => f(...built.map((b) => b.leaf)));
  const yContig = noGrad(() => op(...specs.map((s) => fromTypedArray(Float64Array.from(s.values), s.shape))));
  expectClose(yViews, yContig, { rtol: 1e-12, atol: 1e-12, what: 'forward on non-contiguous views vs contiguous copies' });
  checkGrad(f, built.map((b) => b.leaf));
}
