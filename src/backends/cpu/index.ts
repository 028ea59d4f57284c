/**
 * The CPU backend: storage is a typed array, kernels are plain loops.
 *
 * Elementwise kernels are compiled once per opcode from the scalar formulas of opcodes.ts
 * with `new Function`, so the inner loop has no per-element dispatch; float32 kernels use
 * float32-accurate exp/erf (math32.ts). Reductions and matmul
 * accumulate in float64 and round once on the way out.
 */
import { isFloatingDType, type DType, type TypedArray } from '../../core/dtype.js';
import { contiguousStrides, isContiguous, numel, type Shape } from '../../core/shape.js';
import type { AdamScalars, AttentionOpts, Backend, PackedInt8Weight, Storage, View } from '../contract.js';
import { fillBernoulliFromKeys } from '../../core/random-bits.js';
import { adamStep } from './adam.js';
import { erf } from '../erf.js';
import { erf32, exp32 } from './math32.js';
import { mapOpArity, mapOpExpr, type ArgReduceOp, type MapOp, type ReduceOp } from '../opcodes.js';
import { forEachIndex, forEachRow } from './strided.js';
import { batchedGemmApplies, gemm, gemmBatched } from './matmul.js';
import { crossEntropyBackward, crossEntropyForward, layerNormBackward, layerNormForward, softmaxBackward, softmaxForward } from './fused.js';
import { cpuPool } from './pool.js';
import { attentionBackward, attentionForward, type AttentionShape, type BatchedMatrix } from './attention.js';
import { int8Gemm, int8Linear } from './int8-gemm.js';
import { int8LinearReference } from './wasm-int8-linear.js';
import { dropoutWasm, elementwiseKernels, WASM_MAP_OPS, type ElementwiseOp } from './elementwise.js';

export class CpuStorage implements Storage {
  disposed = false;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    public data: TypedArray,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

/** The elements of a contiguous view (a subarray, no copy); fused kernels require contiguity. */
function contiguousData(v: View): TypedArray {
  const n = v.shape.reduce((a, b) => a * b, 1);
  return dataOf(v.storage).subarray(v.offset, v.offset + n) as TypedArray;
}

function dataOf(s: Storage): TypedArray {
  if (!(s instanceof CpuStorage)) throw new Error(`cpu backend: got storage of backend '${s.backend.name}'`);
  if (s.disposed) throw new Error('cpu backend: use of a disposed tensor');
  return s.data;
}

// ---- compiled row kernels ------------------------------------------------------------------

type RowKernel = (n: number, out: TypedArray, oo: number, os: number, ins: TypedArray[], offs: number[], strides: number[]) => void;

const rowKernels = new Map<string, RowKernel>();

/**
 * Builds `for (i < n) out[oo + i·os] = EXPR(in₀[…], in₁[…], …)` for an opcode and the dtypes of
 * its output and inputs. One compiled function per dtype combination keeps every typed-array
 * access monomorphic, and a second loop without stride arithmetic serves the common case of
 * unit strides. Kernels whose output and floating inputs are all float32 evaluate `erf` and
 * `Math.exp` with the float32-accurate erf32/exp32 (math32.ts); all others with the float64 ones.
 */
function rowKernel(op: MapOp, outDtype: DType, inDtypes: readonly DType[]): RowKernel {
  const key = `${op}:${outDtype}:${inDtypes.join(',')}`;
  let k = rowKernels.get(key);
  if (k) return k;
  const arity = mapOpArity(op);
  const names = ['a', 'b', 'c'].slice(0, arity);
  const f32 = outDtype === 'float32' && inDtypes.every((d) => d === 'float32' || !isFloatingDType(d));
  // int32 × int32 wraps modulo 2³² (C's int32, PyTorch's): Math.imul, not the double product,
  // which loses the low bits past 2⁵³ before the store wraps it
  const expr = op === 'mul' && outDtype === 'int32' && inDtypes.every((d) => d === 'int32')
    ? 'Math.imul(a, b)'
    : mapOpExpr(op).replace(/\bMath\.exp\(/g, 'exp(');
  const decl = names.map((_v, j) => `const d${j} = ins[${j}], o${j} = offs[${j + 1}], s${j} = strides[${j + 1}];`).join('\n');
  const unit = ['os === 1', ...names.map((_v, j) => `s${j} === 1`)].join(' && ');
  const readsUnit = names.map((v, j) => `const ${v} = d${j}[o${j} + i];`).join(' ');
  const readsStrided = names.map((v, j) => `const ${v} = d${j}[o${j} + i * s${j}];`).join(' ');
  const body = `return function ${op}Kernel(n, out, oo, os, ins, offs, strides) {
${decl}
if (${unit}) { for (let i = 0; i < n; i++) { ${readsUnit} out[oo + i] = ${expr}; } }
else { for (let i = 0; i < n; i++) { ${readsStrided} out[oo + i * os] = ${expr}; } }
};`;
  k = new Function('erf', 'exp', body)(f32 ? erf32 : erf, f32 ? exp32 : Math.exp) as RowKernel;
  rowKernels.set(key, k);
  return k;
}

/** Runs an elementwise opcode, writing into the (possibly strided) output view. */
function mapInto(op: MapOp, out: TypedArray, outDtype: DType, outShape: Shape, outStrides: readonly number[], outOffset: number, inputs: readonly View[]): void {
  const kernel = rowKernel(op, outDtype, inputs.map((v) => v.storage.dtype));
  const ins = inputs.map((v) => dataOf(v.storage));
  forEachRow(outShape, [outStrides, ...inputs.map((v) => v.strides)], [outOffset, ...inputs.map((v) => v.offset)], (n, offs, strides) => {
    kernel(n, out, offs[0]!, strides[0]!, ins, offs, strides);
  });
}

/** Elementwise calls at least this long run the wasm SIMD kernels where there are some (same results, bit for bit). */
const WASM_MAP_MIN = 4096;
const WASM_OPS = new Set<MapOp>(WASM_MAP_OPS);

/** The exponential of the fused kernels for a dtype: float32-accurate for float32 (math32.ts), libm's otherwise. */
const expFor = (dt: DType): ((v: number) => number) => (dt === 'float32' ? exp32 : Math.exp);

/** A (…, rows, cols) view as one strided matrix per leading index (attention.ts). */
function batchedMatrix(x: View): BatchedMatrix {
  const r = x.shape.length;
  const offsets: number[] = [];
  forEachIndex(x.shape.slice(0, r - 2), [x.strides.slice(0, r - 2)], [x.offset], (offs) => { offsets.push(offs[0]!); });
  return { data: dataOf(x.storage), offsets, rs: x.strides[r - 2]!, cs: x.strides[r - 1]! };
}

function attentionShape(q: View, k: View, v: View, opts: AttentionOpts): AttentionShape {
  const r = q.shape.length;
  const dt = q.storage.dtype;
  if (r < 2 || k.shape.length !== r || v.shape.length !== r || q.shape.slice(0, r - 2).some((d, i) => d !== k.shape[i] || d !== v.shape[i])) {
    throw new Error(`attentionForward: q, k, v need the same leading dims (…, L, E), (…, S, E), (…, S, Ev), got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  if ((dt !== 'float32' && dt !== 'float64') || k.storage.dtype !== dt || v.storage.dtype !== dt) {
    throw new Error(`attentionForward: q, k, v must share one float dtype (float32 or float64), got ${dt}, ${k.storage.dtype}, ${v.storage.dtype}`);
  }
  const L = q.shape[r - 2]!, E = q.shape[r - 1]!, S = k.shape[r - 2]!, Ev = v.shape[r - 1]!;
  if (k.shape[r - 1] !== E || v.shape[r - 2] !== S) throw new Error(`attentionForward: q (…, L, E), k (…, S, E), v (…, S, Ev) do not fit: [${q.shape}], [${k.shape}], [${v.shape}]`);
  const want = [...q.shape.slice(0, r - 2), L, S];
  if (opts.mask && (opts.mask.storage.dtype !== dt || opts.mask.shape.length !== r || opts.mask.shape.some((d, i) => d !== want[i]))) {
    throw new Error(`attentionForward: the mask must be a ${dt} view of shape [${want}] (broadcast through zero strides), got ${opts.mask.storage.dtype} [${opts.mask.shape}]`);
  }
  const bh = numel(q.shape.slice(0, r - 2));
  return { bh, L, S, E, Ev, scale: opts.scale, mask: opts.mask ? batchedMatrix(opts.mask) : null, causal: opts.causal, causalOffset: opts.causalOffset };
}

/** True when the view is the row-major layout of `shape` (no broadcast, no gaps). */
function isDense(v: View, shape: Shape): boolean {
  if (v.shape.length !== shape.length) return false;
  const cs = contiguousStrides(shape);
  for (let i = 0; i < shape.length; i++) if (v.shape[i] !== shape[i] || (shape[i] !== 1 && v.strides[i] !== cs[i])) return false;
  return true;
}

/**
 * True for the row-lookup pattern of embedding and indexSelect(…, 0, …): a 2-D tensor with
 * contiguous rows, dim 0, and an index that is constant along each row (stride 0 on dim 1)
 * and covers whole rows.
 */
function isRowLookup(x: View, dim: number, index: View): boolean {
  return dim === 0 && x.shape.length === 2 && index.shape.length === 2 && x.strides[1] === 1 &&
    index.strides[1] === 0 && index.shape[1] === x.shape[1];
}

const REDUCE_INIT: Record<ReduceOp, number> = { sum: 0, max: -Infinity, min: Infinity };

type ReduceKernel = (n: number, acc: Float64Array, oo: number, os: number, xd: TypedArray, xo: number, xs: number) => void;
const reduceKernels = new Map<string, ReduceKernel>();

/**
 * The inner loop of a reduction over one row of x into float64 accumulators, compiled per
 * (op, dtype) like the map kernels. os = 0: the row folds into acc[oo] (reducing the last
 * dim); else element i accumulates into acc[oo + i·os] (reducing an outer dim, e.g. a bias
 * gradient). max/min propagate NaN as torch does.
 */
function reduceKernel(op: ReduceOp, dtype: DType): ReduceKernel {
  const key = `${op}:${dtype}`;
  let k = reduceKernels.get(key);
  if (k) return k;
  const fold = op === 'sum' ? 'r += v;' : `if (v ${op === 'max' ? '>' : '<'} r || v !== v) r = v; if (r !== r) break;`;
  const into = op === 'sum' ? 'acc[o] += v;' : `const r = acc[o]; if (v ${op === 'max' ? '>' : '<'} r || (v !== v && r === r)) acc[o] = v;`;
  const body = `return function ${op}Reduce(n, acc, oo, os, xd, xo, xs) {
if (os === 0) {
  let r = acc[oo];
  if (xs === 1) { for (let i = 0; i < n; i++) { const v = xd[xo + i]; ${fold} } }
  else { for (let i = 0; i < n; i++) { const v = xd[xo + i * xs]; ${fold} } }
  acc[oo] = r;
} else if (os === 1 && xs === 1) {
  for (let i = 0; i < n; i++) { const o = oo + i; const v = xd[xo + i]; ${into} }
} else {
  for (let i = 0; i < n; i++) { const o = oo + i * os; const v = xd[xo + i * xs]; ${into} }
}
};`;
  k = new Function(body)() as ReduceKernel;
  reduceKernels.set(key, k);
  return k;
}

/**
 * Σ over the leading dims of a contiguous x seen as R rows of C (a bias gradient: dims = the
 * first k dims): acc[j] = Σᵣ x[r, j], four rows per pass so each float64 accumulator is loaded
 * and stored a quarter as often. Returns false (doing nothing) for other layouts.
 */
function sumLeadingRows(x: View, dims: readonly number[], xd: TypedArray, acc: Float64Array): boolean {
  const k = dims.length;
  for (let i = 0; i < k; i++) if (!dims.includes(i)) return false;
  const cs = contiguousStrides(x.shape);
  for (let i = 0; i < x.shape.length; i++) if (x.shape[i] !== 1 && x.strides[i] !== cs[i]) return false;
  const R = numel(x.shape.slice(0, k)), C = numel(x.shape.slice(k)), o = x.offset;
  if (R < 4 || C === 0) return false;
  let r = 0;
  for (; r + 4 <= R; r += 4) {
    const r0 = o + r * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
    for (let j = 0; j < C; j++) acc[j] = acc[j]! + xd[r0 + j]! + xd[r1 + j]! + xd[r2 + j]! + xd[r3 + j]!;
  }
  for (; r < R; r++) {
    const r0 = o + r * C;
    for (let j = 0; j < C; j++) acc[j] = acc[j]! + xd[r0 + j]!;
  }
  return true;
}

let scratch = new Float64Array(1024);
/** The float64 accumulators of a reduction: one workspace reused by every call (a view of n). */
function reduceScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
  return scratch.subarray(0, n);
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';

  fromArray(data: TypedArray, dtype: DType): Storage {
    const a = cpuPool.alloc(dtype, data.length, false);
    a.set(data);
    return new CpuStorage(this, dtype, a);
  }

  /** Wraps an array without copying (the caller hands over ownership). */
  wrap(data: TypedArray, dtype: DType): CpuStorage {
    return new CpuStorage(this, dtype, data);
  }

  full(size: number, dtype: DType, value: number): Storage {
    const a = cpuPool.alloc(dtype, size, value === 0);
    if (value !== 0) a.fill(value);
    return new CpuStorage(this, dtype, a);
  }

  read(storage: Storage): TypedArray {
    return dataOf(storage);
  }

  async readAsync(storage: Storage): Promise<TypedArray> {
    return dataOf(storage);
  }

  dispose(storage: Storage): void {
    if (storage instanceof CpuStorage && !storage.disposed) {
      storage.disposed = true;
      const data = storage.data;
      storage.data = new Float32Array(0); // drop the reference first: the array may be reused at once
      cpuPool.release(data, storage.dtype);
    }
  }

  map(op: MapOp, inputs: readonly View[], outShape: Shape, outDtype: DType): Storage {
    const n = numel(outShape);
    const out = cpuPool.alloc(outDtype, n, false); // every element is written
    if (n >= WASM_MAP_MIN && WASM_OPS.has(op) && outDtype === 'float32' && inputs.every((v) => v.storage.dtype === 'float32' && isDense(v, outShape))) {
      const k = elementwiseKernels();
      if (k !== null && k.run(op as ElementwiseOp, inputs.map((v) => dataOf(v.storage) as Float32Array), inputs.map((v) => v.offset), out as Float32Array, n)) {
        return new CpuStorage(this, outDtype, out);
      }
    }
    mapInto(op, out, outDtype, outShape, contiguousStrides(outShape), 0, inputs);
    return new CpuStorage(this, outDtype, out);
  }

  copy(dst: View, src: View): void {
    mapInto('identity', dataOf(dst.storage), dst.storage.dtype, dst.shape, dst.strides, dst.offset, [src]);
  }

  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const acc = reduceScratch(numel(outShape)).fill(REDUCE_INIT[op]);
    // The output seen with stride 0 along reduced dims: every x element lands on its slot.
    const outStrides = contiguousStrides(outShape).map((s, i) => (dims.includes(i) ? 0 : s));
    const xd = dataOf(x.storage);
    if (op === 'sum' && sumLeadingRows(x, dims, xd, acc)) {
      const out = cpuPool.alloc(outDtype, acc.length, false);
      out.set(acc);
      return new CpuStorage(this, outDtype, out);
    }
    const kernel = reduceKernel(op, x.storage.dtype);
    forEachRow(x.shape, [outStrides, x.strides], [0, x.offset], (n, offs, strides) => {
      kernel(n, acc, offs[0]!, strides[0]!, xd, offs[1]!, strides[1]!);
    });
    const out = cpuPool.alloc(outDtype, acc.length, false);
    out.set(acc);
    return new CpuStorage(this, outDtype, out);
  }

  argReduce(op: ArgReduceOp, x: View, dim: number): Storage {
    const outShape = x.shape.map((d, i) => (i === dim ? 1 : d));
    const out = new Int32Array(numel(outShape));
    const xd = dataOf(x.storage);
    const n = x.shape[dim]!;
    const s = x.strides[dim]!;
    const outerShape = x.shape.map((d, i) => (i === dim ? 1 : d));
    let k = 0;
    forEachIndex(outerShape, [x.strides], [x.offset], (offs) => {
      let best = 0;
      let bestV = xd[offs[0]!]!;
      if (bestV === bestV) {
        for (let i = 1; i < n; i++) {
          const v = xd[offs[0]! + i * s]!;
          if (v !== v) { best = i; break; }
          if (op === 'argmax' ? v > bestV : v < bestV) { best = i; bestV = v; }
        }
      }
      out[k++] = best;
    });
    return new CpuStorage(this, 'int32', out);
  }

  matmul(a: View, b: View, outDtype: DType): Storage {
    const r = a.shape.length;
    const M = a.shape[r - 2]!, K = a.shape[r - 1]!, N = b.shape[r - 1]!;
    const batchShape = a.shape.slice(0, r - 2);
    const out = cpuPool.alloc(outDtype, numel(batchShape) * M * N, false); // gemm writes every element
    const ad = dataOf(a.storage), bd = dataOf(b.storage);
    const count = numel(batchShape);
    if (batchedGemmApplies(out, count, M, N, K)) {
      // many small products (attention heads): one batched job
      const aOffs: number[] = [], bOffs: number[] = [];
      forEachIndex(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2)], [a.offset, b.offset], (offs) => {
        aOffs.push(offs[0]!);
        bOffs.push(offs[1]!);
      });
      gemmBatched(count, M, N, K, ad, aOffs, a.strides[r - 2]!, a.strides[r - 1]!, bd, bOffs, b.strides[r - 2]!, b.strides[r - 1]!, out, 0);
      return new CpuStorage(this, outDtype, out);
    }
    let c = 0;
    forEachIndex(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2)], [a.offset, b.offset], (offs) => {
      gemm(M, N, K, ad, offs[0]!, a.strides[r - 2]!, a.strides[r - 1]!, bd, offs[1]!, b.strides[r - 2]!, b.strides[r - 1]!, out, c);
      c += M * N;
    });
    return new CpuStorage(this, outDtype, out);
  }

  /**
   * out = bias + a·b (torch.addmm with β = α = 1): every row of out starts as the bias, then
   * the GEMM accumulates onto it, out[i, j] = bias[j] + Σₖ a[i, k]·b[k, j] (bias first, then k
   * in order), so the bias costs no separate elementwise pass.
   */
  addmm(bias: View, a: View, b: View, outDtype: DType): Storage {
    const [M, K] = a.shape as [number, number];
    const N = b.shape[1]!;
    const out = cpuPool.alloc(outDtype, M * N, false); // every element is written below
    const row = { data: dataOf(bias.storage), off: bias.offset, stride: bias.strides[0]! };
    gemm(M, N, K, dataOf(a.storage), a.offset, a.strides[0]!, a.strides[1]!, dataOf(b.storage), b.offset, b.strides[0]!, b.strides[1]!, out, 0, 'auto', row);
    return new CpuStorage(this, outDtype, out);
  }

  gather(x: View, dim: number, index: View): Storage {
    const out = cpuPool.alloc(x.storage.dtype, numel(index.shape), false); // every element is written
    const xd = dataOf(x.storage), id = dataOf(index.storage);
    const size = x.shape[dim]!, xs = x.strides[dim]!;
    if (isRowLookup(x, dim, index)) {
      // embedding / indexSelect over rows: copy whole contiguous rows
      const [n, H] = index.shape as [number, number];
      for (let r = 0; r < n; r++) {
        const j = id[index.offset + r * index.strides[0]!]!;
        if (j < 0 || j >= size || !Number.isInteger(j)) throw new RangeError(`gather: index ${j} is out of bounds for dim ${dim} with size ${size}`);
        out.set(xd.subarray(x.offset + j * xs, x.offset + j * xs + H), r * H);
      }
      return new CpuStorage(this, x.storage.dtype, out);
    }
    // x's strides with the gathered dim zeroed: the index supplies that coordinate
    const xStrides = x.strides.map((s, i) => (i === dim ? 0 : s));
    let k = 0;
    forEachIndex(index.shape, [xStrides, index.strides], [x.offset, index.offset], (offs) => {
      const j = id[offs[1]!]!;
      if (j < 0 || j >= size || !Number.isInteger(j)) throw new RangeError(`gather: index ${j} is out of bounds for dim ${dim} with size ${size}`);
      out[k++] = xd[offs[0]! + j * xs]!;
    });
    return new CpuStorage(this, x.storage.dtype, out);
  }

  scatterAdd(dst: View, dim: number, index: View, src: View): void {
    const dd = dataOf(dst.storage), id = dataOf(index.storage), sd = dataOf(src.storage);
    const size = dst.shape[dim]!, ds = dst.strides[dim]!;
    if (isRowLookup(dst, dim, index) && src.strides[1] === 1 && src.strides[0] === src.shape[1]) {
      // the embedding gradient: add whole contiguous rows
      const [n, H] = index.shape as [number, number];
      for (let r = 0; r < n; r++) {
        const j = id[index.offset + r * index.strides[0]!]!;
        if (j < 0 || j >= size || !Number.isInteger(j)) throw new RangeError(`scatterAdd: index ${j} is out of bounds for dim ${dim} with size ${size}`);
        const d0 = dst.offset + j * ds, s0 = src.offset + r * H;
        for (let c = 0; c < H; c++) dd[d0 + c]! += sd[s0 + c]!;
      }
      return;
    }
    const dStrides = dst.strides.map((s, i) => (i === dim ? 0 : s));
    forEachIndex(index.shape, [dStrides, index.strides, src.strides], [dst.offset, index.offset, src.offset], (offs) => {
      const j = id[offs[1]!]!;
      if (j < 0 || j >= size || !Number.isInteger(j)) throw new RangeError(`scatterAdd: index ${j} is out of bounds for dim ${dim} with size ${size}`);
      dd[offs[0]! + j * ds]! += sd[offs[2]!]!;
    });
  }

  layerNormForward(x: View, n: number, w: View | null, b: View | null, eps: number): { y: Storage; stats: Storage } {
    const xd = contiguousData(x), dt = x.storage.dtype;
    const r = layerNormForward(xd, n, w ? contiguousData(w) : null, b ? contiguousData(b) : null, eps, dt);
    const stats = new Float64Array(2 * r.mean.length);
    stats.set(r.mean);
    stats.set(r.rstd, r.mean.length);
    return { y: new CpuStorage(this, dt, r.y), stats: new CpuStorage(this, 'float64', stats) };
  }

  layerNormBackward(
    g: View, x: View, stats: Storage, w: View | null, n: number, needs: { x: boolean; w: boolean; b: boolean },
  ): { dx: Storage | null; dw: Storage | null; db: Storage | null } {
    const st = dataOf(stats) as Float64Array;
    const rows = st.length / 2;
    const dt = x.storage.dtype;
    const r = layerNormBackward(contiguousData(g), contiguousData(x), st.subarray(0, rows), st.subarray(rows), w ? contiguousData(w) : null, n, dt, needs);
    const wrap = (a: TypedArray | null) => (a ? new CpuStorage(this, dt, a) : null);
    return { dx: wrap(r.dx), dw: wrap(r.dw), db: wrap(r.db) };
  }

  softmaxForward(x: View, n: number, log: boolean, opts: { scale?: number; mask?: View | null } = {}): Storage {
    const dt = x.storage.dtype;
    let mask: { data: TypedArray; rowOffsets: number[]; stride: number } | null = null;
    if (opts.mask) {
      // the offset of each row's mask slice: walk the leading dims with the mask's (broadcast) strides
      const m = opts.mask, r = m.shape.length;
      const rowOffsets: number[] = [];
      forEachIndex(m.shape.slice(0, r - 1), [m.strides.slice(0, r - 1)], [m.offset], (offs) => { rowOffsets.push(offs[0]!); });
      mask = { data: dataOf(m.storage), rowOffsets, stride: m.strides[r - 1]! };
    }
    return new CpuStorage(this, dt, softmaxForward(contiguousData(x), n, log, dt, expFor(dt), opts.scale ?? 1, mask));
  }

  attentionForward(q: View, k: View, v: View, opts: AttentionOpts): { out: Storage; lse: Storage } {
    const sh = attentionShape(q, k, v, opts);
    const r = attentionForward(sh, batchedMatrix(q), batchedMatrix(k), batchedMatrix(v), expFor(q.storage.dtype));
    return { out: new CpuStorage(this, q.storage.dtype, r.out), lse: new CpuStorage(this, 'float64', r.lse) };
  }

  attentionBackward(g: View, q: View, k: View, v: View, out: View, lse: Storage, opts: AttentionOpts): { dq: Storage; dk: Storage; dv: Storage } {
    const sh = attentionShape(q, k, v, opts), dt = q.storage.dtype;
    const r = attentionBackward(sh, contiguousData(g), batchedMatrix(q), batchedMatrix(k), batchedMatrix(v), contiguousData(out), dataOf(lse) as Float64Array, expFor(dt));
    return { dq: new CpuStorage(this, dt, r.dq), dk: new CpuStorage(this, dt, r.dk), dv: new CpuStorage(this, dt, r.dv) };
  }

  crossEntropyForward(x: View, n: number, target: View, ignoreIndex: number): { probs: Storage; total: number; count: number } {
    const dt = x.storage.dtype;
    const r = crossEntropyForward(contiguousData(x), n, contiguousData(target), ignoreIndex, dt, expFor(dt));
    return { probs: new CpuStorage(this, dt, r.probs), total: r.total, count: r.count };
  }

  crossEntropyBackward(probs: Storage, n: number, target: View, ignoreIndex: number, scale: number): Storage {
    return new CpuStorage(this, probs.dtype, crossEntropyBackward(dataOf(probs), n, contiguousData(target), ignoreIndex, scale, probs.dtype));
  }

  softmaxBackward(g: View, y: View, n: number, log: boolean, scale = 1): Storage {
    const dt = y.storage.dtype;
    return new CpuStorage(this, dt, softmaxBackward(contiguousData(g), contiguousData(y), n, log, dt, expFor(dt), scale));
  }

  dropout(x: View, p: number, scale: number, keys: { k1: number; k2: number }): { out: Storage; mask: Storage } | null {
    if (!(x.storage instanceof CpuStorage) || !isContiguous(x.shape, x.strides)) return null;
    // mask and x·mask in one pass, into pooled buffers owned by the new storages; large float32
    // tensors in wasm SIMD (the same bits as the JS loop)
    const dt = x.storage.dtype, n = numel(x.shape);
    const m = cpuPool.alloc(dt, n, false), o = cpuPool.alloc(dt, n, false);
    const xd = x.storage.data;
    const wasm = dt === 'float32' && n >= 4096 && p < 1;
    if (!(wasm && dropoutWasm(xd as Float32Array, x.offset, n, p, scale, keys.k1, keys.k2, m as Float32Array, o as Float32Array))) {
      fillBernoulliFromKeys(m, p, scale, keys.k1, keys.k2, { src: xd, srcOffset: x.offset, dst: o });
    }
    return { out: new CpuStorage(this, dt, o), mask: new CpuStorage(this, dt, m) };
  }

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, s: AdamScalars): boolean {
    const views = [param, grad, expAvg, expAvgSq];
    const dt = param.storage.dtype;
    if ((dt !== 'float32' && dt !== 'float64') || views.some((v) => !(v.storage instanceof CpuStorage) || v.storage.dtype !== dt || !isContiguous(v.shape, v.strides))) return false;
    const a = views.map((v) => (v.storage as CpuStorage).data as Float32Array | Float64Array);
    adamStep(a[0]!, param.offset, a[1]!, grad.offset, a[2]!, expAvg.offset, a[3]!, expAvgSq.offset, numel(param.shape), dt === 'float32', s);
    return true;
  }

  int8Gemm(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array {
    return int8Gemm(a, b, m, n, k);
  }

  int8Linear(x: View, w: PackedInt8Weight, scale: Float32Array, bias: Float32Array | null): Storage | null {
    if (!(x.storage instanceof CpuStorage) || x.storage.dtype !== 'float32' || x.shape.length !== 2 || !isContiguous(x.shape, x.strides)) return null;
    const [m, k] = x.shape as [number, number];
    if (k !== w.k) throw new Error(`int8Linear: x has ${k} columns, the weight ${w.k}`);
    const xs = (x.storage.data as Float32Array).subarray(x.offset, x.offset + m * k);
    // the output goes straight into pooled memory (no intermediate array)
    const out = cpuPool.alloc('float32', m * w.n, false) as Float32Array;
    // no wasm SIMD: the same arithmetic in JS (wasm-int8-linear.ts's reference)
    const what = 'QuantizedLinear (input)';
    if (int8Linear(xs, m, w, scale, bias, what, out) === null) int8LinearReference(xs, m, w, scale, bias, out, what);
    return new CpuStorage(this, 'float32', out);
  }
}

export const cpuBackend = new CpuBackend();
