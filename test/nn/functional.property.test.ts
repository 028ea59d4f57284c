/**
 * Gradient properties of every differentiable function of nn.functional that is built in
 * functional.ts (the primitives it re-exports from autograd/ops.ts — softmax, logSoftmax, gelu,
 * dropout, relu, tanh, sigmoid, embedding — have their properties in test/autograd).
 *
 * Each property draws small random shapes and float64 values (kept away from the kinks of
 * |x| and max(x, 0), and from degenerate LayerNorm rows), and compares the analytic gradient of
 * every floating input with float64 central differences (`gradcheck`: ε 1e-6, atol 1e-5,
 * rtol 1e-3). A few value identities ride along (e.g. a bool keep-mask equals the additive
 * 0/−∞ mask). The last test enumerates the module's exports and fails for a new function
 * without a property here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { cat, F, fromTypedArray, gradcheck, Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

const NUM_RUNS = Number(process.env.PROP_RUNS ?? 15);

function property<T>(arb: fc.Arbitrary<T>, body: (t: T) => void, numRuns = NUM_RUNS): () => void {
  return () => fc.assert(fc.property(arb, (t) => { body(t); }), { numRuns });
}

const numelOf = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

/** A float64 leaf that requires grad. */
const f64 = (values: readonly number[], shape: readonly number[], requiresGrad = true): Tensor =>
  fromTypedArray(Float64Array.from(values), shape, { requiresGrad });
const i32 = (values: readonly number[], shape: readonly number[]): Tensor => fromTypedArray(Int32Array.from(values), shape);
const boolT = (values: readonly boolean[], shape: readonly number[]): Tensor => fromTypedArray(Uint8Array.from(values, Number), shape, { dtype: 'bool' });

const dimArb = (min = 1, max = 3) => fc.integer({ min, max });
const shapeArb = (minRank: number, maxRank: number, minDim = 1, maxDim = 3) =>
  fc.array(dimArb(minDim, maxDim), { minLength: minRank, maxLength: maxRank });
const valuesArb = (n: number, min = -2, max = 2) =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
/** Values with |v| ≥ margin (kinks of abs / clamp at 0). */
const awayFromZero = (v: number[], margin = 0.05) => v.map((x) => (Math.abs(x) < margin ? (x >= 0 ? margin : -margin) : x));
const reductionArb = fc.constantFrom<F.Reduction>('mean', 'sum', 'none');

/** gradcheck that also reports the case on failure. */
function check(what: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  try {
    expect(gradcheck(fn, inputs)).toBe(true);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

// ---- linear -------------------------------------------------------------------------------------

describe('linear', () => {
  const arb = fc.record({ lead: shapeArb(0, 2), inF: dimArb(1, 4), outF: dimArb(1, 3), bias: fc.boolean(), transposed: fc.boolean() })
    .chain((s) => fc.record({
      s: fc.constant(s),
      x: valuesArb(numelOf(s.lead) * s.inF),
      w: valuesArb(s.outF * s.inF),
      b: valuesArb(s.outF),
    }));

  it('∂/∂x, ∂/∂W, ∂/∂b of x·Wᵀ + b for inputs of rank 1–3, contiguous or a transposed view', property(arb, ({ s, x, w, b }) => {
    const xShape = [...s.lead, s.inF];
    // the transposed case stores x as (in, N) and feeds xᵀ: a non-contiguous input
    const useT = s.transposed && s.lead.length === 1;
    const xs = useT ? f64(x, [s.inF, s.lead[0]!]) : f64(x, xShape);
    const view = (t: Tensor) => (useT ? t.transpose(0, 1) : t); // (in, N) → (N, in)
    const W = f64(w, [s.outF, s.inF]);
    const inputs = s.bias ? [xs, W, f64(b, [s.outF])] : [xs, W];
    check(`linear ${JSON.stringify(s)}`, (xx, ww, bb) => F.linear(view(xx!), ww!, bb ?? null), inputs);
    const y = F.linear(view(xs), W, s.bias ? inputs[2] : null);
    expect(y.shape).toEqual([...s.lead, s.outF]);
  }));
});

// ---- layerNorm ------------------------------------------------------------------------------------

describe('layerNorm', () => {
  const arb = fc.record({
    lead: shapeArb(0, 2),
    norm: shapeArb(1, 2, 2, 3), // 1 or 2 normalized dims, each ≥ 2
    affine: fc.constantFrom('none', 'weight', 'bias', 'both'),
    eps: fc.constantFrom(1e-5, 1e-12, 0.1),
  }).chain((s) => fc.record({
    s: fc.constant(s),
    x: valuesArb(numelOf(s.lead) * numelOf(s.norm), -1, 1),
    w: valuesArb(numelOf(s.norm), 0.5, 2),
    b: valuesArb(numelOf(s.norm)),
  }));

  it('∂/∂x, ∂/∂γ, ∂/∂β over 1 and 2 normalized dims, with and without affine', property(arb, ({ s, x, w, b }) => {
    const n = numelOf(s.norm);
    // a ramp per normalized block keeps every row's variance ≥ ~0.1 (finite differences of
    // 1/√(var + ε) are unreliable when var → 0)
    const xv = x.map((v, i) => v + 0.6 * (i % n));
    const X = f64(xv, [...s.lead, ...s.norm]);
    const W = s.affine === 'weight' || s.affine === 'both' ? f64(w, s.norm) : null;
    const B = s.affine === 'bias' || s.affine === 'both' ? f64(b, s.norm) : null;
    const inputs = [X, ...(W ? [W] : []), ...(B ? [B] : [])];
    const fn = (...t: Tensor[]) => F.layerNorm(t[0]!, s.norm, { weight: W ? t[1]! : null, bias: B ? t[W ? 2 : 1]! : null, eps: s.eps });
    check(`layerNorm ${JSON.stringify(s)}`, fn, inputs);
    if (!W && !B) {
      // normalised rows: mean 0, biased variance var/(var + ε)
      const dims = s.norm.map((_, i) => s.lead.length + i);
      const y = fn(X);
      expectClose(y.mean(dims), new Float64Array(numelOf(s.lead)), { atol: 1e-12, what: 'row means' });
      const v = X.detach().var(dims, { correction: 0 });
      expectClose(y.var(dims, { correction: 0 }), v.div(v.add(s.eps)), { rtol: 1e-9, atol: 1e-12, what: 'row variances' });
    }
  }));
});

// ---- scaledDotProductAttention ------------------------------------------------------------------------

type MaskKind = 'none' | 'additive' | 'additiveBatched' | 'keep' | 'causal' | 'causalAdditive';

describe('scaledDotProductAttention / attentionWithWeights', () => {
  const arb = fc.record({
    batch: shapeArb(0, 2, 1, 2),
    L: dimArb(1, 3),
    S: dimArb(1, 3),
    E: dimArb(1, 3),
    Ev: dimArb(1, 2),
    mask: fc.constantFrom<MaskKind>('none', 'additive', 'additiveBatched', 'keep', 'causal', 'causalAdditive'),
    scale: fc.option(fc.double({ min: 0.2, max: 2, noNaN: true }), { nil: undefined }),
  }).chain((s) => fc.record({
    s: fc.constant(s),
    q: valuesArb(numelOf(s.batch) * s.L * s.E),
    k: valuesArb(numelOf(s.batch) * s.S * s.E),
    v: valuesArb(numelOf(s.batch) * s.S * s.Ev),
    m: valuesArb(numelOf(s.batch) * s.L * s.S),
    keep: fc.array(fc.boolean(), { minLength: s.L * s.S, maxLength: s.L * s.S }),
  }));

  it('∂/∂q, ∂/∂k, ∂/∂v (and ∂/∂mask for additive masks) of the output and the weights', property(arb, ({ s, q, k, v, m, keep }) => {
    const Q = f64(q, [...s.batch, s.L, s.E]);
    const K = f64(k, [...s.batch, s.S, s.E]);
    const V = f64(v, [...s.batch, s.S, s.Ev]);
    const inputs = [Q, K, V];
    let maskOf: (t: Tensor[]) => Tensor | null = () => null;
    if (s.mask === 'additive' || s.mask === 'causalAdditive') {
      inputs.push(f64(m.slice(0, s.L * s.S), [s.L, s.S])); // (L, S), broadcast over the batch
      maskOf = (t) => t[3]!;
    } else if (s.mask === 'additiveBatched') {
      inputs.push(f64(m, [...s.batch, s.L, s.S]));
      maskOf = (t) => t[3]!;
    } else if (s.mask === 'keep') {
      // every query keeps at least one key (an all-masked row is NaN, as in PyTorch)
      const kp = keep.map((b, idx) => b || idx % s.S === Math.floor(idx / s.S) % s.S);
      const km = boolT(kp, [s.L, s.S]);
      maskOf = () => km;
    }
    const isCausal = s.mask === 'causal' || s.mask === 'causalAdditive';
    const fn = (...t: Tensor[]) => {
      const { output, weights } = F.attentionWithWeights(t[0]!, t[1]!, t[2]!, { attnMask: maskOf(t), isCausal, scale: s.scale });
      return cat([output.reshape([-1]), weights.reshape([-1])]); // both outputs in one check
    };
    check(`attention ${JSON.stringify(s)}`, fn, inputs);
    const y = F.scaledDotProductAttention(Q, K, V, { attnMask: maskOf(inputs), isCausal, scale: s.scale });
    expect(y.shape).toEqual([...s.batch, s.L, s.Ev]);
  }));

  it('a bool keep-mask equals the additive mask 0 / −∞, and isCausal equals the lower-triangular keep-mask', property(arb, ({ s, q, k, v, keep }) => {
    const Q = f64(q, [...s.batch, s.L, s.E], false);
    const K = f64(k, [...s.batch, s.S, s.E], false);
    const V = f64(v, [...s.batch, s.S, s.Ev], false);
    const kp = keep.map((b, idx) => b || idx % s.S === Math.floor(idx / s.S) % s.S);
    const viaBool = F.scaledDotProductAttention(Q, K, V, { attnMask: boolT(kp, [s.L, s.S]) });
    const viaAdd = F.scaledDotProductAttention(Q, K, V, { attnMask: f64(kp.map((b) => (b ? 0 : -Infinity)), [s.L, s.S], false) });
    expectClose(viaBool, viaAdd, { rtol: 1e-14, atol: 1e-14, what: 'bool vs additive' });
    const tri = Array.from({ length: s.L * s.S }, (_, idx) => idx % s.S <= Math.floor(idx / s.S));
    const causal = F.scaledDotProductAttention(Q, K, V, { isCausal: true });
    expectClose(causal, F.scaledDotProductAttention(Q, K, V, { attnMask: boolT(tri, [s.L, s.S]) }), { rtol: 1e-14, atol: 1e-14, what: 'causal' });
  }));
});

// ---- class-index losses ---------------------------------------------------------------------------------

/** Class targets in [0, C) with some −100s (the first position is never ignored). */
const classTargetsArb = (n: number, C: number) =>
  fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: C - 1 }) }, { weight: 1, arbitrary: fc.constant(-100) }), { minLength: n, maxLength: n })
    .map((t) => (t[0] === -100 ? [0, ...t.slice(1)] : t));

const classLossArb = fc.record({
  N: dimArb(1, 3),
  C: dimArb(2, 4),
  extra: fc.option(dimArb(1, 2), { nil: null }), // a spatial dim: input (N, C, d)
  unbatched: fc.boolean(),
  weighted: fc.boolean(),
  reduction: reductionArb,
  smoothing: fc.constantFrom(0, 0.1, 0.35),
}).chain((s) => {
  const positions = s.unbatched ? 1 : s.N * (s.extra ?? 1);
  return fc.record({
    s: fc.constant(s),
    x: valuesArb(positions * s.C, -3, 3),
    t: classTargetsArb(positions, s.C),
    w: valuesArb(s.C, 0.2, 2),
  });
});

function classShapes(s: { N: number; C: number; extra: number | null; unbatched: boolean }): { input: number[]; target: number[] } {
  if (s.unbatched) return { input: [s.C], target: [] };
  return s.extra === null ? { input: [s.N, s.C], target: [s.N] } : { input: [s.N, s.C, s.extra], target: [s.N, s.extra] };
}

/** Reorders (positions, C) row-major values into the (N, C, d) layout. */
function toClassLayout(x: number[], s: { N: number; C: number; extra: number | null; unbatched: boolean }): number[] {
  if (s.unbatched || s.extra === null) return x;
  const d = s.extra;
  const out = new Array<number>(x.length);
  for (let n = 0; n < s.N; n++) for (let j = 0; j < d; j++) for (let c = 0; c < s.C; c++) out[(n * s.C + c) * d + j] = x[(n * d + j) * s.C + c]!;
  return out;
}

describe('crossEntropy with class indices', () => {
  it('∂/∂input and ∂/∂weight, with ignoreIndex, labelSmoothing, class weights, every reduction, (C), (N, C), (N, C, d)', property(classLossArb, ({ s, x, t, w }) => {
    const sh = classShapes(s);
    const X = f64(toClassLayout(x, s), sh.input);
    const T = i32(t, sh.target);
    const inputs = s.weighted ? [X, f64(w, [s.C])] : [X];
    const opts = (ws: Tensor | undefined) => ({ weight: ws ?? null, ignoreIndex: -100, labelSmoothing: s.smoothing, reduction: s.reduction });
    check(`crossEntropy ${JSON.stringify(s)} targets ${t}`, (xx, ww) => F.crossEntropy(xx!, T, opts(ww)), inputs);
    // without smoothing, crossEntropy is nllLoss of logSoftmax
    if (s.smoothing === 0) {
      expectClose(F.crossEntropy(X, T, opts(inputs[1])), F.nllLoss(X.logSoftmax(s.unbatched ? 0 : 1), T, { weight: inputs[1] ?? null, reduction: s.reduction }), { rtol: 1e-13, atol: 1e-14, what: 'CE = NLL∘logSoftmax' });
    }
  }));

  it('ignored positions get exactly zero gradient', property(classLossArb.filter(({ s, t }) => !s.unbatched && t.includes(-100)), ({ s, x, t }) => {
    const sh = classShapes(s);
    const X = f64(toClassLayout(x, s), sh.input);
    F.crossEntropy(X, i32(t, sh.target), { labelSmoothing: s.smoothing, reduction: s.reduction }).sum().backward();
    // read the gradient of position p = n·d + j, class c from the (N, C, d) layout
    const d = s.extra ?? 1;
    const G = X.grad!.toTypedArray() as Float64Array;
    t.forEach((ti, p) => {
      if (ti !== -100) return;
      const n = Math.floor(p / d), j = p % d;
      for (let c = 0; c < s.C; c++) expect(G[(n * s.C + c) * d + j], `grad at ignored position ${p}, class ${c}`).toBe(0);
    });
  }));
});

describe('nllLoss', () => {
  it('∂/∂input and ∂/∂weight with ignoreIndex, class weights and every reduction', property(classLossArb, ({ s, x, t, w }) => {
    const sh = classShapes(s);
    const X = f64(toClassLayout(x, s), sh.input);
    const T = i32(t, sh.target);
    const inputs = s.weighted ? [X, f64(w, [s.C])] : [X];
    check(`nllLoss ${JSON.stringify(s)} targets ${t}`, (xx, ww) => F.nllLoss(xx!, T, { weight: ww ?? null, reduction: s.reduction }), inputs);
  }));
});

// ---- probability targets --------------------------------------------------------------------------------

describe('crossEntropy with class-probability targets', () => {
  const arb = fc.record({
    N: dimArb(1, 3),
    C: dimArb(2, 4),
    extra: fc.option(dimArb(1, 2), { nil: null }),
    weighted: fc.boolean(),
    reduction: reductionArb,
    smoothing: fc.constantFrom(0, 0.2),
  }).chain((s) => {
    const n = s.N * s.C * (s.extra ?? 1);
    return fc.record({ s: fc.constant(s), x: valuesArb(n, -3, 3), y: valuesArb(n, 0.05, 1), w: valuesArb(s.C, 0.2, 2) });
  });

  it('∂/∂input, ∂/∂target and ∂/∂weight', property(arb, ({ s, x, y, w }) => {
    const shape = s.extra === null ? [s.N, s.C] : [s.N, s.C, s.extra];
    const X = f64(x, shape);
    // targets normalised over the class dim (any non-negative target is accepted, as torch)
    const Y0 = f64(y, shape, false);
    const Y = f64(Array.from(Y0.div(Y0.sum(1, true)).toTypedArray() as Float64Array), shape);
    const inputs = s.weighted ? [X, Y, f64(w, [s.C])] : [X, Y];
    check(`crossEntropy(prob) ${JSON.stringify(s)}`, (xx, yy, ww) => F.crossEntropy(xx!, yy!, { weight: ww ?? null, labelSmoothing: s.smoothing, reduction: s.reduction }), inputs);
  }));

  it('a one-hot probability target gives the class-index loss', property(classLossArb.filter(({ s, t }) => !s.unbatched && !t.includes(-100)), ({ s, x, t }) => {
    const sh = classShapes(s);
    const X = f64(toClassLayout(x, s), sh.input, false);
    const oneHot = toClassLayout(t.flatMap((ti) => Array.from({ length: s.C }, (_, c) => (c === ti ? 1 : 0))), s);
    const r = s.reduction;
    expectClose(
      F.crossEntropy(X, f64(oneHot, sh.input, false), { labelSmoothing: s.smoothing, reduction: r }),
      F.crossEntropy(X, i32(t, sh.target), { labelSmoothing: s.smoothing, reduction: r }),
      { rtol: 1e-12, atol: 1e-14, what: `one-hot vs index (${r})` },
    );
  }));
});

// ---- binary cross-entropy, MSE, KL ----------------------------------------------------------------------

describe('binaryCrossEntropyWithLogits', () => {
  const arb = fc.record({ shape: shapeArb(1, 3), weighted: fc.boolean(), pos: fc.boolean(), reduction: reductionArb })
    .chain((s) => {
      const n = numelOf(s.shape);
      const last = s.shape[s.shape.length - 1]!;
      return fc.record({
        s: fc.constant(s),
        x: valuesArb(n, -4, 4).map((v) => awayFromZero(v)),
        y: valuesArb(n, 0, 1),
        w: valuesArb(n, 0.2, 2),
        p: valuesArb(last, 0.2, 3),
      });
    });

  it('∂/∂input, ∂/∂target, ∂/∂weight and ∂/∂posWeight (posWeight broadcast over the last dim)', property(arb, ({ s, x, y, w, p }) => {
    const last = s.shape[s.shape.length - 1]!;
    const X = f64(x, s.shape), Y = f64(y, s.shape);
    const inputs = [X, Y, ...(s.weighted ? [f64(w, s.shape)] : []), ...(s.pos ? [f64(p, [last])] : [])];
    const fn = (...t: Tensor[]) => F.binaryCrossEntropyWithLogits(t[0]!, t[1]!, {
      weight: s.weighted ? t[2]! : null, posWeight: s.pos ? t[s.weighted ? 3 : 2]! : null, reduction: s.reduction,
    });
    check(`bceWithLogits ${JSON.stringify(s)}`, fn, inputs);
    // the stable form equals the naive −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))]
    const sig = X.detach().sigmoid();
    const pw = s.pos ? inputs[s.weighted ? 3 : 2]!.detach() : 1;
    let naive = Y.detach().mul(pw).mul(sig.log()).add(Y.detach().neg().add(1).mul(sig.neg().add(1).log())).neg();
    if (s.weighted) naive = naive.mul(inputs[2]!.detach());
    const red = s.reduction === 'none' ? naive : s.reduction === 'sum' ? naive.sum() : naive.mean();
    expectClose(fn(...inputs.map((t) => t.detach())), red, { rtol: 1e-10, atol: 1e-12, what: 'stable vs naive' });
  }));
});

describe('mseLoss', () => {
  const arb = fc.record({ shape: shapeArb(0, 3), reduction: reductionArb })
    .chain((s) => fc.record({ s: fc.constant(s), x: valuesArb(numelOf(s.shape)), y: valuesArb(numelOf(s.shape)) }));
  it('∂/∂input and ∂/∂target, every reduction', property(arb, ({ s, x, y }) => {
    check(`mseLoss ${JSON.stringify(s)}`, (a, b) => F.mseLoss(a!, b!, { reduction: s.reduction }), [f64(x, s.shape), f64(y, s.shape)]);
  }));
});

describe('klDiv', () => {
  const arb = fc.record({
    shape: shapeArb(1, 3),
    reduction: fc.constantFrom<F.Reduction | 'batchmean'>('mean', 'sum', 'none', 'batchmean'),
    logTarget: fc.boolean(),
    zeros: fc.boolean(),
  }).chain((s) => fc.record({
    s: fc.constant(s),
    x: valuesArb(numelOf(s.shape), -3, 0),
    y: valuesArb(numelOf(s.shape), 0.05, 1),
    ly: valuesArb(numelOf(s.shape), -3, 0.5),
    z: fc.array(fc.boolean(), { minLength: numelOf(s.shape), maxLength: numelOf(s.shape) }),
  }));

  it('∂/∂input and ∂/∂target (target > 0, or logTarget); with zero targets ∂/∂input', property(arb, ({ s, x, y, ly, z }) => {
    const X = f64(x, s.shape);
    const opts = { reduction: s.reduction, logTarget: s.logTarget };
    if (s.logTarget) {
      check(`klDiv(logTarget) ${JSON.stringify(s)}`, (a, b) => F.klDiv(a!, b!, opts), [X, f64(ly, s.shape)]);
    } else if (!s.zeros) {
      check(`klDiv ${JSON.stringify(s)}`, (a, b) => F.klDiv(a!, b!, opts), [X, f64(y, s.shape)]);
    } else {
      // some targets exactly 0: 0·log 0 := 0, the loss stays finite; the target is not differentiable there
      const Y = f64(y.map((v, i) => (z[i] ? 0 : v)), s.shape, false);
      check(`klDiv(zeros) ${JSON.stringify(s)}`, (a) => F.klDiv(a!, Y, opts), [X]);
      expect(Number.isFinite(F.klDiv(X, Y, { reduction: 'sum' }).item())).toBe(true);
    }
  }));
});

// ---- distillationLoss -------------------------------------------------------------------------------

describe('distillationLoss', () => {
  const arb = fc.record({
    lead: shapeArb(1, 2),
    C: dimArb(1, 4),
    T: fc.constantFrom(0.5, 1, 2, 5),
    alpha: fc.constantFrom(0, 0.3, 1),
    reduction: reductionArb,
  }).chain((s) => fc.record({
    s: fc.constant(s),
    zs: valuesArb(numelOf(s.lead) * s.C, -3, 3),
    zt: valuesArb(numelOf(s.lead) * s.C, -3, 3),
    y: fc.array(fc.integer({ min: -1, max: s.C - 1 }), { minLength: numelOf(s.lead), maxLength: numelOf(s.lead) }),
  }));

  it('∂/∂student of α·T²·KL + (1−α)·CE with some positions ignored (−1 → ignoreIndex); no gradient to the teacher', property(arb, ({ s, zs, zt, y }) => {
    if (s.reduction === 'mean' && y.every((v) => v < 0)) y[0] = 0; // 'mean' over zero positions is NaN (tested elsewhere)
    const shape = [...s.lead, s.C];
    const target = i32(y.map((v) => (v < 0 ? -100 : v)), s.lead);
    const teacher = f64(zt, shape);
    const opts = { temperature: s.T, alpha: s.alpha, reduction: s.reduction };
    check(`distillationLoss ${JSON.stringify(s)}`, (a) => F.distillationLoss(a!, teacher, target, opts), [f64(zs, shape)]);
    expect(teacher.grad).toBeNull();
  }));
});

// ---- coverage of the module ---------------------------------------------------------------------------

describe('coverage', () => {
  it('every differentiable function defined in functional.ts has a gradient property in this file', () => {
    const reExportedPrimitives = ['softmax', 'logSoftmax', 'gelu', 'dropout', 'relu', 'tanh', 'sigmoid', 'embedding',
      // the toolkit's ops re-exported as F.* (their properties are in test/autograd/toolkit.properties.ts)
      'softplus', 'silu', 'mish', 'pad', 'oneHot', 'conv1d', 'maxPool1d', 'avgPool1d',
      // not differentiable: the predicate that picks the fused attention kernel (flashAttention's properties: ops.property.test.ts)
      'useFusedAttention'];
    const covered = [
      'linear', 'layerNorm', 'scaledDotProductAttention', 'attentionWithWeights', 'crossEntropy', 'nllLoss',
      'binaryCrossEntropyWithLogits', 'mseLoss', 'klDiv', 'distillationLoss',
    ];
    const fns = Object.entries(F).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    const missing = fns.filter((k) => !reExportedPrimitives.includes(k) && !covered.includes(k));
    expect(missing, `functions of nn.functional without a gradient property: ${missing.join(', ')}`).toEqual([]);
    for (const k of covered) expect(fns, `${k} is no longer exported`).toContain(k);
  });
});
