/**
 * The CPU GEMM (src/backends/cpu/matmul.ts, wasm-gemm.ts) against a naive float64 triple loop.
 *
 * Every path — naive, blocked plain-JS, blocked wasm SIMD (default tile and random tiles), and
 * 'auto' — runs on random M, N, K in 0…70 and random layouts of A and B: row-major,
 * transposed (strides swapped), stepped views (every 2nd/3rd element, padded rows), reversed
 * (negative strides) and broadcast (stride 0), inside storage filled with unrelated values.
 * Small random cache blocks force the block edges (partial Ã/B̃ panels, several KC slabs)
 * that 70-sized products would never reach with the production blocking.
 *
 * Tolerance: float32 |c − ref| ≤ (K + 2)·2⁻²³·Σₖ|aᵢₖ·bₖⱼ| (the classic γ_K bound of recursive
 * summation, Higham, "Accuracy and Stability of Numerical Algorithms", §3.1, with room for the
 * final rounding); float64 ≤ 1e-12·Σₖ|aᵢₖ·bₖⱼ|. Elements of C outside the M×N window must
 * stay untouched.
 *
 * `accumulate` (C += A·B, the fused bias of addmm) runs through the same cases with C's window
 * pre-filled with random values C₀; the reference is then C₀ + Σₖ and |C₀| joins the bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  batchedGemmApplies, gemm, gemmBatched, gemmJs, gemmWasm, getGemmThreads, MacroPool, setGemmThreads, wasmGemmAvailable, WasmGemmKernel,
  type Blocking, type GemmPath,
} from '../../src/backends/cpu/matmul.js';
import { workerThreads } from '../../src/backends/cpu/threads.js';
import { buildGemmModule, fmaEnabled, wasmSimdSupported } from '../../src/backends/cpu/wasm-gemm.js';
import { fromTypedArray, Generator, randn, manualSeed } from '../../src/index.js';

type FloatDType = 'float32' | 'float64';
type FloatArray = Float32Array | Float64Array;

const F32_EPS = 2 ** -23;
const F64_TOL = 1e-12;
const SENTINEL = -12345.5; // exactly representable in float32

// ---- layouts --------------------------------------------------------------------------------------

/** How a logical rows×cols matrix sits in its storage. */
interface LayoutSpec {
  kind: 'row' | 'col' | 'stepped' | 'steppedT' | 'reversed' | 'bcastRows' | 'bcastCols';
  step: number; // element step along the fast dim (stepped kinds)
  pad: number; // extra elements between rows (stepped kinds)
  offset: number; // leading filler
}

const layoutArb: fc.Arbitrary<LayoutSpec> = fc.record({
  kind: fc.constantFrom<LayoutSpec['kind']>('row', 'col', 'stepped', 'steppedT', 'reversed', 'bcastRows', 'bcastCols'),
  step: fc.integer({ min: 1, max: 3 }),
  pad: fc.integer({ min: 0, max: 3 }),
  offset: fc.integer({ min: 0, max: 5 }),
});

interface Placed {
  data: FloatArray;
  off: number;
  rs: number;
  cs: number;
  /** logical element (i, j) read back from storage */
  at(i: number, j: number): number;
}

/** Strides and offset of a rows×cols matrix in `spec`'s layout, and the storage size it needs. */
function place(rows: number, cols: number, spec: LayoutSpec): { off: number; rs: number; cs: number; size: number } {
  const { step, pad, offset } = spec;
  let rs: number, cs: number, off = offset;
  switch (spec.kind) {
    case 'row': rs = cols; cs = 1; break;
    case 'col': rs = 1; cs = rows; break;
    case 'stepped': cs = step; rs = cols * step + pad; break;
    case 'steppedT': rs = step; cs = rows * step + pad; break;
    case 'reversed': // both dims walked backwards from the last element
      rs = -(cols * step + pad); cs = -step;
      off += Math.max(0, rows - 1) * -rs + Math.max(0, cols - 1) * -cs;
      break;
    case 'bcastRows': rs = 0; cs = step; break; // every row the same (expand of a row vector)
    case 'bcastCols': rs = step; cs = 0; break; // every column the same
  }
  // the largest address touched, plus one
  const hi = off + Math.max(0, (rows - 1) * rs) + Math.max(0, (cols - 1) * cs);
  return { off, rs, cs, size: hi + 1 + offset };
}

/** A matrix in a random layout, its storage filled with random values everywhere. */
function makeMatrix(rows: number, cols: number, spec: LayoutSpec, dtype: FloatDType, rand: () => number): Placed {
  const { off, rs, cs, size } = place(rows, cols, spec);
  const data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = rand() * 2 - 1;
  return { data, off, rs, cs, at: (i, j) => data[off + i * rs + j * cs]! };
}

/** xorshift32 so that each fast-check case is reproducible from its seed. */
function rng(seed: number): () => number {
  let s = (seed | 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

// ---- reference and checks --------------------------------------------------------------------------

/** C = A·B in float64 with the bound Σ|a·b| per element. */
function reference(M: number, N: number, K: number, A: Placed, B: Placed): { c: Float64Array; mag: Float64Array } {
  const c = new Float64Array(M * N), mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, m = 0;
      for (let k = 0; k < K; k++) {
        const p = A.at(i, k) * B.at(k, j);
        s += p;
        m += Math.abs(p);
      }
      c[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { c, mag };
}

interface Case {
  M: number;
  N: number;
  K: number;
  la: LayoutSpec;
  lb: LayoutSpec;
  cPad: number;
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  M: fc.integer({ min: 0, max: 70 }),
  N: fc.integer({ min: 0, max: 70 }),
  K: fc.integer({ min: 0, max: 70 }),
  la: layoutArb,
  lb: layoutArb,
  cPad: fc.integer({ min: 0, max: 4 }),
  seed: fc.integer(),
});

/**
 * Runs `run` on a case and checks C against the reference (and the untouched margins). With
 * `accumulate`, C's M×N window starts as random C₀ and must end as C₀ + A·B.
 */
function check(
  dtype: FloatDType,
  { M, N, K, la, lb, cPad, seed }: Case,
  run: (A: Placed, B: Placed, C: FloatArray, cOff: number) => void,
  accumulate = false,
): void {
  const rand = rng(seed);
  const A = makeMatrix(M, K, la, dtype, rand);
  const B = makeMatrix(K, N, lb, dtype, rand);
  const C = dtype === 'float32' ? new Float32Array(cPad + M * N + cPad) : new Float64Array(cPad + M * N + cPad);
  C.fill(SENTINEL);
  if (accumulate) for (let e = 0; e < M * N; e++) C[cPad + e] = rand() * 2 - 1;
  const c0 = Float64Array.from(C.subarray(cPad, cPad + M * N));
  run(A, B, C, cPad);
  const { c, mag } = reference(M, N, K, A, B);
  if (accumulate) {
    for (let e = 0; e < M * N; e++) {
      c[e] = c0[e]! + c[e]!;
      mag[e] = Math.abs(c0[e]!) + mag[e]!;
    }
  }
  const tol = dtype === 'float32' ? (K + 2) * F32_EPS : F64_TOL;
  for (let e = 0; e < M * N; e++) {
    const got = C[cPad + e]!;
    const bound = tol * mag[e]! + 1e-300;
    if (!(Math.abs(got - c[e]!) <= bound)) {
      throw new Error(`C[${Math.floor(e / N)}, ${e % N}] = ${got}, want ${c[e]} ± ${bound} (M=${M} N=${N} K=${K}${accumulate ? ', accumulate' : ''})`);
    }
  }
  for (let e = 0; e < cPad; e++) {
    expect(C[e]).toBe(SENTINEL);
    expect(C[cPad + M * N + e]).toBe(SENTINEL);
  }
}

/** The wasm kernel with random register tiles (mr 1–6, nr 1–3 vectors) and small random blocks. */
function registerTileTest(dtype: 'float32' | 'float64', accumulate: boolean, relaxed = false): void {
  it.skipIf(!hasWasm || (relaxed && !hasFma))(`wasm, ${dtype}${relaxed ? ' FMA (relaxed_madd)' : ''}, random register tiles and small blocks${accumulate ? ', accumulate' : ''}`, () => {
    const lanes = dtype === 'float32' ? 4 : 2;
    const tileArb = fc.record({ mr: fc.integer({ min: 1, max: 6 }), nv: fc.integer({ min: 1, max: 3 }) });
    fc.assert(fc.property(caseArb, blockingArb, tileArb, (c, blk, { mr, nv }) => {
      const kern = kernel(dtype, mr, nv * lanes, relaxed);
      check(dtype, c, (A, B, C, cOff) => gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, 'auto', accumulate ? null : 'auto', accumulate), accumulate);
    }), { numRuns: 60 });
  });
}

const callGemm = (M: number, N: number, K: number, path: GemmPath, accumulate = false) => (A: Placed, B: Placed, C: FloatArray, cOff: number): void =>
  gemm(M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, path, accumulate);

const blockingArb: fc.Arbitrary<Blocking> = fc.record({
  MC: fc.integer({ min: 1, max: 24 }),
  KC: fc.integer({ min: 1, max: 24 }),
  NC: fc.integer({ min: 1, max: 24 }),
});

const hasWasm = wasmGemmAvailable();
/** Relaxed SIMD validates here (on Node 20 after wasmSimdSupported has set the V8 flag). */
const hasFma = wasmSimdSupported(true);
const kernels = new Map<string, WasmGemmKernel>();
/** Instantiated wasm kernels, one per (dtype, tile, relaxed), reused across cases. */
function kernel(dtype: FloatDType, mr: number, nr: number, relaxed = false): WasmGemmKernel {
  const key = `${dtype}:${mr}x${nr}:${relaxed}`;
  let k = kernels.get(key);
  if (k === undefined) {
    k = new WasmGemmKernel({ dtype, mr, nr, relaxed });
    kernels.set(key, k);
  }
  return k;
}

// ---- properties ------------------------------------------------------------------------------------

describe('gemm: every path matches a float64 triple loop', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const path of ['naive', 'js', 'wasm', 'auto'] as const) {
      it.skipIf(path === 'wasm' && !hasWasm)(`${path}, ${dtype}, random shapes 0…70 and layouts`, () => {
        fc.assert(fc.property(caseArb, (c) => check(dtype, c, callGemm(c.M, c.N, c.K, path))), { numRuns: 60 });
      });
    }

    it(`js, ${dtype}, small random blocks (block edges)`, () => {
      fc.assert(fc.property(caseArb, blockingArb, (c, blk) =>
        check(dtype, c, (A, B, C, cOff) => gemmJs(blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff)),
      ), { numRuns: 60 });
    });

    it.skipIf(!hasWasm)(`wasm, ${dtype}, operands packed in JS instead of staged in wasm memory`, () => {
      const kern = kernel(dtype, dtype === 'float32' ? 4 : 4, dtype === 'float32' ? 8 : 4);
      fc.assert(fc.property(caseArb, blockingArb, (c, blk) =>
        check(dtype, c, (A, B, C, cOff) => gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, 'never')),
      ), { numRuns: 40 });
    });

    registerTileTest(dtype, false);
  }
  registerTileTest('float32', false, true);
  registerTileTest('float32', true, true);
});

describe('FMA (relaxed SIMD f32x4.relaxed_madd) and the plain mul + add kernel', () => {
  it('TENSORGRAD_FMA=0 turns FMA off for new kernels; otherwise it follows relaxed SIMD support', () => {
    const saved = process.env['TENSORGRAD_FMA'];
    try {
      process.env['TENSORGRAD_FMA'] = '0';
      expect(fmaEnabled()).toBe(false);
      if (hasWasm) expect(new WasmGemmKernel({ dtype: 'float32', mr: 4, nr: 8 }).relaxed).toBe(false);
      delete process.env['TENSORGRAD_FMA'];
      expect(fmaEnabled()).toBe(hasFma);
      if (hasWasm) expect(new WasmGemmKernel({ dtype: 'float32', mr: 4, nr: 8 }).relaxed).toBe(hasFma);
      // float64 never fuses (its results stay bitwise those of the naive loop)
      if (hasWasm) expect(new WasmGemmKernel({ dtype: 'float64', mr: 4, nr: 4 }).relaxed).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['TENSORGRAD_FMA'];
      else process.env['TENSORGRAD_FMA'] = saved;
    }
  });

  it.skipIf(!hasFma)('Node 20: relaxed SIMD validates once the flag is set (Node ≥ 22: by default)', () => {
    expect(buildGemmModule({ dtype: 'float32', mr: 4, nr: 8, relaxed: true, shared: false }).length).toBeGreaterThan(0);
    expect(() => buildGemmModule({ dtype: 'float64', mr: 4, nr: 4, relaxed: true, shared: false })).toThrow(/float32 only/);
  });

  it.skipIf(!hasFma)('both kernels: K = 4096, N(0, 1), max rel error ≤ 1e-6, each bit-identical across 1 and 2 threads', () => {
    const M = 24, N = 40, K = 4096;
    const gen = new Generator(12);
    const A = Float32Array.from({ length: M * K }, () => gen.normal()), B = Float32Array.from({ length: K * N }, () => gen.normal());
    const ref = new Float64Array(M * N);
    gemm(M, N, K, Float64Array.from(A), 0, K, 1, Float64Array.from(B), 0, N, 1, ref, 0, 'naive');
    const maxRef = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const wt = workerThreads();
    const results: Float32Array[] = [];
    for (const relaxed of [false, true]) {
      const kern = new WasmGemmKernel({ dtype: 'float32', mr: 4, nr: 8, shared: wt !== null, relaxed });
      const pool = wt !== null ? new MacroPool(kern.macroFn, kern.nr, 4, kern.module, kern.memory, 1, wt) : null;
      try {
        const one = new Float32Array(M * N), two = new Float32Array(M * N);
        gemmWasm(kern, { MC: 8, KC: 256, NC: 16 }, M, N, K, A, 0, K, 1, B, 0, N, 1, one, 0, 'auto', null);
        gemmWasm(kern, { MC: 8, KC: 256, NC: 16 }, M, N, K, A, 0, K, 1, B, 0, N, 1, two, 0, 'auto', pool);
        expect(two).toEqual(one);
        const err = one.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0) / maxRef;
        expect(err, `${relaxed ? 'FMA' : 'plain'}: max rel error ${err.toExponential(2)}`).toBeLessThanOrEqual(1e-6);
        results.push(one);
      } finally {
        void pool?.close();
      }
    }
    // not bit-identical across the two kernels in general (FMA rounds a·b + c once; where the
    // hardware has no FMA3 the engine may lower relaxed_madd to mul + add): they differ by no
    // more than both errors together
    const gap = results[0]!.reduce((m, v, i) => Math.max(m, Math.abs(v - results[1]![i]!)), 0) / maxRef;
    expect(gap).toBeLessThanOrEqual(2e-6);
  });
});

describe('gemm with accumulate: C = C₀ + A·B on every path', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const path of ['naive', 'js', 'wasm', 'auto'] as const) {
      it.skipIf(path === 'wasm' && !hasWasm)(`${path}, ${dtype}, random shapes 0…70 and layouts`, () => {
        fc.assert(fc.property(caseArb, (c) => check(dtype, c, callGemm(c.M, c.N, c.K, path, true), true)), { numRuns: 60 });
      });
    }

    it(`js, ${dtype}, small random blocks (block edges)`, () => {
      fc.assert(fc.property(caseArb, blockingArb, (c, blk) =>
        check(dtype, c, (A, B, C, cOff) => gemmJs(blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, true), true),
      ), { numRuns: 60 });
    });

    it.skipIf(!hasWasm)(`wasm, ${dtype}, operands packed in JS, small random blocks`, () => {
      const kern = kernel(dtype, 4, dtype === 'float32' ? 8 : 4);
      fc.assert(fc.property(caseArb, blockingArb, (c, blk) =>
        check(dtype, c, (A, B, C, cOff) => gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, 'never', 'auto', true), true),
      ), { numRuns: 40 });
    });

    registerTileTest(dtype, true);
  }

  it('float64: js and wasm sum C₀ first, then k in order (bitwise equal to naive), transposed operands too', () => {
    const rand = rng(17);
    const row = { kind: 'row', step: 1, pad: 0, offset: 0 } as const;
    const col = { kind: 'col', step: 1, pad: 0, offset: 0 } as const;
    // K = 300 and 513 span several KC slabs; 70 and 47 leave partial register tiles
    for (const [M, N, K] of [[33, 47, 300], [5, 70, 1], [70, 3, 513], [9, 9, 9]] as const) {
      for (const [la, lb] of [[row, row], [row, col], [col, row], [col, col]] as const) {
        const A = makeMatrix(M, K, la, 'float64', rand), B = makeMatrix(K, N, lb, 'float64', rand);
        const c0 = Float64Array.from({ length: M * N }, () => (rand() * 2 - 1) * 100); // a bias-sized offset
        const want = c0.slice();
        gemm(M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, want, 0, 'naive', true);
        for (const path of ['js', ...(hasWasm ? ['wasm'] as const : [])] as const) {
          const got = c0.slice();
          gemm(M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, got, 0, path, true);
          expect(got, `${path} ${M}×${N}×${K}`).toEqual(want);
        }
        if (hasWasm) {
          // small blocks and an odd tile: several slabs and blocks per dim
          const got = c0.slice();
          gemmWasm(kernel('float64', 3, 6), { MC: 7, KC: 5, NC: 10 }, M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, got, 0, 'auto', null, true);
          expect(got, `wasm 3×6 tile ${M}×${N}×${K}`).toEqual(want);
        }
      }
    }
  });

  it('K = 0 leaves C as it is (an empty sum), on every path', () => {
    for (const path of ['naive', 'js', ...(hasWasm ? ['wasm'] as const : []), 'auto'] as const) {
      const C = new Float32Array([1, 2, 3, 4]);
      gemm(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, C, 0, path, true);
      expect([...C], path).toEqual([1, 2, 3, 4]);
    }
  });
});

describe('gemm: exactness and special values', () => {
  it('float64 paths sum each C element in the naive order (bitwise equal results)', () => {
    const rand = rng(7);
    const row = { kind: 'row', step: 1, pad: 0, offset: 0 } as const;
    const col = { kind: 'col', step: 1, pad: 0, offset: 0 } as const;
    for (const [M, N, K] of [[33, 47, 300], [5, 70, 1], [70, 3, 513]] as const) {
      const A = makeMatrix(M, K, row, 'float64', rand), B = makeMatrix(K, N, col, 'float64', rand);
      const want = new Float64Array(M * N);
      gemm(M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, want, 0, 'naive');
      for (const path of ['js', ...(hasWasm ? ['wasm'] as const : [])] as const) {
        const got = new Float64Array(M * N);
        gemm(M, N, K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, got, 0, path);
        expect(got).toEqual(want);
      }
    }
  });

  it('float32, K = 4096, N(0, 1): max |C − C₆₄| / max |C₆₄| ≤ 1e-6 on every path, at 1 and 2 threads, bit-identical across thread counts (issue #11 item 9)', () => {
    // the wasm kernel sums each K block (KC = 256) from zero and adds it into C: a sum of 16
    // block sums instead of one float32 running sum of 4096 terms (measured before: 2.2e-6)
    const M = 24, N = 40, K = 4096;
    const gen = new Generator(11);
    const A = Float32Array.from({ length: M * K }, () => gen.normal()), B = Float32Array.from({ length: K * N }, () => gen.normal());
    const ref = new Float64Array(M * N);
    gemm(M, N, K, Float64Array.from(A), 0, K, 1, Float64Array.from(B), 0, N, 1, ref, 0, 'naive');
    const maxRef = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const saved = getGemmThreads();
    try {
      for (const path of ['naive', 'js', ...(hasWasm ? ['wasm'] as const : [])] as const) {
        const byThreads: Float32Array[] = [];
        for (const threads of [1, 2]) {
          setGemmThreads(threads);
          const c = new Float32Array(M * N);
          gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, c, 0, path);
          const err = c.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0) / maxRef;
          expect(err, `${path}, ${threads} thread(s): max rel error ${err.toExponential(2)}`).toBeLessThanOrEqual(1e-6);
          byThreads.push(c);
        }
        expect(byThreads[1]).toEqual(byThreads[0]);
      }
    } finally {
      setGemmThreads(saved);
    }
  });

  it('a NaN or Inf in A reaches only its own row of C (zero padding never leaks)', () => {
    const M = 9, N = 11, K = 6;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const path of ['naive', 'js', ...(hasWasm ? ['wasm'] as const : [])] as const) {
        const A = dtype === 'float32' ? new Float32Array(M * K).fill(1) : new Float64Array(M * K).fill(1);
        const B = dtype === 'float32' ? new Float32Array(K * N).fill(2) : new Float64Array(K * N).fill(2);
        A[8 * K + 3] = NaN; // row 8 sits in a padded register tile (9 = 4 + 4 + 1)
        B[2 * N + 10] = Infinity; // column 10 too
        const C = dtype === 'float32' ? new Float32Array(M * N) : new Float64Array(M * N);
        gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0, path);
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            const v = C[i * N + j]!;
            if (i === 8) expect(v).toBeNaN();
            else if (j === 10) expect(v).toBe(Infinity);
            else expect(v).toBe(2 * K);
          }
        }
      }
    }
  });

  it('int32 stays exact (naive path)', () => {
    const A = new Int32Array([1, 2, 3, 4, 5, 6]); // 2×3
    const B = new Int32Array([7, 8, 9, 10, 11, 12]); // 3×2
    const C = new Int32Array(4);
    gemm(2, 2, 3, A, 0, 3, 1, B, 0, 2, 1, C, 0);
    expect([...C]).toEqual([58, 64, 139, 154]);
  });

  it('M, N or K = 0: nothing written, or C zeroed', () => {
    const C = new Float32Array([5, 5, 5, 5]);
    gemm(0, 2, 3, new Float32Array(0), 0, 3, 1, new Float32Array(6), 0, 2, 1, C, 0);
    expect([...C]).toEqual([5, 5, 5, 5]);
    gemm(2, 2, 0, new Float32Array(0), 0, 0, 1, new Float32Array(0), 0, 2, 1, C, 0);
    expect([...C]).toEqual([0, 0, 0, 0]);
  });
});

describe('worker threads', () => {
  const wt = workerThreads();

  for (const [relaxed, packs] of [[false, false], [true, false], [false, true], [true, true]] as const) it.skipIf(!hasWasm || wt === null || (relaxed && !hasFma))(`a helper thread leaves C bitwise equal to one thread, and does take chunks (${relaxed ? 'FMA' : 'plain mul + add'} kernel${packs ? '; Ã packed by the threads in row chunks' : ''})`, async () => {
    const kern = new WasmGemmKernel({ dtype: 'float32', mr: 4, nr: 8, shared: true, relaxed });
    const pool = new MacroPool(kern.macroFn, kern.nr, 4, kern.module, kern.memory, 1, wt!, packs ? kern.packFn : null);
    expect(pool.canPack).toBe(packs);
    try {
      const t0 = Date.now();
      while (pool.readyHelpers < 1 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
      expect(pool.readyHelpers).toBe(1);
      fc.assert(fc.property(caseArb, blockingArb, (c, blk) => {
        const one = new Float32Array(c.M * c.N), two = new Float32Array(c.M * c.N);
        check('float32', c, (A, B, C, cOff) => {
          gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, 'auto', pool);
          gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, two, 0, 'auto', pool);
          gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, one, 0, 'auto', null);
        });
        expect(two).toEqual(one);
      }), { numRuns: 60 });
      // the helper joins when it is awake: give it products until it has taken a chunk
      const n = 256, A = new Float32Array(n * n).fill(1), B = new Float32Array(n * n).fill(1), C = new Float32Array(n * n);
      const before = pool.chunksByHelpers, t1 = Date.now();
      do {
        C.fill(0);
        gemmWasm(kern, { MC: 64, KC: 64, NC: 256 }, n, n, n, A, 0, n, 1, B, 0, n, 1, C, 0, 'auto', pool);
        expect(C.every((v) => v === n)).toBe(true);
        await new Promise((r) => setTimeout(r, 0));
      } while (pool.chunksByHelpers === before && Date.now() - t1 < 10_000);
      expect(pool.chunksByHelpers).toBeGreaterThan(before);
    } finally {
      await pool.close();
    }
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it.skipIf(!hasWasm || wt === null)(`accumulate with a helper thread (${dtype}): C₀ + A·B, bitwise equal to one thread`, async () => {
      const kern = new WasmGemmKernel({ dtype, mr: 4, nr: dtype === 'float32' ? 8 : 4, shared: true });
      const pool = new MacroPool(kern.macroFn, kern.nr, dtype === 'float32' ? 4 : 8, kern.module, kern.memory, 1, wt!, kern.packFn);
      try {
        const t0 = Date.now();
        while (pool.readyHelpers < 1 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
        expect(pool.readyHelpers).toBe(1);
        fc.assert(fc.property(caseArb, blockingArb, (c, blk) => {
          let one: FloatArray = new Float64Array(0), two: FloatArray = new Float64Array(0);
          check(dtype, c, (A, B, C, cOff) => {
            one = C.slice(cOff, cOff + c.M * c.N);
            two = one.slice();
            gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, cOff, 'auto', pool, true);
            gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, two, 0, 'auto', pool, true);
            gemmWasm(kern, blk, c.M, c.N, c.K, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, one, 0, 'auto', null, true);
          }, true);
          expect(two).toEqual(one);
        }), { numRuns: 40 });
      } finally {
        await pool.close();
      }
    });
  }

  it('setGemmThreads validates and round-trips', () => {
    const before = getGemmThreads();
    try {
      expect(() => setGemmThreads(0)).toThrow(RangeError);
      expect(() => setGemmThreads(1.5)).toThrow(RangeError);
      setGemmThreads(1);
      expect(getGemmThreads()).toBe(1);
      // one thread: the auto path still matches the naive product
      const M = 90, N = 100, K = 80;
      const A = new Float32Array(M * K).map((_, i) => (i % 7) - 3), B = new Float32Array(K * N).map((_, i) => (i % 5) - 2);
      const got = new Float32Array(M * N), want = new Float32Array(M * N);
      gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, got, 0);
      gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, want, 0, 'naive');
      expect(got).toEqual(want); // small integers: exact in any order
    } finally {
      setGemmThreads(before);
    }
  });
});

describe('wasm module generation', () => {
  it.skipIf(!hasWasm)('emits modules that compile and instantiate for every tile shape and dtype', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const lanes = dtype === 'float32' ? 4 : 2;
      for (let mr = 1; mr <= 8; mr++) {
        for (let nv = 1; nv <= 4; nv++) {
          const k = new WasmGemmKernel({ dtype, mr, nr: nv * lanes, relaxed: false });
          expect(k.heap(1024).length).toBeGreaterThanOrEqual(1024 / (16 / lanes));
        }
      }
    }
  });

  it('rejects tiles that are not whole vectors', () => {
    expect(() => buildGemmModule({ dtype: 'float32', mr: 4, nr: 6, relaxed: false, shared: false })).toThrow(/tile/);
    expect(() => buildGemmModule({ dtype: 'float64', mr: 0, nr: 2, relaxed: false, shared: false })).toThrow(/tile/);
  });

  it.skipIf(!hasWasm)('the wasm kernel agrees with the plain-JS kernel on a 128³ product', () => {
    const M = 128, N = 128, K = 128;
    const rand = rng(11);
    const A = new Float32Array(M * K).map(() => rand() - 0.5), B = new Float32Array(K * N).map(() => rand() - 0.5);
    const cJs = new Float32Array(M * N), cWasm = new Float32Array(M * N);
    gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, cJs, 0, 'js');
    gemm(M, N, K, A, 0, K, 1, B, 0, N, 1, cWasm, 0, 'wasm');
    // |a·b| ≤ 1/4, so Σₖ|aᵢₖ·bₖⱼ| ≤ K/4
    let worst = 0;
    for (let e = 0; e < M * N; e++) worst = Math.max(worst, Math.abs(cWasm[e]! - cJs[e]!));
    expect(worst).toBeLessThanOrEqual((K + 2) * F32_EPS * (K / 4));
    expect(worst).toBeGreaterThan(0); // float32 vs float64 accumulation: not the same path
  });
});

describe('Tensor.matmul through the CPU backend', () => {
  it('transposed and batched views match the naive product', () => {
    manualSeed(3);
    for (const dtype of ['float32', 'float64'] as const) {
      const a = randn([3, 40, 33], { dtype }), b = randn([3, 50, 40], { dtype });
      // (3, 33, 40)ᵀ views: aᵀ·bᵀ = (b·a)ᵀ  → (3, 33, 50)
      const out = a.transpose(-1, -2).matmul(b.transpose(-1, -2));
      expect(out.shape).toEqual([3, 33, 50]);
      const av = a.toTypedArray(), bv = b.toTypedArray(), ov = out.toTypedArray();
      for (let t = 0; t < 3; t++) {
        for (let i = 0; i < 33; i++) {
          for (let j = 0; j < 50; j++) {
            let s = 0, m = 0;
            for (let k = 0; k < 40; k++) {
              const p = av[t * 1320 + k * 33 + i]! * bv[t * 2000 + j * 40 + k]!;
              s += p; m += Math.abs(p);
            }
            const tol = dtype === 'float32' ? 42 * F32_EPS * m : F64_TOL * m;
            expect(Math.abs(ov[t * 1650 + i * 50 + j]! - s)).toBeLessThanOrEqual(tol);
          }
        }
      }
    }
  });

  it('a 1×1 · 1×1 product and a vector·matrix product', () => {
    const x = fromTypedArray(new Float32Array([3]), [1, 1]);
    expect(x.matmul(x).toTypedArray()[0]).toBe(9);
    const v = fromTypedArray(new Float32Array([1, 2, 3]), [3]);
    const m = fromTypedArray(new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]);
    expect([...v.matmul(m).toTypedArray()]).toEqual([4, 5]);
  });
});

describe('gemm with a bias row: C = bias + A·B (addmm), bitwise the fill-then-accumulate result', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const path of ['naive', 'js', 'wasm', 'auto'] as const) {
      it.skipIf(path === 'wasm' && !hasWasm)(`${path}, ${dtype}`, () => {
        fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), (M, N, K, stride, seed) => {
          const gen = new Generator(seed);
          const Arr = dtype === 'float32' ? Float32Array : Float64Array;
          const mk = (n: number) => new Arr(Array.from({ length: n }, () => gen.normal()));
          const A = mk(M * K), B = mk(K * N), bias = mk(1 + N * stride);
          const got = new Arr(M * N).fill(NaN);
          gemm(M, N, K, A, 0, K, 1, B, 0, 1, K, got, 0, path, { data: bias, off: 1, stride });
          const want = new Arr(M * N);
          for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[i * N + j] = bias[1 + j * stride]!;
          gemm(M, N, K, A, 0, K, 1, B, 0, 1, K, want, 0, path, true);
          expect(Array.from(got)).toEqual(Array.from(want));
        }), { numRuns: 40 });
      });
    }
  }
});

describe('batched small products (gemmBatched, one job per batch)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it.skipIf(!hasWasm)(`${dtype}: every item equals its own gemm call, bitwise, with and without helper threads`, () => {
      fc.assert(fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.boolean(), fc.nat(1000), (count, M, N, K, transB, seed) => {
        const gen = new Generator(seed);
        const Arr = dtype === 'float32' ? Float32Array : Float64Array;
        const mk = (n: number) => new Arr(Array.from({ length: n }, () => gen.normal()));
        // items laid out with gaps; B either row-major or transposed (attention's Kᵀ)
        const A = mk(count * (M * K + 3)), B = mk(count * (K * N + 5));
        const aOffs = Array.from({ length: count }, (_, i) => i * (M * K + 3) + 1);
        const bOffs = Array.from({ length: count }, (_, i) => i * (K * N + 5) + 2);
        const [bRs, bCs] = transB ? [1, K] : [N, 1];
        fc.pre(batchedGemmApplies(new Arr(1), count, M, N, K));
        const want = new Arr(count * M * N);
        for (let i = 0; i < count; i++) gemm(M, N, K, A, aOffs[i]!, K, 1, B, bOffs[i]!, bRs, bCs, want, i * M * N, 'wasm');
        for (const pool of [null, 'auto'] as const) {
          const got = new Arr(count * M * N).fill(NaN);
          gemmBatched(count, M, N, K, A, aOffs, K, 1, B, bOffs, bRs, bCs, got, 0, pool);
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }), { numRuns: 40 });
    });
  }
  it('batched tensor matmul (attention shapes) equals per-item matmul', () => {
    manualSeed(5);
    const q = randn([3, 2, 16, 8]), k = randn([3, 2, 16, 8]);
    const s = q.matmul(k.transpose(-1, -2));
    for (let b = 0; b < 3; b++) for (let h = 0; h < 2; h++) {
      const one = q.select(0, b).select(0, h).matmul(k.select(0, b).select(0, h).transpose(0, 1));
      expect(Array.from(s.select(0, b).select(0, h).toTypedArray())).toEqual(Array.from(one.toTypedArray()));
    }
  });
});
