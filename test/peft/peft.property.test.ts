/**
 * Gradient properties of the PEFT layers (LoraLinear, BottleneckAdapter, AdapterLinear): random
 * small shapes and float64 values, analytic gradients of every input and parameter against
 * float64 central differences (`gradcheck`: ε 1e-6, atol 1e-5, rtol 1e-3). Plus the LoRA
 * identities: the output at initialisation (B = 0) equals the base layer's, and the merged layer
 * computes the same function as the unmerged one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { fromTypedArray, gradcheck, manualSeed, nn, noGrad, peft, Tensor } from '../../src/index.js';

const NUM_RUNS = Number(process.env.PROP_RUNS ?? 15);
const numelOf = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
const f64 = (values: readonly number[], shape: readonly number[]): Tensor => fromTypedArray(Float64Array.from(values), shape, { requiresGrad: true });
const valuesArb = (n: number, min = -2, max = 2) => fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const dim = (min = 1, max = 4) => fc.integer({ min, max });

function check(what: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  try {
    expect(gradcheck(fn, inputs)).toBe(true);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

type Writable = Record<string, unknown>;

describe('LoraLinear', () => {
  const arb = fc.record({ lead: fc.array(dim(1, 3), { minLength: 0, maxLength: 2 }), inF: dim(), outF: dim(), r: dim(1, 3), alpha: fc.integer({ min: 1, max: 16 }), bias: fc.boolean(), rslora: fc.boolean() })
    .chain((s) => fc.record({
      s: fc.constant(s),
      x: valuesArb(numelOf(s.lead) * s.inF),
      w: valuesArb(s.outF * s.inF),
      b: valuesArb(s.outF),
      a: valuesArb(s.r * s.inF, -1, 1),
      bb: valuesArb(s.outF * s.r, -1, 1),
    }));

  it('∂/∂x, ∂/∂W₀, ∂/∂b, ∂/∂A, ∂/∂B of W₀x + b + s·B·A·x', () => fc.assert(fc.property(arb, ({ s, x, w, b, a, bb }) => {
    const lora = peft.LoraLinear.wrap(new nn.Linear(s.inF, s.outF, { dtype: 'float64', bias: s.bias }), { r: s.r, loraAlpha: s.alpha, useRslora: s.rslora });
    expect(lora.scaling).toBeCloseTo(s.rslora ? s.alpha / Math.sqrt(s.r) : s.alpha / s.r, 12);
    const inputs = [f64(x, [...s.lead, s.inF]), f64(w, [s.outF, s.inF]), f64(a, [s.r, s.inF]), f64(bb, [s.outF, s.r])];
    if (s.bias) inputs.push(f64(b, [s.outF]));
    const fn = (xx: Tensor, ww: Tensor, aa: Tensor, bbb: Tensor, bias?: Tensor): Tensor => {
      (lora as unknown as Writable).weight = ww;
      (lora.lora_A as unknown as Writable).weight = aa;
      (lora.lora_B as unknown as Writable).weight = bbb;
      if (bias) (lora as unknown as Writable).bias = bias;
      return lora.forward(xx);
    };
    check(`LoraLinear ${JSON.stringify(s)}`, fn as (...xs: Tensor[]) => Tensor, inputs);
  }), { numRuns: NUM_RUNS }));

  it('at initialisation (B = 0) equals the base layer; merged equals unmerged (float32 rounding)', () => fc.assert(fc.property(
    fc.record({ inF: dim(1, 24), outF: dim(1, 24), r: dim(1, 8), seed: fc.integer({ min: 0, max: 1000 }), n: dim(1, 5) }),
    ({ inF, outF, r, seed, n }) => {
      manualSeed(seed);
      const base = new nn.Linear(inF, outF);
      const x = fromTypedArray(Float32Array.from({ length: n * inF }, (_, i) => Math.sin(i * 1.7 + seed)), [n, inF]);
      const y0 = noGrad(() => base.forward(x)).toTypedArray();
      const lora = peft.LoraLinear.wrap(base, { r, loraAlpha: 2 * r });
      // A ~ U(−1/√in, 1/√in) (kaiming_uniform, a = √5), B = 0
      const A = lora.lora_A.weight.toTypedArray();
      expect(Math.max(...Array.from(A, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(inF));
      expect(Array.from(lora.lora_B.weight.toTypedArray()).every((v) => v === 0)).toBe(true);
      expect(Array.from(noGrad(() => lora.forward(x)).toTypedArray())).toEqual(Array.from(y0));
      noGrad(() => lora.lora_B.weight.copy_(fromTypedArray(Float32Array.from({ length: outF * r }, (_, i) => Math.cos(i + seed)), [outF, r])));
      const W0 = Float32Array.from(lora.weight.toTypedArray());
      const yAdapted = noGrad(() => lora.forward(x)).toTypedArray();
      lora.merge();
      const yMerged = noGrad(() => lora.forward(x)).toTypedArray();
      const scale = Math.max(1, ...Array.from(yAdapted, Math.abs));
      for (let i = 0; i < yAdapted.length; i++) expect(Math.abs(yMerged[i]! - yAdapted[i]!)).toBeLessThanOrEqual(1e-5 * scale);
      lora.unmerge();
      const W1 = lora.weight.toTypedArray();
      const wScale = Math.max(1, ...Array.from(W0, Math.abs));
      for (let i = 0; i < W0.length; i++) expect(Math.abs(W1[i]! - W0[i]!)).toBeLessThanOrEqual(4 * 2 ** -23 * (wScale + 4 * r));
    },
  ), { numRuns: NUM_RUNS }));
});

describe('BottleneckAdapter / AdapterLinear', () => {
  const arb = fc.record({ lead: fc.array(dim(1, 3), { minLength: 1, maxLength: 2 }), d: dim(1, 4), m: dim(1, 3), act: fc.constantFrom<peft.AdapterActivation>('relu', 'gelu', 'tanh') })
    .chain((s) => fc.record({
      s: fc.constant(s),
      h: valuesArb(numelOf(s.lead) * s.d),
      wd: valuesArb(s.m * s.d, -1, 1), bd: valuesArb(s.m, -1, 1),
      wu: valuesArb(s.d * s.m, -1, 1), bu: valuesArb(s.d, -1, 1),
    }));

  it('∂/∂h and ∂/∂ of every adapter parameter of h + W_up·f(W_down·h + b_down) + b_up', () => fc.assert(fc.property(arb, ({ s, h, wd, bd, wu, bu }) => {
    const adapter = new peft.BottleneckAdapter(s.d, s.m, s.act, { dtype: 'float64' });
    const hh = f64(h, [...s.lead, s.d]);
    const Wd = f64(wd, [s.m, s.d]), Bd = f64(bd, [s.m]), Wu = f64(wu, [s.d, s.m]), Bu = f64(bu, [s.d]);
    // keep relu's pre-activations away from its kink at 0
    if (s.act === 'relu') {
      const z = noGrad(() => hh.matmul(Wd.transpose(0, 1)).add(Bd)).toTypedArray();
      fc.pre(Array.from(z).every((v) => Math.abs(v) > 1e-3));
    }
    const fn = (x: Tensor, a: Tensor, b: Tensor, c: Tensor, d: Tensor): Tensor => {
      Object.assign(adapter.down as unknown as Writable, { weight: a, bias: b });
      Object.assign(adapter.up as unknown as Writable, { weight: c, bias: d });
      return adapter.forward(x);
    };
    check(`BottleneckAdapter ${JSON.stringify(s)}`, fn as (...xs: Tensor[]) => Tensor, [hh, Wd, Bd, Wu, Bu]);
  }), { numRuns: NUM_RUNS }));

  it('AdapterLinear: ∂/∂x, ∂/∂W₀, ∂/∂b, ∂/∂adapter of adapter(W₀x + b)', () => fc.assert(fc.property(
    fc.record({ n: dim(1, 3), inF: dim(1, 3), outF: dim(1, 3), m: dim(1, 2) }).chain((s) => fc.record({
      s: fc.constant(s), x: valuesArb(s.n * s.inF), w: valuesArb(s.outF * s.inF), b: valuesArb(s.outF),
      wd: valuesArb(s.m * s.outF, -1, 1), wu: valuesArb(s.outF * s.m, -1, 1),
    })),
    ({ s, x, w, b, wd, wu }) => {
      const layer = new peft.AdapterLinear(new nn.Linear(s.inF, s.outF, { dtype: 'float64' }), s.m, 'tanh');
      const fn = (xx: Tensor, ww: Tensor, bb: Tensor, a: Tensor, c: Tensor): Tensor => {
        Object.assign(layer as unknown as Writable, { weight: ww, bias: bb });
        (layer.adapter.down as unknown as Writable).weight = a;
        (layer.adapter.up as unknown as Writable).weight = c;
        return layer.forward(xx);
      };
      check(`AdapterLinear ${JSON.stringify(s)}`, fn as (...xs: Tensor[]) => Tensor, [f64(x, [s.n, s.inF]), f64(w, [s.outF, s.inF]), f64(b, [s.outF]), f64(wd, [s.m, s.outF]), f64(wu, [s.outF, s.m])]);
    },
  ), { numRuns: NUM_RUNS }));

  it('near-identity at initialisation: weights within 2σ, |adapter(h) − h| small', () => {
    manualSeed(3);
    const a = new peft.BottleneckAdapter(64, 16);
    for (const p of [a.down.weight, a.up.weight]) {
      const v = Array.from(p.toTypedArray());
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(2e-2);
      const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
      expect(std).toBeGreaterThan(0.5e-2); // truncated N(0, 1e-2²): std ≈ 0.88e-2
      expect(std).toBeLessThan(1e-2);
    }
    const h = fromTypedArray(Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i)), [3, 64]);
    const y = noGrad(() => a.forward(h)).toTypedArray();
    const hv = h.toTypedArray();
    expect(Math.max(...Array.from(y, (v, i) => Math.abs(v - hv[i]!)))).toBeLessThan(1e-2);
  });
});
