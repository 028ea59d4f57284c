/**
 * General matrix multiply C = A·B on strided operands (no transpose is ever materialised:
 * Aᵀ is A with its two strides swapped), or C += A·B with `accumulate` (like BLAS's β = 1;
 * the CPU backend's fused `addmm` fills C with the bias rows first).
 *
 *   C[i, j] = Σₖ A[i, k]·B[k, j]                 A: M×K, B: K×N, C: M×N contiguous at cOff
 *   C[i, j] = C₀[i, j] + Σₖ A[i, k]·B[k, j]      accumulate: C₀ first, then k in order
 *
 * Three implementations, chosen by `gemm` (or forced with its `path` argument, for tests):
 *
 *   'naive'  the reference i-k-j loop with a float64 row accumulator. Used for integer
 *            matrices and for products too small to pay for packing.
 *   'wasm'   the GotoBLAS/BLIS scheme (Goto & van de Geijn, ACM TOMS 2008; Van Zee & van de
 *            Geijn, ACM TOMS 2015): A and B are packed block by block into contiguous,
 *            zero-padded micro-panels inside a WebAssembly memory, and a SIMD micro-kernel
 *            assembled at run time (wasm-gemm.ts) multiplies them with an MR×NR tile of C held
 *            in registers. float32 runs in f32x4 (float32 accumulation within one KC block,
 *            each block's partial product added into C: max rel error 3.1e-7 at K = 4096,
 *            bench/matmul-accuracy.ts); float64 in f64x2
 *            (float64 accumulation, same summation order as the naive loop, so float64
 *            results are bitwise those of 'naive'). Large products split each macro-kernel
 *            call over helper threads (threads.ts; setGemmThreads / TENSORGRAD_NUM_THREADS),
 *            which leaves every C element computed by one thread in the same order.
 *   'js'     the same blocking with a plain-JS 4×4 register tile, for runtimes without wasm
 *            SIMD. Accumulates in float64 (JS numbers) and rounds once on the way out.
 *
 * Blocking (the loop nest of BLIS, Fig. 2 of the 2015 paper):
 *
 *   for jc in 0..N step NC              B̃ ← pack B[pc:pc+KC, jc:jc+NC]   (kc×nc, L3/L2)
 *     for pc in 0..K step KC
 *       for ic in 0..M step MC          Ã ← pack A[ic:ic+MC, pc:pc+KC]   (mc×kc, L2)
 *         macro-kernel: for each NR-column micro-panel of B̃ (L1) and MR-row micro-panel of Ã:
 *           C[ic+ir : +MR, jc+jr : +NR] += Ã_ir · B̃_jr        (register tile)
 *
 * The transposed variants cost nothing extra: the strides are only read while packing.
 * 'wasm' first copies each operand's storage span into the wasm memory (one typed-array
 * `set`) and packs it there with the module's own `pack`; 'js' packs element by element.
 */
import type { TypedArray } from '../../core/dtype.js';
import { copyDone, copyStart } from '../../core/profile.js';
import { availableCores, MacroPool, workerThreads } from './threads.js';
import { WasmGemmKernel, wasmSimdSupported } from './wasm-gemm.js';
import { arenaEnabled, type WasmArena } from './arena.js';

export { MacroPool, WasmGemmKernel, wasmSimdSupported };

/** Which implementation `gemm` runs; 'auto' picks by dtype, size and wasm SIMD support. */
export type GemmPath = 'auto' | 'naive' | 'js' | 'wasm';

/**
 * Products with fewer multiply-adds than this (M·N·K) run the naive loop under 'auto': below
 * it the fixed costs of the blocked paths (workspace set-up, padding, copy-out) dominate
 * (measured: the wasm path already wins at 4×4×4).
 */
export const NAIVE_MAX_MACS = 64;

/** Cache blocks: Ã is MC×KC, B̃ is KC×NC (MC, NC rounded up to the register tile). */
export interface Blocking {
  MC: number;
  KC: number;
  NC: number;
}

/**
 * Register tiles and cache blocks, measured on a 2-core x86-64 (Xeon, 48 KiB L1d, 2 MiB L2):
 * B̃'s micro-panel (KC·NR·4 B = 8 KiB) stays in L1, Ã (MC·KC·4 B = 256 KiB) in L2, and the
 * whole of B̃ up to NC columns is packed once per KC slab. Tiles 4×8, 6×8, 3×16, 2×16, 4×12 and
 * MC 64…512 all ran within noise of each other on one thread (~33–37 GFLOP/s at n = 512); the
 * larger MC halves the hand-offs to helper threads (n = 512, 2 threads: 60 → 64 GFLOP/s).
 */
export const WASM_F32_TILE = { mr: 4, nr: 8 } as const;
export const WASM_F64_TILE = { mr: 4, nr: 4 } as const;
export const WASM_F32_BLOCKING: Blocking = { MC: 256, KC: 256, NC: 4096 };
export const WASM_F64_BLOCKING: Blocking = { MC: 128, KC: 256, NC: 2048 };
export const JS_BLOCKING: Blocking = { MC: 64, KC: 256, NC: 4096 };

/** A row vector (N elements at data[off + j·stride]) that every row of C starts from (addmm's bias). */
export interface BiasRow {
  data: TypedArray;
  off: number;
  stride: number;
}

/** Writes the bias row into every row of the contiguous M×N matrix C at cOff. */
function fillRows(C: TypedArray, cOff: number, M: number, N: number, bias: BiasRow): void {
  for (let j = 0; j < N; j++) C[cOff + j] = bias.data[bias.off + j * bias.stride]!;
  for (let have = 1; have < M; have *= 2) C.copyWithin(cOff + have * N, cOff, cOff + Math.min(have, M - have) * N);
}

/**
 * C = A·B, or C += A·B with `accumulate` = true, or C = bias + A·B (every row of C starting
 * from the bias row, then k in order) with `accumulate` = a BiasRow — the wasm path writes the
 * bias straight into its workspace instead of filling and re-reading C.
 */
export function gemm(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, aRs: number, aCs: number,
  B: TypedArray, bOff: number, bRs: number, bCs: number,
  C: TypedArray, cOff: number,
  path: GemmPath = 'auto',
  accumulate: boolean | BiasRow = false,
): void {
  if (M === 0 || N === 0) return;
  if (typeof accumulate === 'object') {
    const isF = C instanceof Float32Array || C instanceof Float64Array;
    const wasm = K > 0 && isF && (path === 'wasm' || (path === 'auto' && M * N * K >= NAIVE_MAX_MACS && !(M === 1 && N === 1) && wasmKernelFor(C) !== null));
    if (wasm) {
      const kernel = wasmKernelFor(C)!;
      const blocking = kernel.dtype === 'float32' ? WASM_F32_BLOCKING : WASM_F64_BLOCKING;
      return gemmWasm(kernel, blocking, M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, 'auto', 'auto', accumulate);
    }
    fillRows(C, cOff, M, N, accumulate);
    accumulate = true;
  }
  if (K === 0) {
    if (!accumulate) C.fill(0, cOff, cOff + M * N); // C += (empty sum) leaves C as it is
    return;
  }
  const isFloat = C instanceof Float32Array || C instanceof Float64Array;
  if (path === 'auto') {
    if (!isFloat || M * N * K < NAIVE_MAX_MACS || (M === 1 && N === 1)) path = 'naive';
    else path = wasmKernelFor(C) !== null ? 'wasm' : 'js';
  }
  switch (path) {
    case 'naive':
      return gemmNaive(M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, accumulate);
    case 'js':
      return gemmJs(JS_BLOCKING, M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, accumulate);
    case 'wasm': {
      const kernel = isFloat ? wasmKernelFor(C) : null;
      if (kernel === null) throw new Error('gemm: the wasm SIMD kernel is not available here (float output and wasm SIMD needed)');
      const blocking = kernel.dtype === 'float32' ? WASM_F32_BLOCKING : WASM_F64_BLOCKING;
      return gemmWasm(kernel, blocking, M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, 'auto', 'auto', accumulate);
    }
    default: {
      const never: never = path;
      throw new Error(`gemm: unknown path ${String(never)}`);
    }
  }
}

// ---- naive reference -----------------------------------------------------------------------------

/**
 * The i-k-j loop: each row of C accumulated in float64 (starting from zero, or from C's row
 * with `accumulate`), B packed row-major when needed.
 */
export function gemmNaive(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, aRs: number, aCs: number,
  B: TypedArray, bOff: number, bRs: number, bCs: number,
  C: TypedArray, cOff: number,
  accumulate = false,
): void {
  // Pack B (K×N) row-major when needed so the inner loop is unit-stride.
  let Bp: TypedArray = B, bo = bOff, brs = bRs;
  if (bCs !== 1) {
    const packed = new Float64Array(K * N);
    for (let k = 0; k < K; k++) {
      const src = bOff + k * bRs;
      for (let j = 0; j < N; j++) packed[k * N + j] = B[src + j * bCs]!;
    }
    Bp = packed; bo = 0; brs = N;
  }
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    const ci = cOff + i * N;
    if (accumulate) for (let j = 0; j < N; j++) acc[j] = C[ci + j]!; // acc = C₀[i, :]
    else acc.fill(0);
    const ai = aOff + i * aRs;
    for (let k = 0; k < K; k++) {
      const aik = A[ai + k * aCs]!;
      const bk = bo + k * brs;
      for (let j = 0; j < N; j++) acc[j]! += aik * Bp[bk + j]!;
    }
    for (let j = 0; j < N; j++) C[ci + j] = acc[j]!;
  }
}

// ---- packing (shared by the js and wasm paths) ----------------------------------------------------

type FloatArray = Float32Array | Float64Array;

/**
 * Ã: rows [0, mc) × cols [0, kc) of the matrix at `base` (strides rs, cs) into MR-row
 * micro-panels at dst[o…]: element (r, k) of panel p goes to o + p·MR·kc + k·MR + r.
 * Rows past mc are zero (the padding the register tile computes on and never stores).
 */
function packA(dst: FloatArray, o: number, src: TypedArray, base: number, rs: number, cs: number, mc: number, kc: number, MR: number): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = Math.min(MR, mc - ip);
    const rowBase = base + ip * rs;
    if (rows === MR && cs === 1 && MR === 4) {
      // row-major A: four rows streamed side by side
      const r0 = rowBase, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
      for (let k = 0; k < kc; k++) {
        dst[o] = src[r0 + k]!; dst[o + 1] = src[r1 + k]!; dst[o + 2] = src[r2 + k]!; dst[o + 3] = src[r3 + k]!;
        o += 4;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      const s = rowBase + k * cs;
      let r = 0;
      for (; r < rows; r++) dst[o + r] = src[s + r * rs]!;
      for (; r < MR; r++) dst[o + r] = 0;
      o += MR;
    }
  }
}

/**
 * B̃: rows [0, kc) × cols [0, nc) of the matrix at `base` (strides rs, cs) into NR-column
 * micro-panels at dst[o…]: element (k, c) of panel q goes to o + q·NR·kc + k·NR + c.
 * Columns past nc are zero.
 */
function packB(dst: FloatArray, o: number, src: TypedArray, base: number, rs: number, cs: number, kc: number, nc: number, NR: number): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = Math.min(NR, nc - jp);
    const colBase = base + jp * cs;
    if (cols === NR && cs === 1) {
      for (let k = 0; k < kc; k++) {
        const s = colBase + k * rs;
        for (let c = 0; c < NR; c++) dst[o + c] = src[s + c]!;
        o += NR;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      const s = colBase + k * rs;
      let c = 0;
      for (; c < cols; c++) dst[o + c] = src[s + c * cs]!;
      for (; c < NR; c++) dst[o + c] = 0;
      o += NR;
    }
  }
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

// ---- wasm SIMD path --------------------------------------------------------------------------------

let wasmF32: WasmGemmKernel | null | undefined;
let wasmF64: WasmGemmKernel | null | undefined;

/**
 * A kernel on a shared memory where helper threads can be started (so that a pool can join
 * it later), else on a private one; null without wasm SIMD.
 */
function makeKernel(opts: { dtype: 'float32' | 'float64'; mr: number; nr: number }): WasmGemmKernel | null {
  if (!wasmSimdSupported()) return null;
  // float32: tensor storages live in this kernel's memory (arena.ts) unless TENSORGRAD_ARENA=0
  const arena = opts.dtype === 'float32' && arenaEnabled();
  if (workerThreads() !== null) {
    try {
      return new WasmGemmKernel({ ...opts, shared: true, arena });
    } catch {
      // shared memory refused (e.g. no address space for the reservation): one thread
    }
  }
  if (arena) {
    try {
      return new WasmGemmKernel({ ...opts, arena });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // the reservation refused: no arena
    }
  }
  return new WasmGemmKernel(opts);
}

/** The float32 arena (arena.ts) of the float32 kernel's memory; null without wasm SIMD or with TENSORGRAD_ARENA=0. */
export function float32Arena(): WasmArena | null {
  return wasmKernelFor(new Float32Array(0))?.arena ?? null;
}

/** The wasm kernel for C's element type, instantiated on first use; null without wasm SIMD. */
function wasmKernelFor(C: Float32Array | Float64Array | TypedArray): WasmGemmKernel | null {
  if (C instanceof Float32Array) {
    if (wasmF32 === undefined) wasmF32 = makeKernel({ ...WASM_F32_TILE, dtype: 'float32' });
    return wasmF32;
  }
  if (C instanceof Float64Array) {
    if (wasmF64 === undefined) wasmF64 = makeKernel({ ...WASM_F64_TILE, dtype: 'float64' });
    return wasmF64;
  }
  return null;
}

// ---- threads ---------------------------------------------------------------------------------------

/**
 * Macro-kernel calls with fewer multiply-adds than this (mc·nc·kc) stay on the calling thread:
 * waking a sleeping helper costs tens of microseconds, and a 4M-MAC call takes ~120 µs on one
 * thread (measured: 128³ runs slower on 2 threads than on 1, 1024×128×128 faster).
 */
export const PARALLEL_MIN_MACS = 1 << 22;

/** The largest Ã (all M rows of one K slab) packed at once for a threaded product. */
export const WHOLE_A_MAX_BYTES = 8 << 20;

function threadsFromEnv(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['TENSORGRAD_NUM_THREADS'];
  const n = env === undefined ? NaN : Number.parseInt(env, 10);
  return Number.isInteger(n) && n >= 1 ? n : Math.min(2, availableCores());
}

let gemmThreads = threadsFromEnv();
const pools = new Map<WasmGemmKernel, MacroPool>();

/**
 * Threads for large float matmuls (the caller plus n − 1 helpers; 1 turns threading off).
 * Default: TENSORGRAD_NUM_THREADS, else min(2, available cores). Results do not depend on it.
 */
export function setGemmThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setGemmThreads: expected an integer ≥ 1, got ${n}`);
  gemmThreads = n;
  for (const [k, p] of pools) {
    pools.delete(k);
    void p.close();
  }
}

/** The number of threads large float matmuls use (see `setGemmThreads`). */
export function getGemmThreads(): number {
  return gemmThreads;
}

/** The helper pool of a (shared-memory) kernel, started on first use; null for one thread. */
function poolFor(kern: WasmGemmKernel): MacroPool | null {
  if (gemmThreads <= 1 || !kern.shared) return null;
  const have = pools.get(kern);
  if (have !== undefined) return have;
  const wt = workerThreads();
  if (wt === null) return null;
  try {
    const p = new MacroPool(kern.macroFn, kern.nr, kern.dtype === 'float32' ? 4 : 8, kern.module, kern.memory, gemmThreads - 1, wt, kern.packFn);
    pools.set(kern, p);
    return p;
  } catch {
    return null;
  }
}

/** The float32 wasm kernel (its module also has the GELU kernels) and its helper pool, or null without wasm SIMD. */
export function float32KernelAndPool(): { kern: WasmGemmKernel; pool: MacroPool | null } | null {
  const kern = wasmKernelFor(new Float32Array(0));
  return kern === null ? null : { kern, pool: poolFor(kern) };
}

/** True when `gemm` can take the wasm SIMD path in this runtime. */
export function wasmGemmAvailable(): boolean {
  return wasmSimdSupported();
}

/**
 * Operands are copied into the wasm memory whole (one typed-array `set` of the storage range
 * the view spans, converting the element type if needed) and packed there by the module's
 * `pack`, unless the view is sparse in its storage (span > STAGE_MAX_SPAN_RATIO × elements,
 * e.g. a thin slice of a big tensor); those are packed element by element in JS instead.
 */
export const STAGE_MAX_SPAN_RATIO = 4;

/** The storage index range [lo, hi] that a rows×cols view touches. */
function span(off: number, rows: number, cols: number, rs: number, cs: number): [number, number] {
  const dr = (rows - 1) * rs, dc = (cols - 1) * cs;
  return [off + Math.min(0, dr) + Math.min(0, dc), off + Math.max(0, dr) + Math.max(0, dc)];
}

/** Whether to stage an operand in wasm memory ('auto': when it is dense enough). */
export type Staging = 'auto' | 'always' | 'never';

/**
 * The blocked product on a wasm kernel (any tile, any blocking: exported so that tests can
 * drive small blocks and odd tiles through every edge case).
 */
export function gemmWasm(
  kern: WasmGemmKernel,
  blocking: Blocking,
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, aRs: number, aCs: number,
  B: TypedArray, bOff: number, bRs: number, bCs: number,
  C: TypedArray, cOff: number,
  staging: Staging = 'auto',
  pool: MacroPool | null | 'auto' = 'auto',
  accumulate: boolean | BiasRow = false,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (typeof accumulate === 'object') fillRows(C, cOff, M, N, accumulate);
    else if (!accumulate) C.fill(0, cOff, cOff + M * N);
    return;
  }
  const { mr: MR, nr: NR } = kern;
  // whole register tiles per block, so the padding rows/cols of a block never overlap the next
  const MC = roundUp(blocking.MC, MR), NC = roundUp(blocking.NC, NR), KC = blocking.KC;
  const es = kern.dtype === 'float32' ? 4 : 8;
  const Mp = roundUp(M, MR), Np = roundUp(N, NR);
  const mcMax = Math.min(MC, Mp), ncMax = Math.min(NC, Np), kcMax = Math.min(KC, K);
  const [aLo, aHi] = span(aOff, M, K, aRs, aCs);
  const [bLo, bHi] = span(bOff, K, N, bRs, bCs);
  const stage = (lo: number, hi: number, n: number): boolean =>
    staging === 'always' || (staging === 'auto' && hi - lo + 1 <= STAGE_MAX_SPAN_RATIO * n + 64);
  // operands that live in the kernel's arena (arena.ts) are packed from where they are, and C is
  // written in place when its rows need no padding columns and its block has room for the
  // padding rows; the others are copied into the scratch region (and C out of it)
  const arena = staging === 'never' ? null : kern.arena;
  const aAddr = arena?.address(A) ?? -1, bAddr = arena?.address(B) ?? -1;
  const cAddr = arena !== null && Np === N ? arena.address(C) : -1;
  const inA = aAddr >= 0, inB = bAddr >= 0;
  const inC = cAddr >= 0 && arena!.capacity(C as Float32Array) - cOff >= Mp * N;
  const stageA = inA || stage(aLo, aHi, M * K), stageB = inB || stage(bLo, bHi, K * N);
  // scratch layout (element offsets from the scratch base, each region rounded to 16 bytes):
  //   [Ã mcMax×kcMax][B̃ kcMax×ncMax][C Mp×Np][A's storage span][B's storage span]
  // (the last three only for the operands not in the arena)
  const al = 16 / es;
  const threads = pool === 'auto' ? (M * N * K >= PARALLEL_MIN_MACS ? poolFor(kern) : null) : pool;
  const minMacs = pool === 'auto' ? PARALLEL_MIN_MACS : 0; // an explicit pool (tests) always splits
  // With helper threads, Ã is packed for all M rows of a K slab at once and the macro-kernel's
  // rows are shared out in one job (instead of one hand-off per MC block), when that fits.
  const wholeA = threads !== null && staging !== 'never' && Mp * kcMax * es <= WHOLE_A_MAX_BYTES;
  const apR = 0;
  const bpR = apR + roundUp((wholeA ? Mp : mcMax) * kcMax, al);
  const cR = bpR + roundUp(ncMax * kcMax, al);
  const aR = cR + (inC ? 0 : roundUp(Mp * Np, al));
  const bR = aR + (stageA && !inA ? roundUp(aHi - aLo + 1, al) : 0);
  const end = bR + (stageB && !inB ? bHi - bLo + 1 : 0);
  let H: Float32Array | Float64Array;
  let S: number; // the scratch base (elements)
  try {
    H = kern.heap(end * es);
    S = kern.base / es;
  } catch (e) {
    // the wasm memory could not grow (32-bit address space, or the host refused): plain JS
    if (e instanceof RangeError) {
      if (typeof accumulate === 'object') fillRows(C, cOff, M, N, accumulate);
      return gemmJs(JS_BLOCKING, M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, accumulate !== false);
    }
    throw e;
  }
  const apE = S + apR, bpE = S + bpR;
  // cE: where C[cOff] is computed; aE, bE: where A[aLo], B[bLo] are
  const cE = inC ? cAddr / es + cOff : S + cR;
  const aE = inA ? aAddr / es + aLo : S + aR, bE = inB ? bAddr / es + bLo : S + bR;
  // (only timed when something is copied: operands in place and a plain product copy nothing)
  const tIn = (stageA && !inA) || (stageB && !inB) || accumulate !== false ? copyStart() : -1;
  if (stageA && !inA) H.set(A.subarray(aLo, aHi + 1), aE);
  if (stageB && !inB) H.set(B.subarray(bLo, bHi + 1), bE);
  if (typeof accumulate === 'object') {
    // the bias row into every row of the padded Mp×Np region (padding columns and rows zero)
    for (let j = 0; j < N; j++) H[cE + j] = accumulate.data[accumulate.off + j * accumulate.stride]!;
    H.fill(0, cE + N, cE + Np);
    // rows 1…M−1 = row 0, doubling the copied block each time (log₂M copies, not M)
    for (let have = 1; have < M; have *= 2) H.copyWithin(cE + have * Np, cE, cE + Math.min(have, M - have) * Np);
    H.fill(0, cE + M * Np, cE + Mp * Np);
  } else if (accumulate) {
    // C₀ into the padded Mp×Np region (row stride Np); every K slab then adds to it, the first
    // included, so each element is C₀ + Σₖ in k order. The padding is zeroed: it is computed on
    // and never stored, but stale values there could be slow denormals.
    if (inC) { /* C₀ is in place */ } else if (Np === N) H.set(C.subarray(cOff, cOff + M * N), cE);
    else {
      for (let i = 0; i < M; i++) {
        H.set(C.subarray(cOff + i * N, cOff + i * N + N), cE + i * Np);
        H.fill(0, cE + i * Np + N, cE + (i + 1) * Np);
      }
    }
    H.fill(0, cE + M * Np, cE + Mp * Np);
  }
  if (tIn >= 0) copyDone('in:gemm', tIn);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc), ncp = roundUp(nc, NR);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      // B̃ ← B[pc:pc+kc, jc:jc+nc]: panels run along N (width stride bCs), k along bRs
      if (stageB) kern.pack(bpE * es, (bE + bOff - bLo + pc * bRs + jc * bCs) * es, bCs * es, bRs * es, nc, kc, NR);
      else packB(H, bpE, B, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, NR);
      const accumSlab = pc === 0 && accumulate === false ? 0 : 1; // the first K slab writes C, the others add to it
      if (wholeA) {
        // Ã ← A[0:M, pc:pc+kc]; rows in chunks of rc (whole MR panels), ~4 per thread
        const rc = roundUp(Math.ceil(Mp / (4 * (threads!.readyHelpers + 1))), MR);
        if (stageA && threads!.canPack) {
          // each chunk packed by the thread that multiplies it (the same Ã, bit for bit)
          threads!.runPackBatch(M, rc, MR, (aE + aOff - aLo + pc * aCs) * es, aRs * es, aCs * es, ncp, kc, apE * es, bpE * es, (cE + jc) * es, rc * Np * es, Np * es, accumSlab);
          continue;
        }
        packA(H, apE, A, aOff + pc * aCs, aRs, aCs, M, kc, MR);
        const full = Math.floor(Mp / rc), rem = Mp - full * rc;
        threads!.runBatch(full, rc, ncp, kc, apE * es, rc * kc * es, bpE * es, 0, (cE + jc) * es, rc * Np * es, Np * es, accumSlab);
        if (rem > 0) kern.macro(rem, ncp, kc, (apE + full * rc * kc) * es, bpE * es, (cE + full * rc * Np + jc) * es, Np * es, accumSlab);
        continue;
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic), mcp = roundUp(mc, MR);
        // Ã ← A[ic:ic+mc, pc:pc+kc]: panels run along M (width stride aRs), k along aCs
        if (stageA) kern.pack(apE * es, (aE + aOff - aLo + ic * aRs + pc * aCs) * es, aRs * es, aCs * es, mc, kc, MR);
        else packA(H, apE, A, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, MR);
        const accum = pc === 0 && accumulate === false ? 0 : 1; // the first K slab writes C, the others add to it
        if (threads !== null && mcp * ncp * kc >= minMacs) threads.run(mcp, ncp, kc, apE * es, bpE * es, (cE + ic * Np + jc) * es, Np * es, accum);
        else kern.macro(mcp, ncp, kc, apE * es, bpE * es, (cE + ic * Np + jc) * es, Np * es, accum);
      }
    }
  }
  // copy out the M×N corner of the padded Mp×Np result
  if (inC) return;
  const tOut = copyStart();
  if (Np === N) C.set(H.subarray(cE, cE + M * N), cOff);
  else for (let i = 0; i < M; i++) C.set(H.subarray(cE + i * Np, cE + i * Np + N), cOff + i * N);
  copyDone('out:gemm', tOut);
}

// ---- batches of small products ---------------------------------------------------------------------

/**
 * Whether a batch of M×K·K×N products takes `gemmBatched`'s one-block path: float, wasm SIMD,
 * and each product within one cache block (M ≤ MC, N ≤ NC, K ≤ KC) — attention's per-head
 * Q·Kᵀ and P·V (64×64·64×64 for BERT-tiny) are of this kind.
 */
export function batchedGemmApplies(C: TypedArray, count: number, M: number, N: number, K: number): boolean {
  if (count < 2 || M === 0 || N === 0 || K === 0 || M * N * K < NAIVE_MAX_MACS) return false;
  const kern = wasmKernelFor(C);
  if (kern === null) return false;
  const b = kern.dtype === 'float32' ? WASM_F32_BLOCKING : WASM_F64_BLOCKING;
  return M <= b.MC && N <= b.NC && K <= b.KC;
}

/**
 * C_i = A_i·B_i for `count` products (item i: A at aOffs[i], B at bOffs[i] with shared strides;
 * C_i contiguous at cOff + i·M·N), as one job: every item's operands are staged and packed into
 * its own region of the wasm memory, the macro-kernel then runs once per item — items shared out
 * over the helper threads, each item computed by one thread exactly as `gemm` would — and the
 * results are copied out. Per-product fixed costs (memory set-up, thread hand-offs) are paid
 * once per batch instead of once per product. Requires `batchedGemmApplies`.
 */
export function gemmBatched(
  count: number, M: number, N: number, K: number,
  A: TypedArray, aOffs: readonly number[], aRs: number, aCs: number,
  B: TypedArray, bOffs: readonly number[], bRs: number, bCs: number,
  C: TypedArray, cOff: number,
  pool: MacroPool | null | 'auto' = 'auto',
): void {
  const kern = wasmKernelFor(C)!;
  const { mr: MR, nr: NR } = kern;
  const es = kern.dtype === 'float32' ? 4 : 8;
  const al = 16 / es;
  const Mp = roundUp(M, MR), Np = roundUp(N, NR);
  const [aLo0, aHi0] = span(0, M, K, aRs, aCs);
  const [bLo0, bHi0] = span(0, K, N, bRs, bCs);
  const aSpan = aHi0 - aLo0 + 1, bSpan = bHi0 - bLo0 + 1;
  // operands in the kernel's arena (arena.ts) are packed from where they are; C is written in
  // place when the items need no padding (each item's tiles then stay inside its own M×N)
  const arena = kern.arena;
  const aAddr = arena?.address(A) ?? -1, bAddr = arena?.address(B) ?? -1;
  const cAddr = arena !== null && Mp === M && Np === N ? arena.address(C) : -1;
  const inA = aAddr >= 0, inB = bAddr >= 0, inC = cAddr >= 0;
  // per item: [Ã Mp×K][B̃ K×Np][C Mp×Np][A span][B span], each rounded to 16 bytes (the last three
  // only for what is not in the arena)
  const apL = roundUp(Mp * K, al), bpL = roundUp(K * Np, al), cL = inC ? 0 : roundUp(Mp * Np, al);
  const aL = inA ? 0 : roundUp(aSpan, al), bL = inB ? 0 : roundUp(bSpan, al);
  const item = apL + bpL + cL + aL + bL;
  let H: Float32Array | Float64Array;
  try {
    H = kern.heap(count * item * es);
  } catch (e) {
    // no room for the whole batch's workspace (wasm32's 4 GiB, or the host refused): one product
    // at a time, each with its own fallback
    if (!(e instanceof RangeError)) throw e;
    const blocking = kern.dtype === 'float32' ? WASM_F32_BLOCKING : WASM_F64_BLOCKING;
    for (let i = 0; i < count; i++) gemmWasm(kern, blocking, M, N, K, A, aOffs[i]!, aRs, aCs, B, bOffs[i]!, bRs, bCs, C, cOff + i * M * N, 'auto', pool);
    return;
  }
  const S = kern.base / es; // the scratch base (elements)
  // (the packing is timed with the copies here, when there are copies: operands in place record none)
  const tIn = inA && inB ? -1 : copyStart();
  for (let i = 0; i < count; i++) {
    const base = S + i * item;
    // aE, bE: where A[aOffs[i] + aLo0], B[bOffs[i] + bLo0] are
    const aLo = aOffs[i]! + aLo0, bLo = bOffs[i]! + bLo0;
    const aE = inA ? aAddr / es + aLo : base + apL + bpL + cL, bE = inB ? bAddr / es + bLo : base + apL + bpL + cL + aL;
    if (!inA) H.set(A.subarray(aLo, aLo + aSpan), aE);
    if (!inB) H.set(B.subarray(bLo, bLo + bSpan), bE);
    kern.pack(base * es, (aE + aOffs[i]! - aLo) * es, aRs * es, aCs * es, M, K, MR);
    kern.pack((base + apL) * es, (bE + bOffs[i]! - bLo) * es, bCs * es, bRs * es, N, K, NR);
  }
  if (tIn >= 0) copyDone('in:gemmBatched', tIn);
  const threads = pool === 'auto' ? poolFor(kern) : pool;
  const step = item * es;
  // item i's C: in place at C[cOff + i·M·N] (step M·N), or in its scratch region
  const c0 = inC ? cAddr + cOff * es : (S + apL + bpL) * es, cStep = inC ? M * N * es : step;
  if (threads !== null) threads.runBatch(count, Mp, Np, K, S * es, step, (S + apL) * es, step, c0, cStep, Np * es, 0);
  else for (let i = 0; i < count; i++) kern.macro(Mp, Np, K, (S + i * item) * es, (S + apL + i * item) * es, c0 + i * cStep, Np * es, 0);
  if (inC) return;
  const tOut = copyStart();
  for (let i = 0; i < count; i++) {
    const cE = S + i * item + apL + bpL, co = cOff + i * M * N;
    if (Np === N) C.set(H.subarray(cE, cE + M * N), co);
    else for (let r = 0; r < M; r++) C.set(H.subarray(cE + r * Np, cE + r * Np + N), co + r * N);
  }
  copyDone('out:gemmBatched', tOut);
}

// ---- plain-JS path ---------------------------------------------------------------------------------

const JS_MR = 4, JS_NR = 4;

let jsWork = new Float64Array(0);

/** A float64 workspace of at least n elements, reused across calls. */
function jsWorkspace(n: number): Float64Array {
  if (jsWork.length < n) jsWork = new Float64Array(Math.max(n, Math.ceil(jsWork.length * 1.5)));
  return jsWork;
}

/** The blocked product with the plain-JS 4×4 register tile (exported for tests, like gemmWasm). */
export function gemmJs(
  blocking: Blocking,
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, aRs: number, aCs: number,
  B: TypedArray, bOff: number, bRs: number, bCs: number,
  C: TypedArray, cOff: number,
  accumulate = false,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) C.fill(0, cOff, cOff + M * N);
    return;
  }
  const MR = JS_MR, NR = JS_NR;
  const MC = roundUp(blocking.MC, MR), NC = roundUp(blocking.NC, NR), KC = blocking.KC;
  const Mp = roundUp(M, MR), Np = roundUp(N, NR);
  const mcMax = Math.min(MC, Mp), ncMax = Math.min(NC, Np), kcMax = Math.min(KC, K);
  const apE = 0, bpE = mcMax * kcMax, cE = bpE + ncMax * kcMax;
  const W = jsWorkspace(cE + Mp * Np);
  W.fill(0, cE, cE + Mp * Np);
  if (accumulate) {
    // the workspace's C region starts as C₀ (row stride Np), so the tiles add to it
    for (let i = 0; i < M; i++) {
      const src = cOff + i * N, dst = cE + i * Np;
      for (let j = 0; j < N; j++) W[dst + j] = C[src + j]!;
    }
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packB(W, bpE, B, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, NR);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(W, apE, A, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, MR);
        for (let jr = 0; jr < nc; jr += NR) {
          for (let ir = 0; ir < mc; ir += MR) {
            micro4x4(kc, W, apE + ir * kc, bpE + jr * kc, cE + (ic + ir) * Np + jc + jr, Np);
          }
        }
      }
    }
  }
  for (let i = 0; i < M; i++) {
    const src = cE + i * Np, dst = cOff + i * N;
    for (let j = 0; j < N; j++) C[dst + j] = W[src + j]!;
  }
}

/**
 * C[co…] (4×4, row stride ldc) += Ã-panel(ao) · B̃-panel(bo) over kc, all in one float64
 * workspace W. The tile is loaded into 16 locals first, so each C element is summed in the
 * same order as the naive loop.
 */
function micro4x4(kc: number, W: Float64Array, ao: number, bo: number, co: number, ldc: number): void {
  const c1 = co + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  let c00 = W[co]!, c01 = W[co + 1]!, c02 = W[co + 2]!, c03 = W[co + 3]!;
  let c10 = W[c1]!, c11 = W[c1 + 1]!, c12 = W[c1 + 2]!, c13 = W[c1 + 3]!;
  let c20 = W[c2]!, c21 = W[c2 + 1]!, c22 = W[c2 + 2]!, c23 = W[c2 + 3]!;
  let c30 = W[c3]!, c31 = W[c3 + 1]!, c32 = W[c3 + 2]!, c33 = W[c3 + 3]!;
  for (let k = 0; k < kc; k++) {
    const b0 = W[bo]!, b1 = W[bo + 1]!, b2 = W[bo + 2]!, b3 = W[bo + 3]!;
    let a = W[ao]!;
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = W[ao + 1]!;
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    a = W[ao + 2]!;
    c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
    a = W[ao + 3]!;
    c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
    ao += 4; bo += 4;
  }
  W[co] = c00; W[co + 1] = c01; W[co + 2] = c02; W[co + 3] = c03;
  W[c1] = c10; W[c1 + 1] = c11; W[c1 + 2] = c12; W[c1 + 3] = c13;
  W[c2] = c20; W[c2 + 1] = c21; W[c2 + 2] = c22; W[c2 + 3] = c23;
  W[c3] = c30; W[c3 + 1] = c31; W[c3 + 2] = c32; W[c3 + 3] = c33;
}
