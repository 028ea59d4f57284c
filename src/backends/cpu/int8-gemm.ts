/**
 * The CPU backend's int8 GEMM (the contract's optional `int8Gemm`): the WebAssembly SIMD kernel of
 * wasm-int8-gemm.ts where the runtime validates it, else the plain-JS integer loop. Both give the
 * same int32 results, bit for bit (test/compress/int8-gemm.test.ts).
 */
import type { PackedInt8Weight } from '../contract.js';
import { INT8_GEMM_MAX_K, int8GemmReference, wasmInt8GemmSupported, WasmInt8GemmKernel } from './wasm-int8-gemm.js';
import { WasmInt8LinearKernel, wasmInt8LinearSupported, wasmRelaxedDotSupported } from './wasm-int8-linear.js';
import { cpuPool } from './pool.js';

let kernel: WasmInt8GemmKernel | null | undefined;
let forceJs = false;

/** Turns the wasm int8 kernels (int8Gemm and int8Linear) off (false) or back on — for tests and benchmarks of the JS fallback. */
export function setInt8GemmWasm(enabled: boolean): void {
  forceJs = !enabled;
}

/** True when int8Gemm runs the WebAssembly SIMD kernel. */
export function int8GemmUsesWasm(): boolean {
  if (forceJs) return false;
  if (kernel === undefined) kernel = wasmInt8GemmSupported() ? new WasmInt8GemmKernel(2, 4) : null;
  return kernel !== null;
}

/** C (M, N) int32 = A (M, K) int8 · B (N, K) int8 ᵀ (row-major), exactly. */
export function int8Gemm(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array {
  for (const [nm, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`int8Gemm: ${nm} must be an integer ≥ 0, got ${v}`);
  }
  if (k > INT8_GEMM_MAX_K) throw new Error(`int8Gemm: k = ${k} exceeds ${INT8_GEMM_MAX_K}, beyond which int32 sums of int8 products can overflow`);
  if (!(a instanceof Int8Array) || a.length < m * k) throw new Error(`int8Gemm: a must be an Int8Array of at least m·k = ${m * k} elements, got ${a?.constructor?.name} of ${a?.length}`);
  if (!(b instanceof Int8Array) || b.length < n * k) throw new Error(`int8Gemm: b must be an Int8Array of at least n·k = ${n * k} elements, got ${b?.constructor?.name} of ${b?.length}`);
  return int8GemmUsesWasm() ? kernel!.gemm(a, b, m, n, k) : int8GemmReference(a, b, m, n, k);
}

// ---- the fused quantized Linear (wasm-int8-linear.ts) --------------------------------------------

let linearKernels: { relaxed?: WasmInt8LinearKernel | null; plain?: WasmInt8LinearKernel | null } = {};
let relaxedAllowed = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['TENSORGRAD_INT8_RELAXED'] !== '0';

/**
 * Turns the relaxed-SIMD int8 dot product off (false: the plain-SIMD i32x4.dot_i16x8_s kernel) or
 * back on — for tests and benchmarks of the fallback; `TENSORGRAD_INT8_RELAXED=0` starts with it off.
 * Both kernels give the same bits.
 */
export function setInt8Relaxed(enabled: boolean): void {
  relaxedAllowed = enabled;
}

/** The int8 Linear kernel in use: 'relaxed' (i16x8.relaxed_dot_i8x16_i7x16_s), 'simd' (dot_i16x8_s), or 'js' (none). */
export function int8LinearPath(): 'relaxed' | 'simd' | 'js' {
  const k = int8LinearKernel();
  return k === null ? 'js' : k.relaxed ? 'relaxed' : 'simd';
}

function int8LinearKernel(): WasmInt8LinearKernel | null {
  if (forceJs) return null;
  if (relaxedAllowed) {
    if (linearKernels.relaxed === undefined) linearKernels.relaxed = wasmRelaxedDotSupported() ? new WasmInt8LinearKernel({ relaxed: true, arena: cpuPool.wasmArena() }) : null;
    if (linearKernels.relaxed) return linearKernels.relaxed;
  }
  if (linearKernels.plain === undefined) linearKernels.plain = wasmInt8LinearSupported() ? new WasmInt8LinearKernel({ relaxed: false, arena: cpuPool.wasmArena() }) : null;
  return linearKernels.plain;
}

/**
 * The quantized Linear of wasm-int8-linear.ts on float32 rows: y (m, n) = dequant(quant7(x)·W_qᵀ) + b.
 * Writes into `out` (m·n) when given. Returns null where the runtime has no wasm SIMD (the caller
 * runs the JS reference).
 */
export function int8Linear(x: Float32Array, m: number, w: PackedInt8Weight, scale: Float32Array, bias: Float32Array | null, what?: string, out?: Float32Array): Float32Array | null {
  const k = int8LinearKernel();
  if (k === null) return null;
  if (x.length < m * w.k) throw new Error(`int8Linear: x must hold m·k = ${m * w.k} values, got ${x.length}`);
  if (scale.length < w.n || (bias !== null && bias.length < w.n)) throw new Error(`int8Linear: scale and bias must hold n = ${w.n} values, got ${scale.length} and ${bias?.length}`);
  return k.linear(x, m, w, scale, bias, what, out);
}

/** How many quantized Linear calls of the kernel in use ran in the float32 arena, in place (tests, diagnostics). */
export function int8LinearInArenaCalls(): number {
  return int8LinearKernel()?.inArenaCalls ?? 0;
}

/** Resets the cached kernels (tests). */
export function resetInt8LinearKernels(): void {
  linearKernels = {};
}
