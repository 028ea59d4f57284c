/**
 * Runs the wasm SIMD kernels of wasm-elementwise.ts on the float32 GEMM kernel's memory, for
 * the CPU backend's hot elementwise and row operations on float32 data:
 *
 *   ElementwiseKernels.run   GELU forward/backward (split over the helper threads), dense
 *                            add/sub/mul/div (calling thread: memory-bound)
 *   dropoutWasm              counter-based mask and masked product
 *   adamStepWasm             the Adam/AdamW update
 *   layerNorm*Wasm           layer norm forward/backward by row chunks over the threads
 *   softmax*Wasm             attention softmax forward/backward by row chunks over the threads
 *
 * Operands that live in the float32 arena (arena.ts: tensors' storages inside the kernel's wasm
 * memory) are read and written in place; the others are copied into the kernel's scratch region
 * and the results out of it. Elementwise results are
 * bit-identical to the plain-JS float32 kernels, and every result is independent of which
 * thread ran which chunk (test/backends/wasm-elementwise.test.ts, wasm-layernorm.test.ts).
 * Where the wasm memory cannot grow to hold the operands a function reports false and the
 * caller runs its JS kernel.
 */
import { copyDone, copyStart } from '../../core/profile.js';
import { float32KernelAndPool } from './matmul.js';
import type { WasmArena } from './arena.js';

/**
 * Where a kernel's operands go: arrays in the arena at their own byte address, the others in a
 * region of the scratch block (`at(slot)` after `heap`). Slots are reserved before the scratch
 * block is taken, so its size is known.
 */
/** copyStart() when something is copied, else −1: operands used in place record no copy in the profile. */
const startIf = (copies: boolean): number => (copies ? copyStart() : -1);
const doneIf = (name: string, t0: number): void => {
  if (t0 >= 0) copyDone(name, t0);
};

class Placement {
  private size = 0;
  private readonly rel: number[] = [];
  private readonly abs: number[] = [];
  constructor(private readonly arena: WasmArena | null) {}
  /**
   * A slot for `n` float32 elements of `a` from element `o` (or a scratch-only region when `a` is
   * null, e.g. float64 statistics of `bytes`); in place when `a` is in the arena and, if
   * `writes` elements are written there, its block has room for them.
   */
  slot(a: Float32Array | null, o: number, bytes: number, writes = 0): number {
    const addr = a === null || this.arena === null ? -1 : this.arena.address(a);
    const ok = addr >= 0 && (writes === 0 || this.arena!.capacity(a!) >= o + writes);
    this.abs.push(ok ? addr + 4 * o : -1);
    this.rel.push(ok ? -1 : this.size);
    if (!ok) this.size += align16(bytes);
    return this.rel.length - 1;
  }
  /** True when any of the slots is copied (not in place): only then is a copy timed. */
  copies(...slots: number[]): boolean {
    return slots.some((i) => this.abs[i]! < 0);
  }
  /** True when slot i is in place (no copy). */
  inPlace(i: number): boolean {
    return this.abs[i]! >= 0;
  }
  /** The scratch bytes the copied operands need. */
  get bytes(): number {
    return this.size;
  }
  /** The byte address of slot i, given the scratch base. */
  at(i: number, base: number): number {
    return this.abs[i]! >= 0 ? this.abs[i]! : base + this.rel[i]!;
  }
}

/** The elementwise ops with wasm kernels, numbered as the helper threads know them (threads.ts). */
export const WASM_MAP_OPS = ['gelu', 'geluBackward', 'add', 'sub', 'mul', 'div'] as const;
export type ElementwiseOp = (typeof WASM_MAP_OPS)[number];

/**
 * The kernel memory as float32, at least `bytes` long, or null when it cannot grow that far
 * (wasm32's 4 GiB, or the host refused): the callers then leave the work to the JS kernels.
 */
function heapOrNull(kern: { heap(bytes: number): Float32Array | Float64Array }, bytes: number): Float32Array | null {
  try {
    return kern.heap(bytes) as Float32Array;
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** Elements per chunk handed to a thread (a multiple of 4: the kernels take up to four lanes at a time). */
const CHUNK = 16384;

type UnaryFn = (src: number, dst: number, n: number) => void;
type BinaryFn = (a: number, b: number, dst: number, n: number) => void;

export class ElementwiseKernels {
  /**
   * out[i] = op(ins[0][offs[0] + i], ins[1]?[offs[1] + i]) for i < n. `threads: false` keeps
   * the work on the calling thread (tests compare both). False (nothing done) when the kernel
   * memory cannot hold the operands.
   */
  run(opName: ElementwiseOp, ins: readonly Float32Array[], offs: readonly number[], out: Float32Array, n: number, threads = true): boolean {
    const kp = float32KernelAndPool();
    if (kp === null) throw new Error('wasm elementwise: no wasm SIMD kernel in this runtime');
    const { kern } = kp;
    const m = n + ((4 - (n % 4)) % 4); // whole vectors: the padding lanes compute on garbage/zeros and are dropped
    // in place: inputs read up to 3 elements past their end (the arena keeps a guard below the
    // memory's end), the output's block has room for m elements
    const pl = new Placement(kern.arena);
    const sIn = ins.map((a, j) => pl.slot(a, offs[j]!, m * 4));
    const sOut = pl.slot(out, 0, m * 4, m);
    const H = heapOrNull(kern, pl.bytes);
    if (H === null) return false;
    const base = kern.base;
    const tIn = startIf(pl.copies(...sIn));
    for (let j = 0; j < ins.length; j++) {
      if (pl.inPlace(sIn[j]!)) continue;
      const e = pl.at(sIn[j]!, base) / 4;
      H.set(ins[j]!.subarray(offs[j]!, offs[j]! + n), e);
      if (m !== n) H.fill(0, e + n, e + m);
    }
    doneIf(`in:${opName}`, tIn);
    const p0 = pl.at(sIn[0]!, base), p1 = ins.length > 1 ? pl.at(sIn[1]!, base) : 0, dst = pl.at(sOut, base);
    const fn = WASM_MAP_OPS.indexOf(opName);
    const unary = kern.exports['gelu'] as UnaryFn, binary = kern.exports[opName] as BinaryFn;
    const call = (i0: number, len: number): void => {
      if (fn === 0) unary(p0 + 4 * i0, dst + 4 * i0, len);
      else binary(p0 + 4 * i0, p1 + 4 * i0, dst + 4 * i0, len);
    };
    // GELU is compute-bound and splits over the threads; add/sub/mul/div are bound by memory
    // traffic, where a hand-off to a helper costs more than it saves (measured)
    const pool = threads && fn < 2 ? kp.pool : null;
    if (pool !== null) pool.runElementwise(fn, p0, p1, dst, m, CHUNK, call);
    else call(0, m);
    if (pl.inPlace(sOut)) return true;
    const tOut = copyStart();
    out.set(H.subarray(dst / 4, dst / 4 + n));
    copyDone(`out:${opName}`, tOut);
    return true;
  }
}

let kernels: ElementwiseKernels | null | undefined;

/** The kernels, or null where the runtime lacks wasm SIMD. */
export function elementwiseKernels(): ElementwiseKernels | null {
  if (kernels === undefined) kernels = float32KernelAndPool() === null ? null : new ElementwiseKernels();
  return kernels;
}

type AdamFn = (p: number, g: number, m: number, v: number, n: number, decay: number, b1: number, c1: number, b2: number, c2: number, negStep: number, bc2: number, eps: number) => void;

/** The scalars of one Adam/AdamW update, already rounded to float32 (see adam.ts). */
export interface AdamScalars32 {
  decay: number; b1: number; c1: number; b2: number; c2: number; negStep: number; bc2: number; eps: number;
}

/**
 * The Adam/AdamW update of n float32 parameters in wasm SIMD (wasm-elementwise.ts's `adam`):
 * θ, g, m, v are copied in, updated, and θ, m, v copied back — the same bits as the JS loop.
 * Returns false where there is no wasm SIMD kernel.
 */
export function adamStepWasm(
  p: Float32Array, po: number, g: Float32Array, go: number, m: Float32Array, mo: number, v: Float32Array, vo: number,
  n: number, s: AdamScalars32,
): boolean {
  const kp = float32KernelAndPool();
  if (kp === null) return false;
  const np = n + ((4 - (n % 4)) % 4); // whole vectors; the padding lanes compute on zeros and are dropped
  const arrays: [Float32Array, number][] = [[p, po], [g, go], [m, mo], [v, vo]];
  // in place only without padding lanes: θ, m, v are written, and a parameter may be a slice of
  // a larger storage whose next elements belong to someone else
  const pl = new Placement(np === n ? kp.kern.arena : null);
  const slots = arrays.map(([a, o]) => pl.slot(a, o, np * 4));
  const H = heapOrNull(kp.kern, pl.bytes);
  if (H === null) return false;
  const base = kp.kern.base;
  const at = slots.map((sl) => pl.at(sl, base));
  const tIn = startIf(pl.copies(...slots));
  arrays.forEach(([a, o], j) => {
    if (pl.inPlace(slots[j]!)) return;
    H.set(a.subarray(o, o + n), at[j]! / 4);
    H.fill(0, at[j]! / 4 + n, at[j]! / 4 + np);
  });
  doneIf('in:adam', tIn);
  (kp.kern.exports['adam'] as AdamFn)(at[0]!, at[1]!, at[2]!, at[3]!, np, s.decay, s.b1, s.c1, s.b2, s.c2, s.negStep, s.bc2, s.eps);
  const tOut = startIf(pl.copies(slots[0]!, slots[2]!, slots[3]!));
  for (const j of [0, 2, 3]) {
    if (pl.inPlace(slots[j]!)) continue;
    const [a, o] = arrays[j]!;
    a.set(H.subarray(at[j]! / 4, at[j]! / 4 + n), o);
  }
  doneIf('out:adam', tOut);
  return true;
}

type DropoutFn = (src: number, mask: number, dst: number, n: number, c0: number, k2: number, t: number, value: number) => void;

/**
 * Dropout's mask and product for n float32 elements (p < 1) from the counter-based stream
 * keyed (k1, k2) (src/tensor/random.ts `bernoulliBits`): mask[i] = value where the draw keeps
 * element i, else 0; out[i] = x[xo + i]·mask[i]. The same bits as `Generator.bernoulliFill`
 * with `times`. Returns false where there is no wasm SIMD kernel.
 */
export function dropoutWasm(x: Float32Array, xo: number, n: number, p: number, value: number, k1: number, k2: number, mask: Float32Array, out: Float32Array): boolean {
  const kp = float32KernelAndPool();
  if (kp === null || !(p >= 0 && p < 1)) return false;
  const { kern } = kp;
  const m = n + ((4 - (n % 4)) % 4);
  const pl = new Placement(kern.arena);
  const sx = pl.slot(x, xo, m * 4), sm = pl.slot(mask, 0, m * 4, m), so = pl.slot(out, 0, m * 4, m);
  const H = heapOrNull(kern, pl.bytes);
  if (H === null) return false;
  const base = kern.base;
  const xa = pl.at(sx, base), ma = pl.at(sm, base), oa = pl.at(so, base);
  const tIn = startIf(pl.copies(sx));
  if (!pl.inPlace(sx)) {
    H.set(x.subarray(xo, xo + n), xa / 4);
    if (m !== n) H.fill(0, xa / 4 + n, xa / 4 + m);
  }
  doneIf('in:dropout', tIn);
  const t = Math.ceil(p * 4294967296) | 0; // x ≥ p·2³² ⇔ x ≥ ⌈p·2³²⌉ for integer x (as uint32 bits)
  const v32 = Math.fround(value);
  const fn = kern.exports['dropout'] as DropoutFn;
  const call = (i0: number, len: number): void => fn(xa + 4 * i0, ma + 4 * i0, oa + 4 * i0, len, (k1 + i0) | 0, k2, t, v32);
  // on the calling thread: like add/mul, bound by memory traffic (a helper did not pay, measured)
  call(0, m);
  const tOut = startIf(pl.copies(sm, so));
  if (!pl.inPlace(sm)) mask.set(H.subarray(ma / 4, ma / 4 + n));
  if (!pl.inPlace(so)) out.set(H.subarray(oa / 4, oa / 4 + n));
  doneIf('out:dropout', tOut);
  return true;
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

type LnForwardFn = (x: number, w: number, b: number, y: number, st: number, n: number, R: number, eps: number, r0: number, r1: number) => void;
type LnBackwardFn = (g: number, x: number, w: number, st: number, dx: number, dwp: number, dbp: number, n: number, R: number, r0: number, r1: number, ch: number) => void;

/** Rows per chunk handed to a thread: about 8 chunks per call, at least 16 rows. */
const rowChunk = (rows: number): number => Math.max(16, Math.ceil(rows / 8));

/**
 * Layer norm forward of R rows of length n (even) of float32 x with float32 weight and bias, in
 * wasm SIMD on both threads (wasm-elementwise.ts `layerNormForward`): fills y and the float64
 * row statistics mean (R) and rstd (R). Returns false where there is no wasm kernel.
 */
export function layerNormForwardWasm(x: Float32Array, n: number, w: Float32Array, b: Float32Array, eps: number, y: Float32Array, mean: Float64Array, rstd: Float64Array): boolean {
  const kp = float32KernelAndPool();
  if (kp === null || n % 2 !== 0) return false;
  const R = x.length / n;
  const pl = new Placement(kp.kern.arena);
  const sx = pl.slot(x, 0, x.length * 4), sw = pl.slot(w, 0, n * 4), sb = pl.slot(b, 0, n * 4);
  const sy = pl.slot(y, 0, x.length * 4, x.length), sst = pl.slot(null, 0, R * 16);
  const H = heapOrNull(kp.kern, pl.bytes);
  if (H === null) return false;
  const base = kp.kern.base;
  const xB = pl.at(sx, base), wB = pl.at(sw, base), bB = pl.at(sb, base), yB = pl.at(sy, base), stB = pl.at(sst, base);
  const tIn = startIf(pl.copies(sx, sw, sb));
  if (!pl.inPlace(sx)) H.set(x, xB / 4);
  if (!pl.inPlace(sw)) H.set(w, wB / 4);
  if (!pl.inPlace(sb)) H.set(b, bB / 4);
  doneIf('in:layerNormForward', tIn);
  const fn = kp.kern.exports['layerNormForward'] as LnForwardFn;
  const args = [xB, wB, bB, yB, stB, n, R, eps];
  const call = (r0: number, r1: number): void => fn(xB, wB, bB, yB, stB, n, R, eps, r0, r1);
  if (kp.pool !== null) kp.pool.runRows(0, args, R, rowChunk(R), call);
  else call(0, R);
  const tOut = copyStart();
  if (!pl.inPlace(sy)) y.set(H.subarray(yB / 4, yB / 4 + x.length));
  const st = new Float64Array(H.buffer, stB, 2 * R);
  mean.set(st.subarray(0, R));
  rstd.set(st.subarray(R, 2 * R));
  copyDone('out:layerNormForward', tOut);
  return true;
}

/**
 * Layer norm backward in wasm SIMD on both threads (`layerNormBackward`): dx (float32) and the
 * float64 sums dw = Σ_rows g·x̂, db = Σ_rows g (each thread's chunks summed separately, then
 * here). Returns false where there is no wasm kernel.
 */
export function layerNormBackwardWasm(
  g: Float32Array, x: Float32Array, mean: Float64Array, rstd: Float64Array, w: Float32Array, n: number,
  dx: Float32Array, dw: Float64Array | null, db: Float64Array | null,
): boolean {
  const kp = float32KernelAndPool();
  if (kp === null || n % 2 !== 0) return false;
  const R = x.length / n;
  const chunk = rowChunk(R), chunks = Math.ceil(R / chunk);
  const pl = new Placement(kp.kern.arena);
  const sg = pl.slot(g, 0, x.length * 4), sx = pl.slot(x, 0, x.length * 4), sw = pl.slot(w, 0, n * 4), sst = pl.slot(null, 0, R * 16);
  const sdx = pl.slot(dx, 0, x.length * 4, x.length), sdw = pl.slot(null, 0, chunks * n * 8), sdb = pl.slot(null, 0, chunks * n * 8);
  const H = heapOrNull(kp.kern, pl.bytes);
  if (H === null) return false;
  const base = kp.kern.base;
  const gB = pl.at(sg, base), xB = pl.at(sx, base), wB = pl.at(sw, base), stB = pl.at(sst, base);
  const dxB = pl.at(sdx, base), dwB = pl.at(sdw, base), dbB = pl.at(sdb, base);
  const tIn = copyStart();
  if (!pl.inPlace(sg)) H.set(g, gB / 4);
  if (!pl.inPlace(sx)) H.set(x, xB / 4);
  if (!pl.inPlace(sw)) H.set(w, wB / 4);
  const st = new Float64Array(H.buffer, stB, 2 * R);
  st.set(mean);
  st.set(rstd, R);
  copyDone('in:layerNormBackward', tIn);
  const dwp = new Float64Array(H.buffer, dwB, chunks * n), dbp = new Float64Array(H.buffer, dbB, chunks * n);
  dwp.fill(0);
  dbp.fill(0);
  const fn = kp.kern.exports['layerNormBackward'] as LnBackwardFn;
  const args = [gB, xB, wB, stB, dxB, dwB, dbB, n, R];
  const call = (r0: number, r1: number, ch: number): void => fn(gB, xB, wB, stB, dxB, dwB, dbB, n, R, r0, r1, ch);
  if (kp.pool !== null) kp.pool.runRows(1, args, R, chunk, call);
  else for (let ch = 0; ch < chunks; ch++) call(ch * chunk, Math.min(R, (ch + 1) * chunk), ch);
  const tOut = copyStart();
  if (!pl.inPlace(sdx)) dx.set(H.subarray(dxB / 4, dxB / 4 + x.length));
  copyDone('out:layerNormBackward', tOut);
  // the chunks' partial sums, in chunk order (the same numbers whichever thread ran a chunk)
  for (const [part, out] of [[dwp, dw], [dbp, db]] as const) {
    if (out === null) continue;
    for (let ch = 0; ch < chunks; ch++) for (let i = 0; i < n; i++) out[i]! += part[ch * n + i]!;
  }
  return true;
}

type SmForwardFn = (x: number, m: number, mo: number, y: number, sc: number, n: number, scale: number, r0: number, r1: number, ch: number) => void;
type SmBackwardFn = (g: number, y: number, dx: number, n: number, scale: number, r0: number, r1: number, ch: number) => void;

/**
 * softmax(scale·x + mask) over rows of length n (any) of float32 x, in wasm SIMD on both
 * threads (wasm-elementwise.ts `softmaxForward`). The mask, if any, is float32 `mask.data`
 * with each row's first element at rowOffsets[r] and unit stride along the row. Returns false
 * where there is no wasm kernel.
 */
export function softmaxForwardWasm(
  x: Float32Array, n: number, scale: number, mask: { data: Float32Array; rowOffsets: ArrayLike<number> } | null, y: Float32Array,
): boolean {
  const kp = float32KernelAndPool();
  if (kp === null || n === 0) return false;
  const R = x.length / n;
  const chunk = rowChunk(R), chunks = Math.ceil(R / chunk);
  const pl = new Placement(kp.kern.arena);
  const sx = pl.slot(x, 0, x.length * 4), sy = pl.slot(y, 0, x.length * 4, x.length);
  const ssc = pl.slot(null, 0, chunks * n * 8), smo = pl.slot(null, 0, R * 4);
  const sm = mask ? pl.slot(mask.data, 0, mask.data.length * 4) : -1;
  const H = heapOrNull(kp.kern, pl.bytes);
  if (H === null) return false;
  const base = kp.kern.base;
  const xB = pl.at(sx, base), yB = pl.at(sy, base), scB = pl.at(ssc, base), moB = pl.at(smo, base);
  const mB = mask ? pl.at(sm, base) : 0;
  const tIn = copyStart();
  if (!pl.inPlace(sx)) H.set(x, xB / 4);
  if (mask) {
    new Int32Array(H.buffer, moB, R).set(mask.rowOffsets);
    if (!pl.inPlace(sm)) H.set(mask.data, mB / 4);
  }
  copyDone('in:softmaxForward', tIn);
  const fn = kp.kern.exports['softmaxForward'] as SmForwardFn;
  const mo = mask ? moB : -1;
  const args = [xB, mB, mo, yB, scB, n, scale];
  const call = (r0: number, r1: number, ch: number): void => fn(xB, mB, mo, yB, scB, n, scale, r0, r1, ch);
  if (kp.pool !== null) kp.pool.runRows(2, args, R, chunk, call);
  else for (let ch = 0; ch < chunks; ch++) call(ch * chunk, Math.min(R, (ch + 1) * chunk), ch);
  const tOut = copyStart();
  if (!pl.inPlace(sy)) y.set(H.subarray(yB / 4, yB / 4 + x.length));
  copyDone('out:softmaxForward', tOut);
  return true;
}

/** ∂L/∂x = scale·y·(g − Σ g·y) over rows of length n (even), in wasm SIMD on both threads. */
export function softmaxBackwardWasm(g: Float32Array, y: Float32Array, n: number, scale: number, dx: Float32Array): boolean {
  const kp = float32KernelAndPool();
  if (kp === null || n % 2 !== 0) return false;
  const R = y.length / n;
  const chunk = rowChunk(R);
  const pl = new Placement(kp.kern.arena);
  const sg = pl.slot(g, 0, g.length * 4), sy = pl.slot(y, 0, y.length * 4), sd = pl.slot(dx, 0, y.length * 4, y.length);
  const H = heapOrNull(kp.kern, pl.bytes);
  if (H === null) return false;
  const base = kp.kern.base;
  const gB = pl.at(sg, base), yB = pl.at(sy, base), dB = pl.at(sd, base);
  const tIn = startIf(pl.copies(sg, sy));
  if (!pl.inPlace(sg)) H.set(g, gB / 4);
  if (!pl.inPlace(sy)) H.set(y, yB / 4);
  doneIf('in:softmaxBackward', tIn);
  const fn = kp.kern.exports['softmaxBackward'] as SmBackwardFn;
  const call = (r0: number, r1: number, ch: number): void => fn(gB, yB, dB, n, scale, r0, r1, ch);
  if (kp.pool !== null) kp.pool.runRows(3, [gB, yB, dB, n, scale], R, chunk, call);
  else call(0, R, 0);
  const tOut = startIf(pl.copies(sd));
  if (!pl.inPlace(sd)) dx.set(H.subarray(dB / 4, dB / 4 + y.length));
  doneIf('out:softmaxBackward', tOut);
  return true;
}
