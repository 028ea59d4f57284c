/**
 * The gpu.js backend against the CPU backend: the same kernel calls on the same float32 data,
 * compared within the tolerances of docs/GPU.md ("Accuracy"):
 *
 *   exact        identity, neg, abs, sign, relu, square, add, sub, mul, maximum, minimum,
 *                comparisons, logical ops, where, clamp, isnan, copy, gather, argmax/argmin,
 *                scatterAdd (the same float32 additions in the same order), int32/bool stores
 *   2 ulp        div, reciprocal
 *   TRANSCENDENTAL (below)  exp, log, sqrt, rsqrt, sigmoid, tanh, sin, cos, erf, gelu(±Grad), pow
 *   sums         |Δ| ≤ (chunk + parts)·2⁻²⁴·Σ|x|  (float32 accumulation, in chunks of 1024)
 *   matmul       |Δ| ≤ 2K·2⁻²⁴·Σₖ|a||b|          (float32 accumulation over K)
 *
 * The whole file is skipped, with the reason in its title, where the backend is not available
 * (no gpu.js, no `gl` build, no display: run it under `xvfb-run -a`). With
 * TENSORGRAD_EXPECT_GL=1 (CI under xvfb) a separate test fails unless kernels run on headless-gl.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';

import { getBackend, registerGpuBackend, type Storage, type View } from '../../src/backends/index.js';
import { cpuBackend } from '../../src/backends/cpu/index.js';
import {
  GL_KERNEL_CLASSES, GpuBackend, GpuStorage, backendInfo, getGpuBackend, type GpuJsModule,
} from '../../src/backends/gpu/index.js';
import { BINARY_EXPR, TERNARY_EXPR, UNARY_EXPR, type MapOp } from '../../src/backends/opcodes.js';
import type { DType, TypedArray } from '../../src/core/dtype.js';
import { expectClose } from '../helpers.js';

registerGpuBackend();
const info = backendInfo('gpu');
const NUM_RUNS = Number(process.env.PROP_RUNS ?? 25);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED); // fast-check prints the seed of a failure
const U = 2 ** -24; // float32 unit roundoff

/** rtol / atol of the device's float32 formulas against the CPU's float64-then-rounded ones. */
const TRANSCENDENTAL = { rtol: 4e-6, atol: 1e-6 };
const TOLERANCE: Partial<Record<MapOp, { rtol: number; atol: number }>> = {
  div: { rtol: 2.4e-7, atol: 0 },
  reciprocal: { rtol: 2.4e-7, atol: 0 },
  exp: TRANSCENDENTAL, log: TRANSCENDENTAL, sqrt: TRANSCENDENTAL, rsqrt: TRANSCENDENTAL, sigmoid: TRANSCENDENTAL,
  tanh: TRANSCENDENTAL, sin: TRANSCENDENTAL, cos: TRANSCENDENTAL, erf: TRANSCENDENTAL, gelu: TRANSCENDENTAL,
  geluBackward: TRANSCENDENTAL, geluTanh: TRANSCENDENTAL, geluTanhBackward: TRANSCENDENTAL, pow: { rtol: 1e-5, atol: 1e-6 },
  log1p: TRANSCENDENTAL, expm1: TRANSCENDENTAL, softplus: TRANSCENDENTAL, silu: TRANSCENDENTAL, mish: TRANSCENDENTAL,
};
const tol = (op: MapOp) => TOLERANCE[op] ?? { rtol: 0, atol: 0 };

// ---- honest detection (always runs) -------------------------------------------------------------------

describe('gpu backend detection', () => {
  it('reports what it found: available with a GL kernel class, or a reason', () => {
    expect(typeof info.available).toBe('boolean');
    expect(typeof info.kernelClass).toBe('string');
    if (info.available) {
      expect(GL_KERNEL_CLASSES).toContain(info.kernelClass);
      expect(info.maxTextureSize).toBeGreaterThanOrEqual(2048);
      expect(info.reason).toBeUndefined();
    } else {
      expect(info.reason).toMatch(/\w/);
    }
  });

  it.runIf(process.env.TENSORGRAD_EXPECT_GL === '1')('runs on headless-gl (TENSORGRAD_EXPECT_GL=1)', () => {
    expect(info.reason).toBeUndefined();
    expect(info.kernelClass).toBe('HeadlessGLKernel');
    expect(info.available).toBe(true);
    expect(info.renderer).toMatch(/\w/);
  });

  /** A gpu.js stand-in whose kernels run on its CPU class, as gpu.js does without WebGL. */
  class FakeGPU {
    createKernel() {
      const k = (a: Float32Array) => a.map((v) => v * 2);
      return Object.assign(k, { kernel: new (class CPUKernel {})(), setOutput: () => k, destroy: () => {} });
    }
    destroy() {}
  }
  const noGl = { GPU: FakeGPU } as unknown as GpuJsModule;

  it('a gpu.js that falls back to its CPU kernels is reported unavailable; strict mode throws', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(() => new GpuBackend({ gpujs: noGl, strict: true })).toThrow(/not available \(CPUKernel\)/);
      const be = new GpuBackend({ gpujs: noGl });
      expect(be.info).toMatchObject({ available: false, kernelClass: 'CPUKernel' });
      expect(be.info.reason).toMatch(/\w/);
      // …and still computes, on the CPU
      const a = be.fromArray(new Float32Array([1, 2, 3, 4]), 'float32');
      const y = be.map('mul', [cv(a, [2, 2]), { storage: a, shape: [2, 2], strides: [0, 1], offset: 0 }], [2, 2], 'float32');
      expect(Array.from(be.read(y))).toEqual([1, 4, 3, 8]);
      expect(Array.from(be.read(be.matmul(cv(a, [2, 2]), cv(a, [2, 2]), 'float32')))).toEqual([7, 10, 15, 22]);
      expect(be.stats.deviceRuns).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });
});

// ---- views -----------------------------------------------------------------------------------------

const cv = (s: Storage, shape: readonly number[], offset = 0): View => {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { strides[d] = acc; acc *= shape[d]!; }
  return { storage: s, shape: [...shape], strides, offset };
};

interface Layout { perm: number[]; steps: number[]; offset: number; broadcast: boolean[] }
const plain = (rank: number): Layout => ({ perm: [...Array(rank).keys()], steps: Array(rank).fill(1), offset: 0, broadcast: Array(rank).fill(false) });

function layoutArb(rank: number, allowBroadcast = true): fc.Arbitrary<Layout> {
  return fc.record({
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    steps: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: rank, maxLength: rank }),
    offset: fc.integer({ min: 0, max: 3 }),
    broadcast: fc.array(allowBroadcast ? fc.boolean() : fc.constant(false), { minLength: rank, maxLength: rank }),
  });
}

function typed(dtype: DType, data: ArrayLike<number>): TypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(data);
    case 'float64': return Float64Array.from(data);
    case 'int32': return Int32Array.from(data);
    case 'bool': return Uint8Array.from(data);
  }
}

/** The same view over the same data on the GPU (g) and on the CPU (c). */
interface Pair { g: View; c: View }

function pair(shape: readonly number[], lay: Layout, dtype: DType, fill: (i: number) => number): Pair {
  const strides = new Array<number>(shape.length).fill(0);
  let acc = 1;
  for (let j = lay.perm.length - 1; j >= 0; j--) {
    const d = lay.perm[j]!;
    if (lay.broadcast[d]) continue;
    strides[d] = acc * lay.steps[d]!;
    acc *= shape[d]! * lay.steps[d]!;
  }
  const span = shape.reduce((s, n, d) => s + (n - 1) * strides[d]!, 0);
  const size = lay.offset + Math.max(0, span) + 1 + 2;
  const data = typed(dtype, Array.from({ length: size }, (_, i) => fill(i)));
  return {
    g: { storage: gpu().fromArray(data, dtype), shape: [...shape], strides, offset: lay.offset },
    c: { storage: cpuBackend.fromArray(data, dtype), shape: [...shape], strides, offset: lay.offset },
  };
}

const gpu = () => getGpuBackend();
const onDevice = (s: Storage) => (s as GpuStorage).location === 'device';

/** Values of the right kind for each input of an opcode (away from nothing: edges are tested below). */
function inputFill(op: MapOp, k: number): { dtype: DType; fill: (i: number) => number } {
  const x = (i: number) => Math.sin(1 + i * 1.7 + k) * 3;
  if (op === 'log' || op === 'sqrt' || op === 'rsqrt') return { dtype: 'float32', fill: (i) => Math.abs(x(i)) + 0.05 };
  if (op === 'pow' && k === 1) return { dtype: 'float32', fill: (i) => (i % 2 ? Math.round(x(i)) : x(i) / 2) };
  if (op === 'pow' && k === 0) return { dtype: 'float32', fill: (i) => (i % 3 ? Math.abs(x(i)) + 0.1 : x(i)) };
  if (op.startsWith('logical') || (op === 'where' && k === 0)) return { dtype: 'bool', fill: (i) => ((i * 7 + k) % 3 === 0 ? 0 : 1) };
  if (op === 'eq' || op === 'ne' || op === 'le' || op === 'ge') return { dtype: 'float32', fill: (i) => Math.round(x(i)) };
  if (op === 'clamp' && k > 0) return { dtype: 'float32', fill: () => (k === 1 ? -0.5 : 0.75) };
  return { dtype: 'float32', fill: x };
}

const COMPARISONS = new Set<MapOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor', 'logicalNot', 'isnan']);
const ALL_OPS = [...Object.keys(UNARY_EXPR), ...Object.keys(BINARY_EXPR), ...Object.keys(TERNARY_EXPR)] as MapOp[];
const arityOf = (op: MapOp) => (op in UNARY_EXPR ? 1 : op in BINARY_EXPR ? 2 : 3);

/** Runs op on both backends and compares (and checks the GPU result stayed on the device). */
function checkMap(op: MapOp, ins: Pair[], shape: number[], outDtype: DType, what: string): void {
  const g = gpu().map(op, ins.map((p) => p.g), shape, outDtype);
  const c = cpuBackend.map(op, ins.map((p) => p.c), shape, outDtype);
  expect(g.dtype).toBe(outDtype);
  expectClose(gpu().read(g), cpuBackend.read(c), { ...tol(op), what });
}

// ---- conformance -------------------------------------------------------------------------------------

describe.skipIf(!info.available)(`gpu backend conformance with the CPU backend${info.available ? ` (${info.kernelClass})` : ` — SKIPPED: ${info.reason}`}`, () => {
  let warn: MockInstance<typeof console.warn>;
  beforeAll(() => {
    warn = vi.spyOn(console, 'warn');
    if (process.env.GPU_TEST_MAX_KERNELS) gpu().configureCache({ maxKernels: Number(process.env.GPU_TEST_MAX_KERNELS) });
  });
  afterAll(() => warn.mockRestore());

  describe('map', () => {
    it.each(ALL_OPS)('%s on contiguous, permuted+stepped+offset and broadcast views', (op) => {
      const arity = arityOf(op);
      const outDtype: DType = COMPARISONS.has(op) ? 'bool' : 'float32';
      const shape = [3, 5];
      // contiguous
      const a = Array.from({ length: arity }, (_, k) => { const f = inputFill(op, k); return pair(shape, plain(2), f.dtype, f.fill); });
      checkMap(op, a, shape, outDtype, `${op} contiguous`);
      const dev = gpu().map(op, a.map((p) => p.g), shape, outDtype);
      expect(onDevice(dev)).toBe(true);
      // transposed, every other element, offset; the last input broadcast along dim 0
      const b = Array.from({ length: arity }, (_, k) => {
        const f = inputFill(op, k);
        return pair(shape, { perm: [1, 0], steps: [2, 1], offset: 1 + k, broadcast: [k === arity - 1 && arity > 1, false] }, f.dtype, f.fill);
      });
      checkMap(op, b, shape, outDtype, `${op} strided`);
    });

    it('edge values (0, ±∞, NaN, huge, tiny) give the CPU formulas’ results', () => {
      const specials = [0, -0, 1, -1, 0.5, -2.5, 3, -3, 1e-7, 1e30, -1e30, Infinity, -Infinity, NaN, 12, -12, 80, -80, 1e4];
      const n = specials.length;
      const rows = pair([n, n], plain(2), 'float32', (i) => specials[Math.floor(i / n) % n]!);
      const cols = pair([n, n], plain(2), 'float32', (i) => specials[i % n]!);
      const tame = pair([n, n], plain(2), 'float32', (i) => { const v = specials[Math.floor(i / n) % n]!; return Math.abs(v) === 1e30 ? Math.sign(v) * 1e18 : v; });
      const unitCols = pair([n, n], plain(2), 'float32', (i) => { const v = specials[i % n]!; return Number.isFinite(v) && Math.abs(v) > 1 ? Math.sign(v) : v; });
      const third = pair([n, n], { ...plain(2), perm: [1, 0] }, 'float32', (i) => specials[(i * 5) % n]!);
      const failures: string[] = [];
      for (const op of ALL_OPS) {
        if (op === 'sin' || op === 'cos') continue; // range reduction: see the next test
        const arity = arityOf(op);
        // geluTanhBackward computes a·a: at |a| = 1e30 that overflows float32 (∞·0 = NaN) where the CPU's
        // float64 intermediates do not — documented in docs/GPU.md; tested below 1e19 instead
        const r = op === 'geluTanhBackward' ? tame : rows;
        // the fused GELU backwards scale the derivative's float32 error by b = ∂L/∂y: the edge
        // values under test are a's, so b stays within ±1 (∞ and NaN kept)
        const c = op === 'geluBackward' || op === 'geluTanhBackward' ? unitCols : cols;
        const ins = arity === 1 ? [r] : arity === 2 ? [r, c] : [r, c, third];
        try {
          checkMap(op, ins, [n, n], COMPARISONS.has(op) ? 'bool' : 'float32', `${op} edge values`);
        } catch (e) {
          failures.push((e as Error).message.split('\n')[0]!);
        }
      }
      expect(failures).toEqual([]);
    });

    it('sin and cos within TRANSCENDENTAL for |x| ≤ 100 (GPUs reduce the range in float32)', () => {
      const x = pair([64], plain(1), 'float32', (i) => (i - 32) * 3.1);
      checkMap('sin', [x], [64], 'float32', 'sin');
      checkMap('cos', [x], [64], 'float32', 'cos');
    });

    it('stores int32 (truncate, wrap, NaN → 0) and bool (mod 256) as typed arrays do', () => {
      const vals = [0.5, -0.5, 2.7, -2.7, 1e9, -1e9, 3e9, -3e9, 1e20, NaN, Infinity, -Infinity, 255, 256, 257, -1, 1e6 + 0.5];
      const x = pair([vals.length], plain(1), 'float32', (i) => vals[i] ?? 0);
      checkMap('identity', [x], [vals.length], 'int32', 'to int32');
      checkMap('identity', [x], [vals.length], 'bool', 'to bool');
      checkMap('ne', [x, pair([vals.length], { ...plain(1), broadcast: [true] }, 'float32', () => 0)], [vals.length], 'bool', 'ne 0');
      // int32 and bool inputs
      const i32 = pair([4, 3], plain(2), 'int32', (i) => (i * 37) % 23 - 11);
      const j32 = pair([4, 3], { ...plain(2), perm: [1, 0] }, 'int32', (i) => (i * 13) % 7 - 3);
      for (const op of ['add', 'sub', 'mul', 'maximum', 'lt'] as MapOp[]) checkMap(op, [i32, j32], [4, 3], op === 'lt' ? 'bool' : 'int32', `int32 ${op}`);
      checkMap('div', [i32, pair([4, 3], plain(2), 'int32', (i) => (i % 5) + 1)], [4, 3], 'int32', 'int32 div');
    });

    it('random shapes and layouts (property)', () => {
      const ops: MapOp[] = ['add', 'mul', 'where', 'clamp', 'gelu', 'sub'];
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }).chain((shape) =>
            fc.record({ shape: fc.constant(shape), op: fc.constantFrom(...ops), lays: fc.array(layoutArb(shape.length), { minLength: 3, maxLength: 3 }) }),
          ),
          ({ shape, op, lays }) => {
            const ins = Array.from({ length: arityOf(op) }, (_, k) => { const f = inputFill(op, k); return pair(shape, lays[k]!, f.dtype, f.fill); });
            checkMap(op, ins, shape, 'float32', `${op} [${shape}]`);
          },
        ),
        { numRuns: NUM_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    });

    it('scalar operands are uniforms; all-constant inputs give a constant without a kernel', () => {
      const be = gpu();
      const x = pair([2, 3], plain(2), 'float32', (i) => i - 2);
      const two = be.full(1, 'float32', 2);
      const y = be.map('mul', [x.g, { storage: two, shape: [2, 3], strides: [0, 0], offset: 0 }], [2, 3], 'float32');
      expect(Array.from(be.read(y))).toEqual([-4, -2, 0, 2, 4, 6]);
      const runs = be.stats.deviceRuns;
      const c = be.map('add', [{ storage: two, shape: [4], strides: [0], offset: 0 }, { storage: be.fromArray(new Float32Array([0.5]), 'float32'), shape: [4], strides: [0], offset: 0 }], [4], 'float32');
      expect(be.stats.deviceRuns).toBe(runs);
      expect((c as GpuStorage).location).toBe('fill');
      expect(Array.from(be.read(c))).toEqual([2.5, 2.5, 2.5, 2.5]);
    });
  });

  describe('reduce', () => {
    const sumTol = (x: Pair, R: number) => {
      const abs = cpuBackend.read(cpuBackend.map('abs', [x.c], x.c.shape, 'float32'));
      let s = 0;
      for (const v of abs) s += v;
      const chunks = Math.ceil(R / 1024);
      return { rtol: 0, atol: (Math.min(R, 1024) + chunks) * U * s + 1e-30 };
    };

    it.each([
      { shape: [4, 5, 6], dims: [0] }, { shape: [4, 5, 6], dims: [1] }, { shape: [4, 5, 6], dims: [2] },
      { shape: [4, 5, 6], dims: [0, 2] }, { shape: [4, 5, 6], dims: [0, 1, 2] }, { shape: [], dims: [] },
      { shape: [3, 2500], dims: [1] }, { shape: [5000], dims: [0] }, { shape: [2, 1100, 3], dims: [1] },
    ])('sum / max / min over $dims of a permuted, stepped $shape view', ({ shape, dims }) => {
      const rank = shape.length;
      const lay: Layout = { perm: [...Array(rank).keys()].reverse(), steps: shape.map((_, i) => (i === 0 ? 2 : 1)), offset: 3, broadcast: Array(rank).fill(false) };
      const x = pair(shape, lay, 'float32', (i) => Math.sin(i * 0.37) * 4 + 0.5);
      const R = dims.reduce((p, d) => p * shape[d]!, 1);
      for (const op of ['sum', 'max', 'min'] as const) {
        const g = gpu().reduce(op, x.g, dims, 'float32');
        const c = cpuBackend.reduce(op, x.c, dims, 'float32');
        expectClose(gpu().read(g), cpuBackend.read(c), { ...(op === 'sum' ? sumTol(x, R) : { rtol: 0, atol: 0 }), what: `${op} ${dims}` });
      }
    });

    it('NaN propagates through max / min / sum; int32 sums are exact', () => {
      const x = pair([3, 1500], plain(2), 'float32', (i) => (i === 1400 || i === 3100 ? NaN : Math.cos(i)));
      for (const op of ['sum', 'max', 'min'] as const) {
        expectClose(gpu().read(gpu().reduce(op, x.g, [1], 'float32')), cpuBackend.read(cpuBackend.reduce(op, x.c, [1], 'float32')), { rtol: 0, atol: 1e-3, what: op });
      }
      const k = pair([6, 7], plain(2), 'int32', (i) => (i * 31) % 17 - 8);
      for (const dims of [[0], [1], [0, 1]]) {
        expect(Array.from(gpu().read(gpu().reduce('sum', k.g, dims, 'int32')))).toEqual(Array.from(cpuBackend.read(cpuBackend.reduce('sum', k.c, dims, 'int32'))));
      }
      const b = pair([4, 9], plain(2), 'bool', (i) => i % 3 === 0 ? 1 : 0);
      expect(Array.from(gpu().read(gpu().reduce('sum', b.g, [1], 'int32')))).toEqual(Array.from(cpuBackend.read(cpuBackend.reduce('sum', b.c, [1], 'int32'))));
    });
  });

  describe('argReduce', () => {
    it('argmax / argmin along each dim of strided views: first occurrence, NaN wins, exact', () => {
      const shape = [4, 6, 5];
      const x = pair(shape, { perm: [2, 0, 1], steps: [1, 2, 1], offset: 2, broadcast: [false, false, false] }, 'float32', (i) => Math.round(Math.sin(i * 1.3) * 3));
      const withNaN = pair([3, 7], plain(2), 'float32', (i) => (i === 9 || i === 15 ? NaN : i % 4));
      for (const op of ['argmax', 'argmin'] as const) {
        for (let d = 0; d < 3; d++) {
          const g = gpu().argReduce(op, x.g, d);
          expect(g.dtype).toBe('int32');
          expect(Array.from(gpu().read(g)), `${op} dim ${d}`).toEqual(Array.from(cpuBackend.read(cpuBackend.argReduce(op, x.c, d))));
        }
        expect(Array.from(gpu().read(gpu().argReduce(op, withNaN.g, 1)))).toEqual(Array.from(cpuBackend.read(cpuBackend.argReduce(op, withNaN.c, 1))));
      }
    });
  });

  describe('matmul', () => {
    const matTol = (a: Pair, b: Pair, K: number) => {
      const aa = cpuBackend.map('abs', [a.c], a.c.shape, 'float32'), bb = cpuBackend.map('abs', [b.c], b.c.shape, 'float32');
      const m = cpuBackend.read(cpuBackend.matmul({ ...a.c, storage: aa, strides: cv(aa, a.c.shape).strides, offset: 0 }, { ...b.c, storage: bb, strides: cv(bb, b.c.shape).strides, offset: 0 }, 'float32'));
      return { rtol: 0, atol: 2 * K * U * Math.max(...Array.from(m)) + 1e-30 };
    };

    it.each([
      { M: 3, K: 4, N: 5, batch: [], ta: false, tb: false },
      { M: 3, K: 4, N: 5, batch: [], ta: true, tb: true },
      { M: 7, K: 33, N: 2, batch: [2, 3], ta: true, tb: false },
      { M: 16, K: 1500, N: 8, batch: [], ta: false, tb: true },
      { M: 2, K: 1, N: 3, batch: [4], ta: false, tb: false },
    ])('[$batch, $M, $K] @ [$K, $N], transposed a: $ta, b: $tb', ({ M, K, N, batch, ta, tb }) => {
      const r = batch.length + 2;
      const aLay: Layout = { ...plain(r), perm: ta ? [...batch.keys(), r - 1, r - 2] : [...Array(r).keys()] };
      const bLay: Layout = { ...plain(r), perm: tb ? [...batch.keys(), r - 1, r - 2] : [...Array(r).keys()], offset: 2, broadcast: batch.map((_, i) => i === 0) .concat([false, false]) };
      const a = pair([...batch, M, K], aLay, 'float32', (i) => Math.sin(i * 0.7));
      const b = pair([...batch, K, N], bLay, 'float32', (i) => Math.cos(i * 0.3) - 0.2);
      const g = gpu().matmul(a.g, b.g, 'float32');
      expect(onDevice(g)).toBe(true);
      const { rtol, atol } = matTol(a, b, K);
      expectClose(gpu().read(g), cpuBackend.read(cpuBackend.matmul(a.c, b.c, 'float32')), { rtol, atol, what: 'matmul' });
    });
  });

  describe('copy', () => {
    it('into the whole storage, a window, a transposed view; scalars fill; dtypes convert', () => {
      const be = gpu();
      const cases: { dst: Omit<View, 'storage'>; size: number; srcShape: number[]; srcLay: Layout; dtype: DType }[] = [
        { dst: { shape: [3, 4], strides: [4, 1], offset: 0 }, size: 12, srcShape: [3, 4], srcLay: { ...plain(2), perm: [1, 0] }, dtype: 'float32' },
        { dst: { shape: [2, 3], strides: [7, 1], offset: 2 }, size: 20, srcShape: [2, 3], srcLay: plain(2), dtype: 'float32' },
        { dst: { shape: [3, 2], strides: [1, 3], offset: 0 }, size: 6, srcShape: [3, 2], srcLay: { ...plain(2), steps: [2, 1] }, dtype: 'float32' },
        { dst: { shape: [2, 2], strides: [8, 2], offset: 1 }, size: 16, srcShape: [2, 2], srcLay: { ...plain(2), broadcast: [true, false] }, dtype: 'int32' },
        { dst: { shape: [5], strides: [1], offset: 3 }, size: 9, srcShape: [5], srcLay: { ...plain(1), broadcast: [true] }, dtype: 'float32' },
      ];
      for (const [i, k] of cases.entries()) {
        const src = pair(k.srcShape, k.srcLay, 'float32', (j) => j * 1.75 - 4.4);
        const init = typed(k.dtype, Array.from({ length: k.size }, (_, j) => 100 + j));
        const gd = be.fromArray(init, k.dtype), cd = cpuBackend.fromArray(init, k.dtype);
        be.copy({ storage: gd, ...k.dst }, src.g);
        cpuBackend.copy({ storage: cd, ...k.dst }, src.c);
        expect(Array.from(be.read(gd)), `copy case ${i}`).toEqual(Array.from(cpuBackend.read(cd)));
        // the same storage again, now from the device (in place over a texture)
        be.copy({ storage: gd, ...k.dst }, src.g);
        expect(Array.from(be.read(gd)), `copy case ${i} again`).toEqual(Array.from(cpuBackend.read(cd)));
      }
      // a scalar over the whole storage makes it a constant (fill_), without a kernel
      const s = be.fromArray(new Float32Array([1, 2, 3]), 'float32');
      be.copy(cv(s, [3]), { storage: be.full(1, 'float32', 7), shape: [3], strides: [0], offset: 0 });
      expect((s as GpuStorage).location).toBe('fill');
      expect(Array.from(be.read(s))).toEqual([7, 7, 7]);
    });

    it('an expanded (overlapping) destination runs on the CPU with a warning', () => {
      const be = gpu();
      const d = be.fromArray(new Float32Array([0, 0, 0]), 'float32');
      const c = cpuBackend.fromArray(new Float32Array([0, 0, 0]), 'float32');
      const src = pair([2, 3], plain(2), 'float32', (i) => i + 1);
      be.copy({ storage: d, shape: [2, 3], strides: [0, 1], offset: 0 }, src.g);
      cpuBackend.copy({ storage: c, shape: [2, 3], strides: [0, 1], offset: 0 }, src.c);
      expect(Array.from(be.read(d))).toEqual(Array.from(cpuBackend.read(c)));
      expect(warn.mock.calls.flat().join('\n')).toMatch(/overlapping/);
    });
  });

  describe('gather and scatterAdd', () => {
    it('gather along each dim of strided x with strided, broadcast and repeated indices', () => {
      const x = pair([4, 5, 3], { perm: [1, 0, 2], steps: [1, 2, 1], offset: 1, broadcast: [false, false, false] }, 'float32', (i) => i * 0.5 - 3);
      for (let dim = 0; dim < 3; dim++) {
        const size = x.g.shape[dim]!;
        const idxShape = [3, 4, 2];
        const idx = pair(idxShape, { ...plain(3), perm: [2, 1, 0], broadcast: [false, dim === 1, false] }, 'int32', (i) => (i * 7) % size);
        const g = gpu().gather(x.g, dim, idx.g);
        expect(onDevice(g)).toBe(true);
        expect(Array.from(gpu().read(g)), `gather dim ${dim}`).toEqual(Array.from(cpuBackend.read(cpuBackend.gather(x.c, dim, idx.c))));
      }
      const bad = pair([2], plain(1), 'int32', (i) => (i ? 9 : 0));
      expect(() => gpu().gather(x.g, 0, bad.g)).toThrow(RangeError);
    });

    it('scatterAdd accumulates repeated indices in the CPU’s order, into strided destinations', () => {
      for (const dim of [0, 1]) {
        const dstShape = [5, 4];
        const idxShape = dim === 0 ? [6, 3] : [4, 3]; // index.shape[d] ≤ dst.shape[d] for d ≠ dim
        const idx = pair(idxShape, plain(2), 'int32', (i) => (i * 3 + 1) % dstShape[dim]!);
        const src = pair([7, 4], { ...plain(2), perm: [1, 0] }, 'float32', (i) => Math.sin(i) * 2);
        const srcView = (p: View): View => ({ ...p, shape: idxShape }); // src at least index's shape
        for (const dst of [{ shape: dstShape, strides: [4, 1], offset: 0, size: 20 }, { shape: dstShape, strides: [1, 6], offset: 2, size: 30 }]) {
          const init = Float32Array.from({ length: dst.size }, (_, i) => i * 0.25);
          const gd = gpu().fromArray(init, 'float32'), cd = cpuBackend.fromArray(init, 'float32');
          gpu().scatterAdd({ storage: gd, shape: dst.shape, strides: dst.strides, offset: dst.offset }, dim, idx.g, srcView(src.g));
          cpuBackend.scatterAdd({ storage: cd, shape: dst.shape, strides: dst.strides, offset: dst.offset }, dim, idx.c, srcView(src.c));
          expect((gd as GpuStorage).location).toBe('device');
          expect(Array.from(gpu().read(gd)), `scatterAdd dim ${dim}`).toEqual(Array.from(cpuBackend.read(cd)));
        }
      }
      // into a zero constant (the autograd pattern), and out-of-bounds
      const z = gpu().full(4, 'float32', 0);
      const i = pair([3], plain(1), 'int32', (k) => [1, 3, 1][k] ?? 0);
      gpu().scatterAdd(cv(z, [4]), 0, i.g, pair([3], plain(1), 'float32', (k) => k + 1).g);
      expect(Array.from(gpu().read(z))).toEqual([0, 4, 0, 2]);
      expect(() => gpu().scatterAdd(cv(z, [4]), 0, pair([1], plain(1), 'int32', () => 4).g, pair([1], plain(1), 'float32', () => 1).g)).toThrow(RangeError);
    });
  });

  describe('memory', () => {
    it('round-trips every dtype; float64 and large int32 stay on the host (with a warning)', () => {
      const be = gpu();
      for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
        const data = typed(dtype, [0, 1, 5, 0, 3]);
        const s = be.fromArray(data, dtype);
        const y = be.map('identity', [cv(s, [5])], [5], dtype);
        expect(onDevice(y)).toBe(true);
        expect(be.read(y)).toEqual(data);
      }
      const f64 = be.fromArray(new Float64Array([0.1, 0.2]), 'float64');
      const y = be.map('add', [cv(f64, [2]), cv(f64, [2])], [2], 'float64');
      expect((y as GpuStorage).location).toBe('host');
      expect(Array.from(be.read(y))).toEqual([0.2, 0.4]);
      expect(warn.mock.calls.flat().join('\n')).toMatch(/float64/);
      const big = be.fromArray(new Int32Array([1, 2 ** 30]), 'int32');
      const sum = be.map('add', [cv(big, [2]), cv(big, [2])], [2], 'int32');
      expect((sum as GpuStorage).location).toBe('host');
      expect(Array.from(be.read(sum))).toEqual([2, -(2 ** 31)]); // wraps like Int32Array
      expect(warn.mock.calls.flat().join('\n')).toMatch(/2\^24/);
    });

    it('dispose frees the texture; readAsync agrees with read', async () => {
      const be = gpu();
      const x = pair([8], plain(1), 'float32', (i) => i);
      const y = be.map('exp', [x.g], [8], 'float32') as GpuStorage;
      expect(Array.from(await be.readAsync(y))).toEqual(Array.from(be.read(y)));
      expect(y.holder.tex).not.toBeNull();
      be.dispose(y);
      expect(y.holder.tex).toBeNull();
      expect(() => be.read(y)).toThrow(/disposed/);
    });

    it('the kernel cache evicts least recently used kernels; their live outputs stay valid', () => {
      const be = gpu();
      be.configureCache({ maxKernels: 3 });
      try {
        const outs: Storage[] = [];
        for (let n = 2; n <= 7; n++) {
          const x = pair([n], plain(1), 'float32', (i) => i + n);
          outs.push(be.map('neg', [x.g], [n], 'float32'));
          expect(be.cachedKernels).toBeLessThanOrEqual(3);
        }
        outs.forEach((o, k) => expect(Array.from(be.read(o))).toEqual(Array.from({ length: k + 2 }, (_, i) => -(i + k + 2))));
        be.destroy();
        expect(be.cachedKernels).toBe(0);
        const x = pair([2], plain(1), 'float32', (i) => i);
        expect(Array.from(be.read(be.map('neg', [x.g], [2], 'float32')))).toEqual([-0, -1]);
      } finally {
        be.configureCache({ maxKernels: 256 });
      }
    });
  });

  describe('through tensors and autograd', () => {
    it("x.to('gpu'): a small MLP's loss and gradients match the CPU", async () => {
      const { tensor, randn, manualSeed } = await import('../../src/index.js');
      manualSeed(3);
      const x = randn([8, 5]), w1 = randn([5, 7]), w2 = randn([7, 3]);
      const run = (dev: string) => {
        const W1 = w1.to(dev).detach().requiresGrad_(), W2 = w2.to(dev).detach().requiresGrad_();
        const h = x.to(dev).matmul(W1).gelu();
        const loss = h.matmul(W2).logSoftmax(1).mean().neg().add(h.square().sum().mul(tensor(0.01).to(dev)));
        loss.backward();
        return { loss: loss.item(), g1: W1.grad!.cpu().toTypedArray(), g2: W2.grad!.cpu().toTypedArray(), dev: loss.device };
      };
      const c = run('cpu'), g = run('gpu');
      expect(getBackend('gpu')).toBe(gpu());
      expect(g.dev).toBe('gpu');
      expectClose(g.loss, c.loss, { rtol: 1e-5, atol: 1e-6 });
      expectClose(g.g1, c.g1, { rtol: 1e-4, atol: 1e-5 });
      expectClose(g.g2, c.g2, { rtol: 1e-4, atol: 1e-5 });
    });
  });
});
