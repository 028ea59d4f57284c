/**
 * The CPU backend's int8 GEMM (the contract's optional `int8Gemm`): the WebAssembly SIMD kernel of
 * wasm-int8-gemm.ts where the runtime validates it, else the plain-JS integer loop. Both give the
 * same int32 results, bit for bit (test/compress/int8-gemm.test.ts).
 */
import { INT8_GEMM_MAX_K, int8GemmReference, wasmInt8GemmSupported, WasmInt8GemmKernel } from './wasm-int8-gemm.js';

let kernel: WasmInt8GemmKernel | null | undefined;
let forceJs = false;

/** Turns the wasm int8 kernel off (true) or back on — for tests and benchmarks of the fallback. */
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
