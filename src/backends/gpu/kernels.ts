/**
 * Kernel sources for the gpu.js backend.
 *
 * Every kernel has a 1-D output of n elements (a memory-optimized float texture, 4 values per
 * texel) and reads its inputs as 1-D textures: an element of a strided view lives at
 * offset + Σ iₖ·strideₖ of its storage, exactly as on the CPU. That index arithmetic is done in
 * GLSL `int`s by small generated functions (gpu.js would turn JS locals into floats); the
 * kernel body that gpu.js transpiles only calls them:
 *
 *   function (x0, o0, x1, z) { return tg_f(x0[tg_i0(this.thread.x, o0)], x1, z); }
 *
 * Shapes and strides are baked into the GLSL (they are the cache key); offsets are int uniforms,
 * so views at different offsets (slices, heads, rows) share one compiled kernel. An operand
 * whose elements are all one known value (a scalar, a `full()` storage) is a float uniform
 * instead of a texture. `z` is a uniform 0 that the formulas use to make NaN and ∞.
 */
import type { Shape } from '../../core/shape.js';
import { coalesce } from '../cpu/strided.js';
import type { GpuJsNativeFunction } from './gpujs.js';
import { GLSL_LIBRARY, compileFormula, storeExpr, type StoreConversion } from './glsl.js';

/** The texture type of every pipeline output (precision 'single', optimizeFloatMemory). */
export const TEXTURE_TYPE = 'MemoryOptimizedNumberTexture';

/**
 * GLSL loops on Mesa's llvmpipe stop after 65 535 iterations (LP_MAX_TGSI_LOOP_ITERATIONS),
 * silently. No kernel loops longer than this; longer work is split or runs on the CPU.
 */
export const MAX_LOOP = 65535;
/** Reductions longer than this are split into chunks, reduced again in a second pass. */
export const REDUCE_CHUNK = 1024;

export interface KernelSpec {
  /** Everything the generated code depends on. */
  readonly key: string;
  readonly source: string;
  readonly natives: GpuJsNativeFunction[];
  readonly injected: string;
  readonly argTypes: Record<string, string>;
  readonly loopMax: number;
  readonly dynamicOutput?: boolean;
}

/** How an input reaches a kernel: a texture (read at offsets) or one value for every element. */
export type OperandKind = 'tex' | 'scalar';

function native(source: string): GpuJsNativeFunction {
  const m = /^\s*\w+\s+(\w+)\s*\(/.exec(source);
  if (!m) throw new Error(`internal: cannot name native function ${source.slice(0, 40)}`);
  return { name: m[1]!, source };
}

function spec(key: string, source: string, entries: string[], helpers: string[], argTypes: Record<string, string>, loopMax = 1): KernelSpec {
  return { key, source, natives: entries.map(native), injected: GLSL_LIBRARY + helpers.join(''), argTypes, loopMax: Math.max(1, loopMax) };
}

/**
 * `int name(int t, int off)`: the storage offset of element t (row-major over `shape`) of a view
 * with these strides: off + Σ iₖ·strideₖ, the iₖ peeled off t from the innermost dim out.
 */
export function offsetFn(name: string, shape: Shape, strides: readonly number[]): string {
  const lines = ['  int o = off;'];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!, s = strides[d]!;
    if (d === 0) {
      if (s !== 0) lines.push(`  o += t * ${s};`);
    } else {
      lines.push(`  { int q = t / ${n}; ${s !== 0 ? `o += (t - q * ${n}) * ${s}; ` : ''}t = q; }`);
    }
  }
  return `int ${name}(int t, int off) {\n${lines.join('\n')}\n  return o;\n}\n`;
}

/** `float tg_st(float v, float z)`: the typed-array store conversion of the output dtype. */
function storeFn(store: StoreConversion): string {
  return `float tg_st(float v, float z) { return ${storeExpr('v', store)}; }\n`;
}

const sig = (shape: Shape, strides: readonly (readonly number[])[]): string => `${shape.join('x')}:${strides.map((s) => s.join(',')).join('|')}`;

// ---- map --------------------------------------------------------------------------------------

/**
 * out[t] = f(x₀[…], x₁[…], …) for an opcode's formula. `strides[j]` are operand j's strides over
 * `shape` (ignored for scalar operands).
 */
export function mapSpec(op: string, expr: string, kinds: readonly OperandKind[], shape: Shape, strides: readonly (readonly number[])[], store: StoreConversion): KernelSpec {
  const texIdx = kinds.flatMap((k, j) => (k === 'tex' ? [j] : []));
  // merge dims that are contiguous for every texture operand (scalars do not care)
  const lay = coalesce(shape, texIdx.map((j) => strides[j]!));
  const key = `map|${op}|${store}|${kinds.join(',')}|${sig(lay.shape, lay.strides)}`;
  const entries = [compileFormula('tg_f', expr, kinds.length, store)];
  const params: string[] = [];
  const argTypes: Record<string, string> = {};
  const reads = kinds.map((k, j) => {
    if (k === 'scalar') {
      params.push(`x${j}`);
      argTypes[`x${j}`] = 'Float';
      return `x${j}`;
    }
    const li = texIdx.indexOf(j);
    entries.push(offsetFn(`tg_i${j}`, lay.shape, lay.strides[li]!));
    params.push(`x${j}`, `o${j}`);
    argTypes[`x${j}`] = TEXTURE_TYPE;
    argTypes[`o${j}`] = 'Integer';
    return `x${j}[tg_i${j}(this.thread.x, o${j})]`;
  });
  params.push('z');
  argTypes.z = 'Float';
  const source = `function (${params.join(', ')}) { return tg_f(${[...reads, 'z'].join(', ')}); }`;
  return spec(key, source, entries, [], argTypes);
}

// ---- upload -------------------------------------------------------------------------------------

/** Copies a Float32Array argument into a pipeline texture (one kernel for every size). */
export function uploadSpec(): KernelSpec {
  return { ...spec('upload', 'function (a) { return a[this.thread.x]; }', [], [], { a: 'Array' }), dynamicOutput: true };
}

// ---- reduce -------------------------------------------------------------------------------------

export type ReduceAcc = 'sum' | 'max' | 'min';

function accFns(op: ReduceAcc): string {
  const init = op === 'sum' ? '0.0' : op === 'max' ? '(-1.0 / z)' : '(1.0 / z)';
  const better = op === 'max' ? 'v > r' : 'v < r';
  const acc = op === 'sum' ? 'r + v' : `(tg_isnan(r) ? r : (tg_isnan(v) || ${better}) ? v : r)`;
  return `float tg_init(float z) { return ${init}; }\nfloat tg_acc(float r, float v) { return ${acc}; }\n`;
}

/**
 * Reduces a view over its `reduced` dims (the others `kept`, in order), as `parts` chunks of
 * `chunk` elements per output: out[o·parts + p] = ⊕_{k < chunk, p·chunk + k < R} x[base(o) + red(p·chunk + k)].
 * With parts = 1 that is the whole reduction; otherwise the partial results are reduced again.
 */
export function reduceSpec(
  op: ReduceAcc, keptShape: Shape, keptStrides: readonly number[], redShape: Shape, redStrides: readonly number[],
  parts: number, chunk: number, store: StoreConversion,
): KernelSpec {
  const kept = coalesce(keptShape, [keptStrides]);
  const red = coalesce(redShape, [redStrides]);
  const R = redShape.reduce((p, d) => p * d, 1);
  const key = `reduce|${op}|${store}|${sig(kept.shape, kept.strides)}|${sig(red.shape, red.strides)}|${parts}|${chunk}`;
  const helpers = [accFns(op), offsetFn('tg_base', kept.shape, kept.strides[0] ?? []), offsetFn('tg_red', red.shape, red.strides[0] ?? [])];
  const entries = [
    `int tg_at(int t, int k, int off) { int o = t / ${parts}; int kk = (t - o * ${parts}) * ${chunk} + k; return tg_base(o, off) + tg_red(kk, 0); }\n`,
    `float tg_in(int t, int k) { int o = t / ${parts}; return (t - o * ${parts}) * ${chunk} + k < ${R} ? 1.0 : 0.0; }\n`,
    `float tg_fold(float r, float v) { return tg_acc(r, v); }\n`,
    `float tg_start(float z) { return tg_init(z); }\n`,
    storeFn(store),
  ];
  const body = parts === 1
    ? `for (let k = 0; k < ${chunk}; k++) { r = tg_fold(r, x[tg_at(this.thread.x, k, ox)]); }`
    : `for (let k = 0; k < ${chunk}; k++) { if (tg_in(this.thread.x, k) > 0.5) { r = tg_fold(r, x[tg_at(this.thread.x, k, ox)]); } }`;
  const source = `function (x, ox, z) { let r = tg_start(z); ${body} return tg_st(r, z); }`;
  return spec(key, source, entries, helpers, { x: TEXTURE_TYPE, ox: 'Integer', z: 'Float' }, chunk);
}

// ---- argReduce ------------------------------------------------------------------------------------

/** Index of the first max / min along one dim (a NaN wins, as on the CPU). */
export function argReduceSpec(op: 'argmax' | 'argmin', outerShape: Shape, outerStrides: readonly number[], n: number, stride: number): KernelSpec {
  const outer = coalesce(outerShape, [outerStrides]);
  const key = `arg|${op}|${sig(outer.shape, outer.strides)}|${n}|${stride}`;
  const helpers = [offsetFn('tg_base', outer.shape, outer.strides[0] ?? [])];
  const entries = [
    `int tg_at(int t, int i, int off) { return tg_base(t, off) + i * ${stride}; }\n`,
    'float tg_nanf(float v) { return tg_isnan(v) ? 1.0 : 0.0; }\n',
  ];
  const cmp = op === 'argmax' ? 'v > bestV' : 'v < bestV';
  const source = `function (x, ox) {
  let best = 0.0;
  let bestV = x[tg_at(this.thread.x, 0, ox)];
  let done = tg_nanf(bestV);
  for (let i = 1; i < ${n}; i++) {
    if (done < 0.5) {
      const v = x[tg_at(this.thread.x, i, ox)];
      if (tg_nanf(v) > 0.5) { best = i; done = 1.0; } else if (${cmp}) { best = i; bestV = v; }
    }
  }
  return best;
}`;
  return spec(key, source, entries, helpers, { x: TEXTURE_TYPE, ox: 'Integer' }, n);
}

// ---- matmul -------------------------------------------------------------------------------------

/** out[b, m, n] = Σₖ a[b, m, k]·b[b, k, n] over strided views with batch dims `batchShape`. */
export function matmulSpec(
  batchShape: Shape, aBatch: readonly number[], bBatch: readonly number[],
  M: number, K: number, N: number, sAM: number, sAK: number, sBK: number, sBN: number, store: StoreConversion,
): KernelSpec {
  const batch = coalesce(batchShape, [aBatch, bBatch]);
  const key = `matmul|${store}|${sig(batch.shape, batch.strides)}|${M},${K},${N}|${sAM},${sAK},${sBK},${sBN}`;
  const helpers = [offsetFn('tg_ba', batch.shape, batch.strides[0] ?? []), offsetFn('tg_bb', batch.shape, batch.strides[1] ?? [])];
  const entries = [
    `int tg_a(int t, int k, int off) { int q = t / ${N}; int bi = q / ${M}; int m = q - bi * ${M}; return tg_ba(bi, off) + m * ${sAM} + k * ${sAK}; }\n`,
    `int tg_b(int t, int k, int off) { int q = t / ${N}; int n = t - q * ${N}; int bi = q / ${M}; return tg_bb(bi, off) + k * ${sBK} + n * ${sBN}; }\n`,
    storeFn(store),
  ];
  const source = `function (a, oa, b, ob, z) { let s = 0.0; for (let k = 0; k < ${K}; k++) { s += a[tg_a(this.thread.x, k, oa)] * b[tg_b(this.thread.x, k, ob)]; } return tg_st(s, z); }`;
  return spec(key, source, entries, helpers, { a: TEXTURE_TYPE, oa: 'Integer', b: TEXTURE_TYPE, ob: 'Integer', z: 'Float' }, K);
}

// ---- gather -------------------------------------------------------------------------------------

/** out[p] = x[p with p[dim] := index[p]] over index's shape (indices checked on the host). */
export function gatherSpec(indexShape: Shape, indexStrides: readonly number[], xStrides: readonly number[], dim: number, indexKind: OperandKind): KernelSpec {
  const key = `gather|${indexKind}|${sig(indexShape, [indexStrides, xStrides])}|${dim}`;
  const xBase = xStrides.map((s, k) => (k === dim ? 0 : s));
  const helpers = [offsetFn('tg_xb', indexShape, xBase)];
  // the index value arrives as a float (exact: indices are below 2²⁴)
  const entries = [`int tg_xo(int t, float j, int off) { return tg_xb(t, off) + int(j) * ${xStrides[dim]}; }\n`];
  let j = 'ix';
  const argTypes: Record<string, string> = { x: TEXTURE_TYPE, ox: 'Integer', ix: 'Float' };
  if (indexKind === 'tex') {
    entries.push(offsetFn('tg_io', indexShape, indexStrides));
    j = 'ix[tg_io(this.thread.x, oi)]';
    argTypes.ix = TEXTURE_TYPE;
    argTypes.oi = 'Integer';
  }
  const params = indexKind === 'tex' ? 'x, ox, ix, oi' : 'x, ox, ix';
  // read the index into a local first: gpu.js mistypes a texture read nested in another's index
  const source = `function (${params}) { const j = ${j}; return x[tg_xo(this.thread.x, j, ox)]; }`;
  return spec(key, source, entries, helpers, argTypes);
}

// ---- in-place writes: copy and scatterAdd ---------------------------------------------------------

/**
 * Whether every storage position of a view can be found from the position alone by peeling
 * coordinates off greedily, largest stride first: true when each stride exceeds the span of all
 * smaller ones (sₖ > Σ_{m after k} (nₘ − 1)·sₘ, dims sorted by stride). Views made from a
 * contiguous tensor by permute / slice (with steps) / select / reshape are; an expanded view
 * (stride 0, size > 1: overlapping writes) is not.
 */
export function greedyOrder(shape: Shape, strides: readonly number[]): number[] | null {
  const dims = shape.map((_, k) => k).filter((k) => shape[k]! > 1);
  if (dims.some((k) => strides[k]! <= 0)) return null;
  dims.sort((p, q) => strides[q]! - strides[p]!);
  let span = 0;
  for (let i = dims.length - 1; i >= 0; i--) {
    const k = dims[i]!;
    if (strides[k]! <= span) return null;
    span += (shape[k]! - 1) * strides[k]!;
  }
  return dims;
}

/** GLSL lines that set q0…q(rank−1), the view coordinates of storage position p, or `return fail`. */
function peel(shape: Shape, strides: readonly number[], order: readonly number[], fail: string): string {
  const lines = [`  int r = p - od;`, `  if (r < 0) return ${fail};`];
  for (let k = 0; k < shape.length; k++) lines.push(`  int q${k} = 0;`);
  for (const k of order) {
    lines.push(`  q${k} = r / ${strides[k]}; if (q${k} >= ${shape[k]}) return ${fail}; r -= q${k} * ${strides[k]};`);
  }
  lines.push(`  if (r != 0) return ${fail};`);
  return lines.join('\n');
}

/**
 * A new texture for the whole destination storage (size n): the positions that the view `dst`
 * covers get src (converted to the destination dtype), the others keep their old values.
 */
export function copySpec(dstShape: Shape, dstStrides: readonly number[], order: readonly number[], srcStrides: readonly number[], oldKind: OperandKind, srcKind: OperandKind, store: StoreConversion): KernelSpec {
  const key = `copy|${store}|${oldKind},${srcKind}|${sig(dstShape, [dstStrides, srcStrides])}`;
  const srcOff = dstShape.map((_, k) => (srcStrides[k] !== 0 ? ` + q${k} * ${srcStrides[k]}` : '')).join('');
  const entries = [
    `float tg_in(int p, int od) {\n${peel(dstShape, dstStrides, order, '0.0')}\n  return 1.0;\n}\n`,
    `int tg_s(int p, int od, int os) {\n${peel(dstShape, dstStrides, order, 'os')}\n  return os${srcOff};\n}\n`,
    storeFn(store),
  ];
  const argTypes: Record<string, string> = { d: oldKind === 'tex' ? TEXTURE_TYPE : 'Float', s: srcKind === 'tex' ? TEXTURE_TYPE : 'Float', od: 'Integer', os: 'Integer', z: 'Float' };
  const oldV = oldKind === 'tex' ? 'd[this.thread.x]' : 'd';
  const srcV = srcKind === 'tex' ? 's[tg_s(this.thread.x, od, os)]' : 's';
  const source = `function (d, s, od, os, z) { if (tg_in(this.thread.x, od) > 0.5) { return tg_st(${srcV}, z); } return ${oldV}; }`;
  return spec(key, source, entries, [], argTypes);
}

/**
 * dst[q] += Σ_{j : index[q with q[dim] := j] = q[dim]} src[q with q[dim] := j] for every position q
 * of the view dst, as a new texture for the whole destination storage. Each output sums over
 * index.shape[dim] candidates in increasing j, the order of the CPU's loop.
 */
export function scatterAddSpec(
  dstShape: Shape, dstStrides: readonly number[], order: readonly number[], dim: number,
  indexShape: Shape, indexStrides: readonly number[], srcStrides: readonly number[],
  kinds: { old: OperandKind; index: OperandKind; src: OperandKind }, store: StoreConversion,
): KernelSpec {
  const J = indexShape[dim]!;
  const key = `scatterAdd|${store}|${kinds.old},${kinds.index},${kinds.src}|${sig(dstShape, [dstStrides, indexShape, indexStrides, srcStrides])}|${dim}`;
  const inRange = indexShape.map((n, k) => (k === dim ? '' : ` || q${k} >= ${n}`)).join('');
  const offOf = (st: readonly number[], off: string) => `${off}${st.map((s, k) => (k === dim || s === 0 ? '' : ` + q${k} * ${s}`)).join('')} + j * ${st[dim]}`;
  const entries = [
    `float tg_qd(int p, int od) {\n${peel(dstShape, dstStrides, order, '-1.0')}\n  if (false${inRange}) return -1.0;\n  return float(q${dim});\n}\n`,
    `int tg_ii(int p, int j, int od, int oi) {\n${peel(dstShape, dstStrides, order, 'oi')}\n  return ${offOf(indexStrides, 'oi')};\n}\n`,
    `int tg_si(int p, int j, int od, int os) {\n${peel(dstShape, dstStrides, order, 'os')}\n  return ${offOf(srcStrides, 'os')};\n}\n`,
    storeFn(store),
  ];
  const t = (k: OperandKind) => (k === 'tex' ? TEXTURE_TYPE : 'Float');
  const argTypes: Record<string, string> = { d: t(kinds.old), ix: t(kinds.index), s: t(kinds.src), od: 'Integer', oi: 'Integer', os: 'Integer', z: 'Float' };
  const oldV = kinds.old === 'tex' ? 'd[this.thread.x]' : 'd';
  const ixV = kinds.index === 'tex' ? 'ix[tg_ii(this.thread.x, j, od, oi)]' : 'ix';
  const srcV = kinds.src === 'tex' ? 's[tg_si(this.thread.x, j, od, os)]' : 's';
  const source = `function (d, ix, s, od, oi, os, z) {
  let acc = ${oldV};
  const qd = tg_qd(this.thread.x, od);
  if (qd >= 0.0) {
    for (let j = 0; j < ${J}; j++) {
      if (${ixV} == qd) { acc += ${srcV}; }
    }
  }
  return tg_st(acc, z);
}`;
  return spec(key, source, entries, [], argTypes, J);
}
