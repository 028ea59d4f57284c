/**
 * The wasm SIMD GELU kernels (src/backends/cpu/wasm-elementwise.ts) are bit-for-bit the
 * plain-JS float32 kernels (cpu/index.ts compiling opcodes.ts with math32.ts): dense grids,
 * special values, odd lengths and offsets — and the CPU backend uses them transparently.
 */
import { describe, expect, it } from 'vitest';

import { erf32, exp32 } from '../../src/backends/cpu/math32.js';
import { dropoutWasm, elementwiseKernels } from '../../src/backends/cpu/elementwise.js';
import { float32KernelAndPool, getGemmThreads } from '../../src/backends/cpu/matmul.js';
import { workerThreads } from '../../src/backends/cpu/threads.js';
import { INV_SQRT2, INV_SQRT_2PI } from '../../src/backends/opcodes.js';
import { defaultGenerator, dropout, fromTypedArray, gelu, Generator, manualSeed, matmul, randn } from '../../src/index.js';

const kernels = elementwiseKernels();

/** Starts the GEMM helper threads (a large product) and gives them time to boot. */
async function warmHelpers(): Promise<void> {
  matmul(randn([256, 256]), randn([256, 256]));
  await new Promise((r) => setTimeout(r, 200));
}

/** The JS float32 formulas, written out as opcodes.ts states them. */
const geluJs = (a: number) => 0.5 * a * (1 + erf32(a * INV_SQRT2));
const geluBackwardJs = (a: number, b: number) => b * (0.5 * (1 + erf32(a * INV_SQRT2)) + a * INV_SQRT_2PI * exp32(-0.5 * a * a));

const SPECIALS = [0, -0, 1, -1, 0.5, -2.5, 3, -3, 1e-7, -1e-30, 1e30, -1e30, Infinity, -Infinity, NaN, 12, -12, 14.9, -14.9, 15, -15, 80, -80, 1e4, 3.4e38, -3.4e38, 1e-45];

function same(actual: Float32Array, expected: Float32Array, label: string): void {
  let bad = 0, first = '';
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      if (bad++ === 0) first = `at ${i}: ${actual[i]} vs ${expected[i]}`;
    }
  }
  expect(bad, `${label}: ${bad} differ, first ${first}`).toBe(0);
}

describe.skipIf(kernels === null)('wasm elementwise GELU kernels', () => {
  const grid = Float32Array.from({ length: 200_001 }, (_, i) => (i - 100_000) / 6_000); // [−16.7, 16.7]
  const xs = Float32Array.from([...grid, ...SPECIALS]);
  const gs = Float32Array.from(xs, (_, i) => ((i * 7919) % 2001) / 1000 - 1); // pseudo-random in [−1, 1]
  gs[3] = Infinity; gs[4] = NaN; gs[5] = -0;

  it('gelu equals the JS float32 kernel bit for bit (one thread, and split over the helper threads)', async () => {
    await warmHelpers();
    const pool = float32KernelAndPool()?.pool ?? null;
    const before = pool?.chunksByHelpers ?? 0;
    for (const threads of [false, true]) {
      const out = new Float32Array(xs.length);
      kernels!.run('gelu', [xs], [0], out, xs.length, threads);
      same(out, Float32Array.from(xs, geluJs), `gelu threads=${threads}`);
    }
    // where helper threads run, make sure a split run happened (a helper that wakes late is
    // shut out of a call by design, so try a few times) and was exact too
    if (pool !== null && pool.readyHelpers > 0) {
      const want = Float32Array.from(xs, geluJs);
      for (let t = 0; t < 50 && pool.chunksByHelpers === before; t++) {
        const out = new Float32Array(xs.length);
        kernels!.run('gelu', [xs], [0], out, xs.length, true);
        same(out, want, 'gelu threads=true (retry)');
      }
      expect(pool.chunksByHelpers).toBeGreaterThan(before);
    }
  });

  it('geluBackward equals the JS float32 kernel bit for bit (one thread, and split over the helper threads)', async () => {
    await warmHelpers();
    for (const threads of [false, true]) {
      const out = new Float32Array(xs.length);
      kernels!.run('geluBackward', [xs, gs], [0, 0], out, xs.length, threads);
      same(out, Float32Array.from(xs, (a, i) => geluBackwardJs(a, gs[i]!)), `geluBackward threads=${threads}`);
    }
  });

  it('odd lengths and offsets into bigger arrays', () => {
    for (const [n, off] of [[1, 0], [3, 5], [257, 1], [1001, 17]] as const) {
      const out = new Float32Array(n);
      kernels!.run('gelu', [xs], [off], out, n);
      same(out, Float32Array.from(xs.subarray(off, off + n), geluJs), `gelu n=${n} off=${off}`);
      kernels!.run('geluBackward', [xs, gs], [off, off + 3], out, n);
      same(out, Float32Array.from(xs.subarray(off, off + n), (a, i) => geluBackwardJs(a, gs[off + 3 + i]!)), `bwd n=${n}`);
    }
  });

  it('the CPU backend routes dense float32 gelu and its gradient through them (same values)', () => {
    const x = fromTypedArray(xs.slice(0, 4096), [64, 64]).requiresGrad_();
    const y = gelu(x);
    same(y.toTypedArray() as Float32Array, Float32Array.from(xs.slice(0, 4096), geluJs), 'gelu op');
    const g = fromTypedArray(gs.slice(0, 4096), [64, 64]);
    y.backward(g);
    same(x.grad!.toTypedArray() as Float32Array, Float32Array.from(xs.slice(0, 4096), (a, i) => geluBackwardJs(a, gs[i]!)), 'gelu grad');
    // a strided (transposed) input takes the JS path: the same numbers
    const t = gelu(fromTypedArray(xs.slice(0, 4096), [64, 64]).transpose(0, 1)).transpose(0, 1).contiguous();
    same(t.toTypedArray() as Float32Array, Float32Array.from(xs.slice(0, 4096), geluJs), 'gelu strided');
  });
});

describe.skipIf(kernels === null)('wasm float32 add / sub / mul / div', () => {
  const specials = [0, -0, 1, -1, 1.5, 3e38, -3e38, 1e-45, -1e-45, 1e-40, Infinity, -Infinity, NaN, 7, 0.1];
  const n = 40_003;
  const a = Float32Array.from({ length: n }, (_, i) => (i < specials.length * specials.length ? specials[Math.floor(i / specials.length)]! : Math.sin(i) * 10 ** ((i % 13) - 6)));
  const b = Float32Array.from({ length: n }, (_, i) => (i < specials.length * specials.length ? specials[i % specials.length]! : Math.cos(i * 0.7) * 10 ** ((i % 7) - 3)));
  const js = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => x / y };
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(`${op}: the same bits as the JS kernel (float64 result rounded), with and without threads`, () => {
      const want = Float32Array.from(a, (x, i) => js[op](x, b[i]!));
      for (const threads of [false, true]) {
        const out = new Float32Array(n - 3);
        kernels!.run(op, [a, b], [1, 2], out, n - 3, threads);
        same(out, want.map((_, i) => js[op](a[1 + i]!, b[2 + i]!)).subarray(0, n - 3), `${op} threads=${threads}`);
      }
    });
  }
});

describe.skipIf(kernels === null)('wasm dropout (counter-based masks)', () => {
  it('mask and product equal Generator.fillFromKeys bit for bit, with and without helper threads', async () => {
    await warmHelpers();
    const n = 70_001;
    const x = Float32Array.from({ length: n + 5 }, (_, i) => (i % 11 === 0 ? [NaN, Infinity, -0, 1e-40][i % 4]! : Math.sin(i) * 3));
    for (const [p, k1, k2] of [[0.1, 12345, -987654], [0.5, -1, 0x7fffffff], [0, 0, 0], [0.999, 77, 78]] as const) {
      const scale = p === 0 ? 1 : 1 / (1 - p);
      const wantMask = new Float32Array(n), wantOut = new Float32Array(n);
      new Generator(0).fillFromKeys(wantMask, p, scale, k1, k2, { src: x, srcOffset: 5, dst: wantOut });
      const mask = new Float32Array(n), out = new Float32Array(n);
      expect(dropoutWasm(x, 5, n, p, scale, k1, k2, mask, out)).toBe(true);
      same(mask, wantMask, `mask p=${p}`);
      same(out, wantOut, `out p=${p}`);
    }
  });

  it('the dropout op gives the same tensors on its wasm and JS paths (seeded)', () => {
    const x = fromTypedArray(Float32Array.from({ length: 8192 }, (_, i) => i - 4096), [8192]);
    manualSeed(3);
    const big = dropout(x, 0.3).toTypedArray(); // wasm path (≥ 4096 float32 elements)
    const ref = new Float32Array(8192), mask = new Float32Array(8192);
    // the same keys as the op drew: re-seed the default generator and draw them the same way
    manualSeed(3);
    const { k1, k2 } = defaultGenerator.streamKeys();
    new Generator(0).fillFromKeys(mask, 0.3, 1 / 0.7, k1, k2, { src: x.toTypedArray(), srcOffset: 0, dst: ref });
    same(big as Float32Array, ref, 'dropout op');
  });
});

describe('the default helper threads', () => {
  it('start and take work where worker threads are available (a broken helper program fails here)', async () => {
    const kp = float32KernelAndPool();
    if (kp === null || workerThreads() === null || getGemmThreads() < 2) return; // nothing to start here
    await warmHelpers();
    for (let t = 0; t < 20 && kp.pool!.readyHelpers === 0; t++) await new Promise((r) => setTimeout(r, 100));
    expect(kp.pool).not.toBeNull();
    expect(kp.pool!.readyHelpers).toBeGreaterThan(0);
    const before = kp.pool!.chunksByHelpers;
    for (let t = 0; t < 50 && kp.pool!.chunksByHelpers === before; t++) matmul(randn([256, 256]), randn([256, 256]));
    expect(kp.pool!.chunksByHelpers).toBeGreaterThan(before);
  });
});

describe.skipIf(kernels === null)('when the kernel memory cannot grow', () => {
  it('the wasm paths step aside and the JS kernels compute the same numbers', () => {
    const kern = float32KernelAndPool()!.kern;
    const xs = Float32Array.from({ length: 8192 }, (_, i) => Math.sin(i) * 4);
    const x = fromTypedArray(xs, [8192]);
    const want = Array.from(gelu(x).toTypedArray());
    manualSeed(1);
    const dropWasm = Array.from(dropout(x, 0.5).toTypedArray());
    const heap = kern.heap.bind(kern);
    (kern as { heap: (b: number) => Float32Array | Float64Array }).heap = () => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); };
    try {
      expect(Array.from(gelu(x).toTypedArray())).toEqual(want);
      expect(Array.from(x.add(x).toTypedArray())).toEqual(Array.from(xs, (v) => Math.fround(v + v)));
      manualSeed(1);
      expect(Array.from(dropout(x, 0.5).toTypedArray())).toEqual(dropWasm); // the JS fill from the same keys
    } finally {
      (kern as { heap: (b: number) => Float32Array | Float64Array }).heap = heap;
    }
  });
});
