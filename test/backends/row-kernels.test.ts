/**
 * The CPU's row kernels give the same bits on both of their paths: cpu/fused.ts picks the wasm
 * SIMD kernel for large float32 inputs and its JS loop for small ones, so a row — one text's
 * attention scores or hidden state — would otherwise be rounded differently alone and in a
 * batch. Both sum a row as (Σ over even indices) + (Σ over odd ones). Softmax rows of odd length
 * run in wasm too (a tail element after the pairs).
 */
import { describe, expect, it } from 'vitest';

import { layerNormForwardWasm, softmaxForwardWasm } from '../../src/backends/cpu/elementwise.js';
import { layerNormForward, softmaxForward } from '../../src/backends/cpu/fused.js';
import { exp32 } from '../../src/backends/cpu/math32.js';
import { float32KernelAndPool } from '../../src/backends/cpu/matmul.js';

const hasWasm = float32KernelAndPool() !== null;
const MIN = -3.4028234663852886e38;

/** Rows of length n: random values plus rows of special values (the rows stay under the JS path's size). */
function rows(n: number, R: number, seed: number): Float32Array {
  const x = new Float32Array(R * n);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (let i = 0; i < x.length; i++) x[i] = rand() * 6;
  const special = [[NaN], [Infinity], [-Infinity], [Infinity, -Infinity], [0, -0], [3e38, -3e38], [1e-40, -1e-45], [88, 89, 90]];
  special.forEach((vals, k) => {
    if (k + 1 >= R) return;
    vals.forEach((v, j) => (x[(k + 1) * n + (j % n)] = v));
  });
  return x;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) throw new Error(`${what}[${i}]: wasm ${a[i]} ≠ JS ${b[i]}`);
  }
}

describe.skipIf(!hasWasm)('row kernels: wasm and JS give the same bits', () => {
  it('softmax forward, rows of every length 1…9 and 33, 60, 127, with and without a mask (incl. fully masked rows)', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 60, 127]) {
      const R = 12;
      const x = rows(n, R, n);
      // a mask row per query: the first row attends everywhere, the next masks the odd tail, one masks everything
      const md = new Float32Array(3 * n);
      for (let j = 0; j < n; j++) {
        md[n + j] = j >= Math.ceil(n / 2) ? MIN : 0;
        md[2 * n + j] = MIN;
      }
      const mask = { data: md, rowOffsets: Array.from({ length: R }, (_, r) => (r % 3) * n), stride: 1 };
      for (const m of [null, mask]) {
        for (const scale of [1, 0.125]) {
          const js = softmaxForward(x, n, false, 'float32', exp32, scale, m) as Float32Array; // small: the JS loop
          const wasm = new Float32Array(x.length);
          expect(softmaxForwardWasm(x, n, scale, m, wasm)).toBe(true);
          sameBits(wasm, js, `softmax n=${n} scale=${scale} mask=${m !== null}`);
        }
      }
    }
  });

  it('an odd-length row softmax is exact: sums to 1, masked keys get 0, the tail element counted once', () => {
    const n = 5;
    const x = Float32Array.from([1, 2, 3, 4, 5]);
    const y = new Float32Array(n);
    expect(softmaxForwardWasm(x, n, 1, null, y)).toBe(true);
    const e = [1, 2, 3, 4, 5].map((v) => Math.exp(v - 5));
    const s = e.reduce((a, b) => a + b);
    y.forEach((v, i) => expect(Math.abs(v - e[i]! / s)).toBeLessThan(1e-7));
    const masked = new Float32Array(n);
    expect(softmaxForwardWasm(x, n, 1, { data: Float32Array.from([0, 0, MIN, MIN, MIN]), rowOffsets: [0] }, masked)).toBe(true);
    expect(Array.from(masked.slice(2))).toEqual([0, 0, 0]);
    expect(Math.abs(masked[0]! + masked[1]! - 1)).toBeLessThan(1e-7);
    const one = new Float32Array(1);
    expect(softmaxForwardWasm(Float32Array.from([-7]), 1, 1, null, one)).toBe(true);
    expect(one[0]).toBe(1);
  });

  it('layer norm forward: output, mean and rstd, rows of 2, 8, 64, 128 and 130 (incl. NaN/±inf rows)', () => {
    for (const n of [2, 8, 64, 128, 130]) {
      const R = 10;
      const x = rows(n, R, 7 * n);
      const w = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 7) / 7);
      const b = Float32Array.from({ length: n }, (_, i) => (i % 5) / 10 - 0.2);
      const js = layerNormForward(x, n, w, b, 1e-12, 'float32'); // small: the JS loop
      const y = new Float32Array(x.length), mean = new Float64Array(R), rstd = new Float64Array(R);
      expect(layerNormForwardWasm(x, n, w, b, 1e-12, y, mean, rstd)).toBe(true);
      sameBits(y, js.y, `layerNorm y n=${n}`);
      sameBits(mean, js.mean, `layerNorm mean n=${n}`);
      sameBits(rstd, js.rstd, `layerNorm rstd n=${n}`);
    }
  });
});
