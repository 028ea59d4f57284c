/**
 * The wasm SIMD layer norm (src/backends/cpu/elementwise.ts, used by cpu/fused.ts for large
 * float32 inputs) against a float64 reference of the same formulas: the row sums are taken two
 * lanes at a time (and over thread chunks for ∂w, ∂b), so float64 sums may differ in their
 * last bits — float32 outputs within 2 ulp, statistics and parameter gradients to 1e-10.
 */
import { describe, expect, it } from 'vitest';

import { layerNormBackwardWasm, layerNormForwardWasm } from '../../src/backends/cpu/elementwise.js';
import { float32KernelAndPool } from '../../src/backends/cpu/matmul.js';
import { scaledMaskedSoftmax } from '../../src/autograd/ops.js';
import { F, fromTypedArray, Generator, matmul, randn } from '../../src/index.js';

const hasWasm = float32KernelAndPool() !== null;

function reference(x: Float32Array, n: number, w: Float32Array, b: Float32Array, eps: number, g: Float32Array) {
  const R = x.length / n;
  const y = new Float64Array(x.length), mean = new Float64Array(R), rstd = new Float64Array(R);
  const dx = new Float64Array(x.length), dw = new Float64Array(n), db = new Float64Array(n);
  for (let r = 0; r < R; r++) {
    const o = r * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += x[o + i]!;
    const mu = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[o + i]! - mu) ** 2;
    const rs = 1 / Math.sqrt(v / n + eps);
    mean[r] = mu; rstd[r] = rs;
    let sg = 0, sgx = 0;
    for (let i = 0; i < n; i++) {
      const xh = (x[o + i]! - mu) * rs;
      y[o + i] = xh * w[i]! + b[i]!;
      const gw = g[o + i]! * w[i]!;
      sg += gw; sgx += gw * xh; dw[i]! += g[o + i]! * xh; db[i]! += g[o + i]!;
    }
    for (let i = 0; i < n; i++) {
      const xh = (x[o + i]! - mu) * rs;
      dx[o + i] = rs * (g[o + i]! * w[i]! - sg / n - xh * (sgx / n));
    }
  }
  return { y, mean, rstd, dx, dw, db };
}

const ulp32 = (v: number) => (v === 0 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23));

describe.skipIf(!hasWasm)('wasm layer norm', () => {
  it('forward and backward equal the float64 reference (rows of 128 and 130, a large-mean row)', async () => {
    matmul(randn([256, 256]), randn([256, 256])); // start the helper threads
    await new Promise((r) => setTimeout(r, 200));
    const gen = new Generator(4);
    for (const [R, n] of [[300, 128], [97, 130]] as const) {
      const x = Float32Array.from({ length: R * n }, (_, i) => (i < n ? 1000 : 0) + 3 * gen.normal());
      const w = Float32Array.from({ length: n }, () => gen.normal()), b = Float32Array.from({ length: n }, () => gen.normal());
      const g = Float32Array.from({ length: R * n }, () => gen.normal());
      const ref = reference(x, n, w, b, 1e-12, g);
      const y = new Float32Array(R * n), mean = new Float64Array(R), rstd = new Float64Array(R);
      expect(layerNormForwardWasm(x, n, w, b, 1e-12, y, mean, rstd)).toBe(true);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - ref.y[i]!), `y[${i}]`).toBeLessThanOrEqual(2 * ulp32(ref.y[i]!));
      for (let r = 0; r < R; r++) {
        expect(Math.abs(mean[r]! - ref.mean[r]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(ref.mean[r]!)));
        expect(Math.abs(rstd[r]! - ref.rstd[r]!)).toBeLessThanOrEqual(1e-10 * ref.rstd[r]!);
      }
      const dx = new Float32Array(R * n), dw = new Float64Array(n), db = new Float64Array(n);
      expect(layerNormBackwardWasm(g, x, mean, rstd, w, n, dx, dw, db)).toBe(true);
      const scale = Math.max(...Array.from(ref.dx, Math.abs));
      for (let i = 0; i < dx.length; i++) expect(Math.abs(dx[i]! - ref.dx[i]!), `dx[${i}]`).toBeLessThanOrEqual(2 * ulp32(ref.dx[i]!) + 1e-12 * scale);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(dw[i]! - ref.dw[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(ref.dw[i]!)));
        expect(Math.abs(db[i]! - ref.db[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(ref.db[i]!)));
      }
    }
  });

  it('F.layerNorm on a large float32 input (wasm path) matches the composite', () => {
    const gen = new Generator(9);
    const [R, n] = [256, 128];
    const mk = (len: number, s = 1) => Float32Array.from({ length: len }, () => s * gen.normal());
    const xv = mk(R * n, 2), wv = mk(n), bv = mk(n), gv = mk(R * n);
    const run = (composite: boolean) => {
      const x = fromTypedArray(xv, [R, n]).requiresGrad_(), w = fromTypedArray(wv, [n]).requiresGrad_(), b = fromTypedArray(bv, [n]).requiresGrad_();
      const y = F.layerNorm(x, n, { weight: w, bias: b, eps: 1e-5, composite });
      y.mul(fromTypedArray(gv, [R, n])).sum().backward();
      return [y, x.grad!, w.grad!, b.grad!].map((t) => Array.from(t.toTypedArray()));
    };
    const f = run(false), c = run(true);
    f.forEach((arr, k) => {
      const m = Math.max(1, ...c[k]!.map(Math.abs));
      arr.forEach((v, i) => expect(Math.abs(v - c[k]![i]!), `output ${k}[${i}]`).toBeLessThanOrEqual(2e-4 * m));
    });
  });
});

describe.skipIf(!hasWasm)('wasm softmax rows (attention sizes)', () => {
  it('scaledMaskedSoftmax forward and backward on [8, 2, 64, 64] with an extended mask equal the composite', () => {
    const gen = new Generator(21);
    const [B, H, T] = [8, 2, 64, 64];
    const xv = Float32Array.from({ length: B * H * T * T }, () => 4 * gen.normal());
    const gv = Float32Array.from({ length: B * H * T * T }, () => gen.normal());
    const mv = Float32Array.from({ length: B * T }, (_, i) => (i % 7 === 3 ? -10000 : i % 11 === 5 ? -Infinity : 0));
    const mask = fromTypedArray(mv, [B, 1, 1, T]);
    const run = (fused: boolean) => {
      const x = fromTypedArray(xv, [B, H, T, T]).requiresGrad_();
      const y = fused ? scaledMaskedSoftmax(x, 0.125, mask) : x.mul(0.125).add(mask).transpose(-1, -2).softmax(-2).transpose(-1, -2);
      y.mul(fromTypedArray(gv, [B, H, T, T])).sum().backward();
      return [Array.from(y.toTypedArray()), Array.from(x.grad!.toTypedArray())];
    };
    const [yf, gf] = run(true), [yc, gc] = run(false);
    yf!.forEach((v, i) => expect(Math.abs(v - yc![i]!), `y[${i}]`).toBeLessThanOrEqual(2e-6 * Math.abs(yc![i]!) + 1e-9));
    const gs = Math.max(...gc!.map(Math.abs));
    gf!.forEach((v, i) => expect(Math.abs(v - gc![i]!), `dx[${i}]`).toBeLessThanOrEqual(1e-5 * Math.abs(gc![i]!) + 1e-7 * gs));
  });
});
