/**
 * The fused int8 Linear (src/backends/cpu/wasm-int8-linear.ts): the relaxed-SIMD GEMM
 * (i16x8.relaxed_dot_i8x16_i7x16_s) and its plain-SIMD fallback (i32x4.dot_i16x8_s) bit-exact to the
 * integer reference for every tile height and ragged M, N, K; the 7-bit activation quantizer (wasm)
 * identical to its JS twin and to the formulas (ties to even, one-sided rows, zero rows); the whole
 * quantized Linear identical on the relaxed, plain-SIMD and JS paths; non-finite rows refused.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { compress, cpuArenaStats, fromTypedArray, manualSeed, nn, randn } from '../../src/index.js';
import { int8LinearInArenaCalls, int8LinearPath, setInt8GemmWasm, setInt8Relaxed } from '../../src/backends/cpu/int8-gemm.js';
import { int8GemmReference } from '../../src/backends/cpu/wasm-int8-gemm.js';
import { buildInt8LinearModule, int8LinearReference, packInt8Weight, quantizeActivations, WasmInt8LinearKernel, wasmRelaxedDotSupported } from '../../src/backends/cpu/wasm-int8-linear.js';

afterEach(() => { setInt8GemmWasm(true); setInt8Relaxed(true); });

/** Seeded integers in [lo, hi] (a tiny LCG). */
function ints(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + Math.floor((s / 2 ** 32) * (hi - lo + 1)); });
}
const f = Math.fround;
const rhe = compress.roundHalfEven;

/** The 7-bit quantizer written out from the formulas (float32 arithmetic, ties to even). */
function quant7(row: number[]): { u: number[]; s: number; z: number } {
  const lo = Math.min(0, ...row), hi = Math.max(0, ...row);
  const s = f(f(hi - lo) / 127) || 1;
  const z = Math.min(127, rhe(f(-lo / s))) + 0; // + 0: an integer zero point, never −0
  return { u: row.map((v) => Math.max(0, Math.min(127, rhe(f(v / s)) + z))), s, z };
}

describe('int8 GEMM with 7-bit activations (relaxed SIMD and plain SIMD)', () => {
  const sizes: [number, number, number][] = [[1, 1, 1], [1, 8, 16], [2, 9, 15], [5, 3, 17], [9, 10, 33], [16, 16, 64], [3, 21, 100], [33, 5, 257], [7, 24, 768]];

  it('the runtime (Node ≥ 20) validates the relaxed dot product, so the CPU runs it; the switches select the plain-SIMD and JS paths', () => {
    expect(wasmRelaxedDotSupported()).toBe(true);
    expect(int8LinearPath()).toBe('relaxed');
    setInt8Relaxed(false);
    expect(int8LinearPath()).toBe('simd');
    setInt8GemmWasm(false);
    expect(int8LinearPath()).toBe('js');
  });

  it('both kernels are bit-exact to the integer reference for every tile height and ragged M, N, K (u in [0, 127], W in [−127, 127])', () => {
    for (const relaxed of [true, false]) {
      for (const mr of [1, 2, 3, 4, 5]) {
        const k = new WasmInt8LinearKernel({ relaxed, mr });
        sizes.forEach(([m, n, kk], i) => {
          const u = Uint8Array.from(ints(m * kk, 11 + i, 0, 127));
          const w = Int8Array.from(ints(n * kk, 97 + i, -127, 127));
          expect([...k.gemm(u, m, packInt8Weight(w, n, kk))], `${relaxed ? 'relaxed' : 'plain'} mr=${mr}, ${m}×${n}×${kk}`).toEqual([...int8GemmReference(Int8Array.from(u), w, m, n, kk)]);
        });
      }
    }
  });

  it('the extremes sum exactly: u = 127 against W = ±127 over K = 8192 (no int16 saturation inside the dot product)', () => {
    const kk = 8192;
    const u = new Uint8Array(2 * kk).fill(127);
    const w = Int8Array.from({ length: 2 * kk }, (_, i) => (i < kk ? 127 : -127));
    for (const relaxed of [true, false]) {
      expect([...new WasmInt8LinearKernel({ relaxed }).gemm(u, 2, packInt8Weight(w, 2, kk))]).toEqual([kk * 127 * 127, -kk * 127 * 127, kk * 127 * 127, -kk * 127 * 127]);
    }
  });

  it('packs the weight as documented: byte (o, k) at (o div 8)·8·kp + (k div 4)·32 + (o mod 8)·4 + k mod 4; colsum = Σₖ W[o, k]', () => {
    const n = 10, kk = 20;
    const w = Int8Array.from(ints(n * kk, 5, -127, 127));
    const p = packInt8Weight(w, n, kk);
    expect([p.np, p.kp, p.data.length]).toEqual([16, 32, 16 * 32]);
    for (let o = 0; o < n; o++) {
      for (let i = 0; i < kk; i++) expect(p.data[Math.floor(o / 8) * 8 * 32 + (i >> 2) * 32 + (o % 8) * 4 + (i & 3)]).toBe(w[o * kk + i]);
      expect(p.colsum[o]).toBe(w.subarray(o * kk, o * kk + kk).reduce((a, b) => a + b, 0));
    }
    expect(p.colsum[12]).toBe(0);
    expect(() => buildInt8LinearModule({ mr: 0, relaxed: false })).toThrow(/bad tile rows 0/);
    expect(() => packInt8Weight(new Int8Array(3), 2, 2)).toThrow(/expected n·k = 4 codes, got 3/);
  });
});

describe('7-bit activation quantization', () => {
  const kernel = new WasmInt8LinearKernel({ relaxed: false });

  it('wasm and JS match the formulas: ties to even, zero / one-sided / negative rows, ragged K', () => {
    const rows = [
      [0, 127, 0.5, 1.5, 2.5, -0, 126.5, 3.5], // s = 1, z = 0: exact ties
      [-1, 0, 0.5, 2, -0.25, 1.75, 0.1, -0.9],
      [0, 0, 0, 0, 0, 0, 0, 0], // scale 1, all codes 0
      [-3, -2, -1, -0.5, -2.5, -1.5, -0.1, -2.9], // hi = 0: z = 127
      [1e-30, 5, 3, 2, 1, 4, 0.5, 1e-3],
      [1e30, -1e30, 0, 1, 2, 3, 4, 5],
    ];
    const x = Float32Array.from(rows.flat());
    const js = quantizeActivations(x, rows.length, 8);
    const wasm = kernel.quantize(x, rows.length, 8);
    rows.forEach((row, r) => {
      const want = quant7(row.map(f));
      expect([...js.u.subarray(r * 8, r * 8 + 8)], `row ${r}`).toEqual(want.u);
      expect([js.scale[r], js.zeroPoint[r]]).toEqual([want.s, want.z]);
    });
    expect([...rows[0]!.keys()].map((i) => js.u[i])).toEqual([0, 127, 0, 2, 2, 0, 126, 4]);
    expect(js.zeroPoint[3]).toBe(127);
    expect([...wasm.u]).toEqual([...js.u]);
    expect([...wasm.scale]).toEqual([...js.scale]);
    expect([...wasm.zeroPoint]).toEqual([...js.zeroPoint]);
    // a longer ragged row exercises the 16-wide vector loop and both tails
    const big = randn([5, 53]).toTypedArray() as Float32Array;
    const a = kernel.quantize(big, 5, 53), b = quantizeActivations(big, 5, 53);
    expect([[...a.u], [...a.scale], [...a.zeroPoint]]).toEqual([[...b.u], [...b.scale], [...b.zeroPoint]]);
  });

  it('refuses non-finite values and ranges beyond float32, naming the row', () => {
    for (const [v, msg] of [[NaN, /row 1 holds a non-finite value \(NaN\) at column 2/], [Infinity, /row 1 holds a non-finite value \(Infinity\) at column 2/]] as const) {
      const x = Float32Array.from([1, 2, 3, 4, 5, 6, v, 8]);
      expect(() => quantizeActivations(x, 2, 4, 'QuantizedLinear (input)')).toThrow(msg);
      expect(() => kernel.quantize(x, 2, 4, 'QuantizedLinear (input)')).toThrow(msg);
    }
    const wide = Float32Array.from([3e38, -3e38]);
    expect(() => quantizeActivations(wide, 1, 2)).toThrow(/row 0 spans more than float32's range/);
    expect(() => kernel.quantize(wide, 1, 2)).toThrow(/row 0 spans more than float32's range/);
  });
});

describe('the fused quantized Linear', () => {
  it('relaxed, plain-SIMD and JS paths give the same bits, equal to the formulas, for ragged shapes with and without bias', () => {
    for (const [m, k, n, bias] of [[1, 1, 1, true], [7, 40, 24, true], [5, 33, 13, false], [13, 130, 70, true]] as const) {
      manualSeed(m * 100 + k);
      const lin = new nn.Linear(k, n, { bias });
      const q = compress.QuantizedLinear.fromLinear(lin);
      const x = randn([m, k]);
      const xs = x.toTypedArray() as Float32Array;
      const relaxed = q.forward(x).toTypedArray();
      setInt8Relaxed(false);
      const plain = q.forward(x).toTypedArray();
      setInt8GemmWasm(false);
      const js = q.forward(x).toTypedArray();
      expect([...plain], `${m}×${k}→${n} plain`).toEqual([...relaxed]);
      expect([...js], `${m}×${k}→${n} js`).toEqual([...relaxed]);
      expect([...int8LinearReference(xs, m, q.packed, q.weight_scale.toTypedArray() as Float32Array, bias ? (lin.bias!.toTypedArray() as Float32Array) : null)]).toEqual([...relaxed]);
      // the formulas, in float64 from the integer sums
      const wq = compress.quantizeRows(lin.weight.toTypedArray() as Float32Array, n, k);
      const b = bias ? lin.bias!.toTypedArray() : null;
      const want = new Float32Array(m * n);
      for (let r = 0; r < m; r++) {
        const { u, s, z } = quant7([...xs.subarray(r * k, r * k + k)]);
        for (let o = 0; o < n; o++) {
          let acc = 0;
          for (let i = 0; i < k; i++) acc += (u[i]! - z) * wq.q[o * k + i]!;
          want[r * n + o] = acc * (s * wq.scale[o]!) + (b ? b[o]! : 0);
        }
      }
      expect([...relaxed]).toEqual([...want]);
    }
  });

  it('in the float32 arena (x read and y written in place, the weight resident): the same bits as the private-memory kernel and the reference', () => {
    // shapes big enough for arena blocks (≥ 16 KiB): y in place (N a multiple of 8) and copied (N ragged);
    // M not a multiple of the tile height; a strided (non-arena) input; the same layer called again (resident weight)
    const stats0 = cpuArenaStats();
    const calls0 = int8LinearInArenaCalls();
    for (const [m, k, n] of [[129, 128, 128], [257, 96, 40], [100, 200, 13], [64, 512, 128]] as const) {
      manualSeed(m + k + n);
      const lin = new nn.Linear(k, n);
      const q = compress.QuantizedLinear.fromLinear(lin);
      const x = randn([m, k]);
      const xs = x.toTypedArray() as Float32Array;
      const ref = int8LinearReference(xs, m, q.packed, q.weight_scale.toTypedArray() as Float32Array, lin.bias!.toTypedArray() as Float32Array);
      const kernel = new WasmInt8LinearKernel({ relaxed: wasmRelaxedDotSupported() });
      const priv = kernel.linear(Float32Array.from(xs), m, q.packed, q.weight_scale.toTypedArray() as Float32Array, lin.bias!.toTypedArray() as Float32Array);
      for (let rep = 0; rep < 2; rep++) {
        const y = q.forward(x).toTypedArray();
        expect([...y], `${m}×${k}→${n} arena, call ${rep + 1}`).toEqual([...ref]);
      }
      expect([...priv], `${m}×${k}→${n} private memory`).toEqual([...ref]);
      // a non-contiguous input (a transposed view made contiguous elsewhere) gives the same bits too
      const xt = x.transpose(0, 1).contiguous().transpose(0, 1);
      expect([...q.forward(xt).toTypedArray()]).toEqual([...ref]);
    }
    // the arena exists here (Node, wasm SIMD): every call above ran in it
    if (stats0 !== null) expect(int8LinearInArenaCalls() - calls0).toBe(4 * 3);
  });

  it('in the arena, edge inputs: a non-finite row is refused naming the row, one row and zero rows work', () => {
    manualSeed(9);
    const q = compress.QuantizedLinear.fromLinear(new nn.Linear(128, 64));
    const data = randn([200, 128]).toTypedArray() as Float32Array; // 100 KiB: an arena block
    for (const bad of [NaN, Infinity, -Infinity]) {
      const d = Float32Array.from(data);
      d[137 * 128 + 5] = bad;
      expect(() => q.forward(fromTypedArray(d, [200, 128]))).toThrow(/row 137/);
    }
    const one = randn([1, 128]);
    const b = q.bias!.toTypedArray() as Float32Array;
    expect([...q.forward(one).toTypedArray()]).toEqual([...int8LinearReference(one.toTypedArray() as Float32Array, 1, q.packed, q.weight_scale.toTypedArray() as Float32Array, b)]);
    expect(q.forward(randn([0, 128])).shape).toEqual([0, 64]);
    // after the refusals the kernel still computes the right bits in place
    const x = fromTypedArray(data, [200, 128]);
    expect([...q.forward(x).toTypedArray()]).toEqual([...int8LinearReference(data, 200, q.packed, q.weight_scale.toTypedArray() as Float32Array, b)]);
  });

  it('float64 inputs: rounded to float32 before quantization, the float64 rescale kept', () => {
    manualSeed(4);
    const q = compress.QuantizedLinear.fromLinear(new nn.Linear(20, 6));
    const x = randn([3, 20], { dtype: 'float64' });
    const y = q.forward(x);
    expect(y.dtype).toBe('float64');
    const y32 = q.forward(x.to('float32')).toTypedArray();
    const y64 = y.toTypedArray();
    for (let i = 0; i < y64.length; i++) expect(Math.fround(y64[i]!)).toBe(y32[i]);
  });
});
