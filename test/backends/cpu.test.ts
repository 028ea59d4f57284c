/**
 * The backend kernel contract (src/backends/contract.ts), exercised on the CPU backend directly:
 * every entry point on strided views (permuted, stepped, offset, stride-0 broadcast) against
 * naive reference loops that index storage as offset + Σ iₖ·strideₖ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Storage, View } from '../../src/backends/index.js';
import { cpuBackend } from '../../src/backends/cpu/index.js';
import { erf } from '../../src/backends/erf.js';
import type { MapOp } from '../../src/backends/opcodes.js';
import { getBackend, listBackends, type DType } from '../../src/index.js';
import { expectClose } from '../helpers.js';

const NUM_RUNS = Number(process.env.PROP_RUNS ?? 40);
const be = cpuBackend;

// ---- views and reference indexing ------------------------------------------------------------------

const numel = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** Every multi-index of a shape in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

const at = (v: View, idx: readonly number[]) => v.offset + idx.reduce((s, i, k) => s + i * v.strides[k]!, 0);
const read = (v: View, idx: readonly number[]) => be.read(v.storage)[at(v, idx)]!;

/** How a view lays its shape out in a storage. */
interface LayoutSpec {
  perm: number[]; // order of dims from outermost to innermost in memory
  steps: number[]; // 1 or 2: every other element
  offset: number;
  broadcast: boolean[]; // stride 0 (the dim is a broadcast of one element)
}

function layoutArb(rank: number, allowBroadcast = true): fc.Arbitrary<LayoutSpec> {
  return fc.record({
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    steps: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: rank, maxLength: rank }),
    offset: fc.integer({ min: 0, max: 3 }),
    broadcast: fc.array(allowBroadcast ? fc.boolean() : fc.constant(false), { minLength: rank, maxLength: rank }),
  });
}

/** A view of `shape` over a fresh storage filled with `fill(i)`, laid out as `spec` says. */
function makeView(shape: readonly number[], spec: LayoutSpec, dtype: DType = 'float64', fill: (i: number) => number = (i) => Math.sin(1 + i * 1.7) * 3): View {
  const strides = new Array<number>(shape.length).fill(0);
  let acc = 1;
  for (let j = spec.perm.length - 1; j >= 0; j--) {
    const d = spec.perm[j]!;
    if (spec.broadcast[d]) continue;
    strides[d] = acc * spec.steps[d]!;
    acc *= shape[d]! * spec.steps[d]!;
  }
  const span = shape.reduce((s, n, d) => s + (n - 1) * strides[d]!, 0);
  const size = spec.offset + Math.max(0, span) + 1 + 2; // a little slack past the end
  const data = Float64Array.from({ length: size }, (_, i) => fill(i));
  const storage = be.fromArray(dtype === 'float64' ? data : convert(data, dtype), dtype);
  return { storage, shape: [...shape], strides, offset: spec.offset };
}

function convert(a: Float64Array, dtype: DType) {
  switch (dtype) {
    case 'float32': return Float32Array.from(a);
    case 'int32': return Int32Array.from(a, (v) => Math.round(v * 10));
    case 'bool': return Uint8Array.from(a, (v) => (v > 0 ? 1 : 0));
    default: return a;
  }
}

const contiguousView = (s: Storage, shape: readonly number[]): View => {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { strides[d] = acc; acc *= shape[d]!; }
  return { storage: s, shape: [...shape], strides, offset: 0 };
};

const shapeArb = (maxRank = 4, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 0, maxLength: maxRank });

// ---- map ------------------------------------------------------------------------------------------

const REFERENCE: Partial<Record<MapOp, (...x: number[]) => number>> = {
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  sub: (a, b) => a - b,
  maximum: (a, b) => Math.max(a, b),
  lt: (a, b) => (a < b ? 1 : 0),
  exp: (a) => Math.exp(a),
  erf: (a) => erf(a),
  neg: (a) => -a,
  where: (c, a, b) => (c ? a : b),
  clamp: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
};

describe('map', () => {
  it('elementwise ops on permuted / stepped / offset / broadcast views match the reference', () => {
    const ops = Object.keys(REFERENCE) as MapOp[];
    fc.assert(
      fc.property(
        shapeArb().chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            op: fc.constantFrom(...ops),
            layouts: fc.tuple(layoutArb(shape.length), layoutArb(shape.length), layoutArb(shape.length)),
          }),
        ),
        ({ shape, op, layouts }) => {
          const arity = REFERENCE[op]!.length;
          const inputs = layouts.slice(0, arity).map((l, k) =>
            op === 'where' && k === 0 ? makeView(shape, l, 'bool') : makeView(shape, l, 'float64', (i) => Math.cos(i * (k + 1.3)) * 2),
          );
          if (op === 'clamp') {
            // lo ≤ hi: pass constant bounds through stride-0 views of one element
            inputs[1] = { storage: be.fromArray(new Float64Array([-0.5]), 'float64'), shape, strides: shape.map(() => 0), offset: 0 };
            inputs[2] = { storage: be.fromArray(new Float64Array([0.75]), 'float64'), shape, strides: shape.map(() => 0), offset: 0 };
          }
          const outDtype: DType = op === 'lt' ? 'bool' : 'float64';
          const out = be.read(be.map(op, inputs, shape, outDtype));
          expect(out.length).toBe(numel(shape));
          let k = 0;
          for (const idx of indices(shape)) {
            const expected = REFERENCE[op]!(...inputs.map((v) => read(v, idx)));
            expect(out[k], `${op} at [${idx}]`).toBe(expected);
            k++;
          }
        },
      ),
      { numRuns: NUM_RUNS * 3 },
    );
  });

  it('writes the requested output dtype (float32 rounds, int32 truncates)', () => {
    const a = contiguousView(be.fromArray(new Float64Array([0.1, -2.7, 3.9]), 'float64'), [3]);
    expect(Array.from(be.read(be.map('identity', [a], [3], 'float32')))).toEqual([Math.fround(0.1), Math.fround(-2.7), Math.fround(3.9)]);
    expect(Array.from(be.read(be.map('identity', [a], [3], 'int32')))).toEqual([0, -2, 3]);
  });

  it('0-d and empty outputs', () => {
    const s = contiguousView(be.fromArray(new Float64Array([2]), 'float64'), []);
    expect(Array.from(be.read(be.map('exp', [s], [], 'float64')))).toEqual([Math.exp(2)]);
    const e = contiguousView(be.full(0, 'float64', 0), [2, 0]);
    expect(be.read(be.map('exp', [e], [2, 0], 'float64')).length).toBe(0);
  });
});

// ---- reduce / argReduce -----------------------------------------------------------------------------

describe('reduce', () => {
  it('sum / max / min over leading, middle, trailing and several dims of non-contiguous views', () => {
    fc.assert(
      fc.property(
        shapeArb(4, 4).chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            layout: layoutArb(shape.length),
            dims: fc.subarray([...shape.keys()]),
            op: fc.constantFrom('sum' as const, 'max' as const, 'min' as const),
          }),
        ),
        ({ shape, layout, dims, op }) => {
          const x = makeView(shape, layout);
          const outShape = shape.map((d, i) => (dims.includes(i) ? 1 : d));
          const out = be.read(be.reduce(op, x, dims, 'float64'));
          expect(out.length).toBe(numel(outShape));
          const expected = new Float64Array(numel(outShape)).fill(op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity);
          const outStrides = contiguousView(be.full(0, 'float64', 0), outShape).strides;
          for (const idx of indices(shape)) {
            const o = idx.reduce((s, i, d) => s + (dims.includes(d) ? 0 : i * outStrides[d]!), 0);
            const v = read(x, idx);
            expected[o] = op === 'sum' ? expected[o]! + v : op === 'max' ? Math.max(expected[o]!, v) : Math.min(expected[o]!, v);
          }
          expectClose(out, expected, { rtol: 1e-14, atol: 1e-14, what: `${op} over [${dims}] of [${shape}]` });
        },
      ),
      { numRuns: NUM_RUNS * 3 },
    );
  });

  it('hand values: a transposed (3,2) view, each dim', () => {
    // storage [0..5] as (2,3), viewed transposed as (3,2): [[0,3],[1,4],[2,5]]
    const t: View = { storage: be.fromArray(Float64Array.from([0, 1, 2, 3, 4, 5]), 'float64'), shape: [3, 2], strides: [1, 3], offset: 0 };
    expect(Array.from(be.read(be.reduce('sum', t, [0], 'float64')))).toEqual([3, 12]);
    expect(Array.from(be.read(be.reduce('sum', t, [1], 'float64')))).toEqual([3, 5, 7]);
    expect(Array.from(be.read(be.reduce('max', t, [0, 1], 'float64')))).toEqual([5]);
    expect(Array.from(be.read(be.reduce('min', t, [1], 'float64')))).toEqual([0, 1, 2]);
  });

  it('NaN propagates through max and min; sums accumulate in float64 before rounding', () => {
    const x = contiguousView(be.fromArray(Float64Array.from([1, NaN, 3, 4]), 'float64'), [2, 2]);
    expect(Array.from(be.read(be.reduce('max', x, [1], 'float64')))).toEqual([NaN, 4]);
    expect(Array.from(be.read(be.reduce('min', x, [0], 'float64')))).toEqual([1, NaN]);
    // 1 + 1e-8 ×1000 in float32 would lose the small terms one by one
    const f = contiguousView(be.fromArray(Float32Array.from([1, ...Array(1000).fill(1e-8)]), 'float32'), [1001]);
    expect(be.read(be.reduce('sum', f, [0], 'float32'))[0]).toBe(Math.fround(1 + 1000 * Math.fround(1e-8)));
  });

  it('int32 sums stay exact', () => {
    const x = contiguousView(be.fromArray(Int32Array.from([2 ** 30, 2 ** 30, -5]), 'int32'), [3]);
    expect(Array.from(be.read(be.reduce('sum', x, [0], 'float64')))).toEqual([2 ** 31 - 5]);
  });
});

describe('argReduce', () => {
  it('argmax / argmin along each dim of strided views (first occurrence) match the reference', () => {
    fc.assert(
      fc.property(
        shapeArb(3, 4).filter((s) => s.length > 0).chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            layout: layoutArb(shape.length),
            dim: fc.integer({ min: 0, max: shape.length - 1 }),
            op: fc.constantFrom('argmax' as const, 'argmin' as const),
            ties: fc.boolean(),
          }),
        ),
        ({ shape, layout, dim, op, ties }) => {
          const x = makeView(shape, layout, 'float64', ties ? (i) => i % 3 : undefined);
          const out = be.read(be.argReduce(op, x, dim));
          expect(out).toBeInstanceOf(Int32Array);
          const outShape = shape.map((d, i) => (i === dim ? 1 : d));
          let k = 0;
          for (const idx of indices(outShape)) {
            let best = 0;
            let bestV = read(x, idx);
            for (let j = 1; j < shape[dim]!; j++) {
              const p = [...idx];
              p[dim] = j;
              const v = read(x, p);
              if (op === 'argmax' ? v > bestV : v < bestV) { best = j; bestV = v; }
            }
            expect(out[k++], `${op} at [${idx}]`).toBe(best);
          }
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('NaN counts as the extremum for both', () => {
    const x = contiguousView(be.fromArray(Float64Array.from([1, 5, NaN, 2, NaN, 0]), 'float64'), [2, 3]);
    expect(Array.from(be.read(be.argReduce('argmax', x, 1)))).toEqual([2, 1]);
    expect(Array.from(be.read(be.argReduce('argmin', x, 1)))).toEqual([2, 1]);
  });
});

// ---- matmul -------------------------------------------------------------------------------------------

describe('matmul', () => {
  function naive(a: View, b: View): Float64Array {
    const r = a.shape.length;
    const [M, K] = a.shape.slice(r - 2) as [number, number];
    const N = b.shape[r - 1]!;
    const batch = a.shape.slice(0, r - 2);
    const out = new Float64Array(numel(batch) * M * N);
    let o = 0;
    for (const bi of indices(batch)) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += read(a, [...bi, i, k]) * read(b, [...bi, k, j]);
          out[o++] = s;
        }
      }
    }
    return out;
  }

  it('batched products of transposed (stride-swapped), stepped, offset and batch-broadcast operands', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
          m: fc.integer({ min: 1, max: 6 }),
          k: fc.integer({ min: 1, max: 6 }),
          n: fc.integer({ min: 1, max: 6 }),
        }).chain(({ batch, m, k, n }) =>
          fc.record({
            a: fc.constant([...batch, m, k]),
            b: fc.constant([...batch, k, n]),
            la: layoutArb(batch.length + 2),
            lb: layoutArb(batch.length + 2),
          }),
        ),
        ({ a, b, la, lb }) => {
          // only batch dims may be broadcast (stride 0); the matrix dims are real
          const r = a.length;
          const noBcast = (l: LayoutSpec) => ({ ...l, broadcast: l.broadcast.map((x, i) => x && i < r - 2) });
          const A = makeView(a, noBcast(la));
          const B = makeView(b, noBcast(lb), 'float64', (i) => Math.cos(i * 0.37));
          const out = be.read(be.matmul(A, B, 'float64'));
          expectClose(out, naive(A, B), { rtol: 1e-13, atol: 1e-13, what: `matmul [${a}]·[${b}]` });
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('hand values: Aᵀ·B with Aᵀ given as swapped strides', () => {
    // A stored (2,3) = [[1,2,3],[4,5,6]]; Aᵀ is (3,2) with strides (1,3)
    const At: View = { storage: be.fromArray(Float64Array.from([1, 2, 3, 4, 5, 6]), 'float64'), shape: [3, 2], strides: [1, 3], offset: 0 };
    const B = contiguousView(be.fromArray(Float64Array.from([1, 0, 0, 1]), 'float64'), [2, 2]);
    expect(Array.from(be.read(be.matmul(At, B, 'float64')))).toEqual([1, 4, 2, 5, 3, 6]);
    const Bt: View = { storage: be.fromArray(Float64Array.from([1, 2, 3, 4]), 'float64'), shape: [2, 2], strides: [1, 2], offset: 0 }; // [[1,3],[2,4]]
    expect(Array.from(be.read(be.matmul(At, Bt, 'float64')))).toEqual([9, 19, 12, 26, 15, 33]);
  });

  it('int32 and float32 outputs', () => {
    const a = contiguousView(be.fromArray(Int32Array.from([1, 2, 3, 4]), 'int32'), [2, 2]);
    const out = be.matmul(a, a, 'int32');
    expect(out.dtype).toBe('int32');
    expect(Array.from(be.read(out))).toEqual([7, 10, 15, 22]);
    const f = contiguousView(be.fromArray(Float32Array.from([0.1, 0.2]), 'float32'), [1, 2]);
    const ft: View = { ...f, shape: [2, 1], strides: [1, 2] };
    const dot = be.read(be.matmul(f, ft, 'float32'));
    expect(dot).toBeInstanceOf(Float32Array);
    expectClose(dot, [Math.fround(0.1) ** 2 + Math.fround(0.2) ** 2], { rtol: 2 ** -22, atol: 0 });
  });
});

// ---- copy ---------------------------------------------------------------------------------------------

describe('copy', () => {
  it('writes exactly the destination view (strided, offset) from any source view', () => {
    fc.assert(
      fc.property(
        shapeArb().chain((shape) => fc.record({ shape: fc.constant(shape), ld: layoutArb(shape.length, false), ls: layoutArb(shape.length) })),
        ({ shape, ld, ls }) => {
          const dst = makeView(shape, ld, 'float64', () => -1000);
          const src = makeView(shape, ls);
          const before = Float64Array.from(be.read(dst.storage));
          be.copy(dst, src);
          const after = be.read(dst.storage);
          const expected = Float64Array.from(before);
          for (const idx of indices(shape)) expected[at(dst, idx)] = read(src, idx);
          expect(Array.from(after)).toEqual(Array.from(expected)); // and nothing else was touched
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('converts dtypes on the way', () => {
    const dst = contiguousView(be.full(3, 'int32', 0), [3]);
    be.copy(dst, contiguousView(be.fromArray(Float64Array.from([1.9, -1.9, 7]), 'float64'), [3]));
    expect(Array.from(be.read(dst.storage))).toEqual([1, -1, 7]);
  });
});

// ---- gather / scatterAdd ------------------------------------------------------------------------------

describe('gather and scatterAdd', () => {
  const caseArb = shapeArb(3, 4).filter((s) => s.length > 0).chain((xShape) =>
    fc.record({
      xShape: fc.constant(xShape),
      dim: fc.integer({ min: 0, max: xShape.length - 1 }),
      idxShape: fc.tuple(...xShape.map((d) => fc.integer({ min: 1, max: d }))),
      along: fc.integer({ min: 1, max: 6 }),
      lx: layoutArb(xShape.length, false),
      li: layoutArb(xShape.length),
      seed: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    }),
  );

  /** An int32 index view laid out as `layout`, with values in [0, size) (repeats likely). */
  function indexView(shape: number[], layout: LayoutSpec, size: number, seed: number[]): View {
    const v = makeView(shape, layout, 'float64');
    const data = Int32Array.from({ length: v.storage.size }, (_, i) => (seed[i % seed.length]! + i * 7) % size);
    return { ...v, storage: be.fromArray(data, 'int32') };
  }

  it('gather reads x at the indexed positions (strided x and index, repeated indices)', () => {
    fc.assert(
      fc.property(caseArb, ({ xShape, dim, idxShape, along, lx, li, seed }) => {
        const shape = idxShape.map((d, i) => (i === dim ? along : d));
        const x = makeView(xShape, lx);
        const index = indexView(shape, li, xShape[dim]!, seed);
        const out = be.read(be.gather(x, dim, index));
        let k = 0;
        for (const p of indices(shape)) {
          const q = [...p];
          q[dim] = read(index, p);
          expect(out[k++]).toBe(read(x, q));
        }
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('scatterAdd accumulates every source element at its index (repeats add up)', () => {
    fc.assert(
      fc.property(caseArb, ({ xShape, dim, idxShape, along, lx, li, seed }) => {
        const shape = idxShape.map((d, i) => (i === dim ? along : d));
        const dst = makeView(xShape, lx, 'float64', (i) => i * 0.5);
        const index = indexView(shape, li, xShape[dim]!, seed);
        const src = makeView(shape, { perm: [...shape.keys()].reverse(), steps: shape.map(() => 1), offset: 1, broadcast: shape.map(() => false) });
        const expected = Float64Array.from(be.read(dst.storage));
        for (const p of indices(shape)) {
          const q = [...p];
          q[dim] = read(index, p);
          expected[at(dst, q)] = expected[at(dst, q)]! + read(src, p);
        }
        be.scatterAdd(dst, dim, index, src);
        expectClose(be.read(dst.storage), expected, { rtol: 1e-15, atol: 1e-15, what: 'scatterAdd' });
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('hand values: repeated indices accumulate', () => {
    const dst = contiguousView(be.full(3, 'float64', 0), [3]);
    const index = contiguousView(be.fromArray(Int32Array.from([0, 2, 0, 0]), 'int32'), [4]);
    const src = contiguousView(be.fromArray(Float64Array.from([1, 2, 3, 4]), 'float64'), [4]);
    be.scatterAdd(dst, 0, index, src);
    expect(Array.from(be.read(dst.storage))).toEqual([8, 0, 2]);
    expect(Array.from(be.read(be.gather(src, 0, index)))).toEqual([1, 3, 1, 1]);
  });

  it('out-of-bounds indices throw a RangeError naming the index, dim and size', () => {
    const x = contiguousView(be.full(6, 'float64', 0), [2, 3]);
    const bad = contiguousView(be.fromArray(Int32Array.from([3]), 'int32'), [1, 1]);
    expect(() => be.gather(x, 1, bad)).toThrow(RangeError);
    expect(() => be.gather(x, 1, bad)).toThrow('gather: index 3 is out of bounds for dim 1 with size 3');
    expect(() => be.scatterAdd(x, 0, bad, contiguousView(be.full(1, 'float64', 1), [1, 1]))).toThrow(
      'scatterAdd: index 3 is out of bounds for dim 0 with size 2',
    );
  });
});

// ---- memory -------------------------------------------------------------------------------------------

describe('memory', () => {
  it('is registered as cpu; fromArray copies; full fills; read/readAsync agree; dispose invalidates', async () => {
    expect(getBackend('cpu')).toBe(be);
    expect(listBackends()).toContain('cpu');
    const src = Float64Array.from([1, 2, 3]);
    const s = be.fromArray(src, 'float64');
    src[0] = 100;
    expect(Array.from(be.read(s))).toEqual([1, 2, 3]);
    expect(s.size).toBe(3);
    expect(s.dtype).toBe('float64');
    expect(Array.from(await be.readAsync(s))).toEqual([1, 2, 3]);
    expect(Array.from(be.read(be.full(3, 'int32', 7)))).toEqual([7, 7, 7]);
    expect(be.read(be.full(2, 'bool', 1))).toBeInstanceOf(Uint8Array);
    be.dispose(s);
    expect(s.disposed).toBe(true);
    expect(() => be.read(s)).toThrow('cpu backend: use of a disposed tensor');
    expect(() => be.map('neg', [contiguousView(s, [3])], [3], 'float64')).toThrow(/disposed/);
  });
});
