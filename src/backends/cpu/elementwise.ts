/**
 * Runs the wasm SIMD elementwise kernels (GELU forward and backward, wasm-elementwise.ts) on
 * the float32 GEMM kernel's memory: the operands are copied in, the range is cut into chunks
 * that the calling thread and the GEMM's helper threads take in turn (threads.ts), and the
 * result is copied out. Results are bit-identical to the plain-JS float32 kernels whichever
 * thread computes which chunk (test/backends/wasm-elementwise.test.ts).
 */
import { float32KernelAndPool } from './matmul.js';

/** The elementwise ops with wasm kernels, numbered as the helper threads know them (threads.ts). */
export const WASM_MAP_OPS = ['gelu', 'geluBackward', 'add', 'sub', 'mul', 'div'] as const;
export type ElementwiseOp = (typeof WASM_MAP_OPS)[number];

/** Elements per chunk handed to a thread (a multiple of 4: the kernels take up to four lanes at a time). */
const CHUNK = 16384;

type UnaryFn = (src: number, dst: number, n: number) => void;
type BinaryFn = (a: number, b: number, dst: number, n: number) => void;

export class ElementwiseKernels {
  /**
   * out[i] = op(ins[0][offs[0] + i], ins[1]?[offs[1] + i]) for i < n. `threads: false` keeps
   * the work on the calling thread (tests compare both).
   */
  run(opName: ElementwiseOp, ins: readonly Float32Array[], offs: readonly number[], out: Float32Array, n: number, threads = true): void {
    const kp = float32KernelAndPool();
    if (kp === null) throw new Error('wasm elementwise: no wasm SIMD kernel in this runtime');
    const { kern } = kp;
    const m = n + ((4 - (n % 4)) % 4); // whole vectors: the padding lanes compute on zeros and are dropped
    const H = kern.heap((ins.length + 1) * m * 4) as Float32Array;
    for (let j = 0; j < ins.length; j++) {
      H.set(ins[j]!.subarray(offs[j]!, offs[j]! + n), j * m);
      if (m !== n) H.fill(0, j * m + n, (j + 1) * m);
    }
    const p0 = 0, p1 = m * 4, dst = ins.length * m * 4;
    const fn = WASM_MAP_OPS.indexOf(opName);
    const unary = kern.exports['gelu'] as UnaryFn, binary = kern.exports[opName] as BinaryFn;
    const call = (i0: number, len: number): void => {
      if (fn === 0) unary(p0 + 4 * i0, dst + 4 * i0, len);
      else binary(p0 + 4 * i0, p1 + 4 * i0, dst + 4 * i0, len);
    };
    const pool = threads ? kp.pool : null;
    if (pool !== null) pool.runElementwise(fn, p0, p1, dst, m, CHUNK, call);
    else call(0, m);
    out.set(H.subarray(dst / 4, dst / 4 + n));
  }
}

let kernels: ElementwiseKernels | null | undefined;

/** The kernels, or null where the runtime lacks wasm SIMD. */
export function elementwiseKernels(): ElementwiseKernels | null {
  if (kernels === undefined) kernels = float32KernelAndPool() === null ? null : new ElementwiseKernels();
  return kernels;
}

type AdamFn = (p: number, g: number, m: number, v: number, n: number, decay: number, b1: number, c1: number, b2: number, c2: number, negStep: number, bc2: number, eps: number) => void;

/** The scalars of one Adam/AdamW update, already rounded to float32 (see src/optim/fused-cpu.ts). */
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
  const H = kp.kern.heap(4 * np * 4) as Float32Array;
  const arrays: [Float32Array, number][] = [[p, po], [g, go], [m, mo], [v, vo]];
  arrays.forEach(([a, o], j) => {
    H.set(a.subarray(o, o + n), j * np);
    H.fill(0, j * np + n, (j + 1) * np);
  });
  (kp.kern.exports['adam'] as AdamFn)(0, 4 * np, 8 * np, 12 * np, np, s.decay, s.b1, s.c1, s.b2, s.c2, s.negStep, s.bc2, s.eps);
  p.set(H.subarray(0, n), po);
  m.set(H.subarray(2 * np, 2 * np + n), mo);
  v.set(H.subarray(3 * np, 3 * np + n), vo);
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
  const H = kern.heap(3 * m * 4) as Float32Array;
  H.set(x.subarray(xo, xo + n), 0);
  if (m !== n) H.fill(0, n, m);
  const t = Math.ceil(p * 4294967296) | 0; // x ≥ p·2³² ⇔ x ≥ ⌈p·2³²⌉ for integer x (as uint32 bits)
  const v32 = Math.fround(value);
  const fn = kern.exports['dropout'] as DropoutFn;
  const call = (i0: number, len: number): void => fn(4 * i0, 4 * (m + i0), 4 * (2 * m + i0), len, (k1 + i0) | 0, k2, t, v32);
  if (kp.pool !== null) kp.pool.runElementwise(6, 0, 4 * m, 8 * m, m, CHUNK, call, { k1, k2, t, value: v32 });
  else call(0, m);
  mask.set(H.subarray(m, m + n));
  out.set(H.subarray(2 * m, 2 * m + n));
  return true;
}
